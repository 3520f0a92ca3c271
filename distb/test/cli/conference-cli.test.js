// A conference between three real processes on a `parley local` network (the README's main
// job): bob and carol run `parley answer`, alice runs `parley conference bob carol`, each with its
// own WAV file. Each must hear the two others' tones and never its own. Bob and carol are not
// buddies: the conference lets whoever mixes take the other's leg. Real sockets, real SRTP.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { localNetworkWithUsers, runParley, startParley, stopParley } from '../support/processes.js';
import { encodeWav, parseWav } from '../../src/media/wav.js';
import { tones, toneStrength } from '../../src/media/audio-compare.js';
test('parley conference: three users on a local network each hear the two others\' WAV files', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-conference-'));
    const { local, common } = await localNetworkWithUsers(dir, ['alice', 'bob', 'carol'], [['alice', 'bob'], ['alice', 'carol']]);
    const answering = [];
    try {
        const voices = { alice: [300, 900], bob: [500, 1100], carol: [700, 1300] };
        const users = ['alice', 'bob', 'carol'];
        for (const user of users)
            writeFileSync(join(dir, `${user}-says.wav`), encodeWav(tones(voices[user], user === 'alice' ? 5 : 10, 3000)));
        const wav = (user, what) => join(dir, `${user}-${what}.wav`);
        // One after the other, so a failure to start the second still leaves the first to be stopped.
        for (const user of ['bob', 'carol'])
            answering.push(await startParley(['answer', '--user', user, '--in', wav(user, 'says'), '--out', wav(user, 'heard'), '--seconds', '9', ...common], 'is waiting for a call'));
        // Alice hosts, mixes (the smallest id among equals) and leaves when her 5 s are said; bob and
        // carol go on without her (one of them mixes then) and leave 9 s after they joined.
        const { code, output } = await runParley(['conference', 'bob', 'carol', '--user', 'alice', '--in', wav('alice', 'says'), '--out', wav('alice', 'heard'), ...common]);
        assert.equal(code, 0, output);
        assert.match(output, /conference: alice \(host[^)]*\), (bob|carol)[^,]*, (bob|carol)/, 'the roster with all three');
        assert.match(output, /mixes/, 'the roster says who mixes');
        assert.match(output, /conference ended: you left/);
        for (const a of answering) {
            await a.waitFor(/invites you to a conference; joining/);
            // Without alice: the first of the two left hosts, and one of them mixes.
            await a.waitFor(/conference: (bob|carol) \(host[^)]*\), (bob|carol)/);
            await a.waitFor(/conference ended: (you left|everyone else left)/);
            await a.waitFor(/wrote what you heard/);
        }
        const outputs = `${output}\n${answering.map((a) => a.output).join('\n')}`;
        for (const listener of users) {
            const heard = parseWav(readFileSync(wav(listener, 'heard')));
            assert.ok(heard.ok);
            const levels = (hzs) => hzs.map((hz) => Math.round(toneStrength(heard.value, hz)));
            const others = users.filter((u) => u !== listener);
            const table = `${others.map((o) => `${o}'s ${levels(voices[o]).join('/')}`).join(', ')}, own ${levels(voices[listener]).join('/')}\n${outputs}`;
            for (const speaker of others)
                assert.ok(Math.min(...levels(voices[speaker])) > 500, `${listener} hears ${speaker}: ${table}`);
            // Its own tones at least 20 dB under the quietest other's: Opus coding four tones at 24 kbit/s
            // puts intermodulation near an own frequency about 25 dB down (a mix with the own voice in
            // it would put that voice as loud as the others).
            const quietestOther = Math.min(...others.flatMap((o) => levels(voices[o])));
            assert.ok(Math.max(...levels(voices[listener])) < quietestOther / 10, `${listener} does not hear itself: ${table}`);
        }
    }
    finally {
        for (const a of answering)
            await stopParley(a.child);
        await stopParley(local.child);
        rmSync(dir, { recursive: true, force: true });
    }
});
//# sourceMappingURL=conference-cli.test.js.map