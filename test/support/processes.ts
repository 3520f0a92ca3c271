// Real `parley` processes for CLI tests and benchmarks: start one and wait for a line of its
// output (not for a time), stop it and wait for it to exit.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const PARLEY_MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;

export interface RunningParley {
  readonly child: ChildProcess;
  /** Everything it printed when the marker appeared. */
  readonly output: string;
  /** Resolves with all output once it contains `marker` (rejects after `withinMs`). */
  waitFor(marker: string | RegExp, withinMs?: number): Promise<string>;
}

/**
 * Starts `parley <args>` and resolves once its output contains `marker`. If the marker has not
 * appeared within `withinMs` the process is killed and the promise rejects with its output, so
 * a stuck process never outlives its test.
 */
export function startParley(args: string[], marker: string | RegExp, withinMs = 30_000, options: { netns?: string; main?: string } = {}): Promise<RunningParley> {
  // Another build's `parley` (a benchmark comparing two), or this one's.
  const main = options.main ?? PARLEY_MAIN;
  // In a network namespace of the lab: `ip netns exec` execs node, so the child is node itself.
  const child = options.netns
    ? spawn('ip', ['netns', 'exec', options.netns, process.execPath, main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let exited: string | null = null;
  // Each wait's check, and how it ends early: its timer is cleared whichever way it ends.
  const waiters = new Set<{ check: () => boolean; fail: (why: string) => void }>();
  const seen = (m: string | RegExp) => (typeof m === 'string' ? output.includes(m) : m.test(output));
  const waitFor = (m: string | RegExp, ms = 30_000) =>
    new Promise<string>((resolve, reject) => {
      const waiter = {
        check: () => {
          if (!seen(m)) return false;
          end();
          resolve(output);
          return true;
        },
        fail: (why: string) => {
          end();
          reject(new Error(`parley ${args[0]} did not print ${String(m)}: ${why}: ${output}`));
        },
      };
      const timer = setTimeout(() => waiter.fail(`not within ${ms} ms`), ms);
      const end = () => {
        clearTimeout(timer);
        waiters.delete(waiter);
      };
      if (waiter.check()) return;
      // A process that has ended prints nothing more: fail now rather than at the timeout.
      if (exited !== null) return waiter.fail(exited);
      waiters.add(waiter);
    });
  const onOutput = (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of [...waiters]) waiter.check();
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  // 'close', not 'exit': by then every byte it printed has been read.
  child.on('close', (code, signal) => {
    exited = `it exited with ${code ?? signal}`;
    for (const waiter of [...waiters]) waiter.fail(exited);
  });
  return new Promise((resolve, reject) => {
    // A process that never prints the marker (or exits first) is killed, so it cannot outlive its test.
    waitFor(marker, withinMs).then(
      (text) => resolve({ child, output: text, waitFor }),
      (error: unknown) => {
        child.kill('SIGKILL');
        reject(error as Error);
      },
    );
  });
}

/** How long a process gets to end after SIGTERM before it is killed: a stop never hangs a test. */
export const STOP_GRACE_MS = 10_000;

export function stopParley(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    // Already gone (a command that finished by itself): nothing to wait for.
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.on('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * A `parley local` network in `dir` with these users registered and logged in, and these pairs
 * buddies; `parley(args)` runs a command for it to the end.
 */
export async function localNetworkWithUsers(dir: string, users: readonly string[], buddies: readonly (readonly [string, string])[]) {
  const local = await startParley(['local', '--dir', join(dir, 'net'), '--port', '0'], 'descriptor:');
  const common = ['--network', join(dir, 'net', 'network.json'), '--profile', join(dir, 'profile')];
  const parley = (args: string[], input = '') => {
    const run = spawnSync(process.execPath, [PARLEY_MAIN, ...args, ...common], { input, encoding: 'utf8', timeout: 60_000 });
    return { status: run.status, out: run.stdout + run.stderr };
  };
  const must = (args: string[], input = '') => {
    const run = parley(args, input);
    assert.equal(run.status, 0, `parley ${args.join(' ')}: ${run.out}`);
  };
  try {
    for (const user of users) {
      must(['register', user, '--password-stdin'], `${user} password 1\n`);
      must(['login', user, '--password-stdin'], `${user} password 1\n`);
    }
    for (const [a, b] of buddies) {
      must(['buddies', 'add', b, '--user', a]);
      must(['buddies', 'accept', a, '--user', b]);
    }
  } catch (error) {
    // The caller's finally never sees `local`: stop it here, or it outlives the test.
    await stopParley(local.child);
    throw error;
  }
  return { local, common, parley };
}

/** Runs `parley <args>` to the end, with its output; killed (code null) if it runs longer than `withinMs`. */
export async function runParley(args: string[], withinMs = 90_000): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [PARLEY_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const kill = setTimeout(() => {
    output += `\n[killed: still running after ${withinMs} ms]`;
    child.kill('SIGKILL');
  }, withinMs);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(kill);
  return { code, output };
}
