// The "done when", as a newcomer types it: parley login-server, then register, login,
// buddies and search from the CLI, over real TLS with the pinned certificate — on the embedded
// database and on PostgreSQL.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freshDatabase } from '../support/databases.js';
import { PARLEY_MAIN as MAIN, startParley, stopParley } from '../support/processes.js';
function startServer(dir, database) {
    return startParley(['login-server', '--data', dir, '--port', '0', '--certificate-hours', '2', ...(database ? ['--database', database] : [])], 'descriptor:');
}
for (const kind of ['embedded', 'postgres']) {
    test(`login server from the CLI (${kind}): register, login, buddies, search`, { timeout: 60_000 }, async () => {
        const dir = mkdtempSync(join(tmpdir(), 'parley-login-'));
        const fresh = kind === 'postgres' ? await freshDatabase('postgres') : null;
        let server = null;
        try {
            server = await startServer(join(dir, 'server'), fresh?.location);
            assert.match(server.output, kind === 'postgres' ? /PostgreSQL/ : /embedded SQLite/);
            const common = ['--network', join(dir, 'server', 'network.json'), '--profile', join(dir, 'profile')];
            const parley = (args, input) => {
                const run = spawnSync(process.execPath, [MAIN, ...args, ...common], { input: input ?? '', encoding: 'utf8', timeout: 30_000 });
                return { status: run.status, out: run.stdout + run.stderr };
            };
            assert.equal(statSync(join(dir, 'server', 'ca.key.json')).mode & 0o777, 0o600);
            assert.equal(statSync(join(dir, 'server', 'tls.key.pem')).mode & 0o777, 0o600);
            for (const user of ['alice', 'bob']) {
                assert.match(parley(['register', user, '--discoverable', '--password-stdin'], `${user} password 1\n`).out, new RegExp(`registered ${user}`));
                const first = parley(['login', user, '--password-stdin'], `${user} password 1\n`);
                assert.equal(first.status, 0, first.out);
                assert.match(first.out, /password, first login on this device/);
                const until = new RegExp(`certificate #\\d+ for ${user}, valid until (\\S+)`).exec(first.out)?.[1];
                assert.ok(until, first.out);
                const hoursLeft = (Date.parse(until) - Date.now()) / 3_600_000;
                assert.ok(hoursLeft > 1.9 && hoursLeft <= 2, `--certificate-hours 2 gives a 2 h certificate (${hoursLeft} h)`);
            }
            const again = parley(['login', 'alice']);
            assert.match(again.out, /device key, no password sent/, again.out);
            const wrong = parley(['register', 'alice', '--password-stdin'], 'another password\n');
            assert.equal(wrong.status, 1);
            assert.match(wrong.out, /username_taken/);
            assert.match(parley(['buddies', 'add', 'alice', 'hi', '--user', 'bob']).out, /asked alice/);
            assert.match(parley(['buddies', 'accept', 'bob', '--user', 'alice']).out, /bob is now your buddy/);
            assert.match(parley(['buddies', '--user', 'bob']).out, /buddy +alice/);
            assert.equal(parley(['register', 'mallory', '--password-stdin'], 'mallory password 1\n').status, 0);
            assert.match(parley(['buddies', 'block', 'mallory', '--user', 'bob']).out, /blocked mallory/);
            assert.match(parley(['buddies', '--user', 'bob']).out, /buddy +alice\nblocked mallory\n/);
            assert.match(parley(['buddies', 'unblock', 'mallory', '--user', 'bob']).out, /unblocked mallory/);
            assert.match(parley(['buddies', 'remove', 'alice', '--user', 'bob']).out, /removed alice/);
            assert.match(parley(['buddies', '--user', 'bob']).out, /no buddies yet/);
            assert.match(parley(['buddies', 'add', 'alice', 'again', '--user', 'bob']).out, /asked alice/);
            assert.match(parley(['buddies', 'accept', 'bob', '--user', 'alice']).out, /bob is now your buddy/);
            assert.match(parley(['search', 'b*', '--user', 'alice']).out, /^bob$/m);
            assert.match(parley(['search', 'al', '--user', 'bob']).out, /^alice$/m);
        }
        finally {
            if (server)
                await stopParley(server.child);
            await fresh?.drop();
            rmSync(dir, { recursive: true, force: true });
        }
    });
}
//# sourceMappingURL=login-server-cli.test.js.map