import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FrameDecoder, encodeFrame } from '../../src/wire/framing.js';
test('frames split at any byte boundary come out whole and in order', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 8 }), fc.array(fc.nat(400), { maxLength: 10 }), (payloads, cuts) => {
        const stream = new Uint8Array(payloads.reduce((n, p) => n + p.byteLength + 2, 0));
        let offset = 0;
        for (const p of payloads) {
            stream.set(encodeFrame(p), offset);
            offset += p.byteLength + 2;
        }
        const decoder = new FrameDecoder();
        const out = [];
        let at = 0;
        for (const cut of [...cuts.map((c) => Math.min(stream.byteLength, at + c)), stream.byteLength]) {
            const end = Math.max(at, Math.min(cut, stream.byteLength));
            const result = decoder.push(stream.subarray(at, end));
            assert.ok(result.ok);
            out.push(...result.value);
            at = end;
        }
        assert.deepEqual(out, payloads);
        assert.equal(decoder.bufferedBytes, 0);
    }));
});
test('a length above the limit is refused before any of it is buffered, and the error sticks', () => {
    const decoder = new FrameDecoder(100);
    const result = decoder.push(Uint8Array.of(0, 101, 1, 2, 3));
    assert.ok(!result.ok);
    assert.equal(result.error.code, 'oversized');
    assert.equal(decoder.bufferedBytes, 0);
    const again = decoder.push(encodeFrame(Uint8Array.of(1)));
    assert.ok(!again.ok && again.error.code === 'oversized');
});
test('a zero-length frame is an error', () => {
    const result = new FrameDecoder().push(Uint8Array.of(0, 0));
    assert.ok(!result.ok && result.error.code === 'empty');
});
//# sourceMappingURL=framing.test.js.map