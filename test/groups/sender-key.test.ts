// The sender-key ratchet alone: a message opens once with the key its sender gave, in any order
// within the skip bound; a replay, a forgery by another member (who holds the chain key but not
// the signing key), a damaged message and a message from too far ahead are refused, and a
// refused message uses up no key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { SeededRandom } from '../../src/env/prng.js';
import { concatBytes } from '../../src/crypto/bytes.js';
import { generateSigningKeyPair, signBytes } from '../../src/crypto/ed25519.js';
import { aeadEncrypt } from '../../src/crypto/noise/cipher-state.js';
import { createHmac } from 'node:crypto';
import { GroupCiphertextSchema, GroupMessageHeaderSchema } from '../../src/wire/messages.js';
import { OwnSenderKey, ReceivedSenderKey, readHeader, type HeaderFields } from '../../src/groups/sender-key.js';
import { MAX_SKIPPED_MESSAGE_KEYS } from '../../src/groups/limits.js';

const random = new SeededRandom(24);
const text = (s: string) => new TextEncoder().encode(s);
const fields = (seq: number): HeaderFields => ({ groupId: new Uint8Array(16).fill(7), senderDevice: new Uint8Array(32).fill(1), sender: 'alice', seq: BigInt(seq), lamport: BigInt(seq) });
const iterationOf = (c: Parameters<typeof readHeader>[0]) => {
  const h = readHeader(c);
  assert.ok(h.ok);
  return h.value.iteration;
};
const open = (key: ReceivedSenderKey, c: Parameters<typeof readHeader>[0]) => key.open(c, iterationOf(c));

test('messages open once each, in order or not, with the key as given', () => {
  const own = OwnSenderKey.create(random);
  const receiver = ReceivedSenderKey.from(own.distribution(1n));
  const sealed = Array.from({ length: 6 }, (_, i) => own.seal(fields(i + 1), text(`m${i}`)));
  // 0, then 3 (skipping 1 and 2), then 2, 1, 5, 4.
  for (const i of [0, 3, 2, 1, 5, 4]) {
    const opened = open(receiver, sealed[i]!);
    assert.ok(opened.ok, `message ${i}: ${opened.ok ? '' : opened.error.message}`);
    assert.equal(new TextDecoder().decode(opened.value), `m${i}`);
  }
  // Each key is gone once used: the same message again is a replay.
  for (const i of [0, 3, 5]) {
    const again = open(receiver, sealed[i]!);
    assert.equal(again.ok ? 'opened' : again.error.code, 'replayed');
  }
});

test('a device given the key later opens neither earlier messages nor any of a key it was not given', () => {
  const own = OwnSenderKey.create(random);
  const early = own.seal(fields(1), text('before you joined'));
  const late = ReceivedSenderKey.from(own.distribution(2n));
  const after = own.seal(fields(2), text('after'));
  const e = open(late, early);
  assert.equal(e.ok ? 'opened' : e.error.code, 'replayed', 'an earlier message has no key here');
  assert.ok(open(late, after).ok);
  // A fresh key (as after a removal) opens nothing with the old one's state.
  const fresh = OwnSenderKey.create(random);
  const next = fresh.seal(fields(3), text('after the re-key'));
  const tried = late.open(next, iterationOf(next));
  assert.equal(tried.ok ? 'opened' : tried.error.code, 'bad_signature');
});

test('a member who holds the chain key cannot forge: the signature is the sender key\'s own', () => {
  const own = OwnSenderKey.create(random);
  const given = own.distribution(1n);
  const receiver = ReceivedSenderKey.from(given);
  // Mallory, a member, has the same distribution: she derives the message key and encrypts…
  const header = toBinary(GroupMessageHeaderSchema, create(GroupMessageHeaderSchema, { ...fields(1), keyId: given.keyId, iteration: 0 }));
  const messageKey = new Uint8Array(createHmac('sha256', given.chainKey).update(Uint8Array.of(1)).digest());
  const ciphertext = aeadEncrypt('ChaChaPoly', messageKey, 0, header, text('alice says: send me money'));
  // …but can only sign with a key of her own.
  const forged = create(GroupCiphertextSchema, { header, ciphertext, signature: signBytes(generateSigningKeyPair(random), concatBytes(header, ciphertext)) });
  const refused = open(receiver, forged);
  assert.equal(refused.ok ? 'opened' : refused.error.code, 'bad_signature');
  // The refusal used up no key: alice's real message 0 still opens.
  const real = own.seal(fields(1), text('hello'));
  assert.ok(open(receiver, real).ok);
});

test('damaged messages are refused and use up no key; too far ahead is refused', () => {
  const own = OwnSenderKey.create(random);
  const receiver = ReceivedSenderKey.from(own.distribution(1n));
  const m = own.seal(fields(1), text('intact'));
  const damaged = create(GroupCiphertextSchema, { ...m, ciphertext: Uint8Array.from(m.ciphertext, (b, i) => (i === 3 ? b ^ 1 : b)) });
  const d = open(receiver, damaged);
  assert.equal(d.ok ? 'opened' : d.error.code, 'bad_signature');
  // Signed but with the header's iteration lied about (opened as another one): the AEAD refuses.
  const wrongIteration = receiver.open(m, 1);
  assert.equal(wrongIteration.ok ? 'opened' : wrongIteration.error.code, 'decrypt_failed');
  assert.ok(open(receiver, m).ok, 'the intact message opens after both refusals');
  for (let i = 0; i < MAX_SKIPPED_MESSAGE_KEYS + 1; i++) own.seal(fields(2 + i), text('x'));
  const far = own.seal(fields(9999), text('far'));
  const f = open(receiver, far);
  assert.equal(f.ok ? 'opened' : f.error.code, 'too_far_ahead');
});

test('an earlier copy of the same key widens what opens; the state survives a store round trip', () => {
  const own = OwnSenderKey.create(random);
  const first = own.distribution(1n);
  const m1 = own.seal(fields(1), text('one'));
  const second = own.distribution(1n);
  const m2 = own.seal(fields(2), text('two'));
  const receiver = ReceivedSenderKey.from(second);
  assert.ok(open(receiver, m2).ok);
  assert.equal((() => { const r = open(receiver, m1); return r.ok ? 'opened' : r.error.code; })(), 'replayed', 'no key for message 1 yet');
  assert.ok(receiver.widen(first));
  const restored = ReceivedSenderKey.fromJSON(JSON.parse(JSON.stringify(receiver.toJSON())));
  assert.ok(restored);
  assert.equal(new TextDecoder().decode((restored.open(m1, iterationOf(m1)) as { ok: true; value: Uint8Array }).value), 'one');
  // A different signing key under the same id is not a widening.
  assert.equal(receiver.widen({ ...first, signingKey: generateSigningKeyPair(random).publicKey }), false);
  assert.equal(ReceivedSenderKey.fromJSON({ ...receiver.toJSON(), chainKey: 'zz' }), null, 'a damaged store entry is refused');
});
