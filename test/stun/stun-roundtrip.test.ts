// decode(encode(x)) is x for STUN messages (RFC 8489 and classic RFC 3489, with and without
// MESSAGE-INTEGRITY and FINGERPRINT), their attributes (addresses, CHANGE-REQUEST, ERROR-CODE,
// 32-bit values), TURN ChannelData, and the TURN-over-TCP stream of both cut anywhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  Attr,
  CHANGE_IP,
  CHANGE_PORT,
  MAGIC_COOKIE,
  MAX_STUN_BYTES,
  StunClass,
  checkIntegrity,
  decodeAddress,
  decodeChangeRequest,
  decodeErrorCode,
  decodeStun,
  decodeUint32,
  encodeAddress,
  encodeChangeRequest,
  encodeErrorCode,
  encodeStun,
  encodeUint32,
  type StunMessage,
} from '../../src/stun/stun.js';
import { MAX_CHANNEL, MIN_CHANNEL, decodeChannelData, encodeChannelData } from '../../src/turn/channel-data.js';
import { StunStreamDecoder, padForStream } from '../../src/turn/turn-tcp.js';

const cookie = Uint8Array.of(MAGIC_COOKIE >>> 24, (MAGIC_COOKIE >>> 16) & 0xff, (MAGIC_COOKIE >>> 8) & 0xff, MAGIC_COOKIE & 0xff);
const startsWithCookie = (id: Uint8Array) => cookie.every((b, i) => id[i] === b);

/** Attributes other than the two the encoder adds itself. */
const attributes = fc.array(
  fc.record({ type: fc.nat({ max: 0xffff }).filter((t) => t !== Attr.MESSAGE_INTEGRITY && t !== Attr.FINGERPRINT && t !== Attr.MESSAGE_INTEGRITY_SHA256), value: fc.uint8Array({ maxLength: 40 }) }),
  { maxLength: 8 },
);

const messages: fc.Arbitrary<StunMessage> = fc.boolean().chain((classic) =>
  fc.record({
    method: fc.nat({ max: 0xfff }),
    cls: fc.constantFrom(StunClass.REQUEST, StunClass.INDICATION, StunClass.SUCCESS, StunClass.ERROR),
    // A classic message is told apart by its first four id bytes not being the magic cookie (RFC 8489 section 6).
    transactionId: fc.uint8Array({ minLength: classic ? 16 : 12, maxLength: classic ? 16 : 12 }).filter((id) => !classic || !startsWithCookie(id)),
    attributes,
    classic: fc.constant(classic),
  }),
);

test('STUN messages round-trip, with and without MESSAGE-INTEGRITY and FINGERPRINT, and encode again to the same bytes', () => {
  fc.assert(
    fc.property(messages, fc.option(fc.uint8Array({ minLength: 1, maxLength: 32 })), fc.boolean(), (message, integrityKey, fingerprint) => {
      const bytes = encodeStun(message, { ...(integrityKey ? { integrityKey } : {}), fingerprint });
      fc.pre(bytes.byteLength <= MAX_STUN_BYTES);
      const decoded = decodeStun(bytes);
      assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
      const { method, cls, transactionId, classic } = decoded.value;
      assert.deepEqual({ method, cls, transactionId, classic }, { method: message.method, cls: message.cls, transactionId: message.transactionId, classic: message.classic });
      const added = decoded.value.attributes.filter((a) => a.type === Attr.MESSAGE_INTEGRITY || a.type === Attr.FINGERPRINT).map((a) => a.type);
      const expectedAdded = [...(integrityKey ? [Attr.MESSAGE_INTEGRITY] : []), ...(fingerprint && !message.classic ? [Attr.FINGERPRINT] : [])];
      assert.deepEqual(added, expectedAdded);
      const own = decoded.value.attributes.filter((a) => a.type !== Attr.MESSAGE_INTEGRITY && a.type !== Attr.FINGERPRINT);
      assert.deepEqual(
        own.map((a) => ({ type: a.type, value: Uint8Array.from(a.value) })),
        message.attributes.map((a) => ({ type: a.type, value: a.value })),
      );
      if (integrityKey) assert.ok(checkIntegrity(decoded.value, integrityKey));
      assert.deepEqual(encodeStun({ ...decoded.value, attributes: own }, { ...(integrityKey ? { integrityKey } : {}), fingerprint }), bytes);
    }),
    { numRuns: 500 },
  );
});

const ipv4Endpoint = fc.record({ host: fc.ipV4(), port: fc.nat({ max: 0xffff }) });
const ipv6Bytes = fc.uint8Array({ minLength: 16, maxLength: 16 });

test('address attributes round-trip, plain and XORed, IPv4 and IPv6 (as RFC 5952 text)', () => {
  fc.assert(
    fc.property(ipv4Endpoint, fc.boolean(), fc.uint8Array({ minLength: 12, maxLength: 12 }), (endpoint, xor, transactionId) => {
      const decoded = decodeAddress(encodeAddress(endpoint, xor, transactionId), xor, transactionId);
      assert.ok(decoded.ok);
      assert.deepEqual(decoded.value, { ...endpoint });
    }),
  );
  // IPv6: any 16 bytes are an address; its text (as decoding writes it) encodes to those bytes again.
  fc.assert(
    fc.property(ipv6Bytes, fc.nat({ max: 0xffff }), fc.boolean(), fc.uint8Array({ minLength: 12, maxLength: 12 }), (address, port, xor, transactionId) => {
      const plain = new Uint8Array(20);
      plain[1] = 0x02;
      plain[2] = port >> 8;
      plain[3] = port & 0xff;
      plain.set(address, 4);
      const text = decodeAddress(plain, false);
      assert.ok(text.ok);
      assert.deepEqual(encodeAddress(text.value, false), plain);
      const decoded = decodeAddress(encodeAddress(text.value, xor, transactionId), xor, transactionId);
      assert.ok(decoded.ok);
      assert.deepEqual(decoded.value, text.value);
    }),
  );
  // IPv6 text in any form (upper case, leading zeros, an IPv4 tail) keeps its address.
  fc.assert(
    fc.property(fc.ipV6(), fc.nat({ max: 0xffff }), (host, port) => {
      const once = decodeAddress(encodeAddress({ host, port }, false), false);
      assert.ok(once.ok);
      assert.deepEqual(encodeAddress(once.value, false), encodeAddress({ host, port }, false));
    }),
  );
});

test('CHANGE-REQUEST, ERROR-CODE and 32-bit attributes round-trip', () => {
  fc.assert(
    fc.property(fc.boolean(), fc.boolean(), (changeIp, changePort) => {
      const decoded = decodeChangeRequest(encodeChangeRequest((changeIp ? CHANGE_IP : 0) | (changePort ? CHANGE_PORT : 0)));
      assert.ok(decoded.ok);
      assert.deepEqual(decoded.value, { changeIp, changePort });
    }),
  );
  // RFC 8489 section 14.8: a reason of fewer than 128 characters is sent whole.
  fc.assert(
    fc.property(fc.integer({ min: 300, max: 699 }), fc.string({ unit: 'binary', maxLength: 127 }), (code, reason) => {
      const decoded = decodeErrorCode(encodeErrorCode(code, reason));
      assert.ok(decoded.ok);
      assert.deepEqual(decoded.value, { code, reason });
    }),
    { numRuns: 50 },
  );
  // A longer one is cut to 127 characters, never inside one (no broken UTF-8 on the wire).
  fc.assert(
    fc.property(fc.string({ unit: 'binary', minLength: 128, maxLength: 300 }), (reason) => {
      const decoded = decodeErrorCode(encodeErrorCode(500, reason));
      assert.ok(decoded.ok);
      assert.equal(decoded.value.reason, [...reason].slice(0, 127).join(''));
    }),
    { numRuns: 50 },
  );
  fc.assert(
    fc.property(fc.nat({ max: 0xffffffff }), (value) => {
      assert.equal(decodeUint32(encodeUint32(value)), value);
    }),
  );
});

test('ChannelData round-trips for every channel number, and the TURN-over-TCP stream gives back each message whole, cut anywhere', () => {
  const channelData = fc.record({ channel: fc.integer({ min: MIN_CHANNEL, max: MAX_CHANNEL }), data: fc.uint8Array({ maxLength: 300 }) });
  fc.assert(
    fc.property(channelData, ({ channel, data }) => {
      const decoded = decodeChannelData(encodeChannelData(channel, data));
      assert.deepEqual(decoded && { channel: decoded.channel, data: Uint8Array.from(decoded.data) }, { channel, data });
    }),
  );
  const streamMessage = fc.oneof(
    channelData.map(({ channel, data }) => encodeChannelData(channel, data)),
    messages.filter((m) => !m.classic).map((m) => encodeStun(m)),
  );
  fc.assert(
    fc.property(fc.array(streamMessage, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 6 }), (sent, cutAt) => {
      const stream = Buffer.concat(sent.map(padForStream));
      const cuts = [...new Set(cutAt.map((c) => c % (stream.byteLength + 1)))].sort((a, b) => a - b);
      const decoder = new StunStreamDecoder();
      const received: Uint8Array[] = [];
      let from = 0;
      for (const to of [...cuts, stream.byteLength]) {
        const out = decoder.push(stream.subarray(from, to));
        assert.ok(out);
        received.push(...out);
        from = to;
      }
      assert.deepEqual(received.map((m) => Buffer.from(m)), sent.map((m) => Buffer.from(m)));
      assert.equal(decoder.bufferedBytes, 0);
    }),
  );
});
