// What an idle attached client costs on the wire, and how fast its clients notice a supernode
// that crashed (no FIN, no RST) and attach elsewhere: `node dist/bench/overlay-liveness.js
// [supernodes] [clients] [seed]`. Virtual time and bytes (exact for a seed: IP packets, headers
// included, counted at the client's interface).
import { SeededRandom } from '../src/env/prng.js';
import { VirtualNetwork, type VirtualHost } from '../src/env/virtual/index.js';
import { AttachedClient, type AttachmentEvent } from '../src/client/attachment.js';
import { HostCache } from '../src/overlay/host-cache.js';
import { testNetwork, TEST_EPOCH_MS } from '../test/support/identities.js';
import { startSupernodes } from '../test/support/supernodes.js';

const supernodeCount = Number(process.argv[2] ?? 20);
const clientCount = Number(process.argv[3] ?? 60);
const seed = Number(process.argv[4] ?? 1);
const IDLE_MINUTES = 10;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Idle bytes per client-minute, and crash detection; `presenceRefreshMs` stretched leaves the keep-alives alone. */
async function run(presenceRefreshMs: number | undefined, crash: boolean) {
  const random = new SeededRandom(seed);
  const net = testNetwork(random);
  const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
  const drive = <T>(work: Promise<T>) => network.scheduler.drive(work, 24 * 3_600_000);
  const elapse = (ms: number) => drive(new Promise<void>((resolve) => network.scheduler.after(ms, resolve)));
  const latency = () => 5 + random.float() * 15;
  const supernodes = await startSupernodes(network, net, supernodeCount, { link: () => ({ latencyMs: latency() }) });
  const seeds = supernodes.slice(0, 5).map((s) => s.ref);
  for (const s of supernodes) await drive(s.running.join(seeds));
  const clients: { host: VirtualHost; attached: AttachedClient; events: AttachmentEvent[] }[] = [];
  for (let i = 0; i < clientCount; i++) {
    const name = `user${i}`;
    const host = network.addHost({ behind: network.addGateway({ nat: 'port-restricted' }), link: { latencyMs: latency() } });
    const bootstrap = Array.from({ length: 4 }, () => supernodes[random.int(supernodeCount)]!.ref);
    const attached = new AttachedClient(host.env(), { identity: net.identity(name), verifier: net.verifier, username: name, hostCache: new HostCache(), bootstrap, ...(presenceRefreshMs ? { presenceRefreshMs } : {}) });
    const events: AttachmentEvent[] = [];
    attached.onEvent((e) => events.push(e));
    await drive(attached.start());
    clients.push({ host, attached, events });
    // Clients come at different moments, so their keep-alives are out of phase.
    await elapse(random.int(3_000));
  }
  await elapse(60_000);
  const bytes = () => clients.reduce((sum, c) => sum + c.host.bytesSent + c.host.bytesReceived, 0);
  const before = bytes();
  await elapse(IDLE_MINUTES * 60_000);
  const idleBytesPerMinute = (bytes() - before) / clientCount / IDLE_MINUTES;
  const detection: number[] = [];
  const reattach: number[] = [];
  if (crash) {
    // A quarter of the supernodes that serve clients crash, at a moment drawn at random.
    await elapse(random.int(25_000));
    const serving = [...new Set(clients.map((c) => c.attached.supernode!.host))];
    const dead = new Set(serving.slice(0, Math.max(1, Math.round(serving.length / 4))));
    const crashedAt = network.scheduler.now();
    for (const s of supernodes) {
      if (!dead.has(s.host.addressText)) continue;
      s.host.crash();
      s.running.close();
    }
    await elapse(60_000);
    for (const c of clients) {
      const lost = c.events.find((e) => e.kind === 'lost' && e.atMs >= crashedAt);
      if (!lost) continue;
      const again = c.events.find((e) => e.kind === 'attached' && e.atMs >= lost.atMs);
      if (!again) throw new Error('a client did not attach again');
      detection.push(lost.atMs - crashedAt);
      reattach.push(again.atMs - lost.atMs);
    }
  }
  for (const c of clients) c.attached.close();
  for (const s of supernodes) s.running.close();
  return { idleBytesPerMinute, detection, reattach };
}

const keepAlivesOnly = await run(24 * 3_600_000, false);
const all = await run(undefined, true);
const round = (n: number) => Math.round(n);
console.log(
  JSON.stringify({
    supernodes: supernodeCount,
    clients: clientCount,
    seed,
    idleBytesPerClientMinute: { keepAlivesOnly: round(keepAlivesOnly.idleBytesPerMinute), withRefreshes: round(all.idleBytesPerMinute) },
    crashed: all.detection.length,
    detectionMs: { p50: percentile(all.detection, 50), p90: percentile(all.detection, 90), max: Math.max(...all.detection) },
    reattachMs: { p50: percentile(all.reattach, 50), max: Math.max(...all.reattach) },
  }),
);
