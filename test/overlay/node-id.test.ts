// Node ids and user keys are part of the protocol (every supernode must place a user at the same
// spot): hashed through libsodium, they must stay what SHA-256 of the context and the bytes was.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { SeededRandom } from '../../src/env/prng.js';
import { idHex, supernodeId, userKey } from '../../src/overlay/node-id.js';

const sha256 = (...parts: (string | Uint8Array)[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};

test('supernode ids are SHA-256 of the context and the Noise key, for keys of any length', () => {
  const random = new SeededRandom(7);
  for (const length of [32, 32, 0, 1, 31, 33, 100]) {
    const key = random.bytes(length);
    assert.equal(idHex(supernodeId(key)), sha256('parley-node-id-v1\0', key), `a ${length}-byte key`);
  }
});

test('user keys are SHA-256 of the context and the UTF-8 name', () => {
  for (const name of ['alice', 'bob', '', 'zoë', '用户', 'a'.repeat(64)]) {
    assert.equal(idHex(userKey(name)), sha256('parley-user-v1\0', Buffer.from(name, 'utf8')), name);
  }
  assert.notEqual(idHex(userKey('alice')), idHex(userKey('alicf')));
});

test('a supernode id is the same for equal keys in different arrays, and stays right past the cache bound', () => {
  const random = new SeededRandom(8);
  const key = random.bytes(32);
  const copy = new Uint8Array(64);
  copy.set(key, 16);
  assert.equal(idHex(supernodeId(copy.subarray(16, 48))), idHex(supernodeId(key)));
  const keys = Array.from({ length: 20_000 }, () => random.bytes(32));
  for (const k of keys) supernodeId(k);
  for (const k of [key, keys[0]!, keys[19_999]!]) assert.equal(idHex(supernodeId(k)), sha256('parley-node-id-v1\0', k));
});
