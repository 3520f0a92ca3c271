// TURN over TCP framing: STUN messages and padded ChannelData split out of a stream cut
// anywhere; garbage and oversized lengths end the stream; a shared port tells STUN from Noise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { StunStreamDecoder, isConnectionBindRequest, looksLikeStunStream, padForStream } from '../../src/turn/turn-tcp.js';
import { StunClass, StunMethod, encodeStun } from '../../src/stun/stun.js';

const stun = encodeStun({ method: StunMethod.ALLOCATE, cls: StunClass.REQUEST, transactionId: new Uint8Array(12).fill(3), attributes: [], classic: false }, { fingerprint: true });
const channelData = Uint8Array.of(0x40, 0x01, 0, 5, 1, 2, 3, 4, 5);

test('a TURN stream cut at any point yields its messages whole, ChannelData without its padding', () => {
  const padded = padForStream(channelData);
  assert.equal(padded.byteLength, 12);
  const stream = new Uint8Array([...stun, ...padded, ...stun]);
  fc.assert(
    fc.property(fc.array(fc.nat(stream.byteLength), { maxLength: 6 }), (cuts) => {
      const decoder = new StunStreamDecoder();
      const points = [0, ...[...new Set(cuts)].sort((a, b) => a - b), stream.byteLength];
      const out: Uint8Array[] = [];
      for (let i = 1; i < points.length; i++) out.push(...decoder.push(stream.subarray(points[i - 1]!, points[i]!))!);
      assert.deepEqual(out, [stun, channelData, stun]);
    }),
  );
});

test('bytes that are neither STUN nor ChannelData, or a length past the bound, end the stream', () => {
  assert.equal(new StunStreamDecoder().push(Uint8Array.of(0xc0, 0, 0, 0)), null);
  assert.equal(new StunStreamDecoder().push(Uint8Array.of(0x40, 0, 0xff, 0xff, 0, 0, 0, 0))!.length, 0, 'a large ChannelData waits for its bytes');
  assert.equal(new StunStreamDecoder().push(Uint8Array.of(0x00, 0x01, 0xff, 0xfc, 0x21, 0x12, 0xa4, 0x42)), null, 'a STUN length past the bound');
  assert.ok(looksLikeStunStream(stun));
  assert.equal(looksLikeStunStream(Uint8Array.of(0, 0x30, 1, 2, 3, 4, 5, 6)), false, 'a Noise frame is not STUN');
});

test('parsing stops after a ConnectionBind: what follows it stays in the decoder, raw, for the TCP relay', () => {
  const bind = encodeStun({ method: StunMethod.CONNECTION_BIND, cls: StunClass.REQUEST, transactionId: new Uint8Array(12).fill(4), attributes: [], classic: false });
  assert.ok(isConnectionBindRequest(bind));
  assert.equal(isConnectionBindRequest(stun), false, 'an Allocate is not');
  // Raw data behind it that is not STUN at all (0xff would end a TURN stream).
  const raw = Uint8Array.of(0xff, 0xfe, 1, 2, 3);
  const decoder = new StunStreamDecoder();
  const out = decoder.push(new Uint8Array([...stun, ...bind, ...raw]), isConnectionBindRequest);
  assert.deepEqual(out, [stun, bind]);
  assert.deepEqual(decoder.drain(), raw, 'the raw bytes, as they came');
  assert.equal(decoder.bufferedBytes, 0);
});
