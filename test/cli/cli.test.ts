// The `parley` command as a user runs it: real processes on loopback.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;

/** Starts `parley local` and resolves with its output once it printed the descriptor path. */
function startLocal(dir: string): Promise<{ child: ChildProcess; output: string }> {
  const child = spawn(process.execPath, [MAIN, 'local', '--dir', dir, '--port', '0', '--supernodes', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('descriptor:')) resolve({ child, output });
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`parley local exited with ${code}: ${output}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

test('parley local starts supernodes that a certified client reaches over secure links; the CA survives a restart', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
  try {
    const first = await startLocal(dir);
    const networkId = /local network ([0-9a-f]{16})/.exec(first.output)?.[1];
    assert.ok(networkId, first.output);
    assert.equal(statSync(join(dir, 'ca.key.json')).mode & 0o777, 0o600, 'the CA key is private');
    const ping = spawnSync(process.execPath, [MAIN, 'ping', '--dir', dir, '--count', '2'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(ping.status, 0, ping.stdout + ping.stderr);
    assert.equal(ping.stdout.match(/secure link \(IK\) to a certified SUPERNODE/g)?.length, 2, ping.stdout);
    await stop(first.child);

    const second = await startLocal(dir);
    assert.ok(second.output.includes(networkId), 'same network after a restart');
    await stop(second.child);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parley ping reports each unreachable supernode and exits non-zero', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
  try {
    const local = await startLocal(dir);
    await stop(local.child); // the descriptor stays, the supernodes are gone
    const ping = spawnSync(process.execPath, [MAIN, 'ping', '--dir', dir], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(ping.status, 1);
    assert.equal(ping.stdout.match(/failed: refused: /g)?.length, 2, ping.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a wrong command or option is a usage error with exit code 2', () => {
  for (const args of [['bogus'], ['local', '--supernodes', 'many'], ['ping', '--nope']]) {
    const run = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
    assert.equal(run.status, 2, args.join(' '));
    assert.match(run.stderr, /Usage:/);
  }
});
