// Loaded into a `parley` process for the memory study of issue 22 (never in a measured run):
//   NODE_OPTIONS="--import /abs/dist/bench/memory-probe.js" PARLEY_MEMORY_PROBE_DIR=/tmp/probe parley online …
// On SIGUSR2 the process writes DIR/PID.json: process.memoryUsage(), V8's heap spaces and code
// statistics; with PARLEY_MEMORY_PROBE_SNAPSHOT=1 also a heap snapshot DIR/PID.heapsnapshot.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapCodeStatistics, getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';

const dir = process.env.PARLEY_MEMORY_PROBE_DIR;
if (dir) {
  process.on('SIGUSR2', () => {
    const report = {
      pid: process.pid,
      argv: process.argv.slice(2),
      memoryUsage: process.memoryUsage(),
      heap: getHeapStatistics(),
      spaces: getHeapSpaceStatistics(),
      code: getHeapCodeStatistics(),
      resourceUsage: process.resourceUsage(),
    };
    if (process.env.PARLEY_MEMORY_PROBE_SNAPSHOT === '1') writeHeapSnapshot(join(dir, `${process.pid}.heapsnapshot`));
    writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify(report, null, 1));
  });
}
