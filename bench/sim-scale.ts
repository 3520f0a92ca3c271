// The simulator at size: `node --expose-gc dist/bench/sim-scale.js SUPERNODES [CLIENTS] [SEED] [--serial]`.
// One run of `parley sim` with a short fault phase (30 s, supernodes crash), printing its build
// time, speed (simulated node-seconds per wall second) and heap per node, and whether the
// invariants held. `--serial` builds one node at a time (the first simulator's way) to compare.
import { runSim } from '../src/sim/run.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const supernodes = Number(args[0] ?? 100);
const clients = Number(args[1] ?? supernodes * 3);
const seed = Number(args[2] ?? 1);
const serialBuild = process.argv.includes('--serial');
const started = performance.now();
const result = await runSim(seed, { supernodes, clients, faults: ['crash'], faultPhaseMs: 30_000, forgers: 0 }, { serialBuild, log: (line) => console.error(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${line}`) });
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
    cpuS: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1e5) / 10,
    lookups: result.report.lookups,
    violation: result.violation ? `${result.violation.invariant}: ${result.violation.detail}` : null,
  }),
);
