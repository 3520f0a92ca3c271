// A 2010-style fault on the overlay, for the churn test and the benchmark: supernodes on the
// virtual network hold users' records; lookups run at a steady rate from random live supernodes;
// a share of the supernodes crashes at once (no FIN, no RST) and the lookups go on. The result
// is each lookup's start and duration in virtual time (exact for a seed), so a caller can say
// how long the overlay took to recover.
import { SeededRandom } from '../../src/env/prng.js';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { createPresenceRecord, verifyPresenceRecord } from '../../src/overlay/presence.js';
import { testNetwork, TEST_EPOCH_MS } from './identities.js';
import { startSupernodes, type TestSupernode } from './supernodes.js';

export interface ChurnOptions {
  readonly seed: number;
  readonly supernodes: number;
  readonly users: number;
  /** Share of supernodes that crash at once (0.3: 30 %). */
  readonly crashShare: number;
  /** Lookups started per virtual second, before and after the crash. */
  readonly lookupsPerSecond: number;
  /** Lookups measured before the crash for this long (virtual ms). */
  readonly steadyMs: number;
  /** And after it for this long. */
  readonly afterCrashMs: number;
}

export interface TimedLookup {
  /** Virtual ms since the crash (negative: before it). */
  readonly startMs: number;
  readonly durationMs: number;
  readonly found: boolean;
}

export interface ChurnRun {
  readonly lookups: readonly TimedLookup[];
  /** Median round trip between two supernodes (virtual ms). */
  readonly medianRttMs: number;
  /** Wall time of the join phase (ms), and of the whole run. */
  readonly joinWallMs: number;
  readonly wallMs: number;
  /** Open links per supernode at the end of the steady phase (what warm links cost), and the heap then. */
  readonly peerLinksPerSupernode: number;
  readonly heapUsedBytes: number;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Lookups started in [fromMs, toMs) after the crash. */
export function window(lookups: readonly TimedLookup[], fromMs: number, toMs: number): TimedLookup[] {
  return lookups.filter((l) => l.startMs >= fromMs && l.startMs < toMs);
}

export async function runChurn(options: ChurnOptions): Promise<ChurnRun> {
  const wallStart = performance.now();
  const random = new SeededRandom(options.seed);
  const net = testNetwork(random);
  const network = new VirtualNetwork(options.seed, { epochMs: TEST_EPOCH_MS });
  const scheduler = network.scheduler;
  const drive = <T>(work: Promise<T>) => scheduler.drive(work, 24 * 3_600_000);
  const elapse = (ms: number) => drive(new Promise<void>((resolve) => scheduler.after(ms, resolve)));
  // One-way link latency 5–20 ms: a median round trip of ~50 ms, as in bench/overlay.ts.
  const supernodes = await startSupernodes(network, net, options.supernodes, { link: () => ({ latencyMs: 5 + random.float() * 15 }) });
  const rtts: number[] = [];
  for (let i = 0; i < 1000; i++) rtts.push(2 * (supernodes[random.int(supernodes.length)]!.host.link.latencyMs + supernodes[random.int(supernodes.length)]!.host.link.latencyMs));
  const seeds = supernodes.slice(0, 5).map((s) => s.ref);
  try {
    for (const s of supernodes) await drive(s.running.join(seeds));
    const joinWallMs = performance.now() - wallStart;

    // Each user's record names a random supernode and is published by it.
    const names: string[] = [];
    for (let i = 0; i < options.users; i++) {
      const name = `user${i}`;
      const home = supernodes[random.int(supernodes.length)]!;
      const encoded = createPresenceRecord(net.identity(name), net.verifier.networkId, name, { supernodes: [home.ref], candidates: [], sequence: 1, issuedAtMs: scheduler.wallTimeMs() });
      const verified = verifyPresenceRecord(encoded, net.verifier, scheduler.wallTimeMs());
      if (!verified.ok) throw new Error(`record for ${name}: ${verified.error.message}`);
      await drive(home.running.dht.publish(verified.value));
      names.push(name);
    }
    await elapse(1_000);

    const lookups: TimedLookup[] = [];
    const pending = new Set<Promise<void>>();
    let crashAtMs = 0;
    let alive: TestSupernode[] = supernodes;
    const lookupOnce = () => {
      const from = alive[random.int(alive.length)]!.running.dht;
      const name = names[random.int(names.length)]!;
      // A copy cached here from an earlier lookup is not a lookup.
      if (from.store.get(name, scheduler.wallTimeMs()).length > 0) return;
      const startedMs = scheduler.now();
      const done: Promise<void> = from
        .findPresence(name)
        .then((result) => {
          lookups.push({ startMs: startedMs - crashAtMs, durationMs: scheduler.now() - startedMs, found: result.records.length > 0 });
        })
        .finally(() => pending.delete(done));
      pending.add(done);
    };
    const runLookups = async (durationMs: number) => {
      const gapMs = 1000 / options.lookupsPerSecond;
      for (let t = 0; t < durationMs; t += gapMs) {
        lookupOnce();
        await elapse(gapMs);
      }
    };
    crashAtMs = scheduler.now() + options.steadyMs;
    await runLookups(options.steadyMs);
    const peerLinksPerSupernode = supernodes.reduce((sum, s) => sum + s.running.dht.peerLinkCount, 0) / supernodes.length;
    const heapUsedBytes = process.memoryUsage().heapUsed;
    const dead = new Set<TestSupernode>();
    while (dead.size < Math.round(options.crashShare * supernodes.length)) dead.add(supernodes[random.int(supernodes.length)]!);
    crashAtMs = scheduler.now();
    for (const s of dead) {
      s.host.crash();
      s.running.close();
    }
    alive = supernodes.filter((s) => !dead.has(s));
    await runLookups(options.afterCrashMs);
    await drive(Promise.all(pending));
    for (const s of alive) s.running.close();
    return { lookups, medianRttMs: percentile(rtts, 50), joinWallMs, wallMs: performance.now() - wallStart, peerLinksPerSupernode, heapUsedBytes };
  } finally {
    for (const s of supernodes) s.running.close();
  }
}
