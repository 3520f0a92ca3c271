// Chat between real processes on a local network: a message to a user who is offline waits at
// the login server (sealed) and shows at the next `parley online`; a message to an online user
// is delivered end to end and printed there.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PARLEY_MAIN as MAIN, startParley, stopParley } from '../support/processes.js';
test('local network: alice writes to bob while he is offline, then while he is online; bob reads both; buddies see each other\'s presence', { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-chat-'));
    const local = await startParley(['local', '--dir', join(dir, 'net'), '--port', '0'], 'descriptor:');
    let bob = null;
    let alice = null;
    try {
        const common = ['--network', join(dir, 'net', 'network.json'), '--profile', join(dir, 'profile')];
        const parley = (args, input = '') => {
            const run = spawnSync(process.execPath, [MAIN, ...args, ...common], { input, encoding: 'utf8', timeout: 30_000 });
            return { status: run.status, out: run.stdout + run.stderr };
        };
        for (const user of ['alice', 'bob']) {
            assert.equal(parley(['register', user, '--password-stdin'], `${user} password 1\n`).status, 0);
            assert.equal(parley(['login', user, '--password-stdin'], `${user} password 1\n`).status, 0);
        }
        // On loopback nothing translates or filters: the supernode's STUN service (second address 127.0.0.2) says so.
        const natReport = parley(['nat', '--user', 'alice']);
        assert.match(natReport.out, /NAT: open \(mapping endpoint-independent, filtering endpoint-independent\); seen as 127\.0\.0\.1:(\d+) from 127\.0\.0\.1:\1;/, natReport.out);
        // The request's words go end to end, sealed for bob's device; the login server gets the request only.
        const asked = parley(['buddies', 'add', 'bob', 'hi', 'it is alice', '--user', 'alice']);
        assert.equal(asked.status, 0, asked.out);
        assert.match(asked.out, /asked bob to be your buddy\nyour words go end to end: sealed for 1 device\n/);
        assert.doesNotMatch(parley(['buddies', '--user', 'bob']).out, /it is alice/, 'the login server never had the words');
        // Carol has registered but never logged in: no device to seal for. The request is made, and the words are said not to be sent.
        assert.equal(parley(['register', 'carol', '--password-stdin'], 'carol password 1\n').status, 0);
        const wordless = parley(['buddies', 'add', 'carol', 'hi', 'carol', '--user', 'alice']);
        assert.equal(wordless.status, 0, wordless.out);
        assert.equal(wordless.out, 'asked carol to be your buddy, without your words: carol has no device yet (has never logged in), so there is nothing to seal them for and they were not sent.\nOnce carol has logged in, send them with: parley chat carol "hi carol"\n');
        assert.equal(parley(['buddies', 'accept', 'alice', '--user', 'bob']).status, 0);
        assert.match(parley(['status', 'away', 'out', 'for', 'lunch', '--user', 'bob']).out, /status: away — out for lunch/);
        const early = parley(['chat', 'bob', 'are you there?', '--user', 'alice']);
        assert.equal(early.status, 0, early.out);
        assert.match(early.out, /bob is offline: sealed for 1 device and left with the login server/);
        bob = await startParley(['online', '--user', 'bob', '--no-promotion', ...common], 'is online');
        assert.match(bob.output, /\] alice: hi it is alice {3}\(sent while you were offline\)\n.*\] alice: are you there\? {3}\(sent while you were offline\)/);
        assert.match(bob.output, /2 messages arrived while you were offline/);
        const live = parley(['chat', 'bob', 'yes', 'now', 'you', 'are', '--user', 'alice']);
        assert.equal(live.status, 0, live.out);
        assert.match(live.out, /delivered end to end to 1 device in [\d.]+ ms/);
        await bob.waitFor(/\] alice: yes now you are\n/);
        // (alice's device is not online elsewhere: one process per device.) A path between the two devices, the way calls will open one: direct on loopback, echoed by bob's parley online.
        const path = parley(['connect', 'bob', '--user', 'alice']);
        assert.match(path.out, /connected to bob \(device [0-9a-f]{16}\) over a direct path \(host 127\.0\.0\.1:\d+ → host 127\.0\.0\.1:\d+\) in \d+ ms\nround trip over the path: [\d.]+ ms \(median of 5\)/, path.out);
        await bob.waitFor(/connected with alice over a direct path/);
        const bobsHistory = parley(['history', 'alice', '--user', 'bob']);
        assert.match(bobsHistory.out, /alice: are you there\?\n.*alice: yes now you are\n/, bobsHistory.out);
        const alicesSearch = parley(['history', 'bob', '--search', 'NOW', '--user', 'alice']);
        assert.match(alicesSearch.out, /^[\d-]+ [\d:]+ {2}you: yes now you are\n$/, alicesSearch.out);
        // (Before alice's parley online holds her device: one process per device.)
        const nobody = parley(['chat', 'nobody-here', 'hi', '--user', 'alice']);
        assert.equal(nobody.status, 1);
        assert.match(nobody.out, /nobody-here has no device to deliver to/);
        // Presence, end to end between buddies: alice comes online and learns bob's; bob changes it.
        alice = await startParley(['online', '--user', 'alice', '--no-promotion', ...common], 'is online');
        await alice.waitFor('bob is away: out for lunch\n');
        await bob.waitFor('alice is online\n');
        assert.equal(parley(['status', 'dnd', 'in a meeting', '--user', 'bob']).status, 0);
        await alice.waitFor('bob is busy (do not disturb): in a meeting\n');
    }
    finally {
        if (bob)
            await stopParley(bob.child);
        if (alice)
            await stopParley(alice.child);
        await stopParley(local.child);
        rmSync(dir, { recursive: true, force: true });
    }
});
//# sourceMappingURL=chat-cli.test.js.map