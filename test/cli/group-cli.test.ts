// Group chat between real processes on a local network: alice makes a group with bob (online)
// and carol (offline); bob's `parley online` prints the welcome and the message that mentions
// him; carol's `parley group read` fetches what waited; alice removes carol; the lists and the
// history read the profile only.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PARLEY_MAIN as MAIN, startParley, stopParley, type RunningParley } from '../support/processes.js';

test('local network: parley group create, send, read, list, history, remove', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-group-'));
  const local = await startParley(['local', '--dir', join(dir, 'net'), '--port', '0'], 'descriptor:');
  let bob: RunningParley | null = null;
  try {
    const common = ['--network', join(dir, 'net', 'network.json'), '--profile', join(dir, 'profile')];
    const parley = (args: string[], input = '') => {
      const run = spawnSync(process.execPath, [MAIN, ...args, ...common], { input, encoding: 'utf8', timeout: 30_000 });
      return { status: run.status, out: run.stdout + run.stderr };
    };
    for (const user of ['alice', 'bob', 'carol']) {
      assert.equal(parley(['register', user, '--password-stdin'], `${user} password 1\n`).status, 0);
      assert.equal(parley(['login', user, '--password-stdin'], `${user} password 1\n`).status, 0);
    }
    bob = await startParley(['online', '--user', 'bob', '--no-promotion', ...common], 'is online');
    const made = parley(['group', 'create', 'hikers', 'bob', 'carol', '--user', 'alice']);
    assert.equal(made.status, 0, made.out);
    assert.match(made.out, /made the group hikers \(id [0-9a-f]{8}\) with 3 members/);
    await bob.waitFor(/you are in the group hikers \(made by alice/);
    const sent = parley(['group', 'send', 'hikers', 'saturday', 'at', '9,', '@bob?', '--user', 'alice']);
    assert.equal(sent.status, 0, sent.out);
    await bob.waitFor(/hikers · alice: saturday at 9, @bob\? {3}\(mentions you\)/);
    const list = parley(['group', 'list', '--user', 'alice']);
    assert.match(list.out, /^[0-9a-f]{8} {2}hikers {2}3 members, you are its admin\n$/, list.out);
    // Carol was offline: her read brings her device online, fetches what waited, and prints it.
    const read = parley(['group', 'read', 'hikers', '--user', 'carol']);
    assert.equal(read.status, 0, read.out);
    assert.match(read.out, /you are in the group hikers/);
    assert.match(read.out, /hikers · alice: saturday at 9, @bob\?\n/);
    // Only the admin's device changes the members.
    const refused = parley(['group', 'remove', 'hikers', 'alice', '--user', 'carol']);
    assert.equal(refused.status, 1);
    assert.match(refused.out, /only the device that created the group/);
    const removed = parley(['group', 'remove', 'hikers', 'carol', '--user', 'alice']);
    assert.equal(removed.status, 0, removed.out);
    await bob.waitFor(/hikers: carol left/);
    assert.equal(parley(['group', 'send', 'hikers', 'just', 'us', 'now', '--user', 'alice']).status, 0);
    await bob.waitFor(/hikers · alice: just us now\n/);
    const history = parley(['group', 'history', 'hikers', '--user', 'bob']);
    assert.match(history.out, /alice: saturday at 9, @bob\?.*\n.*alice: just us now\n/, history.out);
    // Carol's device learns of her removal when it next comes online, and reads nothing after it.
    const carolAgain = parley(['group', 'read', 'hikers', '--user', 'carol']);
    assert.equal(carolAgain.status, 0, carolAgain.out);
    assert.match(carolAgain.out, /hikers: carol left/);
    assert.doesNotMatch(carolAgain.out, /just us now/);
    const carolsList = parley(['group', 'list', '--user', 'carol']);
    assert.match(carolsList.out, /^[0-9a-f]{8} {2}hikers {2}2 members {2}\(you are no longer a member\)\n$/, carolsList.out);
    assert.equal(parley(['group', 'send', 'nonesuch', 'hi', '--user', 'alice']).status, 1);
  } finally {
    if (bob) await stopParley(bob.child);
    await stopParley(local.child);
    rmSync(dir, { recursive: true, force: true });
  }
});
