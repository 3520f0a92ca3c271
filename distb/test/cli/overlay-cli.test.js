// The real-process test: a local network (login server + 3 supernodes), two clients;
// one stays online (and, allowed at once, is promoted to supernode after a dial-back), another
// supernode joins with `parley supernode`, and the other client finds the first with `parley whois`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PARLEY_MAIN as MAIN, startParley, stopParley } from '../support/processes.js';
test('local network, two clients: bob goes online, alice finds him through the overlay; offline and unknown users are answered by the login server', { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-overlay-'));
    const local = await startParley(['local', '--dir', join(dir, 'net'), '--port', '0'], 'descriptor:');
    let bobOnline = null;
    let extra = null;
    try {
        const common = ['--network', join(dir, 'net', 'network.json'), '--profile', join(dir, 'profile')];
        const parley = (args, input = '') => {
            const run = spawnSync(process.execPath, [MAIN, ...args, ...common], { input, encoding: 'utf8', timeout: 30_000 });
            return { status: run.status, out: run.stdout + run.stderr };
        };
        for (const user of ['alice', 'bob', 'dave']) {
            assert.equal(parley(['register', user, '--password-stdin'], `${user} password 1\n`).status, 0);
            assert.equal(parley(['login', user, '--password-stdin'], `${user} password 1\n`).status, 0);
        }
        bobOnline = await startParley(['online', '--user', 'bob', '--promote-after', '0', ...common], /promoted: now also a supernode|not a supernode: .*\n/);
        assert.match(bobOnline.output, /attached to supernode 127\.0\.0\.1:\d+ \(from the bootstrap list\)/);
        assert.match(bobOnline.output, /promoted: now also a supernode on port \d+ \(dial-back measured \d+ kbit\/s up\)/);
        // One process at a time holds bob's device: a second command says which one has it.
        const second = parley(['whois', 'alice', '--user', 'bob']);
        assert.equal(second.status, 1, second.out);
        assert.match(second.out, new RegExp(`bob's device is online in another command here \\(parley online, pid ${bobOnline.child.pid}\\)`));
        // An operator's supernode: its own keys, enrolled with a single-use token (no CA key on its host).
        const bare = (args) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
        const nowhere = bare(['supernode', '--dir', join(dir, 'nothing-here')]);
        assert.equal(nowhere.status, 1);
        assert.match(nowhere.stderr, /no network\.json in .*nothing-here: give --network FILE/);
        const notEnrolled = bare(['supernode', '--dir', join(dir, 'sn'), '--network', join(dir, 'net', 'network.json'), '--port', '0']);
        assert.match(notEnrolled.stderr, /not enrolled yet: ask the login server's operator for a token/);
        const token = bare(['admin', 'enrol-supernode', '--data', join(dir, 'net'), '--label', 'extra']);
        assert.equal(token.status, 0, token.stderr);
        extra = await startParley(['supernode', '--dir', join(dir, 'sn'), '--network', join(dir, 'net', 'network.json'), '--enrol', token.stdout.trim(), '--port', '0'], 'joined the overlay');
        assert.match(extra.output, /enrolled with the login server as supernode #1 \(extra\)/);
        const joined = /joined the overlay through 3 bootstrap supernodes and knows (\d+)/.exec(extra.output);
        assert.ok(joined && Number(joined[1]) >= 4, `the new supernode learnt of the 3 and of promoted bob: ${extra.output}`);
        const found = parley(['whois', 'bob', '--user', 'alice']);
        assert.equal(found.status, 0, found.out);
        assert.match(found.out, /bob: online, found in the overlay in [\d.]+ ms \(1 device\)/);
        assert.match(found.out, /via 127\.0\.0\.1:\d+/);
        const offline = parley(['whois', 'dave', '--user', 'alice']);
        assert.match(offline.out, /dave: not online \(the overlay has no record\); the login server knows the user/, offline.out);
        assert.equal(offline.status, 0, 'an offline user was found: success');
        const unknown = parley(['whois', 'nobody-at-all', '--user', 'alice']);
        assert.match(unknown.out, /nobody-at-all: no such user \(asked the overlay, then the login server\)/, unknown.out);
        assert.equal(unknown.status, 1, 'no such user is a failure a script can see');
    }
    finally {
        if (bobOnline)
            await stopParley(bobOnline.child);
        if (extra)
            await stopParley(extra.child);
        await stopParley(local.child);
        rmSync(dir, { recursive: true, force: true });
    }
});
//# sourceMappingURL=overlay-cli.test.js.map