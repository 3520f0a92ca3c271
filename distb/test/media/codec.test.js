// The codec and WAV boundaries: Opus round trip, concealment and FEC frames of the asked length,
// a typed error for a bad packet (and the decoder still works after it), WAV files of every PCM
// shape read back to 48 kHz mono, and both decoders fuzzed with random and mutated input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { OpusDecoder, OpusEncoder } from '../../src/media/opus.js';
import { encodeWav, parseWav } from '../../src/media/wav.js';
import { spectralSimilarity, testSignal } from '../../src/media/audio-compare.js';
test('Opus: frames round-trip, concealment and FEC give frames of the asked length, a bad packet is a typed error', () => {
    const input = testSignal(1);
    const encoder = new OpusEncoder({ frameMs: 20, bitrate: 24_000 });
    encoder.setExpectedLoss(10);
    const decoder = new OpusDecoder();
    const packets = [];
    const output = new Int16Array(input.length);
    for (let at = 0; at + 960 <= input.length; at += 960) {
        const packet = encoder.encode(input.subarray(at, at + 960));
        packets.push(packet);
        assert.ok(packet.length < 24_000 / 8 / 50 * 2, `${packet.length} bytes`);
        const decoded = decoder.decode(packet);
        assert.ok(decoded.ok);
        output.set(decoded.value, at);
    }
    const lookahead = encoder.lookaheadSamples / 48;
    assert.ok(spectralSimilarity(input, output, lookahead) > 0.97);
    assert.equal(decoder.conceal(960).length, 960);
    assert.equal(decoder.recover(packets[5], 960).length, 960);
    const bad = decoder.decode(Uint8Array.of(0xff, 0xff, 0xff));
    assert.ok(!bad.ok && bad.error.code === 'invalid_packet');
    assert.ok(decoder.decode(packets[6]).ok, 'still decodes after a bad packet');
    assert.throws(() => encoder.encode(new Int16Array(100)), RangeError);
    encoder.close();
    decoder.close();
});
test('WAV: 16- and 24-bit files, stereo and 44.1 kHz, read back as 48 kHz mono; bad files are typed errors', () => {
    const tone = testSignal(0.5);
    const back = parseWav(encodeWav(tone));
    assert.ok(back.ok);
    assert.deepEqual(back.value, tone);
    // A 44.1 kHz stereo 24-bit file of the same sound.
    const rate = 44_100;
    const frames = Math.floor((tone.length * rate) / 48_000);
    const bytes = new Uint8Array(44 + frames * 6);
    const view = new DataView(bytes.buffer);
    bytes.set(new TextEncoder().encode('RIFF'), 0);
    view.setUint32(4, 36 + frames * 6, true);
    bytes.set(new TextEncoder().encode('WAVEfmt '), 8);
    view.setUint32(16, 16, true);
    view.setUint16(20, 1, true);
    view.setUint16(22, 2, true);
    view.setUint32(24, rate, true);
    view.setUint32(28, rate * 6, true);
    view.setUint16(32, 6, true);
    view.setUint16(34, 24, true);
    bytes.set(new TextEncoder().encode('data'), 36);
    view.setUint32(40, frames * 6, true);
    for (let i = 0; i < frames; i++) {
        const v = tone[Math.floor((i * 48_000) / rate)] * 256;
        for (const c of [0, 1]) {
            const at = 44 + i * 6 + c * 3;
            bytes[at] = v & 0xff;
            bytes[at + 1] = (v >> 8) & 0xff;
            bytes[at + 2] = (v >> 16) & 0xff;
        }
    }
    const converted = parseWav(bytes);
    assert.ok(converted.ok);
    assert.ok(Math.abs(converted.value.length - tone.length) <= 2);
    assert.ok(spectralSimilarity(tone, converted.value, 0) > 0.97);
    for (const [input, code] of [
        [new TextEncoder().encode('not a wav at all'), 'not_wav'],
        [bytes.subarray(0, 30), 'truncated'],
    ]) {
        const result = parseWav(input);
        assert.ok(!result.ok && result.error.code === code, JSON.stringify(result));
    }
});
test('fuzz: the Opus decoder and the WAV reader take any bytes without throwing', () => {
    const decoder = new OpusDecoder();
    const wav = encodeWav(testSignal(0.05));
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 1600 }), fc.nat({ max: wav.length - 1 }), fc.integer({ min: 0, max: 255 }), (bytes, at, value) => {
        assert.equal(typeof decoder.decode(bytes).ok, 'boolean');
        assert.equal(typeof parseWav(bytes).ok, 'boolean');
        const mutated = wav.slice(0, Math.max(at, 12));
        mutated[at % mutated.length] = value;
        assert.equal(typeof parseWav(mutated).ok, 'boolean');
    }), { numRuns: 400 });
    assert.equal(decoder.conceal(960).length, 960);
});
//# sourceMappingURL=codec.test.js.map