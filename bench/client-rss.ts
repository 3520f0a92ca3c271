// Memory and CPU of real client processes on a `parley local` network (issue 22): an idle
// `parley online` (attached, NAT found, presence sent), an idle `parley daemon`, and the two
// ends of a `parley call` with WAV files on each side (Opus, SRTP, ICE on real sockets).
// Memory is read from /proc a few seconds after the process reached the state measured: RSS,
// and beside it PSS and USS (bench/process-memory.ts), since much of a Node process's RSS is
// the node binary's pages, which every Node process on the machine shares. CPU per call end is
// user + system time from /proc/PID/stat over CPU_WINDOW_S seconds of the call.
//
//   node dist/bench/client-rss.js [label=path/to/cli/main.js …] [--rounds N] [--map]
//
// With several builds (a before and an after), each round runs every build in turn on the same
// network, so a busy machine weighs on all of them alike; medians over the rounds are printed.
// --map prints, for the first round, each process's memory by mapping and its threads.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { localNetworkWithUsers, PARLEY_MAIN, startParley, stopParley, type RunningParley } from '../test/support/processes.js';
import { encodeWav } from '../src/media/wav.js';
import { tones } from '../src/media/audio-compare.js';
import { formatMappings, memoryByMapping, processMemory, threadNames } from './process-memory.js';

/** How long a process runs in the state measured before its memory is read. */
const SETTLE_MS = 3_000;
/** The stretch of a call over which each end's CPU time is read. */
export const CPU_WINDOW_S = 20;
const CALL_SECONDS = SETTLE_MS / 1000 + CPU_WINDOW_S + 3;
/** Linux's clock ticks per second for /proc/PID/stat times (USER_HZ, 100 on every Linux port Node runs on). */
const TICKS_PER_S = 100;

/** MiB, one per round. */
export interface MemorySeries {
  readonly rss: number[];
  readonly pss: number[];
  readonly uss: number[];
}

export interface ClientRss {
  readonly label: string;
  readonly onlineIdle: MemorySeries;
  readonly daemonIdle: MemorySeries;
  readonly caller: MemorySeries;
  readonly callee: MemorySeries;
  /** Percent of one core over CPU_WINDOW_S seconds of the call (user + system), one per round. */
  readonly callerCpuPercent: number[];
  readonly calleeCpuPercent: number[];
  /** The system (kernel) part of it: on loopback, a send also runs the receiver's network stack. */
  readonly callerSysPercent: number[];
  readonly calleeSysPercent: number[];
  /** The main thread's part (JavaScript, WebAssembly, the event loop); the rest is V8's and libuv's worker threads. */
  readonly callerMainPercent: number[];
  readonly calleeMainPercent: number[];
}

const series = (): MemorySeries => ({ rss: [], pss: [], uss: [] });

function record(into: MemorySeries, pid: number | undefined, map: boolean, what: string): void {
  const memory = processMemory(pid!);
  into.rss.push(memory.rssKiB / 1024);
  into.pss.push(memory.pssKiB / 1024);
  into.uss.push(memory.ussKiB / 1024);
  if (map) {
    const threads = threadNames(pid!);
    console.log(`${what}: rss ${(memory.rssKiB / 1024).toFixed(1)} pss ${(memory.pssKiB / 1024).toFixed(1)} uss ${(memory.ussKiB / 1024).toFixed(1)} MiB (anonymous ${(memory.anonKiB / 1024).toFixed(1)}, files ${(memory.fileKiB / 1024).toFixed(1)})`);
    console.log(formatMappings(memoryByMapping(pid!)));
    console.log(`  ${threads.length} threads: ${threads.join(', ')}`);
  }
}

/** User and system CPU seconds so far: of all the process's threads, and of its main thread. */
function cpuSeconds(pid: number | undefined): { user: number; sys: number; main: number } {
  // Fields after the command (which may hold spaces, so split after its closing bracket): utime is the 12th, stime the 13th.
  const times = (path: string) => {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) / TICKS_PER_S, sys: Number(fields[12]) / TICKS_PER_S };
  };
  const main = times(`/proc/${pid}/task/${pid}/stat`);
  return { ...times(`/proc/${pid}/stat`), main: main.user + main.sys };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function measured(start: () => Promise<RunningParley>, into: MemorySeries, map: boolean, what: string): Promise<void> {
  const running = await start();
  try {
    await sleep(SETTLE_MS);
    record(into, running.child.pid, map, what);
  } finally {
    await stopParley(running.child);
  }
}

export async function benchClientRss(builds: readonly { label: string; main: string }[], rounds = 3, options: { map?: boolean } = {}): Promise<ClientRss[]> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-client-rss-'));
  const { local, common } = await localNetworkWithUsers(dir, ['alice', 'bob'], [['alice', 'bob']]);
  const said = (user: string, hzs: number[]) => {
    const path = join(dir, `${user}.wav`);
    writeFileSync(path, encodeWav(tones(hzs, CALL_SECONDS + 2, 3000)));
    return path;
  };
  const wav = { alice: said('alice', [300, 700]), bob: said('bob', [500, 1100]) };
  const results = builds.map(
    ({ label }): ClientRss => ({ label, onlineIdle: series(), daemonIdle: series(), caller: series(), callee: series(), callerCpuPercent: [], calleeCpuPercent: [], callerSysPercent: [], calleeSysPercent: [], callerMainPercent: [], calleeMainPercent: [] }),
  );
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [i, { main, label }] of builds.entries()) {
        const result = results[i]!;
        const map = options.map === true && round === 0;
        // NAT detection is the last thing an idle device does at its start.
        await measured(() => startParley(['online', '--user', 'alice', ...common], /NAT/, 30_000, { main }), result.onlineIdle, map, `${label}: parley online, idle`);
        await measured(() => startParley(['daemon', '--user', 'alice', ...common], /daemon API on/, 30_000, { main }), result.daemonIdle, map, `${label}: parley daemon, idle`);
        const callee = await startParley(['answer', '--user', 'bob', '--in', wav.bob, ...common], 'is waiting for a call', 30_000, { main });
        let caller: RunningParley | null = null;
        try {
          caller = await startParley(['call', 'bob', '--user', 'alice', '--in', wav.alice, '--seconds', String(CALL_SECONDS), ...common], /in a call with bob/, 30_000, { main });
          await sleep(SETTLE_MS);
          record(result.caller, caller.child.pid, map, `${label}: parley call, in a call`);
          record(result.callee, callee.child.pid, map, `${label}: parley answer, in a call`);
          const before = [cpuSeconds(caller.child.pid), cpuSeconds(callee.child.pid)] as const;
          await sleep(CPU_WINDOW_S * 1000);
          const after = [cpuSeconds(caller.child.pid), cpuSeconds(callee.child.pid)] as const;
          const percent = (seconds: number) => (seconds / CPU_WINDOW_S) * 100;
          result.callerCpuPercent.push(percent(after[0].user + after[0].sys - before[0].user - before[0].sys));
          result.calleeCpuPercent.push(percent(after[1].user + after[1].sys - before[1].user - before[1].sys));
          result.callerSysPercent.push(percent(after[0].sys - before[0].sys));
          result.calleeSysPercent.push(percent(after[1].sys - before[1].sys));
          result.callerMainPercent.push(percent(after[0].main - before[0].main));
          result.calleeMainPercent.push(percent(after[1].main - before[1].main));
        } finally {
          if (caller) await stopParley(caller.child);
          await stopParley(callee.child);
        }
      }
    }
  } finally {
    await stopParley(local.child);
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

export const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const roundsAt = args.indexOf('--rounds');
  const rounds = roundsAt >= 0 ? Number(args.splice(roundsAt, 2)[1]) : 3;
  const mapAt = args.indexOf('--map');
  if (mapAt >= 0) args.splice(mapAt, 1);
  const builds = args.length > 0 ? args.map((arg) => ({ label: arg.split('=')[0]!, main: resolve(arg.split('=').slice(1).join('=')) })) : [{ label: 'this build', main: PARLEY_MAIN }];
  const each = (values: number[]) => `${median(values).toFixed(1)} (${values.map((v) => v.toFixed(1)).join(', ')})`;
  const memory = (s: MemorySeries) => `rss ${each(s.rss)}  pss ${each(s.pss)}  uss ${each(s.uss)}`;
  for (const r of await benchClientRss(builds, rounds, { map: mapAt >= 0 })) {
    console.log(`${r.label}: MiB, median (each round)`);
    console.log(`  parley online, idle:    ${memory(r.onlineIdle)}`);
    console.log(`  parley daemon, idle:    ${memory(r.daemonIdle)}`);
    console.log(`  parley call (caller):   ${memory(r.caller)}`);
    console.log(`  parley answer (callee): ${memory(r.callee)}`);
    console.log(`  CPU over ${CPU_WINDOW_S} s of the call, % of one core: caller ${each(r.callerCpuPercent)}, callee ${each(r.calleeCpuPercent)}`);
    console.log(`    of which system: caller ${each(r.callerSysPercent)}, callee ${each(r.calleeSysPercent)}`);
    console.log(`    of which the main thread: caller ${each(r.callerMainPercent)}, callee ${each(r.calleeMainPercent)}`);
  }
}
