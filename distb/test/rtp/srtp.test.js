// RTP and SRTP: RFC 3711's test vectors, the rollover counter across a sequence wrap, packets
// out of order, replays and forgeries refused without moving the receiver's state, a bound on
// streams, and decoders that take any bytes. (test/media/ffmpeg-interop checks a real SRTP stack reads ours.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeRtp, encodeRtp, OPUS_PAYLOAD_TYPE } from '../../src/rtp/rtp.js';
import { deriveSrtpKeys, packetKeystream, SrtpReceiver, SrtpSender, SRTP_TAG_BYTES } from '../../src/rtp/srtp.js';
const hex = (text) => Uint8Array.from(Buffer.from(text.replace(/\s/g, ''), 'hex'));
const toHex = (bytes) => Buffer.from(bytes).toString('hex').toUpperCase();
test('RFC 3711 B.2: the AES-CM keystream for packet 0 of SSRC 0', () => {
    const keys = { cipherKey: hex('2B7E151628AED2A6ABF7158809CF4F3C'), salt: hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD') };
    const stream = packetKeystream(keys, 0, 0, 48);
    assert.equal(toHex(stream.subarray(0, 16)), 'E03EAD0935C95E80E166B16DD92B4EB4');
    assert.equal(toHex(stream.subarray(16, 32)), 'D23513162B02D0F72A43A2FE4A5F97AB');
    assert.equal(toHex(stream.subarray(32, 48)), '41E95B3BB0A2E8DD477901E4FCA894C0');
});
test('RFC 3711 B.3: session keys derived from the master key and salt', () => {
    const keys = deriveSrtpKeys(hex('E1F97A0D3E018BE0D64FA32C06DE4139'), hex('0EC675AD498AFEEBB6960B3AABE6'));
    assert.equal(toHex(keys.cipherKey), 'C61E7A93744F39EE10734AFE3FF7A087');
    assert.equal(toHex(keys.salt), '30CBBC08863D8C85D49DB34A9AE1');
    assert.equal(toHex(keys.authKey.subarray(0, 16)), 'CEBE321F6FF7716B6FD4AB49AF256A15');
});
const masterKey = hex('000102030405060708090a0b0c0d0e0f');
const masterSalt = hex('a0a1a2a3a4a5a6a7a8a9aaabacad');
const packet = (sequence, text, ssrc = 0x1234) => encodeRtp({ marker: false, payloadType: OPUS_PAYLOAD_TYPE, sequence, timestamp: sequence * 960, ssrc, payload: new TextEncoder().encode(text) });
test('SRTP round trip: the payload is hidden, the header is not; sequence wraps carry the rollover counter on both sides', () => {
    const sender = new SrtpSender(masterKey, masterSalt);
    const receiver = new SrtpReceiver(masterKey, masterSalt);
    const got = [];
    const sequences = [65533, 65534, 65535, 0, 1, 2];
    const protectedPackets = sequences.map((s) => sender.protect(packet(s, `frame ${s}`)));
    // The first two arrive last: out of order across the wrap is still fine.
    for (const p of [...protectedPackets.slice(2), ...protectedPackets.slice(0, 2)]) {
        const plain = receiver.unprotect(p);
        assert.ok(plain.ok, JSON.stringify(plain));
        const rtp = decodeRtp(plain.value);
        assert.ok(rtp.ok);
        got.push(new TextDecoder().decode(rtp.value.payload));
    }
    assert.deepEqual(got, ['frame 65535', 'frame 0', 'frame 1', 'frame 2', 'frame 65533', 'frame 65534']);
    const clear = packet(3, 'a secret word');
    const sealed = sender.protect(clear);
    assert.equal(sealed.length, clear.length + SRTP_TAG_BYTES);
    assert.deepEqual(sealed.subarray(0, 12), clear.subarray(0, 12), 'the header stays readable');
    assert.equal(Buffer.from(sealed).includes(Buffer.from('secret')), false, 'the payload does not');
    // Packet 3 after the wrap is index 65536 + 3: a receiver that lost the rollover would fail the tag.
    assert.ok(receiver.unprotect(sealed).ok);
});
test('SRTP refuses replays, forgeries, strangers beyond the bound and short packets, and a refusal changes nothing', () => {
    const sender = new SrtpSender(masterKey, masterSalt);
    const receiver = new SrtpReceiver(masterKey, masterSalt);
    const first = sender.protect(packet(10, 'one'));
    assert.ok(receiver.unprotect(first).ok);
    assert.deepEqual(codeOf(receiver.unprotect(first)), 'replayed');
    const second = sender.protect(packet(11, 'two'));
    for (let byte = 0; byte < second.length; byte++) {
        const forged = second.slice();
        forged[byte] ^= 0x01;
        const result = receiver.unprotect(forged);
        assert.ok(!result.ok, `a flipped bit in byte ${byte} went through`);
    }
    assert.ok(receiver.unprotect(second).ok, 'the genuine packet still passes after the forgeries');
    // A forged packet far ahead does not move the window: packet 12 is still fresh.
    const wrongKey = new SrtpSender(hex('ff'.repeat(16)), masterSalt);
    assert.equal(codeOf(receiver.unprotect(wrongKey.protect(packet(30_000, 'x')))), 'auth_failed');
    assert.ok(receiver.unprotect(sender.protect(packet(12, 'three'))).ok);
    assert.equal(codeOf(receiver.unprotect(new Uint8Array(21))), 'truncated');
    for (let ssrc = 1; ssrc <= 3; ssrc++)
        assert.ok(receiver.unprotect(sender.protect(packet(1, 'x', ssrc))).ok);
    assert.equal(codeOf(receiver.unprotect(sender.protect(packet(1, 'x', 99)))), 'too_many_streams');
});
test('fuzz: the RTP decoder and the SRTP receiver take any bytes without throwing', () => {
    const receiver = new SrtpReceiver(masterKey, masterSalt);
    const valid = new SrtpSender(masterKey, masterSalt).protect(packet(5, 'hello'));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: valid.length - 1 }), fc.integer({ min: 1, max: 255 }), (bytes, at, flip) => {
        assert.equal(typeof decodeRtp(bytes).ok, 'boolean');
        assert.equal(typeof receiver.unprotect(bytes).ok, 'boolean');
        const mutated = valid.slice();
        mutated[at] ^= flip;
        assert.equal(receiver.unprotect(mutated).ok, false);
    }), { numRuns: 500 });
});
function codeOf(result) {
    return result.ok ? undefined : result.error?.code;
}
//# sourceMappingURL=srtp.test.js.map