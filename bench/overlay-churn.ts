// Lookups before and after 30 % of supernodes crash at once, by 10-second window of virtual
// time: `node dist/bench/overlay-churn.js [supernodes] [users] [seed] [--steady]`. Times are
// virtual (exact for a seed); the join phase's wall time is printed too (the cost of building the
// overlay). `--steady` measures the steady state only (no crash): the lookup figure at size.
import { percentile, runChurn, window } from '../test/support/overlay-churn.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const steadyOnly = process.argv.includes('--steady');
const supernodes = Number(args[0] ?? 100);
const users = Number(args[1] ?? 100);
const seed = Number(args[2] ?? 1);
const run = await runChurn({ seed, supernodes, users, crashShare: steadyOnly ? 0 : 0.3, lookupsPerSecond: 10, steadyMs: 30_000, afterCrashMs: steadyOnly ? 0 : 90_000 });
const rtt = run.medianRttMs;
const row = (label: string, from: number, to: number) => {
  const w = window(run.lookups, from, to);
  const ms = w.map((l) => l.durationMs);
  const failed = w.filter((l) => !l.found).length;
  console.log(`${label.padEnd(16)} n=${String(w.length).padStart(4)} failed=${failed} p50=${percentile(ms, 50).toFixed(0)} ms (${(percentile(ms, 50) / rtt).toFixed(1)} RTT) p90=${(percentile(ms, 90) / rtt).toFixed(1)} RTT p99=${percentile(ms, 99).toFixed(0)} ms (${(percentile(ms, 99) / rtt).toFixed(1)} RTT)`);
};
console.log(`${supernodes} supernodes, ${users} users, seed ${seed}, median RTT ${rtt.toFixed(0)} ms; join wall ${(run.joinWallMs / 1000).toFixed(1)} s (${(run.joinWallMs / supernodes).toFixed(0)} ms per supernode), run wall ${(run.wallMs / 1000).toFixed(1)} s`);
console.log(`links per supernode after the steady phase ${run.peerLinksPerSupernode.toFixed(1)}, heap ${(run.heapUsedBytes / 2 ** 20).toFixed(0)} MiB`);
row('steady', -Infinity, 0);
if (!steadyOnly) for (let t = 0; t < 90_000; t += 10_000) row(`crash +${t / 1000}–${t / 1000 + 10} s`, t, t + 10_000);
