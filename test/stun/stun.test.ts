// STUN messages and the STUN server: RFC 5769's test vectors decode and verify, our encodings
// round-trip with integrity and fingerprint, and the server answers what it should, refuses
// what it should (counted), stays within its size and rate bounds, and survives any bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Attr, StunClass, StunMethod, addressFamily, attribute, sourceKey, checkIntegrity, decodeAddress, mappedAddress, decodeErrorCode, decodeStun, encodeAddress, encodeChangeRequest, encodeStun, CHANGE_PORT, type DecodedStun } from '../../src/stun/stun.js';
import { MAX_RESPONSE_BYTES, MAX_RESPONSE_BYTES_IPV6, PER_SOURCE_BURST, StunServer } from '../../src/stun/stun-server.js';
import { Scheduler } from '../../src/env/virtual/scheduler.js';
import type { Endpoint, UdpSocket } from '../../src/env/types.js';

const hex = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

// RFC 5769 section 2.1: a request with SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME,
// MESSAGE-INTEGRITY (password "VOkJxbRl1RmTxUk/WvJxBt") and FINGERPRINT.
const SAMPLE_REQUEST = hex(`
  00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
  00 24 00 04 6e 00 01 ff
  80 29 00 08 93 2f f9 b1 51 26 3b 36
  00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
  00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
  80 28 00 04 e5 7a 3b cf`);
// Section 2.2: the IPv4 response, XOR-MAPPED-ADDRESS 192.0.2.1:32853.
const SAMPLE_RESPONSE = hex(`
  01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);
// Section 2.3: the IPv6 response, XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853.
const SAMPLE_RESPONSE_IPV6 = hex(`
  01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
  00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
  80 28 00 04 c8 fb 0b 4c`);
const PASSWORD = new TextEncoder().encode('VOkJxbRl1RmTxUk/WvJxBt');

function decoded(bytes: Uint8Array): DecodedStun {
  const result = decodeStun(bytes);
  assert.ok(result.ok, result.ok ? '' : `${result.error.code}: ${result.error.message}`);
  return result.value;
}

test('RFC 5769 sample request and response decode, and their integrity and fingerprint verify', () => {
  const request = decoded(SAMPLE_REQUEST);
  assert.deepEqual([request.method, request.cls, request.classic], [StunMethod.BINDING, StunClass.REQUEST, false]);
  assert.equal(new TextDecoder().decode(attribute(request, Attr.USERNAME)), 'evtj:h6vY');
  assert.ok(checkIntegrity(request, PASSWORD));
  assert.equal(checkIntegrity(request, new TextEncoder().encode('wrong')), false);
  const response = decoded(SAMPLE_RESPONSE);
  assert.deepEqual(decodeAddress(attribute(response, Attr.XOR_MAPPED_ADDRESS)!, true), { ok: true, value: { host: '192.0.2.1', port: 32853 } });
  assert.ok(checkIntegrity(response, PASSWORD));
  // One bit flipped anywhere before the fingerprint breaks it.
  const damaged = Uint8Array.from(SAMPLE_REQUEST);
  damaged[30]! ^= 1;
  assert.equal(decodeStun(damaged).ok ? 'decoded' : (decodeStun(damaged) as { error: { code: string } }).error.code, 'bad_fingerprint');
});

test('RFC 5769 IPv6 response: XOR-MAPPED-ADDRESS of family 2 decodes with the transaction id; IPv6 addresses round-trip', () => {
  const response = decoded(SAMPLE_RESPONSE_IPV6);
  assert.ok(checkIntegrity(response, PASSWORD));
  const expected = { host: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 };
  assert.deepEqual(mappedAddress(response), expected);
  const value = attribute(response, Attr.XOR_MAPPED_ADDRESS)!;
  assert.deepEqual(decodeAddress(value, true, response.transactionId), { ok: true, value: expected });
  assert.deepEqual(encodeAddress(expected, true, response.transactionId), value, 'encoded back to the same bytes');
  assert.equal(decodeAddress(value, true).ok, false, 'without the transaction id an XORed IPv6 address cannot be read');
  // RFC 5952 text: the longest zero run as ::, none for a single zero group, a dotted IPv4 tail parsed.
  for (const [text, canonical] of [
    ['2001:db8::1', '2001:db8::1'],
    ['2001:0db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
  ]) {
    assert.deepEqual(decodeAddress(encodeAddress({ host: text!, port: 1 }, false), false), { ok: true, value: { host: canonical, port: 1 } }, text);
  }
  for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'example.org']) assert.throws(() => encodeAddress({ host: bad, port: 1 }, false), bad);
  assert.equal(decodeAddress(Uint8Array.of(0, 3, 0, 1, 1, 2, 3, 4), false).ok, false, 'family 3');
  assert.equal(decodeAddress(new Uint8Array([0, 2, 0, 1, ...new Uint8Array(12)]), false).ok, false, 'a short IPv6 address');
});

test('our encodings round-trip with MESSAGE-INTEGRITY and FINGERPRINT; classic messages keep their 16-byte id', () => {
  const key = new TextEncoder().encode('secret');
  const bytes = encodeStun(
    { method: StunMethod.BINDING, cls: StunClass.SUCCESS, transactionId: new Uint8Array(12).fill(5), attributes: [{ type: Attr.XOR_MAPPED_ADDRESS, value: encodeAddress({ host: '203.0.113.9', port: 4000 }, true) }, { type: Attr.USERNAME, value: new TextEncoder().encode('abc') }], classic: false },
    { integrityKey: key, fingerprint: true },
  );
  const message = decoded(bytes);
  assert.ok(checkIntegrity(message, key));
  assert.deepEqual(decodeAddress(attribute(message, Attr.XOR_MAPPED_ADDRESS)!, true), { ok: true, value: { host: '203.0.113.9', port: 4000 } });
  const classic = decoded(encodeStun({ method: StunMethod.BINDING, cls: StunClass.REQUEST, transactionId: new Uint8Array(16).fill(7), attributes: [], classic: true }));
  assert.equal(classic.classic, true);
  assert.deepEqual(classic.transactionId, new Uint8Array(16).fill(7));
});

/** A socket that records what is sent through it. */
function recordingSocket(local: Endpoint): UdpSocket & { sent: { bytes: Uint8Array; to: Endpoint }[] } {
  const sent: { bytes: Uint8Array; to: Endpoint }[] = [];
  return { local, sent, send: (bytes, to) => void sent.push({ bytes, to }), onMessage: () => {}, close: () => {} };
}

function server(alternates: boolean) {
  const clock = new Scheduler();
  const grid = alternates
    ? [
        [recordingSocket({ host: '198.51.100.1', port: 3478 }), recordingSocket({ host: '198.51.100.1', port: 3479 })],
        [recordingSocket({ host: '198.51.100.2', port: 3478 }), recordingSocket({ host: '198.51.100.2', port: 3479 })],
      ]
    : [[recordingSocket({ host: '198.51.100.1', port: 3478 })]];
  return { clock, grid, stun: new StunServer(clock, { grid }) };
}

const request = (attributes: { type: number; value: Uint8Array }[] = [], id = 1) =>
  encodeStun({ method: StunMethod.BINDING, cls: StunClass.REQUEST, transactionId: new Uint8Array(12).fill(id), attributes, classic: false }, { fingerprint: true });
const client = { host: '203.0.113.5', port: 50000 };

test('the server answers from the address a CHANGE-REQUEST asks for, to the port RESPONSE-PORT names, and never larger than its bound', () => {
  const { grid, stun } = server(true);
  stun.receive(request(), client);
  const plain = decoded(grid[0]![0]!.sent[0]!.bytes);
  assert.deepEqual(decodeAddress(attribute(plain, Attr.XOR_MAPPED_ADDRESS)!, true), { ok: true, value: client });
  assert.deepEqual(decodeAddress(attribute(plain, Attr.OTHER_ADDRESS)!, false), { ok: true, value: { host: '198.51.100.2', port: 3479 } });
  stun.receive(request([{ type: Attr.CHANGE_REQUEST, value: encodeChangeRequest(CHANGE_PORT) }]), client);
  assert.equal(grid[0]![1]!.sent.length, 1, 'change port: from the second port of the same address');
  stun.receive(request([{ type: Attr.RESPONSE_PORT, value: Uint8Array.of(0xc3, 0x51, 0, 0) }]), client);
  assert.deepEqual(grid[0]![0]!.sent[1]!.to, { host: client.host, port: 0xc351 }, 'another port of the same address, never another address');
  for (const row of grid) for (const socket of row) for (const s of socket.sent) assert.ok(s.bytes.byteLength <= MAX_RESPONSE_BYTES);
  // PADDING (RFC 5780's fragmentation test) comes back, never making the answer larger than the request.
  const padded = request([{ type: Attr.PADDING, value: new Uint8Array(1200) }]);
  stun.receive(padded, client);
  const answer = grid[0]![0]!.sent.at(-1)!.bytes;
  assert.ok(answer.byteLength > 1000 && answer.byteLength <= padded.byteLength, `${answer.byteLength} bytes for a ${padded.byteLength}-byte request`);
  assert.ok(decoded(answer));
});

test('the server refuses what it does not do, with the standard errors, and rate-limits each source', () => {
  const { clock, grid, stun } = server(false);
  const out = grid[0]![0]!.sent;
  stun.receive(request([{ type: 0x0002, value: encodeAddress({ host: '192.0.2.7', port: 9 }, false) }]), client); // RFC 3489 RESPONSE-ADDRESS: a reflection tool
  const unknown = decoded(out[0]!.bytes);
  assert.equal(unknown.cls, StunClass.ERROR);
  assert.equal((decodeErrorCode(attribute(unknown, Attr.ERROR_CODE)!) as { value: { code: number } }).value.code, 420);
  assert.deepEqual(out[0]!.to, client, 'the error goes to the source, not to the address named');
  stun.receive(request([{ type: Attr.CHANGE_REQUEST, value: encodeChangeRequest(CHANGE_PORT) }]), client);
  assert.equal((decodeErrorCode(attribute(decoded(out[1]!.bytes), Attr.ERROR_CODE)!) as { value: { code: number } }).value.code, 420, 'one address: CHANGE-REQUEST cannot be honoured');
  assert.equal(stun.receive(Uint8Array.of(0xf1, 1, 2, 3), client), false, 'not STUN: left for another protocol');
  // A spoofed flood at one victim: a burst, then the rate.
  out.length = 0;
  for (let i = 0; i < 500; i++) stun.receive(request([], i % 250), { host: '192.0.2.99', port: 7 });
  assert.equal(out.length, PER_SOURCE_BURST);
  clock.runFor(1_000);
  for (let i = 0; i < 100; i++) stun.receive(request(), { host: '192.0.2.99', port: 7 });
  assert.equal(out.length, PER_SOURCE_BURST + 20);
  stun.receive(request(), client);
  assert.equal(out.length, PER_SOURCE_BURST + 21, 'other sources are still served');
  assert.equal(stun.refused.get('rate_limited'), 460 + 80);
});

test('IPv6: clients get XOR-MAPPED-ADDRESS of family 2 (classic ones MAPPED-ADDRESS), within the IPv6 bound; a /64 is one source', () => {
  const clock = new Scheduler();
  const grid = [
    [recordingSocket({ host: '2001:db8::1', port: 3478 }), recordingSocket({ host: '2001:db8::1', port: 3479 })],
    [recordingSocket({ host: '2001:db8::2', port: 3478 }), recordingSocket({ host: '2001:db8::2', port: 3479 })],
  ];
  const stun = new StunServer(clock, { grid });
  const out = grid[0]![0]!.sent;
  const client6 = { host: '2001:db8:aaaa:1::5', port: 50000 };
  stun.receive(request(), client6);
  const answer = decoded(out[0]!.bytes);
  assert.deepEqual(mappedAddress(answer), client6);
  assert.deepEqual(decodeAddress(attribute(answer, Attr.XOR_MAPPED_ADDRESS)!, true, answer.transactionId), { ok: true, value: client6 });
  assert.equal(attribute(answer, Attr.MAPPED_ADDRESS), undefined, 'no plain MAPPED-ADDRESS: with OTHER-ADDRESS it would outgrow the bound');
  assert.deepEqual(decodeAddress(attribute(answer, Attr.OTHER_ADDRESS)!, false), { ok: true, value: { host: '2001:db8::2', port: 3479 } });
  assert.ok(out[0]!.bytes.byteLength <= MAX_RESPONSE_BYTES_IPV6 && out[0]!.bytes.byteLength > MAX_RESPONSE_BYTES, `${out[0]!.bytes.byteLength} bytes`);
  const classic = encodeStun({ method: StunMethod.BINDING, cls: StunClass.REQUEST, transactionId: new Uint8Array(16).fill(3), attributes: [], classic: true });
  stun.receive(classic, client6);
  const classicAnswer = decoded(out[1]!.bytes);
  assert.deepEqual(decodeAddress(attribute(classicAnswer, Attr.MAPPED_ADDRESS)!, false), { ok: true, value: client6 });
  // A flood from every address of one /64 is one source: a burst, then nothing; another /64 is served.
  out.length = 0;
  for (let i = 0; i < 200; i++) stun.receive(request([], i), { host: `2001:db8:bbbb:2::${(i + 1).toString(16)}`, port: 7 });
  assert.equal(out.length, PER_SOURCE_BURST);
  stun.receive(request(), { host: '2001:db8:bbbb:3::1', port: 7 });
  assert.equal(out.length, PER_SOURCE_BURST + 1, 'the next /64 is another source');
});

test('address families and per-source keys: IPv4-mapped IPv6 is IPv4; IPv6 counts by its /64', () => {
  for (const [host, family, key] of [
    ['192.0.2.1', 'ipv4', '192.0.2.1'],
    ['::ffff:192.0.2.1', 'ipv4', '192.0.2.1'],
    ['::ffff:c000:201', 'ipv4', '192.0.2.1'],
    ['2001:db8:1:2:3:4:5:6', 'ipv6', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2::9', 'ipv6', '2001:db8:1:2::/64'],
    ['::1', 'ipv6', '::/64'],
    ['fe80::1', 'ipv6', 'fe80::/64'],
    ['example.org', null, 'example.org'],
  ] as const) {
    assert.equal(addressFamily(host), family, host);
    assert.equal(sourceKey(host), key, host);
  }
});

test('fuzz: the STUN decoder and server take any bytes without throwing', () => {
  const { stun } = server(true);
  const valid = [SAMPLE_REQUEST, SAMPLE_RESPONSE, SAMPLE_RESPONSE_IPV6, request([{ type: Attr.CHANGE_REQUEST, value: encodeChangeRequest(6) }])];
  const mutated = fc.tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat()).map(([bytes, edits, cut]) => {
    const copy = Uint8Array.from(bytes);
    for (const [at, value] of edits) copy[at % copy.length] = value;
    return cut % 3 === 0 ? copy.subarray(0, cut % copy.length) : copy;
  });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), mutated), (bytes) => {
      const result = decodeStun(bytes);
      assert.equal(typeof result.ok, 'boolean');
      stun.receive(bytes, { host: '192.0.2.1', port: 1 + (bytes[0] ?? 0) });
      stun.receive(bytes, { host: '2001:db8::7', port: 1 + (bytes[0] ?? 0) });
    }),
    { numRuns: 2000 },
  );
});
