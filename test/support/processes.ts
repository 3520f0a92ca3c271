// Real `parley` processes for CLI tests and benchmarks: start one and wait for a line of its
// output (not for a time), stop it and wait for it to exit.
import { spawn, type ChildProcess } from 'node:child_process';

export const PARLEY_MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;

/**
 * Starts `parley <args>` and resolves once its output contains `marker`. If the marker has not
 * appeared within `withinMs` the process is killed and the promise rejects with its output, so
 * a stuck process never outlives its test.
 */
export function startParley(args: string[], marker: string | RegExp, withinMs = 30_000): Promise<{ child: ChildProcess; output: string }> {
  const child = spawn(process.execPath, [PARLEY_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const seen = () => (typeof marker === 'string' ? output.includes(marker) : marker.test(output));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`parley ${args[0]} did not print ${String(marker)} within ${withinMs} ms: ${output}`));
    }, withinMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (seen()) {
        clearTimeout(timer);
        resolve({ child, output });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`parley ${args[0]} exited with ${code}: ${output}`));
    });
  });
}

export function stopParley(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
