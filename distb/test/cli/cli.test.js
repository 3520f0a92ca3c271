// The `parley` command as a user runs it: real processes on loopback.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PARLEY_MAIN as MAIN, startParley, stopParley } from '../support/processes.js';
function startLocal(dir) {
    return startParley(['local', '--dir', dir, '--port', '0', '--supernodes', '2'], 'descriptor:');
}
test('parley local starts a login server and supernodes on one CA: a user registers and logs in, a client pings every supernode; the CA survives a restart', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
    let running = null;
    try {
        const first = (running = await startLocal(dir));
        const networkId = /local network ([0-9a-f]{16})/.exec(first.output)?.[1];
        assert.ok(networkId, first.output);
        assert.equal(statSync(join(dir, 'ca.key.json')).mode & 0o777, 0o600, 'the CA key is private');
        assert.match(first.output, /login server on https:\/\/127\.0\.0\.1:\d+/);
        const account = ['--network', join(dir, 'network.json'), '--profile', join(dir, 'profile'), '--password-stdin'];
        const registered = spawnSync(process.execPath, [MAIN, 'register', 'zoe', ...account], { input: 'zoe password 1\n', encoding: 'utf8', timeout: 20_000 });
        assert.match(registered.stdout, /registered zoe/, registered.stdout + registered.stderr);
        const loggedIn = spawnSync(process.execPath, [MAIN, 'login', 'zoe', ...account], { input: 'zoe password 1\n', encoding: 'utf8', timeout: 20_000 });
        assert.match(loggedIn.stdout, /certificate #\d+ for zoe/, loggedIn.stdout + loggedIn.stderr);
        const ping = spawnSync(process.execPath, [MAIN, 'ping', '--dir', dir, '--count', '2'], { encoding: 'utf8', timeout: 20_000 });
        assert.equal(ping.status, 0, ping.stdout + ping.stderr);
        assert.equal(ping.stdout.match(/secure link \(IK\) to a certified SUPERNODE/g)?.length, 2, ping.stdout);
        await stopParley(first.child);
        const second = (running = await startLocal(dir));
        assert.ok(second.output.includes(networkId), 'same network after a restart');
    }
    finally {
        if (running)
            await stopParley(running.child);
        rmSync(dir, { recursive: true, force: true });
    }
});
test('parley ping reports each unreachable supernode and exits non-zero', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
    try {
        const local = await startLocal(dir);
        await stopParley(local.child); // the descriptor stays, the supernodes are gone
        const ping = spawnSync(process.execPath, [MAIN, 'ping', '--dir', dir], { encoding: 'utf8', timeout: 20_000 });
        assert.equal(ping.status, 1);
        assert.equal(ping.stdout.match(/failed: refused: /g)?.length, 2, ping.stdout);
    }
    finally {
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
//# sourceMappingURL=cli.test.js.map