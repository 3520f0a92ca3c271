// SDP for audio calls: a typical SIP phone's offer decodes to typed values (connection, payload
// types, rtpmap, fmtp, ptime, direction, SDES crypto), bad lines get typed errors, bounds hold,
// and generated descriptions round-trip.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { codecOf, decodeSdp, encodeSdp, type SessionDescription } from '../../src/sip/sdp.js';

const bytes = (text: string) => new TextEncoder().encode(text);

const OFFER = [
  'v=0',
  'o=- 1234 5678 IN IP4 192.0.2.10',
  's=call',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 49170 RTP/SAVP 0 8 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=sendonly',
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32 KDR=1',
  'a=rtcp:49171',
  '',
].join('\r\n');

test('an audio offer decodes to typed values', () => {
  const r = decodeSdp(bytes(OFFER));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
  const d = r.value;
  assert.equal(d.origin.address, '192.0.2.10');
  assert.deepEqual(d.connection, { addressType: 'IP4', address: '192.0.2.10' });
  const audio = d.media[0]!;
  assert.equal(audio.media, 'audio');
  assert.equal(audio.port, 49170);
  assert.equal(audio.proto, 'RTP/SAVP');
  assert.deepEqual(audio.formats, ['0', '8', '101']);
  assert.equal(audio.ptimeMs, 20);
  assert.equal(audio.direction, 'sendonly');
  assert.equal(audio.fmtps.get(101), '0-15');
  assert.equal(codecOf(audio, 101)?.encoding, 'telephone-event');
  assert.equal(codecOf(audio, 8)?.encoding, 'PCMA', 'static payload type without an rtpmap');
  assert.equal(codecOf(audio, 96), null);
  assert.deepEqual(audio.cryptos[0], { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: 'inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32', sessionParams: ['KDR=1'] });
  assert.deepEqual(audio.otherAttributes, [{ name: 'rtcp', value: '49171' }]);
});

test('bad SDP gets typed errors, and the bounds hold', () => {
  const code = (text: string, limits?: Parameters<typeof decodeSdp>[1]) => {
    const r = decodeSdp(bytes(text), limits);
    return r.ok ? 'ok' : r.error.code;
  };
  assert.equal(code('o=x\r\n'), 'missing_line');
  assert.equal(code(OFFER.replace('s=call\r\n', '')), 'missing_line');
  assert.equal(code(OFFER.replace('m=audio 49170', 'm=audio 99999')), 'bad_value');
  assert.equal(code(OFFER.replace('RTP/SAVP 0 8 101', 'RTP/SAVP 0 8 200')), 'bad_value');
  assert.equal(code(OFFER.replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:0 PCMU')), 'bad_value');
  assert.equal(code(OFFER.replace('c=IN IP4 192.0.2.10', 'c=IN IPX 1')), 'bad_value');
  assert.equal(code(OFFER.replace('a=ptime:20', 'a=ptime:x')), 'bad_value');
  assert.equal(code(OFFER.replace('t=0 0', 'T=0 0')), 'bad_line');
  assert.equal(code(OFFER, { maxBytes: 100, maxLines: 100, maxMedia: 4, maxFormatsPerMedia: 8 }), 'too_large');
  assert.equal(code(OFFER, { maxBytes: 10_000, maxLines: 5, maxMedia: 4, maxFormatsPerMedia: 8 }), 'too_large');
  assert.equal(code(OFFER, { maxBytes: 10_000, maxLines: 100, maxMedia: 4, maxFormatsPerMedia: 2 }), 'too_large');
  assert.equal(code(OFFER + OFFER.split('\r\n').slice(5).join('\r\n'), { maxBytes: 10_000, maxLines: 100, maxMedia: 1, maxFormatsPerMedia: 8 }), 'too_large');
  assert.equal(code(OFFER), 'ok');
});

const word = fc.stringMatching(/^[A-Za-z0-9.-]{1,10}$/);
const direction = fc.option(fc.constantFrom('sendrecv' as const, 'sendonly' as const, 'recvonly' as const, 'inactive' as const), { nil: null });
const connection = fc.option(fc.record({ addressType: fc.constant('IP4'), address: fc.ipV4() }), { nil: null });
const attribute = fc.record({ name: fc.stringMatching(/^x-[a-z]{1,6}$/), value: fc.option(fc.stringMatching(/^[!-~][ -~]{0,10}$/), { nil: null }) });
const media = fc.uniqueArray(fc.integer({ min: 0, max: 127 }), { minLength: 1, maxLength: 6 }).chain((pts) =>
  fc.record({
    media: fc.constant('audio'),
    port: fc.integer({ min: 0, max: 65535 }),
    proto: fc.constantFrom('RTP/AVP', 'RTP/SAVP'),
    formats: fc.constant(pts.map(String)),
    connection,
    rtpmaps: fc.constant(pts.map((pt) => ({ payloadType: pt, encoding: `c${pt}`, clockRate: 8000, channels: pt % 2 ? 2 : null }))),
    fmtps: fc.constant(new Map(pts.slice(0, 1).map((pt) => [pt, 'mode=30'] as [number, string]))),
    ptimeMs: fc.option(fc.integer({ min: 1, max: 200 }), { nil: null }),
    direction,
    cryptos: fc.array(fc.record({ tag: fc.nat(99), suite: word, keyParams: word.map((k) => `inline:${k}`), sessionParams: fc.array(word, { maxLength: 2 }) }), { maxLength: 2 }),
    otherAttributes: fc.array(attribute, { maxLength: 3 }),
  }),
);
const description: fc.Arbitrary<SessionDescription> = fc.record({
  origin: fc.record({ username: word, sessionId: fc.nat().map(String), sessionVersion: fc.nat().map(String), addressType: fc.constant('IP4'), address: fc.ipV4() }),
  sessionName: word,
  connection,
  timing: fc.constant('0 0'),
  direction,
  otherAttributes: fc.array(attribute, { maxLength: 3 }),
  media: fc.array(media, { maxLength: 3 }),
});

test('round trip: generated descriptions encode and decode to themselves', () => {
  fc.assert(
    fc.property(description, (d) => {
      const r = decodeSdp(encodeSdp(d));
      assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
      assert.deepEqual(r.value, structuredClone(d)); // the clone has ordinary prototypes, as decoded values do
    }),
    { numRuns: 300 },
  );
});
