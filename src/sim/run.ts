// One simulated run: build the world, run the fault phase a simulated second at a time (faults,
// churn, lookups and messages, then the invariants), then the liveness phase (faults stop; the
// network must heal within LIVENESS_MS). The first violation ends the run with the invariant,
// the simulated time and the replay line.
import { equalBytes } from '../crypto/bytes.js';
import { MAX_QUEUED_ITEMS } from '../messenger/device-stream.js';
import { DEFAULT_MAX_LINKS } from '../supernode/supernode.js';
import { CLOCK_SKEW_MS as PRESENCE_CLOCK_SKEW_MS } from '../overlay/presence.js';
import { SeededRandom } from '../env/prng.js';
import { drawScenario, replayLine, type Scenario, type ScenarioOptions } from './scenario.js';
import { SimWorld, type SimClient } from './world.js';
import { FaultSchedule } from './faults.js';
import { MessageLedger, messageText, tagOf } from './ledger.js';
import { buildReport, snapshotCounters, type SimReport, type TickSample } from './report.js';
import { ForgeryLedger, forgeOnce } from './forger.js';

/** The invariants' step: they are checked every simulated second. */
export const TICK_MS = 1_000;
/** An online user is found within this long, once the network is quiet. */
export const LOOKUP_BOUND_MS = 5_000;
/** A user counts as online for lookups once attached this long without a break (its record is published). */
export const SETTLED_MS = 10_000;
/** After a fault ends, how long the network has before findability is checked again. */
export const FAULT_GRACE_MS = 30_000;
/**
 * After faults stop, the network must heal within this long: every client attached, lookups
 * succeeding, every message shown. Offline messages are fetched every 30 s (CONTACTS_REFRESH_MS),
 * a client that lost its supernode retries with a growing pause: two minutes cover both.
 */
export const LIVENESS_MS = 120_000;
/** How often (simulated) a running simulation logs its speed so far. */
const PROGRESS_EVERY_MS = 10_000;
/** A client's downtime in churn: from 5 to 30 s. */
const CHURN_DOWN_MS = { min: 5_000, max: 30_000 };

export interface Violation {
  readonly invariant: string;
  readonly detail: string;
  /** Simulated time since the run started. */
  readonly atMs: number;
}

export interface SimResult {
  readonly scenario: Scenario;
  readonly violation: Violation | null;
  readonly replay: string;
  readonly report: SimReport;
}

export interface SimControl {
  /** Progress lines (to stderr in the CLI). */
  readonly log?: (line: string) => void;
  /** Build one node at a time (the first simulator's way), to compare with the waves. */
  readonly serialBuild?: boolean;
}

interface LookupOutcome {
  readonly startedMs: number;
  readonly latencyMs: number;
  readonly found: boolean;
  /** Started and ended while the network was quiet: a failure is a violation. */
  readonly checked: boolean;
}

export async function runSim(seed: number, options: ScenarioOptions = {}, control: SimControl = {}): Promise<SimResult> {
  const scenario = drawScenario(seed, options);
  const replay = replayLine(seed, options);
  const log = control.log ?? (() => {});
  const wallStart = performance.now();
  // With --expose-gc the heap figures are after a collection (without it, they include garbage).
  const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});
  collect();
  const heapBefore = process.memoryUsage().heapUsed;
  const world = new SimWorld(scenario);
  world.serialBuild = control.serialBuild ?? false;
  world.log = log;
  // Handler time per node, for the report (two clock reads an event).
  world.network.scheduler.measureCpu = true;
  // The simulator's own choices (who sends, who looks up) from a stream of their own, so they
  // do not shift the world's randomness.
  const choice = new SeededRandom(seed ^ 0xc401ce);
  const ledger = new MessageLedger();
  const forgeries = new ForgeryLedger();
  let violation: Violation | null = null;
  let runStartMs = 0;
  const runTime = () => world.now - runStartMs;
  const violate = (invariant: string, detail: string) => {
    violation ??= { invariant, detail, atMs: runTime() };
  };

  // Deliveries: each sim message must be shown once (the injections break this on purpose).
  let dropOne = scenario.injections.includes('drop-message');
  let duplicateOne = scenario.injections.includes('duplicate-message');
  let acceptForged = scenario.injections.includes('accept-forged');
  world.onDevice = (client, device) => {
    // A device whose clock is off beyond the tolerance must not attach: its record is refused
    // (from the future, or expired on arrival). Its machine restarted with the clock wrong
    // (faults.ts), so no attach begun with a right clock is still under way.
    device.onEvent((event) => {
      if (event.kind !== 'attachment' || event.event.kind !== 'attached' || client.device !== device) return;
      const since = client.badClockSinceMs;
      if (since !== null) {
        violate('a clock beyond the tolerance is refused', `${client.name} attached to ${event.event.supernode.host} with its clock ${Math.round(client.clockSkewMs / 1000)} s off (${((world.now - since) / 1000).toFixed(1)} s after it went off)`);
      }
    });
    device.chat.onMessage((message) => {
      const tag = tagOf(message.text);
      if (tag === null) return;
      if (dropOne) {
        dropOne = false;
        return;
      }
      let shown = ledger.shown(tag, runTime());
      if (duplicateOne) {
        duplicateOne = false;
        shown = ledger.shown(tag, runTime());
      }
      if (shown > 1) violate('no chat message delivered twice', `message ${tag} from ${message.from} shown ${shown} times to ${client.name}`);
    });
  };

  try {
    log(`building ${scenario.supernodes} supernodes and ${scenario.clients} clients`);
    await world.buildSupernodes();
    await world.buildClients();
    const buildWallMs = performance.now() - wallStart;
    const buildVirtualMs = world.now;
    runStartMs = world.now;
    const nodes = scenario.supernodes + scenario.forgers + scenario.clients;
    collect();
    const heapPerNodeBytes = Math.max(0, process.memoryUsage().heapUsed - heapBefore) / nodes;
    const countersAtRunStart = snapshotCounters(world);
    log(`built in ${(buildWallMs / 1000).toFixed(1)} s wall; running ${scenario.faultPhaseMs / 1000} s of faults`);

    const faults = new FaultSchedule(world, scenario.faults);
    const lookups: LookupOutcome[] = [];
    const samples: TickSample[] = [];
    const churnRestarts: { atMs: number; client: SimClient }[] = [];
    let maxQueue = 0;
    // Attached, to a supernode that is up and on its side of a partition: a client that has not
    // yet noticed its supernode died is not online, however sure it is.
    const supernodeAt = new Map([...world.supernodes, ...world.forgers].map((s) => [s.host.addressText, s]));
    const online = (c: SimClient) => {
      if (c.device === null || c.attachedSinceMs === null) return false;
      const at = c.device.client.supernode;
      const supernode = at ? supernodeAt.get(at.host) : undefined;
      if (!supernode?.running) return false;
      const severed = world.network.severed;
      return !severed || !severed(c.publicAddress, supernode.host.address);
    };
    const quiet = () => {
      const lastEnd = faults.lastEndMs;
      return !faults.holding && (lastEnd === null || runTime() - lastEnd >= FAULT_GRACE_MS);
    };

    // Who is online and settled, taken once a tick before the tick's lookups and messages
    // start (nothing changes in between: no virtual time passes), not once per lookup: at
    // thousands of clients the scans per lookup were quadratic.
    interface Population {
      readonly online: SimClient[];
      readonly settled: SimClient[];
    }
    const census = (): Population => {
      const onlineNow = world.clients.filter(online);
      return { online: onlineNow, settled: onlineNow.filter((c) => world.now - c.attachedSinceMs! >= SETTLED_MS) };
    };

    const startLookup = ({ online: from, settled: targets }: Population) => {
      if (from.length === 0 || targets.length === 0) return;
      const looker = from[choice.int(from.length)]!;
      const target = targets[choice.int(targets.length)]!;
      if (looker === target) return;
      const device = looker.device!;
      const targetKey = target.device!.deviceKey;
      const startedMs = runTime();
      const quietAtStart = quiet();
      device.client.find(target.name, LOOKUP_BOUND_MS).then(
        (records) => {
          const answered = records.map((r) => r.encoded);
          if (acceptForged && forgeries.sample !== null) {
            acceptForged = false;
            answered.push(forgeries.sample);
          }
          if (answered.some((encoded) => forgeries.isForged(encoded))) {
            violate('no presence record accepted with a bad signature', `${looker.name}'s lookup of ${target.name} returned a record a forger made`);
          }
          return records.some((r) => equalBytes(r.device.dhKey, targetKey));
        },
        () => false,
      ).then((found) => {
        const latencyMs = runTime() - startedMs;
        // Checked only when the network was quiet throughout and both ends stayed online.
        const checked = quietAtStart && quiet() && looker.device === device && online(target) && online(looker);
        lookups.push({ startedMs, latencyMs, found, checked });
        if (checked && (!found || latencyMs > LOOKUP_BOUND_MS)) {
          violate('an online user is findable within a bound', `${looker.name} looked up ${target.name} (online since ${(target.attachedSinceMs! - runStartMs) / 1000} s): ${found ? `found after ${latencyMs} ms` : 'not found'} (bound ${LOOKUP_BOUND_MS} ms)`);
        }
      });
    };

    const sendMessage = ({ online: senders }: Population) => {
      if (senders.length === 0) return;
      const sender = senders[choice.int(senders.length)]!;
      const buddies = sender.device!.contacts.buddies();
      if (buddies.length === 0) return;
      const to = buddies[choice.int(buddies.length)]!;
      const tag = ledger.take();
      const atMs = runTime();
      sender.device!.chat.send(to, messageText(tag)).then(
        () => ledger.accepted(tag, sender.name, to, atMs),
        () => ledger.refusedAtSend++,
      );
    };

    // Each forger forges one settled user's records a second (see forger.ts).
    const forge = ({ settled: targets }: Population) => {
      for (const forger of world.forgers) {
        const running = forger.running;
        if (!running || targets.length === 0) continue;
        const target = targets[choice.int(targets.length)]!;
        void forgeOnce(running, forger.ref, target.name, forgeries).catch(() => {});
      }
    };

    const checkBounds = () => {
      const badClocks = world.clients.filter((c) => c.badClockSinceMs !== null && c.clockSkewMs > 0);
      for (const s of world.supernodes) {
        const running = s.running;
        if (!running) continue;
        for (const victim of forgeries.victims) {
          // Expired records too (a wall time before any record): a forgery stored is one too many.
          if (running.dht.store.get(victim, -Infinity).some((r) => forgeries.isForged(r.encoded))) {
            violate('no presence record accepted with a bad signature', `supernode ${s.index} stores a record of ${victim} a forger made`);
          }
        }
        // No record from beyond the tolerance is stored: a bad clock ahead stamps its records
        // more than PRESENCE_CLOCK_SKEW_MS after the true time (no honest supernode's clock is
        // off while the bad-clock fault holds: faults do not overlap).
        const wallMs = world.network.scheduler.wallTimeMs();
        for (const c of badClocks) {
          if (running.dht.store.get(c.name, -Infinity).some((r) => r.issuedAtMs > wallMs + PRESENCE_CLOCK_SKEW_MS)) {
            violate('a clock beyond the tolerance is refused', `supernode ${s.index} stores a record of ${c.name} stamped more than ${PRESENCE_CLOCK_SKEW_MS / 60_000} minutes ahead of its clock`);
          }
        }
        const limit = running.attachments.limits.maxClients;
        if (running.attachments.size > limit) violate('no supernode over its attachment limits', `supernode ${s.index} holds ${running.attachments.size} clients (limit ${limit})`);
        if (running.links.size > DEFAULT_MAX_LINKS) violate('bounded links per supernode', `supernode ${s.index} holds ${running.links.size} links (limit ${DEFAULT_MAX_LINKS})`);
        if (running.dht.store.size > running.dht.store.maxRecords) violate('bounded records per supernode', `supernode ${s.index} holds ${running.dht.store.size} records (limit ${running.dht.store.maxRecords})`);
      }
      for (const c of world.clients) {
        const queued = c.device?.messenger.unacknowledged ?? 0;
        maxQueue = Math.max(maxQueue, queued);
        if (queued > MAX_QUEUED_ITEMS) violate('bounded queues per device', `${c.name} has ${queued} payloads waiting (bound ${MAX_QUEUED_ITEMS})`);
      }
    };

    const sample = (phase: 'faults' | 'liveness') => {
      const up = world.clients.filter((c) => c.host.up);
      const attached = up.filter(online).length;
      // Lookups are recorded as they end, so the last second's are at the end of the list.
      const recent: LookupOutcome[] = [];
      for (let i = lookups.length - 1; i >= 0 && lookups[i]!.startedMs + lookups[i]!.latencyMs > runTime() - TICK_MS; i--) recent.push(lookups[i]!);
      const ok = recent.filter((l) => l.found).length;
      const tick: TickSample = {
        atMs: runTime(),
        phase,
        clientsAttached: attached,
        clientsUp: up.length,
        supernodesUp: world.supernodes.filter((s) => s.running).length,
        lookupsOk: ok,
        lookupsFailed: recent.length - ok,
      };
      samples.push(tick);
      return tick;
    };
    const healthy = (tick: TickSample) => tick.clientsAttached === tick.clientsUp && tick.lookupsFailed === 0;
    const noteRecovery = (tick: TickSample) => {
      if (!healthy(tick)) return;
      for (const r of faults.records) {
        if (r.healthyAfterStartMs === null && tick.atMs > r.startMs) r.healthyAfterStartMs = tick.atMs;
        if (r.endMs !== null && r.healthyAfterEndMs === null && tick.atMs > r.endMs) r.healthyAfterEndMs = tick.atMs;
      }
    };

    // Progress every PROGRESS_EVERY_MS simulated: at thousands of nodes a run takes long enough
    // that its speed so far is worth seeing (and a run stopped early has still measured it).
    const runWallStart = performance.now();
    const progress = () => {
      if (runTime() % PROGRESS_EVERY_MS !== 0) return;
      const wallS = (performance.now() - runWallStart) / 1000;
      log(`${runTime() / 1000} s simulated in ${wallS.toFixed(1)} s wall: ${Math.round((nodes * runTime()) / 1000 / Math.max(0.001, wallS))} node-s/s; heap ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MiB`);
    };

    // The fault phase.
    while (runTime() < scenario.faultPhaseMs && !violation) {
      faults.advance(runTime());
      for (let i = churnRestarts.length - 1; i >= 0; i--) {
        if (churnRestarts[i]!.atMs <= runTime()) world.restartClient(churnRestarts.splice(i, 1)[0]!.client);
      }
      if (scenario.churnPerClientMinute > 0) {
        for (const c of world.clients) {
          if (c.host.up && choice.float() < (scenario.churnPerClientMinute * TICK_MS) / 60_000) {
            world.crashClient(c);
            churnRestarts.push({ atMs: runTime() + CHURN_DOWN_MS.min + choice.float() * (CHURN_DOWN_MS.max - CHURN_DOWN_MS.min), client: c });
          }
        }
      }
      const population = census();
      for (let i = 0; i < scenario.lookupsPerSecond; i++) startLookup(population);
      for (let i = 0; i < scenario.messagesPerSecond; i++) sendMessage(population);
      forge(population);
      await world.elapse(TICK_MS);
      checkBounds();
      noteRecovery(sample('faults'));
      progress();
    }

    // The liveness phase: everything comes back, no new messages; the network must heal.
    let healedAtMs: number | null = null;
    if (!violation) {
      log(`liveness phase: faults stop at ${runTime() / 1000} s`);
      faults.endAll(runTime());
      for (const { client } of churnRestarts.splice(0)) world.restartClient(client);
      for (const c of world.clients) world.restartClient(c);
      const livenessStartMs = runTime();
      while (!violation && runTime() - livenessStartMs < LIVENESS_MS) {
        const population = census();
        for (let i = 0; i < scenario.lookupsPerSecond; i++) startLookup(population);
        await world.elapse(TICK_MS);
        checkBounds();
        progress();
        const tick = sample('liveness');
        noteRecovery(tick);
        if (healthy(tick) && tick.clientsAttached === scenario.clients && ledger.undelivered().length === 0) {
          healedAtMs = runTime() - livenessStartMs;
          break;
        }
      }
      if (!violation && healedAtMs === null) {
        const last = samples[samples.length - 1];
        const missing = ledger.undelivered();
        if (missing.length > 0) {
          const m = missing[0]!;
          violate('no chat message lost', `${missing.length} message(s) never shown after ${LIVENESS_MS / 1000} s of healing; first: message ${m.tag} from ${m.from} to ${m.to}, sent at ${(m.sentAtMs / 1000).toFixed(1)} s; ${world.login.offlineWaiting} offline message(s) still waiting at the login server, ${world.login.refusedOffline} refused; ${world.clients.filter((c) => c.device === null).length} clients without a running device`);
        } else {
          violate('the network heals once faults stop', `after ${LIVENESS_MS / 1000} s: ${last?.clientsAttached ?? 0} of ${scenario.clients} clients attached, ${last?.lookupsFailed ?? 0} lookups failed in the last second`);
        }
      }
    }

    const wallMs = performance.now() - wallStart;
    const report = buildReport({
      scenario,
      world,
      ledger,
      lookups,
      samples,
      faults: faults.records,
      healedAtMs,
      maxQueue,
      forgeries,
      build: { wallMs: buildWallMs, virtualMs: buildVirtualMs },
      simulatedMs: runTime(),
      wallMs,
      heapPerNodeBytes,
      nodes,
      countersAtRunStart,
    });
    return { scenario, violation, replay, report };
  } finally {
    await world.close();
  }
}
