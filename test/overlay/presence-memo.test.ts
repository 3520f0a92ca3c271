// A record whose signature a verifier checked once is not checked again (the memo in
// presence.ts), but everything that depends on the time or the caller still is, at every use:
// the record's lifetime, the certificate's validity and revocation, the expected user.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/env/prng.js';
import { createPresenceRecord, verifyPresenceRecord, DEFAULT_PRESENCE_TTL_MS } from '../../src/overlay/presence.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';
import { testSeed } from '../support/seed.js';

const NOW = TEST_EPOCH_MS;
const sn = { host: '20.0.0.1', port: 33033, dhKey: new Uint8Array(32).fill(3) };

test('a record checked once is judged again by the time, the caller and revocation at every use', () => {
  const net = testNetwork(new SeededRandom(testSeed()));
  const alice = net.identity('alice');
  const encoded = createPresenceRecord(alice, net.ca.networkId, 'alice', { supernodes: [sn], candidates: [], sequence: 1, issuedAtMs: NOW });
  const first = verifyPresenceRecord(encoded, net.verifier, NOW, 'alice');
  assert.ok(first.ok);
  // The same bytes in another array (a view into a frame): the same answer, with those bytes.
  const frame = new Uint8Array(encoded.byteLength + 10);
  frame.set(encoded, 5);
  const view = frame.subarray(5, 5 + encoded.byteLength);
  const again = verifyPresenceRecord(view, net.verifier, NOW + 1000, 'alice');
  assert.ok(again.ok);
  assert.equal(again.value.encoded, view);
  assert.equal(again.value.sequence, 1);
  // Offered as someone else's, expired, or seen by a clock far behind: refused as before.
  const asBob = verifyPresenceRecord(encoded, net.verifier, NOW, 'bob');
  assert.equal(asBob.ok ? 'ok' : asBob.error.code, 'wrong_user');
  const late = verifyPresenceRecord(encoded, net.verifier, NOW + DEFAULT_PRESENCE_TTL_MS, 'alice');
  assert.equal(late.ok ? 'ok' : late.error.code, 'expired');
  const early = verifyPresenceRecord(encoded, net.verifier, NOW - 10 * 60_000, 'alice');
  assert.equal(early.ok ? 'ok' : early.error.code, 'not_yet_valid');
  // The operator revokes the device's key: the remembered record is refused from then on.
  net.verifier.revoke([alice.dh.publicKey]);
  const revoked = verifyPresenceRecord(encoded, net.verifier, NOW, 'alice');
  assert.deepEqual(revoked.ok ? 'ok' : [revoked.error.code, revoked.error.certificateError], ['bad_certificate', 'revoked']);
});

test('a record with a bad signature is refused every time (it is never remembered)', () => {
  const net = testNetwork(new SeededRandom(testSeed()));
  const alice = net.identity('alice');
  const encoded = createPresenceRecord(alice, net.ca.networkId, 'alice', { supernodes: [sn], candidates: [], sequence: 1, issuedAtMs: NOW });
  const forged = encoded.slice();
  forged[forged.byteLength - 1]! ^= 1; // the last byte is the signature's
  for (let i = 0; i < 3; i++) {
    const verdict = verifyPresenceRecord(forged, net.verifier, NOW, 'alice');
    assert.equal(verdict.ok ? 'ok' : verdict.error.code, 'bad_signature');
  }
  assert.ok(verifyPresenceRecord(encoded, net.verifier, NOW, 'alice').ok);
});
