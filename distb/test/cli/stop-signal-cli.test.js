// Issue 17: `parley answer` stopped with SIGTERM (a service manager, `kill`) wrote no --out WAV.
// Real processes on a `parley local` network: alice calls bob with a tone and does not hang up;
// bob's `parley answer` gets SIGTERM mid-call, ends the call politely, writes what it heard so
// far and exits; alice hears the call end.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { localNetworkWithUsers, startParley, stopParley } from '../support/processes.js';
import { encodeWav, parseWav } from '../../src/media/wav.js';
import { tones, toneStrength } from '../../src/media/audio-compare.js';
test('SIGTERM to parley answer in a call: it hangs up, writes what it heard to --out and exits', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-sigterm-'));
    const { local, common } = await localNetworkWithUsers(dir, ['alice', 'bob'], [['alice', 'bob']]);
    const running = [];
    try {
        const says = join(dir, 'alice-says.wav');
        const heard = join(dir, 'bob-heard.wav');
        writeFileSync(says, encodeWav(tones([700], 60, 3000)));
        const bob = await startParley(['answer', '--user', 'bob', '--out', heard, ...common], 'is waiting for a call');
        running.push(bob);
        const alice = await startParley(['call', 'bob', '--user', 'alice', '--in', says, ...common], /in a call with bob/, 60_000);
        running.push(alice);
        await bob.waitFor(/in a call with alice/, 30_000);
        // Some audio heard (the stats line comes every 5 s), then the signal.
        await bob.waitFor(/lost [\d.]+%, late [\d.]+%, concealed [\d.]+%[^\n]*\n[^\n]*lost/, 30_000);
        const exited = new Promise((resolve) => bob.child.on('exit', (code) => resolve(code)));
        bob.child.kill('SIGTERM');
        const code = await exited;
        const output = await bob.waitFor(/wrote what you heard/, 1_000);
        assert.equal(code, 0, output);
        assert.match(output, /call ended: hung up/);
        const wav = parseWav(readFileSync(heard));
        assert.ok(wav.ok, 'a valid WAV');
        assert.ok(wav.value.length >= 48_000 * 3, `${wav.value.length / 48_000} s heard`);
        assert.ok(toneStrength(wav.value, 700) > 500, `alice's tone in bob's recording: ${toneStrength(wav.value, 700)}`);
        await alice.waitFor(/call ended: hung up by bob/, 15_000);
    }
    finally {
        for (const r of running)
            await stopParley(r.child);
        await stopParley(local.child);
        rmSync(dir, { recursive: true, force: true });
    }
});
//# sourceMappingURL=stop-signal-cli.test.js.map