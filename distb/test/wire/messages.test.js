import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { DATAGRAM_MARKER, MAX_DATAGRAM_BYTES, PingSchema, decodeDatagram, decodeEnvelope, encodeDatagram, encodeEnvelope, isParleyDatagram, } from '../../src/wire/messages.js';
test('an envelope round-trips; a ping datagram carries its version in the first byte', () => {
    const body = { case: 'ping', value: create(PingSchema, { nonce: 12345678901234n }) };
    const decoded = decodeEnvelope(encodeEnvelope(body));
    assert.ok(decoded.ok);
    assert.equal(decoded.value.body.case, 'ping');
    assert.equal(decoded.value.body.value.nonce, 12345678901234n);
    const datagram = encodeDatagram(body);
    assert.equal(datagram[0], DATAGRAM_MARKER | 1);
    assert.ok(isParleyDatagram(datagram));
    const back = decodeDatagram(datagram);
    assert.ok(back.ok && back.value.version === 1 && back.value.envelope.body.case === 'ping');
});
test('datagrams of another version, too large, or of another protocol get typed errors', () => {
    const datagram = encodeDatagram({ case: 'ping', value: create(PingSchema, { nonce: 1n }) });
    const future = datagram.slice();
    future[0] = DATAGRAM_MARKER | 9;
    const version = decodeDatagram(future);
    assert.ok(!version.ok && version.error.code === 'unsupported_version');
    const big = decodeDatagram(new Uint8Array(MAX_DATAGRAM_BYTES + 1).fill(DATAGRAM_MARKER | 1));
    assert.ok(!big.ok && big.error.code === 'oversized');
    const stun = decodeDatagram(Uint8Array.of(0x00, 0x01, 0x00, 0x00));
    assert.ok(!stun.ok && stun.error.code === 'malformed');
});
test('an envelope with no known message is unknown_message, an empty one is empty', () => {
    // Field 1000, varint 1: a message type from some future version (tag as a two-byte varint).
    const future = decodeEnvelope(Uint8Array.of(0xc0, 0x3e, 1));
    assert.ok(!future.ok && future.error.code === 'unknown_message');
    const empty = decodeEnvelope(new Uint8Array(0));
    assert.ok(!empty.ok && empty.error.code === 'empty');
    const broken = decodeEnvelope(Uint8Array.of(0x0a, 0x05, 0x08));
    assert.ok(!broken.ok && broken.error.code === 'malformed');
});
//# sourceMappingURL=messages.test.js.map