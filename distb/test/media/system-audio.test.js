// The microphone and speaker through sox's `rec` and `play`: stand-ins with sox's command line
// (raw 48 kHz mono 16-bit little-endian on a pipe) check what Parley asks of them and that the
// samples come through unchanged; a missing sox is found missing.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findCommand, Microphone, Speaker } from '../../src/media/system-audio.js';
import { testSignal } from '../../src/media/audio-compare.js';
async function until(condition, what) {
    const deadline = Date.now() + 10_000;
    while (!condition()) {
        if (Date.now() > deadline)
            throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
}
test('the microphone reads what rec writes and the speaker gives play what was heard, as raw 48 kHz mono 16-bit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-sox-'));
    // Closed in finally, also when the test fails: a live stand-in for play waits on its input for good.
    const opened = [];
    try {
        const tone = testSignal(0.2);
        writeFileSync(join(dir, 'mic.raw'), Buffer.from(tone.buffer));
        // Stand-ins: they check the arguments sox would get, then act like sox on a pipe.
        const expected = '-q -t raw -r 48000 -e signed-integer -b 16 -c 1 -L -';
        writeFileSync(join(dir, 'rec'), `#!/bin/sh\n[ "$*" = "${expected}" ] || { echo "bad arguments: $*" >&2; exit 2; }\ncat "${join(dir, 'mic.raw')}"\n`);
        writeFileSync(join(dir, 'play'), `#!/bin/sh\n[ "$*" = "${expected}" ] || { echo "bad arguments: $*" >&2; exit 2; }\ncat > "${join(dir, 'speaker.raw')}"\n`);
        for (const name of ['rec', 'play'])
            chmodSync(join(dir, name), 0o755);
        assert.equal(findCommand('rec', dir), join(dir, 'rec'));
        assert.equal(findCommand('rec', join(dir, 'nowhere')), null);
        const microphone = new Microphone(findCommand('rec', dir));
        opened.push(microphone);
        // Reads before rec's first bytes arrive are silence; after that, the samples as rec wrote them.
        const heard = [];
        await until(() => {
            for (const v of microphone.read(960))
                if (heard.length > 0 || v !== 0)
                    heard.push(v);
            return heard.length >= tone.length / 2 || microphone.failure !== null;
        }, 'the microphone');
        assert.equal(microphone.failure, null);
        const sound = tone.subarray(tone.findIndex((v) => v !== 0));
        assert.deepEqual(heard.slice(0, 4800), [...sound.subarray(0, 4800)]);
        microphone.close();
        const speaker = new Speaker(findCommand('play', dir));
        opened.push(speaker);
        for (let at = 0; at < tone.length; at += 960)
            speaker.write(at / 48, tone.subarray(at, at + 960));
        speaker.close();
        await until(() => {
            try {
                return readFileSync(join(dir, 'speaker.raw')).length === tone.length * 2;
            }
            catch {
                return false;
            }
        }, 'play to receive everything');
        assert.deepEqual(new Int16Array(new Uint8Array(readFileSync(join(dir, 'speaker.raw'))).buffer), tone);
        assert.equal(speaker.failure, null);
    }
    finally {
        for (const o of opened)
            o.close();
        rmSync(dir, { recursive: true, force: true });
    }
});
//# sourceMappingURL=system-audio.test.js.map