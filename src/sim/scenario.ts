// A simulated run's scenario: how many supernodes and clients, what they sit behind, their
// links, churn and the fault schedule. Everything not given is drawn from the seed, so a seed
// and the options given name one run exactly (the replay line prints both).
import { SeededRandom } from '../env/prng.js';
import type { NatClass } from '../env/virtual/index.js';

/** Faults the simulator injects (see faults.ts for what each does). */
export const FAULT_KINDS = ['crash', 'outage', 'mass-restart', 'partition', 'clock-skew', 'nat-loss', 'clog', 'slow-login', 'bad-clock'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
/** The kinds drawn together from the seed's main stream (later kinds are drawn apart, so old seeds draw as before). */
const FIRST_FAULT_KINDS: readonly FaultKind[] = FAULT_KINDS.slice(0, 8);

/** Deliberate bugs, to see the checks fail (tests; `--inject`): never drawn from the seed. */
export const INJECTIONS = ['drop-message', 'duplicate-message', 'accept-forged', 'accept-bad-clock'] as const;
export type Injection = (typeof INJECTIONS)[number];

export type Fault =
  /** `count` supernodes crash (no FIN) and restart `downMs` later with the same identity. */
  | { readonly kind: 'crash'; readonly atMs: number; readonly count: number; readonly downMs: number }
  /** A share of all supernodes crash at once (December 2010) and come back `downMs` later. */
  | { readonly kind: 'outage'; readonly atMs: number; readonly share: number; readonly downMs: number }
  /** Every client crashes and restarts within `spreadMs` (August 2007: a mass reboot after updates). */
  | { readonly kind: 'mass-restart'; readonly atMs: number; readonly spreadMs: number }
  /** A share of the public internet is cut off from the rest, and heals after `healAfterMs`. */
  | { readonly kind: 'partition'; readonly atMs: number; readonly share: number; readonly healAfterMs: number }
  /**
   * A share of all nodes' wall clocks are off by up to `maxSkewMs` either way (each its own
   * amount) for `forMs`: certificates and presence records are judged, and stamped, by them.
   * Within the 5 minutes certificates and records allow, nothing may break.
   */
  | { readonly kind: 'clock-skew'; readonly atMs: number; readonly share: number; readonly maxSkewMs: number; readonly forMs: number }
  /** A share of the clients' NATs forget every mapping at once (a home router rebooting): their TCP links die silently. */
  | { readonly kind: 'nat-loss'; readonly atMs: number; readonly share: number }
  /** A share of supernodes' links drop to `bandwidthBps` (a saturated uplink: long queues, late datagrams dropped) for `forMs`. */
  | { readonly kind: 'clog'; readonly atMs: number; readonly share: number; readonly bandwidthBps: number; readonly forMs: number }
  /** The login server answers `delayMs` late (overloaded, as in December 2010) for `forMs`. */
  | { readonly kind: 'slow-login'; readonly atMs: number; readonly delayMs: number; readonly forMs: number }
  /**
   * `count` clients' wall clocks are off beyond the 5 minutes certificates and records allow
   * (BAD_CLOCK_AHEAD_MS / BAD_CLOCK_BEHIND_MS, each its own amount) for `forMs`: their presence
   * records are refused (from the future, or expired when they arrive), with the reason, and
   * counted; nothing crashes, and once the clocks are right they attach again.
   */
  | { readonly kind: 'bad-clock'; readonly atMs: number; readonly count: number; readonly forMs: number };

/** A bad clock ahead is off by this much (more than the 5 minutes a record may come from the future). */
export const BAD_CLOCK_AHEAD_MS = { min: 6 * 60_000, max: 30 * 60_000 } as const;
/** A bad clock behind is off by this much (more than a record's 15 minutes of life, plus the 5 minutes allowed). */
export const BAD_CLOCK_BEHIND_MS = { min: 21 * 60_000, max: 50 * 60_000 } as const;

export interface LinkRange {
  /** One-way latency of a node's link to the internet, drawn uniformly per node. */
  readonly latencyMinMs: number;
  readonly latencyMaxMs: number;
  readonly jitterMs: number;
  /** Datagram loss on each link (TCP is modelled as reliable). */
  readonly lossRate: number;
}

export interface Scenario {
  readonly seed: number;
  readonly supernodes: number;
  readonly clients: number;
  /** Shares of clients behind each NAT class (summing to 1); 'open' is no NAT. */
  readonly natMix: Readonly<Partial<Record<NatClass | 'open', number>>>;
  readonly link: LinkRange;
  /** Client crashes per client per simulated minute, outside the fault schedule. */
  readonly churnPerClientMinute: number;
  /** How long faults may happen; then the liveness phase. */
  readonly faultPhaseMs: number;
  readonly faults: readonly Fault[];
  /** Chat messages sent per simulated second (between random online buddies). */
  readonly messagesPerSecond: number;
  /** Lookups started per simulated second (a random online client finds a random online user). */
  readonly lookupsPerSecond: number;
  /** Each client's buddies: the next `buddies` clients around a ring. */
  readonly buddies: number;
  readonly injections: readonly Injection[];
  /**
   * Supernodes with valid certificates that forge presence records (a compromised machine):
   * they publish altered records of real users and serve them to lookups. Every honest node
   * must refuse them.
   */
  readonly forgers: number;
  /**
   * The login server devices talk to: 'stand-in' answers from memory (sim-login.ts, for any
   * size); 'real' runs src/login-server in process (real-login.ts, for small sizes). Never drawn.
   */
  readonly login: LoginKind;
}

export const LOGIN_KINDS = ['stand-in', 'real'] as const;
export type LoginKind = (typeof LOGIN_KINDS)[number];

/** What the command line may fix; the rest comes from the seed. */
export interface ScenarioOptions {
  readonly supernodes?: number;
  readonly clients?: number;
  readonly faults?: readonly FaultKind[];
  readonly faultPhaseMs?: number;
  readonly lossRate?: number;
  readonly churnPerClientMinute?: number;
  readonly messagesPerSecond?: number;
  readonly lookupsPerSecond?: number;
  readonly injections?: readonly Injection[];
  readonly forgers?: number;
  readonly login?: LoginKind;
}

/** When the first fault may strike: after the network has formed and every client has attached once. */
export const FIRST_FAULT_AT_MS = 20_000;

const NAT_MIXES: readonly Scenario['natMix'][] = [
  { 'port-restricted': 0.5, 'address-restricted': 0.2, 'full-cone': 0.1, symmetric: 0.1, open: 0.1 },
  { 'port-restricted': 0.7, symmetric: 0.3 },
  { 'full-cone': 0.4, 'port-restricted': 0.4, open: 0.2 },
];

/** Draws a scenario from `seed`; what `options` gives is taken as is. */
export function drawScenario(seed: number, options: ScenarioOptions = {}): Scenario {
  const random = new SeededRandom(seed ^ 0x51a1);
  const between = (min: number, max: number) => min + random.float() * (max - min);
  const supernodes = options.supernodes ?? 10 + random.int(21);
  const clients = options.clients ?? supernodes * (2 + random.int(3));
  const latencyMinMs = Math.round(between(2, 10));
  const link: LinkRange = {
    latencyMinMs,
    latencyMaxMs: latencyMinMs + Math.round(between(5, 40)),
    jitterMs: Math.round(between(0, 5)),
    lossRate: options.lossRate ?? (random.float() < 0.5 ? 0 : Math.round(between(0, 0.02) * 1000) / 1000),
  };
  const natMix = NAT_MIXES[random.int(NAT_MIXES.length)]!;
  const faultPhaseMs = options.faultPhaseMs ?? 120_000;
  // Kinds added later are drawn from a stream of their own, so a seed that does not draw them
  // draws everything else as before.
  const later = new SeededRandom(seed ^ 0x1a7e4);
  const kinds = options.faults ?? [...FIRST_FAULT_KINDS.filter(() => random.float() < 0.6), ...FAULT_KINDS.filter((k) => !FIRST_FAULT_KINDS.includes(k) && later.float() < 0.6)];
  const faults: Fault[] = [];
  // Faults one after another, each given time to happen and heal, so recovery is measured per fault.
  const slotMs = Math.max(1, Math.floor((faultPhaseMs - FIRST_FAULT_AT_MS) / Math.max(1, kinds.length)));
  kinds.forEach((kind, i) => {
    const atMs = FIRST_FAULT_AT_MS + i * slotMs + Math.round(random.float() * slotMs * 0.2);
    const downMs = Math.round(between(0.2, 0.4) * slotMs);
    switch (kind) {
      case 'crash':
        faults.push({ kind, atMs, count: Math.max(1, Math.round(supernodes * between(0.03, 0.1))), downMs });
        break;
      case 'outage':
        faults.push({ kind, atMs, share: Math.round(between(0.2, 0.3) * 100) / 100, downMs });
        break;
      case 'mass-restart':
        faults.push({ kind, atMs, spreadMs: Math.round(between(2_000, 10_000)) });
        break;
      case 'partition':
        faults.push({ kind, atMs, share: Math.round(between(0.1, 0.4) * 100) / 100, healAfterMs: downMs });
        break;
      case 'clock-skew':
        // Within the 5 minutes' skew certificates and records allow (a minute short of it:
        // two skewed nodes facing each other may be apart by twice this).
        faults.push({ kind, atMs, share: Math.round(between(0.1, 0.3) * 100) / 100, maxSkewMs: Math.round(between(30_000, 120_000)), forMs: downMs });
        break;
      case 'nat-loss':
        faults.push({ kind, atMs, share: Math.round(between(0.2, 1) * 100) / 100 });
        break;
      case 'clog':
        faults.push({ kind, atMs, share: Math.round(between(0.1, 0.3) * 100) / 100, bandwidthBps: Math.round(between(32_000, 256_000)), forMs: downMs });
        break;
      case 'slow-login':
        faults.push({ kind, atMs, delayMs: Math.round(between(2_000, 8_000)), forMs: downMs });
        break;
      case 'bad-clock':
        faults.push({ kind, atMs, count: Math.max(1, Math.round(clients * between(0.02, 0.05))), forMs: downMs });
        break;
    }
  });
  return {
    seed,
    supernodes,
    clients,
    natMix,
    link,
    churnPerClientMinute: options.churnPerClientMinute ?? Math.round(between(0, 0.05) * 1000) / 1000,
    faultPhaseMs,
    faults,
    messagesPerSecond: options.messagesPerSecond ?? Math.max(1, Math.round(clients / 20)),
    lookupsPerSecond: options.lookupsPerSecond ?? Math.max(1, Math.round(clients / 20)),
    buddies: Math.min(4, clients - 1),
    injections: options.injections ?? [],
    // Drawn last, so adding it shifted no earlier draw.
    forgers: options.forgers ?? (random.float() < 0.5 ? 1 : 0),
    login: options.login ?? 'stand-in',
  };
}

/** The command line that replays a run: the seed and the options that were given. */
export function replayLine(seed: number, options: ScenarioOptions): string {
  const parts = ['parley sim', `--seed ${seed}`];
  if (options.supernodes !== undefined) parts.push(`--supernodes ${options.supernodes}`);
  if (options.clients !== undefined) parts.push(`--clients ${options.clients}`);
  if (options.faults !== undefined) parts.push(`--faults ${options.faults.length === 0 ? 'none' : options.faults.join(',')}`);
  if (options.faultPhaseMs !== undefined) parts.push(`--fault-seconds ${options.faultPhaseMs / 1000}`);
  if (options.lossRate !== undefined) parts.push(`--loss ${options.lossRate}`);
  if (options.churnPerClientMinute !== undefined) parts.push(`--churn ${options.churnPerClientMinute}`);
  if (options.messagesPerSecond !== undefined) parts.push(`--messages ${options.messagesPerSecond}`);
  if (options.lookupsPerSecond !== undefined) parts.push(`--lookups ${options.lookupsPerSecond}`);
  if (options.forgers !== undefined) parts.push(`--forgers ${options.forgers}`);
  if (options.login !== undefined) parts.push(`--login ${options.login}`);
  if (options.injections !== undefined && options.injections.length > 0) parts.push(`--inject ${options.injections.join(',')}`);
  return parts.join(' ');
}

/** The NAT class of client `index` of `count`, by the scenario's mix (deterministic, in shares). */
export function natOf(scenario: Scenario, index: number): NatClass | 'open' {
  const position = (index + 0.5) / scenario.clients;
  let cumulative = 0;
  const entries = Object.entries(scenario.natMix) as [NatClass | 'open', number][];
  for (const [nat, share] of entries) {
    cumulative += share;
    if (position < cumulative) return nat;
  }
  return entries[entries.length - 1]![0];
}
