// End-to-end sessions between two devices: the IK handshake with certificates, per-frame keys
// from a hash chain, and every kind of bad input refused with its reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SeededRandom } from '../../src/env/prng.js';
import { Role } from '../../src/crypto/certificate.js';
import { E2eSession, MAX_SKIPPED_KEYS, type E2eConfig } from '../../src/messenger/e2e-session.js';
import { Messenger } from '../../src/messenger/messenger.js';
import type { SignallingTransport } from '../../src/messenger/transport.js';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { create, toBinary } from '@bufbuild/protobuf';
import { E2eFrameSchema } from '../../src/wire/messages.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';
import { testSeed } from '../support/seed.js';

function setup() {
  const random = new SeededRandom(testSeed());
  const net = testNetwork(random);
  const config = (identity: ReturnType<typeof net.identity>): E2eConfig => ({ identity, verifier: net.verifier, random, wallTimeMs: () => TEST_EPOCH_MS });
  const alice = config(net.identity('alice'));
  const bob = config(net.identity('bob'));
  const connect = () => {
    const { session, first } = E2eSession.initiate(alice, bob.identity.dh.publicKey);
    const answered = E2eSession.respond(bob, first, 'alice');
    assert.ok(answered.ok);
    const done = session.complete(alice, answered.value.reply);
    assert.ok(done.ok);
    return { a: session, b: answered.value.session };
  };
  return { random, net, alice, bob, connect };
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

test('a session proves both devices and their users, and frames open on the other side only', () => {
  const { connect } = setup();
  const { a, b } = connect();
  assert.equal(a.peer?.username, 'bob');
  assert.equal(b.peer?.username, 'alice');
  const sealed = a.seal(bytes('hello bob'));
  assert.ok(!Buffer.from(sealed.ciphertext).includes(Buffer.from('hello')));
  const opened = b.open(sealed);
  assert.ok(opened.ok && text(opened.value) === 'hello bob');
  const back = b.open(b.seal(bytes('to myself')));
  assert.ok(!back.ok, 'a side cannot open its own frames');
});

test('frames open in any order, each once; a forged frame burns no key; a frame too far ahead is refused', () => {
  const { connect } = setup();
  const { a, b } = connect();
  const frames = Array.from({ length: 5 }, (_, i) => a.seal(bytes(`m${i}`)));
  for (const i of [3, 0, 4, 1, 2]) {
    const opened = b.open(frames[i]!);
    assert.ok(opened.ok && text(opened.value) === `m${i}`, `frame ${i}`);
  }
  const replay = b.open(frames[2]!);
  assert.equal(!replay.ok && replay.error.code, 'replayed', 'the key of an opened frame is gone (forward secrecy within the session)');
  const next = a.seal(bytes('next'));
  const forged = { ...next, ciphertext: Uint8Array.from(next.ciphertext) };
  forged.ciphertext[0]! ^= 1;
  const refused = b.open(forged);
  assert.equal(!refused.ok && refused.error.code, 'decrypt_failed');
  const genuine = b.open(next);
  assert.ok(genuine.ok, 'the genuine frame still opens after a forgery with its counter');
  const far = { ...a.seal(bytes('far')), counter: BigInt(100 + MAX_SKIPPED_KEYS) };
  const tooFar = b.open(far);
  assert.equal(!tooFar.ok && tooFar.error.code, 'too_far_ahead');
});

test('handshakes are refused with their reason: a name that is not the sender\'s, a foreign CA, a supernode key, garbage', () => {
  const { net, alice, bob, random } = setup();
  const { first } = E2eSession.initiate(alice, bob.identity.dh.publicKey);
  const spoofed = E2eSession.respond(bob, first, 'mallory');
  assert.equal(!spoofed.ok && spoofed.error.code, 'wrong_peer');
  const foreign = testNetwork(new SeededRandom(testSeed() + 9));
  const stranger = { ...alice, identity: foreign.identity('alice') };
  const fromStranger = E2eSession.initiate({ ...stranger, verifier: net.verifier }, bob.identity.dh.publicKey).first;
  const refusedStranger = E2eSession.respond(bob, fromStranger, 'alice');
  assert.equal(!refusedStranger.ok && refusedStranger.error.code, 'bad_certificate');
  const supernode = { ...alice, identity: net.identity('', { role: Role.SUPERNODE }) };
  const fromSupernode = E2eSession.initiate(supernode, bob.identity.dh.publicKey).first;
  const refusedSupernode = E2eSession.respond(bob, fromSupernode, '');
  assert.equal(!refusedSupernode.ok && refusedSupernode.error.code, 'bad_certificate');
  const toSomeoneElse = E2eSession.initiate(alice, net.identity('carol').dh.publicKey).first;
  const misdirected = E2eSession.respond(bob, toSomeoneElse, 'alice');
  assert.equal(!misdirected.ok && misdirected.error.code, 'handshake_failed', 'a handshake for another device key fails');
  const garbage = E2eSession.respond(bob, { ...first, noise: random.bytes(90) }, 'alice');
  assert.equal(!garbage.ok && garbage.error.code, 'handshake_failed');
});

test('fuzz: random and mutated routed payloads never break a messenger; each is counted as refused', () => {
  const { net } = setup();
  const network = new VirtualNetwork(testSeed(), { epochMs: TEST_EPOCH_MS });
  const host = network.addHost();
  let deliver: (from: string, payload: Uint8Array) => void = () => {};
  const sent: Uint8Array[] = [];
  const transport: SignallingTransport = { send: async (_to, _key, payload) => void sent.push(payload), devices: async () => [], onReceive: (handler) => (deliver = handler) };
  const bobIdentity = net.identity('bob');
  const bob = new Messenger(host.env(), { identity: bobIdentity, verifier: net.verifier, username: 'bob', transport });
  const { first } = E2eSession.initiate({ identity: net.identity('alice'), verifier: net.verifier, random: new SeededRandom(1), wallTimeMs: () => TEST_EPOCH_MS }, bobIdentity.dh.publicKey);
  const valid = toBinary(E2eFrameSchema, create(E2eFrameSchema, { body: { case: 'handshake', value: first } }));
  const mutated = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, value]) => {
    const copy = valid.slice();
    copy[at % copy.length] = value;
    return copy;
  });
  let runs = 0;
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }), mutated), (payload) => {
      runs++;
      deliver('alice', payload);
      return true;
    }),
    { numRuns: 500 },
  );
  // Each payload was either refused (and counted) or was a handshake that still held and got its answer.
  const refusals = [...bob.refused.values()].reduce((a, b) => a + b, 0);
  assert.equal(refusals + sent.length, runs, `refused ${refusals}, answered ${sent.length}, of ${runs}`);
  assert.ok(refusals > runs / 2);
  bob.close();
});
