// Every decoder of untrusted bytes, fed random and mutated input: it must return a typed
// result and never throw. Mutations start from valid encodings, so the fuzzer reaches the
// checks behind the first byte. fast-check prints the seed and a shrunk counterexample on failure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { create } from '@bufbuild/protobuf';
import { SeededRandom } from '../../src/env/prng.js';
import { FrameDecoder, encodeFrame } from '../../src/wire/framing.js';
import {
  DataSchema,
  decodeCertificate,
  decodeCertificateBody,
  decodeDatagram,
  decodeEnvelope,
  decodeHandshakePayload,
  encodeDatagram,
  encodeEnvelope,
  encodeHandshakePayload,
} from '../../src/wire/messages.js';
import { decodeAddress, encodeAddress } from '../../src/stun/stun.js';
import { parseNetworkDescriptor, serializeNetworkDescriptor } from '../../src/crypto/descriptor.js';
import { SecureChannel, type ChannelOutput } from '../../src/crypto/secure-channel.js';
import { HandshakeState } from '../../src/crypto/noise/handshake-state.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';

const RUNS = { numRuns: 400 };
const random = new SeededRandom(1234);
const net = testNetwork(random);
const alice = net.identity('alice');
const bob = net.identity('bob');

/** Valid bytes with a few random byte edits, insertions, deletions or a cut. */
function mutated(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), value: fc.constant(0) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), value: fc.constant(0) }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
    let bytes = Array.from(valid);
    for (const e of edits) {
      const at = bytes.length === 0 ? 0 : e.at % bytes.length;
      if (e.kind === 'set' && bytes.length > 0) bytes[at] = e.value;
      else if (e.kind === 'insert') bytes.splice(at, 0, e.value);
      else if (e.kind === 'delete') bytes.splice(at, 1);
      else if (e.kind === 'cut') bytes = bytes.slice(0, at);
    }
    return Uint8Array.from(bytes);
  });
}

function bytesFor(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof(fc.uint8Array({ maxLength: 2048 }), mutated(valid));
}

function isResult(value: { ok: boolean }): boolean {
  return typeof value.ok === 'boolean';
}

const envelope = encodeEnvelope({ case: 'data', value: create(DataSchema, { channel: 3, payload: new Uint8Array(40).fill(9) }) });
const decoders: [string, Uint8Array, (bytes: Uint8Array) => { ok: boolean }][] = [
  ['envelope', envelope, decodeEnvelope],
  ['datagram', encodeDatagram({ case: 'data', value: create(DataSchema, { channel: 1 }) }), decodeDatagram],
  ['handshake payload', encodeHandshakePayload({ versions: [1, 2], networkId: net.ca.networkId, certificate: alice.certificate }), decodeHandshakePayload],
  ['certificate', alice.certificate, decodeCertificate],
  ['certificate body', (() => { const c = decodeCertificate(alice.certificate); return c.ok ? c.value.body : new Uint8Array(0); })(), decodeCertificateBody],
  ['certificate verification', alice.certificate, (bytes) => net.verifier.verify(bytes, TEST_EPOCH_MS)],
  ['frame stream', encodeFrame(envelope), (bytes) => new FrameDecoder(1024).push(bytes)],
];

for (const [name, valid, decode] of decoders) {
  test(`fuzz: ${name} decoder returns a typed result for any bytes`, () => {
    assert.ok(decode(valid).ok, 'the valid seed input decodes');
    fc.assert(fc.property(bytesFor(valid), (bytes) => isResult(decode(bytes))), RUNS);
  });
}

test('fuzz: STUN address attributes (IPv4 and IPv6, plain and XORed) decode into a typed result', () => {
  const transactionId = new Uint8Array(12).fill(0x5a);
  const seeds: [Uint8Array, boolean][] = [
    [encodeAddress({ host: '192.0.2.1', port: 3478 }, true), true],
    [encodeAddress({ host: '2001:db8::1', port: 3478 }, true, transactionId), true],
    [encodeAddress({ host: '::ffff:192.0.2.1', port: 1 }, false), false],
  ];
  for (const [seed, seedXor] of seeds) {
    assert.ok(decodeAddress(seed, seedXor, transactionId).ok, 'the valid seed input decodes');
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }), mutated(seed)), fc.boolean(), (bytes, xor) => {
        const result = decodeAddress(bytes, xor, transactionId);
        // What decodes encodes back to the same bytes (the first byte is reserved: zero when sent).
        if (result.ok && bytes[0] === 0) assert.deepEqual(encodeAddress(result.value, xor, transactionId), bytes);
        return isResult(result) && isResult(decodeAddress(bytes, xor));
      }),
      RUNS,
    );
  }
});

test('fuzz: network descriptor parser returns a typed result for any text', () => {
  const valid = serializeNetworkDescriptor({ name: 'n', caPublicKey: net.ca.keyPair.publicKey, loginServerUrl: 'https://127.0.0.1:1', bootstrap: [{ host: '127.0.0.1', port: 1 }] });
  assert.ok(parseNetworkDescriptor(valid).ok);
  const text = fc.oneof(fc.string({ maxLength: 500 }), mutated(new TextEncoder().encode(valid)).map((b) => new TextDecoder().decode(b)), fc.json());
  fc.assert(fc.property(text, (t) => isResult(parseNetworkDescriptor(t))), RUNS);
});

function channel(role: 'initiator' | 'responder', identity = role === 'initiator' ? alice : bob, remoteStaticKey?: Uint8Array): SecureChannel {
  return new SecureChannel(role, { ...net.config(identity), random, wallTimeMs: () => TEST_EPOCH_MS, ...(remoteStaticKey ? { remoteStaticKey } : {}) });
}

/** Every output is well-formed and nothing is thrown; a channel that closed stays closed. */
function feed(target: SecureChannel, bytes: Uint8Array): boolean {
  const outputs: ChannelOutput[] = target.receiveBytes(bytes);
  return outputs.every((o) => ['write', 'established', 'message', 'closed'].includes(o.kind));
}

test('fuzz: a responder fed anything as a first message never throws', () => {
  const firstFrame = (channel('initiator').start()[0] as { bytes: Uint8Array }).bytes;
  const firstIk = (channel('initiator', alice, bob.dh.publicKey).start()[0] as { bytes: Uint8Array }).bytes;
  fc.assert(fc.property(fc.oneof(bytesFor(firstFrame), mutated(firstIk)), (bytes) => feed(channel('responder'), bytes)), RUNS);
});

test('fuzz: an initiator fed anything as the response never throws', () => {
  const initiator = channel('initiator');
  const responder = channel('responder');
  const response = responder.receiveBytes((initiator.start()[0] as { bytes: Uint8Array }).bytes);
  const valid = (response[0] as { bytes: Uint8Array }).bytes;
  fc.assert(
    fc.property(bytesFor(valid), (bytes) => {
      const fresh = channel('initiator');
      fresh.start();
      return feed(fresh, bytes);
    }),
    RUNS,
  );
});

test('fuzz: an established channel fed anything never throws', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (noise, asFrame) => {
      const initiator = channel('initiator');
      const responder = channel('responder');
      let outputs = initiator.start();
      let from = initiator;
      while (outputs.some((o) => o.kind === 'write')) {
        const to = from === initiator ? responder : initiator;
        outputs = outputs.flatMap((o) => (o.kind === 'write' ? to.receiveBytes(o.bytes) : []));
        from = to;
      }
      assert.ok(responder.isEstablished);
      return feed(responder, asFrame && noise.byteLength > 0 ? encodeFrame(noise) : noise);
    }),
    { numRuns: 150 },
  );
});

test('fuzz: a Noise handshake state reads any bytes into a typed result', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom('XX' as const, 'IK' as const), (bytes, pattern) => {
      const state = new HandshakeState({ pattern, cipher: 'ChaChaPoly', initiator: false, prologue: new Uint8Array(0), staticKeyPair: bob.dh, random });
      return isResult(state.readMessage(bytes));
    }),
    RUNS,
  );
});
