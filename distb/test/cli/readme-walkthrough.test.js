// README's walk-through, run as written: the block after the "walkthrough" marker, line by line,
// by bash in an empty folder with `parley` on the PATH and a home of its own. A line ending in
// `&` runs in the background (and is ready when it prints what it prints when ready), `kill %N`
// stops the Nth of those, `a && b` runs a, then b, each given the password on standard input
// (a terminal would ask for it). Every other line must exit 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PARLEY_MAIN } from '../support/processes.js';
const README = new URL('../../../README.md', import.meta.url);
const PASSWORD = 'walkthrough password 1';
/** What a background command prints once it is ready. */
const READY = {
    'login-server': /descriptor: /,
    supernode: /open to the internet/,
    online: /is online/,
    answer: /is waiting for a call/,
};
function walkthroughLines(readme) {
    const block = /<!-- walkthrough[^>]*-->\s*```sh\n([\s\S]*?)```/.exec(readme);
    if (!block)
        throw new Error('README has no walkthrough block');
    return block[1]
        .split('\n')
        .map((line) => line.replace(/\s+#\s.*$/, '').trim())
        .filter((line) => line.length > 0);
}
function run(line, env, cwd, input) {
    const child = spawn('bash', ['-c', line], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const job = { line, child, output: '', exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
    child.stdout.on('data', (c) => (job.output += c.toString()));
    child.stderr.on('data', (c) => (job.output += c.toString()));
    child.stdin.end(input);
    return job;
}
/** Resolves once `job` printed `marker`; rejects if it exits first or after `withinMs`. */
function ready(job, marker, withinMs) {
    return new Promise((resolve, reject) => {
        const check = () => marker.test(job.output) && settle(null);
        const deadline = setTimeout(() => settle(new Error(`"${job.line}" did not print ${String(marker)} within ${withinMs} ms:\n${job.output}`)), withinMs);
        const settle = (error) => {
            clearTimeout(deadline);
            job.child.stdout.off('data', check);
            job.child.stderr.off('data', check);
            if (error)
                reject(error);
            else
                resolve();
        };
        // After the job's own listeners (which append to its output) have run.
        job.child.stdout.on('data', check);
        job.child.stderr.on('data', check);
        void job.exited.then((code) => !marker.test(job.output) && settle(new Error(`"${job.line}" exited with ${code} before it was ready:\n${job.output}`)));
        check();
    });
}
async function finished(job, withinMs) {
    let timer;
    try {
        return await Promise.race([job.exited, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`"${job.line}" still ran after ${withinMs} ms:\n${job.output}`)), withinMs)))]);
    }
    finally {
        clearTimeout(timer);
    }
}
test('README\'s CLI walk-through runs as written: its own login server and an enrolled supernode, two users, chat (offline and live), a call', { timeout: 300_000 }, async () => {
    const lines = walkthroughLines(readFileSync(README, 'utf8'));
    const dir = mkdtempSync(join(tmpdir(), 'parley-walkthrough-'));
    const work = join(dir, 'work');
    const bin = join(dir, 'bin');
    mkdirSync(work);
    mkdirSync(bin);
    writeFileSync(join(bin, 'parley'), `#!/bin/sh\nexec "${process.execPath}" "${PARLEY_MAIN}" "$@"\n`);
    chmodSync(join(bin, 'parley'), 0o755);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: join(dir, 'home') };
    const background = [];
    try {
        for (const line of lines) {
            const kill = /^kill %(\d+)$/.exec(line);
            if (kill) {
                const job = background[Number(kill[1]) - 1];
                assert.ok(job, `${line}: no such job`);
                job.child.kill('SIGTERM');
                await finished(job, 30_000);
                continue;
            }
            if (line.endsWith('&')) {
                const command = line.slice(0, -1).trim();
                const job = run(`exec ${command}`, env, work, '');
                background.push(job);
                const name = /^parley (\S+)/.exec(command)?.[1] ?? '';
                assert.ok(READY[name], `the test knows no ready line for "${command}"`);
                await ready(job, READY[name], 60_000);
                continue;
            }
            for (const part of line.split(' && ')) {
                const job = run(part, env, work, /^parley (register|login) /.test(part) ? `${PASSWORD}\n` : '');
                const code = await finished(job, 90_000);
                assert.equal(code, 0, `"${part}" exited with ${code}:\n${job.output}`);
            }
        }
        // What the walk-through promises: bob got the message kept for him and the live one; both heard the call.
        const online = background.find((j) => j.line.startsWith('exec parley online'));
        assert.match(online.output, /while you were out/, `the offline message reached bob's parley online:\n${online.output}`);
        assert.match(online.output, /hello/);
        const answer = background.find((j) => j.line.startsWith('exec parley answer'));
        assert.equal(await finished(answer, 60_000), 0, answer.output);
        for (const heard of ['heard-by-bob.wav', 'heard-by-alice.wav'])
            assert.ok(statSync(join(work, heard)).size > 48_000, `${heard} holds audio`);
    }
    finally {
        for (const job of background)
            if (job.child.exitCode === null && job.child.signalCode === null)
                job.child.kill('SIGTERM');
        await Promise.all(background.map((job) => finished(job, 10_000).catch(() => job.child.kill('SIGKILL'))));
        rmSync(dir, { recursive: true, force: true });
    }
});
//# sourceMappingURL=readme-walkthrough.test.js.map