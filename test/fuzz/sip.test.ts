// The SIP gateway's decoders fed random and mutated input: SIP messages (datagram and stream),
// the typed header values, SDP, digest challenges and credentials. Each must return a typed
// result and never throw; what decodes re-encodes and decodes to the same message. Mutations
// work on lines as well as bytes (a duplicated, dropped or swapped header reaches checks that
// random bytes would not). fast-check prints the seed and a shrunk counterexample on failure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SeededRandom } from '../../src/env/prng.js';
import { decodeSipMessage, encodeSipMessage, headerValues, type SipMessage } from '../../src/sip/message.js';
import { SipStreamDecoder } from '../../src/sip/stream.js';
import { parseCoreHeaders } from '../../src/sip/header-values.js';
import { transactionKey } from '../../src/sip/transaction-keys.js';
import { decodeSdp, encodeSdp } from '../../src/sip/sdp.js';
import { parseChallenge, parseCredentials } from '../../src/sip/digest.js';
import { DigestAuthority } from '../../src/sip/digest-server.js';
import { answerChallenge } from '../../src/sip/digest-client.js';

const RUNS = { numRuns: 400 };
const encoder = new TextEncoder();

const REGISTER = [
  'REGISTER sip:gw.example SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKnashds7;rport',
  'Max-Forwards: 70',
  'To: "Bob" <sip:bob@gw.example>',
  'From: <sip:bob@gw.example>;tag=456248',
  'Call-ID: 843817637684230@998sdasdh09',
  'CSeq: 1826 REGISTER',
  'Contact: <sip:bob@192.0.2.4>;expires=7200, sip:bob@192.0.2.5',
  'Authorization: Digest username="bob", realm="gw.example", nonce="abc", uri="sip:gw.example", response="0123abcd", qop=auth, cnonce="x", nc=00000001',
  'Content-Type: application/sdp',
  'Content-Length: 76',
  '',
  'v=0\r\no=- 1 1 IN IP4 192.0.2.4\r\ns=-\r\nc=IN IP4 192.0.2.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n',
].join('\r\n');
const SDP = encoder.encode(REGISTER.slice(REGISTER.indexOf('v=0')));

function lineMutated(text: string): fc.Arbitrary<string> {
  const edit = fc.record({ kind: fc.constantFrom('dup', 'drop', 'swap', 'fold', 'insert', 'cut'), at: fc.nat(), other: fc.nat(), token: fc.constantFrom(':', ';', ',', '"', '<', '>', ' ', '\t', '\r\n', '\\', '=', '@', 'z9hG4bK', 'Content-Length: 9999', 'l: 0', 'v: SIP/2.0/TCP [::1]:99999', '\u00e9', '\u0000') });
  return fc.array(edit, { minLength: 1, maxLength: 5 }).map((edits) => {
    let lines = text.split('\r\n');
    for (const e of edits) {
      const at = e.at % lines.length;
      const other = e.other % lines.length;
      if (e.kind === 'dup') lines.splice(at, 0, lines[at]!);
      else if (e.kind === 'drop' && lines.length > 1) lines.splice(at, 1);
      else if (e.kind === 'swap') [lines[at], lines[other]] = [lines[other]!, lines[at]!];
      else if (e.kind === 'fold') lines.splice(at, 0, ` ${e.token}`);
      else if (e.kind === 'insert') {
        const line = lines[at]!;
        const pos = e.other % (line.length + 1);
        lines[at] = line.slice(0, pos) + e.token + line.slice(pos);
      } else if (e.kind === 'cut') lines = lines.slice(0, at + 1);
    }
    return lines.join('\r\n');
  });
}

function bytesFor(valid: string): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 1024 }),
    lineMutated(valid).map((text) => encoder.encode(text)),
    fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, value]) => {
      const bytes = encoder.encode(valid);
      bytes[at % bytes.length] = value;
      return bytes;
    }),
  );
}

const withoutLength = (m: SipMessage) => m.headers.filter((h) => h.name !== 'content-length');

test('fuzz: a SIP datagram decodes to a typed result; what decodes round-trips and its headers parse to typed results', () => {
  assert.ok(decodeSipMessage(encoder.encode(REGISTER)).ok, 'the valid seed input decodes');
  fc.assert(
    fc.property(bytesFor(REGISTER), (bytes) => {
      const decoded = decodeSipMessage(bytes);
      if (!decoded.ok) return typeof decoded.error.code === 'string';
      const again = decodeSipMessage(encodeSipMessage(decoded.value));
      assert.ok(again.ok, JSON.stringify(!again.ok && again.error));
      assert.deepEqual(withoutLength(again.value), withoutLength(decoded.value));
      assert.deepEqual(again.value.body, decoded.value.body);
      for (const name of ['via', 'contact', 'authorization']) headerValues(decoded.value, name);
      return typeof parseCoreHeaders(decoded.value).ok === 'boolean' && typeof transactionKey(decoded.value).ok === 'boolean';
    }),
    RUNS,
  );
});

test('fuzz: a SIP stream decoder takes any bytes in any chunks, bounded, never throwing', () => {
  const twoMessages = `${REGISTER}\r\n\r\n${REGISTER}`;
  fc.assert(
    fc.property(bytesFor(twoMessages), fc.array(fc.nat(), { maxLength: 5 }), (bytes, cuts) => {
      const decoder = new SipStreamDecoder({ maxMessageBytes: 600, maxHeaders: 20, maxHeaderBytes: 300 });
      const points = [0, ...cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b), bytes.length];
      for (let i = 1; i < points.length; i++) {
        const r = decoder.push(bytes.subarray(points[i - 1], points[i]));
        assert.ok(decoder.bufferedBytes <= 600 + bytes.length, 'bounded');
        if (!r.ok) return typeof r.error.code === 'string';
      }
      return decoder.bufferedBytes <= 600;
    }),
    RUNS,
  );
});

test('fuzz: SDP decodes to a typed result; what decodes round-trips', () => {
  const valid = new TextDecoder().decode(SDP) + 'a=rtpmap:0 PCMU/8000\r\na=fmtp:0 x=1\r\na=ptime:20\r\na=sendrecv\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc\r\n';
  assert.ok(decodeSdp(encoder.encode(valid)).ok, 'the valid seed input decodes');
  fc.assert(
    fc.property(bytesFor(valid), (bytes) => {
      const decoded = decodeSdp(bytes);
      if (!decoded.ok) return typeof decoded.error.code === 'string';
      const again = decodeSdp(encodeSdp(decoded.value));
      assert.ok(again.ok, JSON.stringify(!again.ok && again.error));
      assert.deepEqual(again.value, decoded.value);
      return true;
    }),
    RUNS,
  );
});

test('fuzz: digest challenges, credentials and the authority take any text', () => {
  const random = new SeededRandom(99);
  const authority = new DigestAuthority({ realm: 'gw.example', secret: new Uint8Array(32), passwordFor: () => 'pw', maxTrackedNonces: 8 });
  const challenge = authority.challenge(0, random)[0]!;
  const credentials = 'Digest username="bob", realm="gw.example", nonce="abc", uri="sip:gw.example", response="0123abcd", qop=auth, cnonce="x", nc=00000001';
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 300 }), lineMutated(challenge), lineMutated(credentials)), (text) => {
      const c = parseChallenge(text);
      const k = parseCredentials(text);
      const verdict = authority.verify('REGISTER', 'sip:gw.example', text, 1);
      const answer = answerChallenge({ kind: 'response', status: 401, reason: 'x', headers: [{ name: 'www-authenticate', value: text }], body: new Uint8Array(0) }, { username: 'u', password: 'p', method: 'REGISTER', uri: 'sip:x', cnonce: 'c', nonceCount: 1 });
      assert.equal(verdict.ok, false, 'random text never authenticates');
      return typeof c.ok === 'boolean' && typeof k.ok === 'boolean' && typeof answer.ok === 'boolean';
    }),
    RUNS,
  );
});
