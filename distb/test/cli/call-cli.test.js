// A call between real processes on a `parley local` network (the README's main job): bob runs
// `parley answer` with one WAV file, alice runs `parley call bob` with another; each hears the
// other's file in the WAV it writes. Real sockets, real SRTP, the overlay for signalling.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { localNetworkWithUsers, runParley, startParley, stopParley } from '../support/processes.js';
import { encodeWav, parseWav } from '../../src/media/wav.js';
import { tones, toneStrength } from '../../src/media/audio-compare.js';
test('parley call and parley answer: two users on a local network hear each other\'s WAV files', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-call-'));
    const { local, common } = await localNetworkWithUsers(dir, ['alice', 'bob'], [['alice', 'bob']]);
    let bob = null;
    try {
        // Each says its own two tones: what each hears must hold the other's and not its own, however
        // the timeline of a loaded machine shifts (speech-like audio and its alignment are tested on
        // the virtual network, test/media and test/client).
        const voices = { alice: [300, 700], bob: [500, 1100] };
        const said = { alice: tones(voices.alice, 3, 3000), bob: tones(voices.bob, 5, 3000) };
        for (const user of ['alice', 'bob'])
            writeFileSync(join(dir, `${user}-says.wav`), encodeWav(said[user]));
        bob = await startParley(['answer', '--user', 'bob', '--in', join(dir, 'bob-says.wav'), '--out', join(dir, 'bob-heard.wav'), ...common], 'is waiting for a call');
        const { code, output: aliceOut } = await runParley(['call', 'bob', '--user', 'alice', '--in', join(dir, 'alice-says.wav'), '--out', join(dir, 'alice-heard.wav'), ...common]);
        assert.equal(code, 0, aliceOut);
        assert.match(aliceOut, /ringing bob…/);
        assert.match(aliceOut, /in a call with bob: path direct/);
        assert.match(aliceOut, /call ended: hung up\n/);
        await bob.waitFor(/call ended: hung up by alice\n/);
        await bob.waitFor(/wrote what you heard/);
        for (const [listener, speaker] of [['alice', 'bob'], ['bob', 'alice']]) {
            const heard = parseWav(readFileSync(join(dir, `${listener}-heard.wav`)));
            assert.ok(heard.ok);
            const levels = (hzs) => hzs.map((hz) => toneStrength(heard.value, hz));
            const table = `${speaker}'s ${levels(voices[speaker]).map(Math.round).join('/')}, own ${levels(voices[listener]).map(Math.round).join('/')}\n${aliceOut}`;
            assert.ok(Math.min(...levels(voices[speaker])) > 1000, `${listener} hears ${speaker}: ${table}`);
            assert.ok(Math.max(...levels(voices[listener])) < 100, `${listener} does not hear itself: ${table}`);
        }
    }
    finally {
        if (bob)
            await stopParley(bob.child);
        await stopParley(local.child);
        rmSync(dir, { recursive: true, force: true });
    }
});
//# sourceMappingURL=call-cli.test.js.map