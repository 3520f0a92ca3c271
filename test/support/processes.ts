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
export function startParley(args: string[], marker: string | RegExp, withinMs = 30_000, options: { netns?: string } = {}): Promise<RunningParley> {
  // In a network namespace of the lab: `ip netns exec` execs node, so the child is node itself.
  const child = options.netns
    ? spawn('ip', ['netns', 'exec', options.netns, process.execPath, PARLEY_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [PARLEY_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters: (() => boolean)[] = [];
  const seen = (m: string | RegExp) => (typeof m === 'string' ? output.includes(m) : m.test(output));
  const waitFor = (m: string | RegExp, ms = 30_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`parley ${args[0]} did not print ${String(m)} within ${ms} ms: ${output}`)), ms);
      const check = () => {
        if (!seen(m)) return false;
        clearTimeout(timer);
        resolve(output);
        return true;
      };
      if (!check()) waiters.push(check);
    });
  const onOutput = (chunk: Buffer) => {
    output += chunk.toString();
    for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i]!()) waiters.splice(i, 1);
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`parley ${args[0]} exited with ${code}: ${output}`)));
    // A process that never prints the marker is killed, so it cannot outlive its test.
    waitFor(marker, withinMs).then(
      (text) => resolve({ child, output: text, waitFor }),
      (error: unknown) => {
        child.kill('SIGKILL');
        reject(error as Error);
      },
    );
  });
}

export function stopParley(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    // Already gone (a command that finished by itself): nothing to wait for.
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
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
  for (const user of users) {
    must(['register', user, '--password-stdin'], `${user} password 1\n`);
    must(['login', user, '--password-stdin'], `${user} password 1\n`);
  }
  for (const [a, b] of buddies) {
    must(['buddies', 'add', b, '--user', a]);
    must(['buddies', 'accept', a, '--user', b]);
  }
  return { local, common, parley };
}

/** Runs `parley <args>` to the end, with its output. */
export async function runParley(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [PARLEY_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, output };
}
