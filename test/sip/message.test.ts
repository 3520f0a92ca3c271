// SIP messages: RFC 4475's torture-test ideas in small (folding, compact names, odd case,
// lists with quoted commas), the bounds, stream framing over arbitrary chunking, and
// round-trips of generated messages through the encoder and decoder.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_SIP_LIMITS, decodeSipMessage, encodeSipMessage, firstHeader, headerValues, type SipMessage } from '../../src/sip/message.js';
import { parseCoreHeaders, parseNameAddr, parseVia, formatVia, formatNameAddr } from '../../src/sip/header-values.js';
import { SipStreamDecoder } from '../../src/sip/stream.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

const INVITE = [
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds , SIP/2.0/TCP proxy.example.com:5070;branch=z9hG4bKx;received=10.0.0.1',
  'Max-Forwards: 70',
  'TO: Bob <sip:bob@biloxi.example.com>',
  'f: "Alice, the \\"first\\"" <sip:alice@atlanta.example.com>;tag=1928301774',
  'i: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@pc33.atlanta.example.com>',
  'Subject: a long',
  '\tsubject folded',
  '  over lines',
  'c: application/sdp',
  'l: 4',
  '',
  'v=0\r\nignored past Content-Length',
].join('\r\n');

test('a request with compact names, folding, odd case and a Via list decodes to typed headers', () => {
  const decoded = decodeSipMessage(bytes(INVITE));
  assert.ok(decoded.ok, JSON.stringify(!decoded.ok && decoded.error));
  const m = decoded.value;
  assert.equal(m.kind, 'request');
  assert.equal(m.kind === 'request' && m.method, 'INVITE');
  assert.equal(firstHeader(m, 'Subject'), 'a long subject folded over lines');
  assert.equal(firstHeader(m, 'CONTENT-TYPE'), 'application/sdp');
  assert.equal(text(m.body), 'v=0\r');
  const core = parseCoreHeaders(m);
  assert.ok(core.ok, JSON.stringify(!core.ok && core.error));
  assert.equal(core.value.via.length, 2);
  assert.equal(core.value.via[0]!.branch, 'z9hG4bK776asdhds');
  assert.equal(core.value.via[1]!.port, 5070);
  assert.equal(core.value.via[1]!.transport, 'TCP');
  assert.equal(core.value.via[1]!.params.get('received'), '10.0.0.1');
  assert.equal(core.value.from.displayName, 'Alice, the "first"');
  assert.equal(core.value.from.params.get('tag'), '1928301774');
  assert.equal(core.value.to.params.get('tag'), undefined);
  assert.equal(core.value.callId, 'a84b4c76e66710@pc33.atlanta.example.com');
  assert.deepEqual(core.value.cseq, { seq: 314159, method: 'INVITE' });
  assert.equal(core.value.maxForwards, 70);
  assert.ok(Array.isArray(core.value.contact) && core.value.contact[0]!.uri === 'sip:alice@pc33.atlanta.example.com');
});

test('a response decodes; a Contact list splits outside quotes and brackets; "*" is the wildcard', () => {
  const r = decodeSipMessage(bytes('SIP/2.0 200 OK then\r\nContact: "a,b" <sip:a@x;lr>, <sip:b@y>;expires=60\r\nContent-Length: 0\r\n\r\n'));
  assert.ok(r.ok);
  assert.equal(r.value.kind === 'response' && r.value.reason, 'OK then');
  assert.deepEqual(headerValues(r.value, 'm'), ['"a,b" <sip:a@x;lr>', '<sip:b@y>;expires=60']);
  const b = parseNameAddr(headerValues(r.value, 'contact')[1]!, 'contact');
  assert.ok(b.ok && b.value.params.get('expires') === '60');
});

test('bad input gets the typed error that names it', () => {
  const cases: [string, string][] = [
    ['INVITE sip:bob@x SIP/2.0\r\nVia: a\r\n', 'no_header_end'],
    ['INVITE bob SIP/2.0\r\n\r\n', 'bad_start_line'],
    ['SIP/2.0 99 Low\r\n\r\n', 'bad_start_line'],
    ['OPTIONS sip:x SIP/3.0\r\n\r\n', 'bad_start_line'],
    ['OPTIONS sip:x SIP/2.0\r\n folded first\r\n\r\n', 'bad_header'],
    ['OPTIONS sip:x SIP/2.0\r\nno colon here\r\n\r\n', 'bad_header'],
    ['OPTIONS sip:x SIP/2.0\r\nContent-Length: ten\r\n\r\n', 'bad_content_length'],
    ['OPTIONS sip:x SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\nab', 'bad_content_length'],
    ['OPTIONS sip:x SIP/2.0\r\nContent-Length: 10\r\n\r\nabc', 'truncated_body'],
  ];
  for (const [input, code] of cases) {
    const r = decodeSipMessage(bytes(input));
    assert.ok(!r.ok && r.error.code === code, `${JSON.stringify(input)} → ${JSON.stringify(r)}`);
  }
  const notUtf8 = Uint8Array.from([...bytes('OPTIONS sip:x SIP/2.0\r\nX: '), 0xff, 0xfe, ...bytes('\r\n\r\n')]);
  assert.equal((decodeSipMessage(notUtf8) as { error: { code: string } }).error.code, 'not_utf8');
});

test('the size bounds hold: message size, header count, header length (also when folded)', () => {
  const limits = { maxMessageBytes: 400, maxHeaders: 5, maxHeaderBytes: 60 };
  const head = 'OPTIONS sip:x SIP/2.0\r\n';
  const code = (input: string) => {
    const r = decodeSipMessage(bytes(input), limits);
    return r.ok ? 'ok' : r.error.code;
  };
  assert.equal(code(`${head}${'X: 1\r\n'.repeat(5)}\r\n`), 'ok');
  assert.equal(code(`${head}${'X: 1\r\n'.repeat(6)}\r\n`), 'too_many_headers');
  assert.equal(code(`${head}X: ${'a'.repeat(57)}\r\n\r\n`), 'ok');
  assert.equal(code(`${head}X: ${'a'.repeat(58)}\r\n\r\n`), 'header_too_long');
  assert.equal(code(`${head}X: ${'a'.repeat(30)}\r\n ${'b'.repeat(30)}\r\n\r\n`), 'header_too_long');
  assert.equal(code(`${head}\r\n${'z'.repeat(400)}`), 'too_large');
});

test('a stream decoder frames messages by Content-Length however the bytes are chunked', () => {
  const one = encodeSipMessage({ kind: 'request', method: 'MESSAGE', uri: 'sip:b@x', headers: [{ name: 'call-id', value: '1' }], body: bytes('hello\r\n\r\nworld') });
  const two = encodeSipMessage({ kind: 'response', status: 180, reason: 'Ringing', headers: [], body: new Uint8Array(0) });
  const all = Uint8Array.from([...bytes('\r\n\r\n'), ...one, ...bytes('\r\n'), ...two]);
  fc.assert(
    fc.property(fc.array(fc.nat(all.length), { maxLength: 6 }), (cuts) => {
      const points = [0, ...cuts.sort((a, b) => a - b), all.length];
      const decoder = new SipStreamDecoder();
      const got: SipMessage[] = [];
      for (let i = 1; i < points.length; i++) {
        const r = decoder.push(all.subarray(points[i - 1], points[i]));
        assert.ok(r.ok);
        got.push(...r.value);
      }
      assert.equal(got.length, 2);
      assert.equal(text(got[0]!.body), 'hello\r\n\r\nworld');
      assert.equal(got[1]!.kind === 'response' && got[1]!.status, 180);
      assert.equal(decoder.bufferedBytes, 0);
      assert.equal(decoder.keepAlives, 1);
    }),
    { numRuns: 200 },
  );
});

test('a stream decoder fails for good on a message without Content-Length or past the size bound', () => {
  const noLength = new SipStreamDecoder();
  assert.equal((noLength.push(bytes('OPTIONS sip:x SIP/2.0\r\nVia: x\r\n\r\n')) as { error: { code: string } }).error.code, 'bad_content_length');
  assert.ok(!noLength.push(bytes('OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n')).ok, 'the stream stays failed');
  const limits = { ...DEFAULT_SIP_LIMITS, maxMessageBytes: 100 };
  const flood = new SipStreamDecoder(limits);
  let result = flood.push(bytes('OPTIONS sip:x SIP/2.0\r\n'));
  for (let i = 0; i < 20 && result.ok; i++) result = flood.push(bytes('X: yyyyyyyy\r\n'));
  assert.ok(!result.ok && result.error.code === 'too_large');
  assert.ok(flood.bufferedBytes <= 100);
  const big = new SipStreamDecoder(limits);
  const r = big.push(bytes('OPTIONS sip:x SIP/2.0\r\nContent-Length: 500\r\n\r\n'));
  assert.ok(!r.ok && r.error.code === 'too_large', 'refused before the body is buffered');
});

const token = fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~]{1,12}$/);
const headerValue = fc.stringMatching(/^[!-~]([ !-~]{0,30}[!-~])?$/);
const headerName = fc.oneof(token, fc.constantFrom('Via', 'v', 'Call-ID', 'i', 'CSeq', 'From', 'f', 'To', 't', 'Contact', 'm', 'Subject'));
const message: fc.Arbitrary<SipMessage> = fc.oneof(
  fc.record({
    kind: fc.constant('request' as const),
    method: token,
    uri: token.map((user) => `sip:${user}@example.com`),
    headers: fc.array(fc.record({ name: headerName, value: headerValue }), { maxLength: 12 }),
    body: fc.uint8Array({ maxLength: 200 }),
  }),
  fc.record({
    kind: fc.constant('response' as const),
    status: fc.integer({ min: 100, max: 699 }),
    reason: fc.stringMatching(/^[ -~]{0,20}$/),
    headers: fc.array(fc.record({ name: headerName, value: headerValue }), { maxLength: 12 }),
    body: fc.uint8Array({ maxLength: 200 }),
  }),
);

test('round trip: any message encodes and decodes to itself (names in their long lower-case form)', () => {
  fc.assert(
    fc.property(message, (m) => {
      const decoded = decodeSipMessage(encodeSipMessage(m));
      assert.ok(decoded.ok, JSON.stringify(!decoded.ok && decoded.error));
      const expected = m.headers.filter((h) => !/^(content-length|l)$/i.test(h.name));
      assert.deepEqual(decoded.value.headers.filter((h) => h.name !== 'content-length').map((h) => h.value), expected.map((h) => h.value));
      assert.deepEqual(decoded.value.body, m.body);
      assert.deepEqual(encodeSipMessage(decoded.value), encodeSipMessage(m));
    }),
    { numRuns: 300 },
  );
});

test('round trip: Via and name-addr values format and parse to the same values', () => {
  const params = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), fc.option(fc.stringMatching(/^[ -~]{0,12}$/), { nil: null }), { maxKeys: 4 });
  fc.assert(
    fc.property(fc.constantFrom('UDP', 'TCP', 'TLS'), fc.domain(), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: null }), params, (transport, host, port, p) => {
      const via = { transport, host, port, params: new Map(Object.entries(p)), branch: null };
      const parsed = parseVia(formatVia(via));
      assert.ok(parsed.ok, formatVia(via));
      assert.equal(parsed.value.host, host);
      assert.equal(parsed.value.port, port);
      assert.deepEqual([...parsed.value.params], [...via.params]);
    }),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(fc.option(fc.stringMatching(/^[ -~]{0,16}$/), { nil: null }), token, params, (displayName, user, p) => {
      const address = { displayName, uri: `sip:${user}@example.com`, params: new Map(Object.entries(p)) };
      const parsed = parseNameAddr(formatNameAddr(address));
      assert.ok(parsed.ok, formatNameAddr(address));
      assert.equal(parsed.value.displayName, displayName);
      assert.equal(parsed.value.uri, address.uri);
      assert.deepEqual([...parsed.value.params], [...address.params]);
    }),
    { numRuns: 200 },
  );
});
