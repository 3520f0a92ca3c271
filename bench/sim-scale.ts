// The simulator at size: `node --expose-gc dist/bench/sim-scale.js SUPERNODES [CLIENTS] [SEED] [--serial] [--heap-snapshot=PATH]`.
// One run of `parley sim` with a short fault phase (30 s, supernodes crash), printing its build
// time, speed (simulated node-seconds per wall second) and heap per node, and whether the
// invariants held. `--serial` builds one node at a time (the first simulator's way) to compare.
import { writeHeapSnapshot } from 'node:v8';
import { runSim } from '../src/sim/run.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const supernodes = Number(args[0] ?? 100);
const clients = Number(args[1] ?? supernodes * 3);
const seed = Number(args[2] ?? 1);
const serialBuild = process.argv.includes('--serial');
// --heap-snapshot=PATH: a heap snapshot once the world is built (to see what each node holds).
const snapshotPath = process.argv.find((a) => a.startsWith('--heap-snapshot='))?.slice('--heap-snapshot='.length);
const started = performance.now();
const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};
// CPU time of this process at the end of the build: on a shared machine the run's CPU time is
// steadier than its wall time (the speed per CPU second below).
let buildCpuS = 0;
const result = await runSim(seed, { supernodes, clients, faults: ['crash'], faultPhaseMs: 30_000, forgers: 0 }, {
  serialBuild,
  log: (line) => {
    console.error(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${line}`);
    if (line.startsWith('built in')) buildCpuS = cpuSeconds();
    if (snapshotPath && line.startsWith('built in')) console.error(`heap snapshot: ${writeHeapSnapshot(snapshotPath)}`);
  },
});
const m = result.report.machine;
console.log(
  JSON.stringify({
    supernodes,
    clients,
    seed,
    serialBuild,
    buildWallS: Math.round(m.buildWallMs / 100) / 10,
    buildVirtualS: Math.round(m.buildVirtualMs / 100) / 10,
    runWallS: Math.round((m.wallMs - m.buildWallMs) / 100) / 10,
    simulatedS: m.simulatedMs / 1000,
    nodeSecondsPerWallSecond: m.nodeSecondsPerWallSecond,
    heapPerNodeKiB: Math.round(m.heapPerNodeBytes / 1024),
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    // CPU seconds of this process, build and run together: steadier than wall time on a shared machine.
    cpuS: Math.round(cpuSeconds() * 10) / 10,
    buildCpuS: Math.round(buildCpuS * 10) / 10,
    runCpuS: Math.round((cpuSeconds() - buildCpuS) * 10) / 10,
    nodeSecondsPerCpuSecond: Math.round((m.nodes * m.simulatedMs) / 1000 / Math.max(0.001, cpuSeconds() - buildCpuS)),
    // Handler CPU per node by role and the unattributed shares; bytes per node (report.ts).
    cpu: m.cpu,
    traffic: result.report.traffic,
    lookups: result.report.lookups,
    violation: result.violation ? `${result.violation.invariant}: ${result.violation.detail}` : null,
  }),
);
