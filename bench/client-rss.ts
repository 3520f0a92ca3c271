// Resident memory of real client processes on a `parley local` network (issue 22): an idle
// `parley online` (attached, NAT found, presence sent), an idle `parley daemon`, and the two
// ends of a `parley call` with WAV files on each side (Opus, SRTP, ICE on real sockets).
// VmRSS is read from /proc a few seconds after the process reached the state measured.
//
//   node dist/bench/client-rss.js [label=path/to/cli/main.js …] [--rounds N]
//
// With several builds (a before and an after), each round runs every build in turn on the same
// network, so a busy machine weighs on all of them alike; medians over the rounds are printed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { localNetworkWithUsers, PARLEY_MAIN, startParley, stopParley, type RunningParley } from '../test/support/processes.js';
import { encodeWav } from '../src/media/wav.js';
import { tones } from '../src/media/audio-compare.js';

/** How long a process runs in the state measured before its RSS is read. */
const SETTLE_MS = 3_000;
const CALL_SECONDS = SETTLE_MS / 1000 + 6;

export interface ClientRss {
  readonly label: string;
  /** MiB, one per round. */
  readonly onlineIdle: number[];
  readonly daemonIdle: number[];
  readonly caller: number[];
  readonly callee: number[];
}

function rssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
}

const settle = () => new Promise((done) => setTimeout(done, SETTLE_MS));

async function measured(start: () => Promise<RunningParley>): Promise<number> {
  const running = await start();
  try {
    await settle();
    return rssMiB(running.child.pid);
  } finally {
    await stopParley(running.child);
  }
}

export async function benchClientRss(builds: readonly { label: string; main: string }[], rounds = 3): Promise<ClientRss[]> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-client-rss-'));
  const { local, common } = await localNetworkWithUsers(dir, ['alice', 'bob'], [['alice', 'bob']]);
  const said = (user: string, hzs: number[]) => {
    const path = join(dir, `${user}.wav`);
    writeFileSync(path, encodeWav(tones(hzs, CALL_SECONDS + 2, 3000)));
    return path;
  };
  const wav = { alice: said('alice', [300, 700]), bob: said('bob', [500, 1100]) };
  const results = builds.map(({ label }): ClientRss => ({ label, onlineIdle: [], daemonIdle: [], caller: [], callee: [] }));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [i, { main }] of builds.entries()) {
        const result = results[i]!;
        // NAT detection is the last thing an idle device does at its start.
        result.onlineIdle.push(await measured(() => startParley(['online', '--user', 'alice', ...common], /NAT/, 30_000, { main })));
        result.daemonIdle.push(await measured(() => startParley(['daemon', '--user', 'alice', ...common], /daemon API on/, 30_000, { main })));
        const callee = await startParley(['answer', '--user', 'bob', '--in', wav.bob, ...common], 'is waiting for a call', 30_000, { main });
        let caller: RunningParley | null = null;
        try {
          caller = await startParley(['call', 'bob', '--user', 'alice', '--in', wav.alice, '--seconds', String(CALL_SECONDS), ...common], /in a call with bob/, 30_000, { main });
          await settle();
          result.caller.push(rssMiB(caller.child.pid));
          result.callee.push(rssMiB(callee.child.pid));
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
  const builds = args.length > 0 ? args.map((arg) => ({ label: arg.split('=')[0]!, main: resolve(arg.split('=').slice(1).join('=')) })) : [{ label: 'this build', main: PARLEY_MAIN }];
  const fmt = (values: number[]) => `${median(values).toFixed(1)} (${values.map((v) => v.toFixed(1)).join(', ')})`;
  for (const r of await benchClientRss(builds, rounds)) {
    console.log(`${r.label}: MiB, median (each round)`);
    console.log(`  parley online, idle: ${fmt(r.onlineIdle)}`);
    console.log(`  parley daemon, idle: ${fmt(r.daemonIdle)}`);
    console.log(`  parley call (caller): ${fmt(r.caller)}`);
    console.log(`  parley answer (callee): ${fmt(r.callee)}`);
  }
}
