// What NAT or firewall this device is behind, found with RFC 5780 tests against a supernode's
// STUN server, all in parallel so it takes about two round trips, not the classic sequence:
//
//   socket M: test I to the primary address (A,p) → mapped address, OTHER-ADDRESS (B,q);
//             then tests II (B,p) and III (B,q) → mapping behaviour (RFC 4787 section 4.1);
//   socket F: at the same time, (A,p) with CHANGE-REQUEST "IP and port" and "port only" →
//             which answers get in: filtering behaviour (section 5).
//
// F is a separate socket so that M's packets to B do not open F's filter to B. A filtering
// answer that did not come within a few round trips after test I counts as filtered: loss can
// make a NAT look stricter than it is, never looser, and connectivity checks decide the path.
import { sameEndpoint as same, type Endpoint, type Env, type UdpSocket } from '../env/types.js';
import type { Dependence } from '../env/virtual/nat.js';
import { StunTransactions, type StunAnswer } from '../stun/stun-client.js';
import { Attr, CHANGE_IP, CHANGE_PORT, attribute, decodeAddress, encodeChangeRequest, mappedAddress } from '../stun/stun.js';
import { NatType as WireNatType } from '../wire/messages.js';

/** The classic names (RFC 3489), which people know, plus the two firewalls. */
export type NatType =
  | 'open' // a public address, nothing filters
  | 'firewalled' // a public address, but only answers to what we sent get in
  | 'full-cone'
  | 'address-restricted'
  | 'port-restricted'
  | 'symmetric'
  | 'udp-blocked'
  | 'web-only' // no UDP, and TCP only to web ports: the supernode was reached on its web port alone
  | 'unknown'; // UDP gets through, but the server could not run the tests that tell the classes apart

export interface NatReport {
  readonly type: NatType;
  /** RFC 4787 terms; null when not found (UDP blocked, or a server without a second address). */
  readonly mapping: Dependence | null;
  readonly filtering: Dependence | null;
  /** This device's address as the supernode saw it (server-reflexive), and the local one. */
  readonly mapped: Endpoint | null;
  readonly local: Endpoint;
  /** Whether the NAT kept the local port number. */
  readonly portPreserved: boolean | null;
  /** The round trip to the supernode's STUN server. */
  readonly rttMs: number | null;
  /** Whether the NAT turns a packet to its own external address back in (RFC 4787 REQ-9); null without a NAT, or behind a symmetric one (the test cannot tell). */
  readonly hairpinning: boolean | null;
  readonly durationMs: number;
  /** Why a behaviour is unknown, for people. */
  readonly note?: string;
}

export interface DetectionOptions {
  /** The local address to test from (the one the device's supernode link uses). */
  readonly localHost?: string;
  /** First retransmission timeout of test I (it doubles); test I gives up after `udpTimeoutMs`. */
  readonly rtoMs?: number;
  readonly udpTimeoutMs?: number;
  /**
   * The device reached its supernode only on the supernode's web port (443, say), not on its
   * own: with UDP blocked too, that is a web-only firewall rather than a UDP-blocking one.
   */
  readonly onlyWebPortReached?: boolean;
  /**
   * Another supernode's STUN server, on another host: when the first server has one address,
   * a Binding request to this one from the same socket tells whether the NAT keeps one mapping
   * for every destination (a cone) or makes a new one per destination (symmetric). Filtering
   * cannot be tested this way (that needs a server to answer from an address it was not asked
   * at), so a cone's class stays unknown.
   */
  readonly secondServer?: Endpoint;
}


const mappedOf = (answer: StunAnswer): Endpoint | null => mappedAddress(answer.message);

/** The UDP budget's floor and ceiling: a quiet network answers in far less; a dead one is not waited on for long. */
export const MIN_UDP_TIMEOUT_MS = 1_500;
export const MAX_UDP_TIMEOUT_MS = 10_000;

/**
 * How long test I may take, from what reaching the supernode over TCP took: that covers the
 * path's round trips and how busy this machine is, so a loaded machine behind a double NAT is
 * not called "UDP blocked" for answering late.
 */
export function udpTimeoutFor(attachTimeMs: number | null): number {
  if (attachTimeMs === null || !Number.isFinite(attachTimeMs)) return MIN_UDP_TIMEOUT_MS;
  return Math.min(MAX_UDP_TIMEOUT_MS, Math.max(MIN_UDP_TIMEOUT_MS, Math.round(4 * attachTimeMs)));
}

export function classify(mapping: Dependence | null, filtering: Dependence | null, behindNat: boolean): NatType {
  if (!behindNat) return filtering === 'endpoint-independent' || filtering === null ? 'open' : 'firewalled';
  if (mapping !== 'endpoint-independent' && mapping !== null) return 'symmetric';
  if (filtering === 'endpoint-independent') return 'full-cone';
  if (filtering === 'address-dependent') return 'address-restricted';
  return 'port-restricted';
}

/** Runs the tests against the STUN server at `server` (a supernode's UDP port). */
export async function detectNat(env: Env, server: Endpoint, options: DetectionOptions = {}): Promise<NatReport> {
  const started = env.clock.now();
  const bind = (): Promise<UdpSocket> => env.net.bindUdp({ port: 0, ...(options.localHost ? { host: options.localHost } : {}) });
  // A Binding request that comes back to M from its own mapped address: the NAT hairpins.
  let hairpinned = false;
  let mappedForHairpin: Endpoint | null = null;
  const m = new StunTransactions(await bind(), env.clock, env.random, (_bytes, from) => {
    if (mappedForHairpin && same(from, mappedForHairpin)) hairpinned = true;
  });
  const f = new StunTransactions(await bind(), env.clock, env.random);
  const local = m.socket.local;
  const rto = options.rtoMs ?? 100;
  const udpTimeoutMs = options.udpTimeoutMs ?? MIN_UDP_TIMEOUT_MS;
  try {
    const testI = m.request(server, [], { rtoMs: rto, deadlineMs: udpTimeoutMs });
    const changeBoth = f.request(server, [{ type: Attr.CHANGE_REQUEST, value: encodeChangeRequest(CHANGE_IP | CHANGE_PORT) }], { rtoMs: rto, deadlineMs: udpTimeoutMs });
    const changePort = f.request(server, [{ type: Attr.CHANGE_REQUEST, value: encodeChangeRequest(CHANGE_PORT) }], { rtoMs: rto, deadlineMs: udpTimeoutMs });
    const first = await testI;
    const report = (fields: Omit<NatReport, 'local' | 'durationMs'>): NatReport => ({ ...fields, local, durationMs: env.clock.now() - started });
    if (!first.ok) {
      const webOnly = options.onlyWebPortReached === true;
      const note = webOnly ? 'no STUN answer over UDP, and TCP reached the supernode only on its web port' : 'no STUN answer over UDP';
      return report({ type: webOnly ? 'web-only' : 'udp-blocked', mapping: null, filtering: null, mapped: null, portPreserved: null, rttMs: null, hairpinning: null, note });
    }
    const rttMs = first.value.rttMs;
    const mapped = mappedOf(first.value);
    const behindNat = !same(mapped, local);
    const portPreserved = mapped ? mapped.port === local.port : null;
    const otherAttr = attribute(first.value.message, Attr.OTHER_ADDRESS);
    const other = otherAttr ? decodeAddress(otherAttr, false) : null;
    if (!other?.ok) {
      // A server with one address: filtering stays unknown, and so does the class unless a
      // second server shows a new mapping per destination (symmetric, whatever it filters) —
      // said so, never guessed (a wrong class would mislead the mixer election and people).
      const where = behindNat ? 'behind a NAT' : 'on a public address (a firewall may filter)';
      const mapping = behindNat && options.secondServer && options.secondServer.host !== server.host ? await mappingAcross(m, mapped, options.secondServer, rttMs, udpTimeoutMs) : null;
      if (mapping === 'address-and-port-dependent') {
        return report({ type: 'symmetric', mapping, filtering: null, mapped, portPreserved, rttMs, hairpinning: null, note: `${where}; two supernodes saw two different mappings: a new one per destination` });
      }
      const found = mapping ? '; two supernodes saw the same mapping (a cone NAT), but its filtering is unknown' : '';
      return report({ type: 'unknown', mapping, filtering: null, mapped, portPreserved, rttMs, hairpinning: null, note: `${where}; the STUN server has no second address (no OTHER-ADDRESS), so its behaviour is unknown${found}` });
    }
    // Hairpinning (RFC 5780 section 4.5): M sends a request to its own mapped address; the NAT
    // turns it back in if it hairpins (and M's filter lets it in: M sent to that address).
    if (behindNat && mapped) {
      mappedForHairpin = mapped;
      void m.request(mapped, [], { rtoMs: 50, attempts: 2, deadlineMs: 150 });
    }
    // Filtering answers come about when test I's did; a few round trips more and they are not coming.
    const filteringWaitMs = Math.max(4 * rttMs, 100);
    const waitFor = (answer: Promise<Awaited<typeof testI>>) =>
      Promise.race([answer.then((a) => a.ok), new Promise<boolean>((resolve) => env.clock.after(filteringWaitMs, () => resolve(false)))]);
    const mappingTest = (async (): Promise<Dependence> => {
      if (!behindNat) return 'endpoint-independent';
      const [testII, testIII] = await Promise.all([
        m.request({ host: other.value.host, port: server.port }, [], { rtoMs: Math.max(2 * rttMs, 20), deadlineMs: udpTimeoutMs }),
        m.request(other.value, [], { rtoMs: Math.max(2 * rttMs, 20), deadlineMs: udpTimeoutMs }),
      ]);
      const mappedII = testII.ok ? mappedOf(testII.value) : null;
      const mappedIII = testIII.ok ? mappedOf(testIII.value) : null;
      if (same(mappedII, mapped)) return 'endpoint-independent';
      return same(mappedIII, mappedII) ? 'address-dependent' : 'address-and-port-dependent';
    })();
    const [mapping, gotBoth, gotPort] = await Promise.all([mappingTest, waitFor(changeBoth), waitFor(changePort)]);
    const filtering: Dependence = gotBoth ? 'endpoint-independent' : gotPort ? 'address-dependent' : 'address-and-port-dependent';
    // Behind endpoint-dependent mapping the test cannot tell: the request leaves on a new mapping, which the old one's filter refuses.
    return report({ type: classify(mapping, filtering, behindNat), mapping, filtering, mapped, portPreserved, rttMs, hairpinning: behindNat && mapping === 'endpoint-independent' ? hairpinned : null });
  } finally {
    m.close();
    f.close();
    m.socket.close();
    f.socket.close();
  }
}

/**
 * Mapping behaviour from a second server on another host: the same mapped address from both
 * means one mapping for every destination; a different one means a mapping per destination
 * (RFC 4787 calls it address- or address-and-port-dependent; one server per host cannot tell
 * which, and either makes the NAT symmetric). Null when the second server does not answer.
 */
async function mappingAcross(m: StunTransactions, mapped: Endpoint | null, second: Endpoint, rttMs: number, udpTimeoutMs: number): Promise<Dependence | null> {
  const answer = await m.request(second, [], { rtoMs: Math.max(2 * rttMs, 20), deadlineMs: udpTimeoutMs });
  if (!answer.ok) return null;
  return same(mappedOf(answer.value), mapped) ? 'endpoint-independent' : 'address-and-port-dependent';
}

const WIRE_TYPES: Record<NatType, WireNatType> = {
  open: WireNatType.OPEN,
  firewalled: WireNatType.FIREWALLED,
  'full-cone': WireNatType.FULL_CONE,
  'address-restricted': WireNatType.ADDRESS_RESTRICTED,
  'port-restricted': WireNatType.PORT_RESTRICTED,
  symmetric: WireNatType.SYMMETRIC,
  'udp-blocked': WireNatType.UDP_BLOCKED,
  'web-only': WireNatType.WEB_ONLY,
  unknown: WireNatType.UNSPECIFIED,
};

/** The type as presence records carry it. */
export function natTypeToWire(type: NatType): WireNatType {
  return WIRE_TYPES[type];
}

const NAMES: Record<NatType, string> = {
  open: 'open',
  firewalled: 'firewalled',
  'full-cone': 'full cone',
  'address-restricted': 'address-restricted',
  'port-restricted': 'port-restricted',
  symmetric: 'symmetric',
  'udp-blocked': 'UDP blocked',
  'web-only': 'web only (TCP to 80/443)',
  unknown: 'unknown',
};

/** One line for people: the type, the behaviours behind it, the addresses and the time it took. */
export function describeNat(report: NatReport): string {
  const name = NAMES[report.type];
  const behaviour = report.mapping && report.filtering ? ` (mapping ${report.mapping}, filtering ${report.filtering})` : '';
  const seen = report.mapped ? `; seen as ${report.mapped.host}:${report.mapped.port} from ${report.local.host}:${report.local.port}${report.portPreserved === false ? ', port not preserved' : ''}` : '';
  const hairpin = report.hairpinning === null ? '' : report.hairpinning ? '; hairpins' : '; no hairpinning';
  return `${name}${behaviour}${seen}${hairpin}; found in ${Math.round(report.durationMs)} ms${report.note ? ` (${report.note})` : ''}`;
}

export interface MappingLifetime {
  /** The mapping was still there after this long without traffic (0: not even after the shortest wait). */
  readonly aliveAfterMs: number;
  /** ... and gone after this long (null: alive after every wait tried). */
  readonly goneAfterMs: number | null;
}

/**
 * How long the NAT keeps an idle UDP mapping (RFC 5780 section 4.6), every wait in parallel so
 * the answer takes as long as the longest wait, not their sum: for each wait T, socket X makes a
 * mapping, stays silent for T, then socket Y asks the server to answer to X's mapped port
 * (RESPONSE-PORT: same address, that port). X hears it only if its mapping lived. The answer
 * comes from the address X sent to, so any filtering lets it in.
 */
export async function detectMappingLifetime(env: Env, server: Endpoint, waitsMs: readonly number[] = [15_000, 30_000, 60_000, 120_000], localHost?: string): Promise<MappingLifetime> {
  const bind = (): Promise<UdpSocket> => env.net.bindUdp({ port: 0, ...(localHost ? { host: localHost } : {}) });
  const probe = async (waitMs: number): Promise<boolean> => {
    const x = new StunTransactions(await bind(), env.clock, env.random);
    const y = new StunTransactions(await bind(), env.clock, env.random);
    try {
      const first = await x.request(server, [], { rtoMs: 100, deadlineMs: 1_500 });
      const mapped = first.ok ? mappedOf(first.value) : null;
      if (!mapped) return false;
      await new Promise<void>((resolve) => env.clock.after(waitMs, resolve));
      // The answer to Y's request goes to X's mapped port: X hears it if the mapping lived.
      const heard = new Promise<boolean>((resolve) => {
        const timer = env.clock.after(1_000, () => resolve(false));
        x.socket.onMessage(() => {
          timer.cancel();
          resolve(true);
        });
      });
      void y.request(server, [{ type: Attr.RESPONSE_PORT, value: Uint8Array.of(mapped.port >> 8, mapped.port & 0xff, 0, 0) }], { rtoMs: 200, attempts: 3 });
      return await heard;
    } finally {
      x.close();
      y.close();
      x.socket.close();
      y.socket.close();
    }
  };
  const sorted = [...waitsMs].sort((a, b) => a - b);
  const alive = await Promise.all(sorted.map(probe));
  const lastAlive = sorted.filter((_, i) => alive[i]).at(-1) ?? 0;
  const firstGone = sorted.find((w, i) => !alive[i] && w > lastAlive) ?? null;
  return { aliveAfterMs: lastAlive, goneAfterMs: firstGone };
}
