// `parley group call` between real processes on a local network: alice makes a group with bob
// and carol (none of them buddies); bob and carol run `parley answer`; alice's group call
// invites both, they join as a fellow member's guests, and all three are in one conference
// with one mixer.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PARLEY_MAIN as MAIN, runParley, startParley, stopParley, type RunningParley } from '../support/processes.js';

test('parley group call: the group\'s other members (not buddies) are invited and all three are in one conference', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-group-call-'));
  const local = await startParley(['local', '--dir', join(dir, 'net'), '--port', '0'], 'descriptor:');
  const answering: RunningParley[] = [];
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
    const made = parley(['group', 'create', 'climbers', 'bob', 'carol', '--user', 'alice']);
    assert.equal(made.status, 0, made.out);
    // Their devices learn of the group (the welcome waited for them).
    for (const user of ['bob', 'carol']) assert.match(parley(['group', 'read', 'climbers', '--user', user]).out, /you are in the group climbers/);
    for (const user of ['bob', 'carol']) answering.push(await startParley(['answer', '--user', user, '--seconds', '6', ...common], 'is waiting for a call'));
    const { code, output } = await runParley(['group', 'call', 'climbers', '--user', 'alice', '--seconds', '4', ...common]);
    assert.equal(code, 0, output);
    assert.match(output, /calling the group climbers: inviting bob, carol/);
    assert.match(output, /conference: alice \(host[^)]*\), (bob|carol)[^,]*, (bob|carol)/, 'the roster with all three');
    const fullRosters = (output.match(/conference: [^\n]*/g) ?? []).filter((line) => ['alice', 'bob', 'carol'].every((u) => line.includes(u)));
    assert.ok(fullRosters.some((line) => line.match(/mixes/g)?.length === 1), `one mixer in the roster: ${output}`);
    for (const a of answering) {
      await a.waitFor(/alice invites you to a conference; joining/);
      await a.waitFor(/conference: alice \(host[^)]*\), (bob|carol)[^,]*, (bob|carol)/);
    }
    // Not a member: refused with the reason.
    const outsider = parley(['group', 'call', 'nonesuch', '--user', 'alice']);
    assert.equal(outsider.status, 1);
    assert.match(outsider.out, /no group "nonesuch"/);
  } finally {
    for (const a of answering) await stopParley(a.child);
    await stopParley(local.child);
    rmSync(dir, { recursive: true, force: true });
  }
});
