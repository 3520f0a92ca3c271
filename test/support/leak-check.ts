// Fails a test file that leaves a timer, socket, server, child process or file watcher open once
// all its tests have ended. Loaded into every test process by scripts/test.mjs
// (`node --import ./dist/test/support/leak-check.js --test ...`); run one file with it the same way.
//
// It compares `process.getActiveResourcesInfo()` (what keeps the event loop alive: unref'd
// timers and sockets are not listed, they cannot hold a process) with what the process held
// when this module loaded, before the test file ran: the runner's own stdio pipes. What is left
// beyond that, unchanged for STILL_MS after the last test (the file's own after() hooks have had
// their turn), is named, with the test file, on stderr, and the process exits with code 1 (it
// would otherwise wait for the leaked resource forever, and the runner would report a timeout
// or nothing at all). Set PARLEY_LEAK_CHECK=0 to turn it off.
import { after } from 'node:test';
import { basename } from 'node:path';

/**
 * Requests in flight while a handle closes (the close of a socket, a write, a file operation):
 * they end by themselves within a few turns of the loop, and are waited for, never reported.
 */
const TRANSIENT = new Set(['CloseReq', 'ShutdownWrap', 'WriteWrap', 'FSReqCallback', 'FSReqPromise', 'FileHandleCloseReq']);
/** How long leftovers may take to close after the last test (a socket's close event, a server's). */
const SETTLE_MS = 250;

/** The kinds in `now` beyond those in `baseline` (a multiset difference), transient requests left out. */
export function leftoverResources(baseline: readonly string[], now: readonly string[]): string[] {
  const held = new Map<string, number>();
  for (const kind of baseline) held.set(kind, (held.get(kind) ?? 0) + 1);
  const extra: string[] = [];
  for (const kind of now) {
    if (TRANSIENT.has(kind)) continue;
    const left = held.get(kind) ?? 0;
    if (left > 0) held.set(kind, left - 1);
    else extra.push(kind);
  }
  return extra.sort();
}

function summary(kinds: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const kind of kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${n} × ${kind}`).join(', ');
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** A wait that holds nothing open itself (unref'd: not among the active resources). */
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

async function settledLeftovers(baseline: readonly string[]): Promise<string[]> {
  const deadline = Date.now() + SETTLE_MS;
  for (let turn = 0; ; turn++) {
    const extra = leftoverResources(baseline, process.getActiveResourcesInfo());
    if (extra.length === 0 || Date.now() >= deadline) return extra;
    if (turn < 20) await nextTurn();
    else await pause(10);
  }
}

const testFile = process.argv[1] ?? '';
/** Only in a test file's process, which the runner marks (not in the runner, nor in `node --import` outside a test run). */
const active = process.env.PARLEY_LEAK_CHECK !== '0' && process.env.NODE_TEST_CONTEXT !== undefined;

/** What the process held when this module loaded, before the test file ran. */
const baseline = process.getActiveResourcesInfo();
/** Leftovers that have not changed for this long, after the last test, are a leak (the file's own cleanup has had its turn). */
const STILL_MS = 20_000;
const WATCH_EVERY_MS = 100;

if (active) {
  // Root hooks run in the order they were added, and this module is loaded before the test
  // file: this hook runs before the file's own top-level after() hooks (the network lab stops
  // its processes in one). So it does not judge at once: it watches, on an unref'd timer that
  // holds nothing open. A file whose hooks close everything exits as usual; what is still open
  // and has not changed for STILL_MS is reported, and the process ends.
  after(async () => {
    const extra = await settledLeftovers(baseline);
    if (extra.length > 0) watch();
  });
}

function watch(): void {
  let seen = '';
  let sinceMs = Date.now();
  const timer = setInterval(() => {
    const extra = leftoverResources(baseline, process.getActiveResourcesInfo());
    const key = extra.join(',');
    if (key !== seen) {
      seen = key;
      sinceMs = Date.now();
      return;
    }
    if (extra.length === 0 || Date.now() - sinceMs < STILL_MS) return;
    clearInterval(timer);
    process.stderr.write(`\nleak check: ${basename(testFile)} left open after its last test: ${summary(extra)} (${testFile})\n`);
    process.exitCode = 1;
    // The leaked resources would keep this process alive: end it once the report is out.
    setTimeout(() => process.exit(1), 100).unref();
  }, WATCH_EVERY_MS);
  timer.unref();
}
