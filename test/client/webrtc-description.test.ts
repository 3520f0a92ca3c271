// The signed WebRTC description alone (no stack): a device signs its DTLS fingerprint for one
// session, direction and pair of devices; the other side accepts exactly that and refuses, each
// with its own code, a swapped fingerprint, a second fingerprint, another device's certificate
// and signature, an offer replayed as an answer or into another session, a certificate of another
// network or an expired one. Mutated descriptions never throw past the check.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { create } from '@bufbuild/protobuf';
import { SeededRandom } from '../../src/env/prng.js';
import { SignedDescriptionSchema, type SignedDescription } from '../../src/wire/messages.js';
import { sdpFingerprint, signDescription, verifyDescription, type DescriptionParties } from '../../src/client/webrtc-description.js';
import { TEST_EPOCH_MS, testNetwork } from '../support/identities.js';
import { testSeed } from '../support/seed.js';

const NOW = TEST_EPOCH_MS;

/** An SDP as libwebrtc writes one, with the fingerprint on each media section. */
function sdpWith(fingerprints: string[]): string {
  const lines = ['v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1'];
  fingerprints.forEach((fingerprint, i) => lines.push(`m=${i === 0 ? 'audio' : 'application'} 9 UDP/TLS/RTP/SAVPF 111`, 'c=IN IP4 0.0.0.0', `a=mid:${i}`, `a=fingerprint:sha-256 ${fingerprint}`, 'a=setup:actpass'));
  return `${lines.join('\r\n')}\r\n`;
}

const hex = (random: SeededRandom) => [...random.bytes(32)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');

function world(seed = testSeed()) {
  const random = new SeededRandom(seed);
  const net = testNetwork(random);
  const alice = net.identity('alice');
  const bob = net.identity('bob');
  const sessionId = random.bytes(16);
  const offer: DescriptionParties = { sessionId, type: 'offer', from: { user: 'alice', device: alice.dh.publicKey }, to: bob.dh.publicKey };
  const ours = hex(random);
  const sdp = sdpWith([ours, ours]);
  const signed = signDescription(alice, offer, sdp);
  assert.ok(signed.ok);
  return { random, net, alice, bob, sessionId, offer, ours, sdp, signed: signed.value };
}

const withSdp = (d: SignedDescription, sdp: string) => create(SignedDescriptionSchema, { ...d, sdp });

test('a signed offer is accepted by the device it is for, with its fingerprint and certificate', () => {
  const w = world();
  const checked = verifyDescription(w.net.verifier, NOW, w.offer, w.signed);
  assert.ok(checked.ok, checked.ok ? '' : checked.error.message);
  assert.equal(checked.value.sdp, w.sdp);
  assert.equal(checked.value.fingerprint.algorithm, 'sha-256');
  assert.deepEqual([...checked.value.fingerprint.digest], w.ours.split(':').map((h) => parseInt(h, 16)));
  assert.equal(checked.value.certificate.username, 'alice');
});

test('a fingerprint swapped on the way is refused: the signature does not cover it', () => {
  const w = world();
  const theirs = hex(w.random);
  // Every line swapped (a careful man in the middle), or only one (then two fingerprints).
  const swapped = verifyDescription(w.net.verifier, NOW, w.offer, withSdp(w.signed, w.sdp.replaceAll(w.ours, theirs)));
  assert.equal(swapped.ok ? 'accepted' : swapped.error.code, 'fingerprint_not_signed');
  const one = verifyDescription(w.net.verifier, NOW, w.offer, withSdp(w.signed, sdpWith([w.ours, theirs])));
  assert.equal(one.ok ? 'accepted' : one.error.code, 'mixed_fingerprints');
  const none = verifyDescription(w.net.verifier, NOW, w.offer, withSdp(w.signed, w.sdp.replace(/a=fingerprint:.*\r\n/g, '')));
  assert.equal(none.ok ? 'accepted' : none.error.code, 'no_fingerprint');
  const weak = verifyDescription(w.net.verifier, NOW, w.offer, withSdp(w.signed, w.sdp.replaceAll('sha-256', 'sha-1')));
  assert.equal(weak.ok ? 'accepted' : weak.error.code, 'no_fingerprint');
});

test("a relay that signs its own fingerprint with its own valid device certificate is refused: it is not the sender's device", () => {
  const w = world();
  const mallory = w.net.identity('mallory');
  const theirs = sdpWith([hex(w.random)]);
  // Mallory signs as herself, for the same session and devices...
  const forged = signDescription(mallory, { ...w.offer, from: { user: 'mallory', device: mallory.dh.publicKey } }, theirs);
  assert.ok(forged.ok);
  assert.equal((r => (r.ok ? 'accepted' : r.error.code))(verifyDescription(w.net.verifier, NOW, w.offer, forged.value)), 'wrong_device');
  // ...or claims to be alice's device with her own certificate: the same.
  const claimed = signDescription(mallory, w.offer, theirs);
  assert.ok(claimed.ok);
  assert.equal((r => (r.ok ? 'accepted' : r.error.code))(verifyDescription(w.net.verifier, NOW, w.offer, claimed.value)), 'wrong_device');
  // Another device of alice herself is another device.
  const aliceLaptop = w.net.identity('alice');
  const laptop = signDescription(aliceLaptop, { ...w.offer, from: { user: 'alice', device: aliceLaptop.dh.publicKey } }, theirs);
  assert.ok(laptop.ok);
  assert.equal((r => (r.ok ? 'accepted' : r.error.code))(verifyDescription(w.net.verifier, NOW, w.offer, laptop.value)), 'wrong_device');
});

test('a signature is for one session, direction and pair of devices: replayed anywhere else it is refused', () => {
  const w = world();
  const code = (parties: DescriptionParties, d = w.signed) => (r => (r.ok ? 'accepted' : r.error.code))(verifyDescription(w.net.verifier, NOW, parties, d));
  assert.equal(code({ ...w.offer, type: 'answer' }), 'fingerprint_not_signed');
  const carol = w.net.identity('carol');
  assert.equal(code({ ...w.offer, to: carol.dh.publicKey }), 'fingerprint_not_signed');
  const otherSession = w.random.bytes(16);
  assert.equal(code({ ...w.offer, sessionId: otherSession }), 'malformed');
  assert.equal(code({ ...w.offer, sessionId: otherSession }, create(SignedDescriptionSchema, { ...w.signed, sessionId: otherSession })), 'fingerprint_not_signed');
});

test("certificates of another network, expired ones and a description's bad shapes are refused with their own codes", () => {
  const w = world();
  const code = (d: SignedDescription, nowMs = NOW) => (r => (r.ok ? 'accepted' : r.error.code))(verifyDescription(w.net.verifier, nowMs, w.offer, d));
  const elsewhere = testNetwork(new SeededRandom(testSeed() + 1));
  const stranger = signDescription(elsewhere.identity('alice'), w.offer, w.sdp);
  assert.ok(stranger.ok);
  assert.equal(code(stranger.value), 'bad_certificate');
  assert.equal(code(w.signed, NOW + 400 * 24 * 3_600_000), 'bad_certificate');
  assert.equal(code(create(SignedDescriptionSchema, { ...w.signed, signature: w.signed.signature.subarray(1) })), 'malformed');
  assert.equal(code(create(SignedDescriptionSchema, { ...w.signed, certificate: new Uint8Array() })), 'malformed');
  assert.equal(code(withSdp(w.signed, w.sdp + 'a=x\r\n'.repeat(3_000))), 'malformed');
  // Our own stack's SDP with no fingerprint is not signed at all.
  assert.equal((r => (r.ok ? 'signed' : r.error.code))(signDescription(w.alice, w.offer, 'v=0\r\n')), 'no_fingerprint');
});

test('the fingerprint parser takes upper and lower case hex and refuses lengths that are not the hash', () => {
  const lower = sdpFingerprint('a=fingerprint:SHA-256 ' + 'ab:'.repeat(31) + 'ab\r\n');
  assert.ok(lower.ok);
  assert.equal(lower.value.algorithm, 'sha-256');
  assert.equal(lower.value.digest.length, 32);
  assert.equal((r => (r.ok ? 'ok' : r.error.code))(sdpFingerprint('a=fingerprint:sha-256 ' + 'ab:'.repeat(30) + 'ab\r\n')), 'no_fingerprint');
  assert.equal((r => (r.ok ? 'ok' : r.error.code))(sdpFingerprint('a=fingerprint:sha-512 ' + 'ab:'.repeat(63) + 'ab\r\n')), 'ok');
});

test('mutated descriptions never throw past the check, and none passes with another fingerprint or signer', () => {
  const w = world();
  const original = w.signed;
  let passed = 0;
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 3 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (field, position, flip) => {
      const bytes = field === 0 ? new TextEncoder().encode(original.sdp) : (field === 1 ? original.certificate : field === 2 ? original.signature : original.sessionId).slice();
      const i = position % bytes.length;
      bytes[i] = bytes[i]! ^ flip;
      const mutated = create(SignedDescriptionSchema, {
        ...original,
        ...(field === 0 ? { sdp: new TextDecoder().decode(bytes) } : field === 1 ? { certificate: bytes } : field === 2 ? { signature: bytes } : { sessionId: bytes }),
      });
      const checked = verifyDescription(w.net.verifier, NOW, w.offer, mutated);
      // What may pass: a flip that changes nothing signed (the SDP outside its fingerprint
      // lines, the case of its hex; an encoding the certificate decoder reads as the same
      // certificate). Never another fingerprint or another signer.
      if (!checked.ok) return;
      passed++;
      assert.ok(field === 0 || field === 1, `a mutated ${['sdp', 'certificate', 'signature', 'session id'][field]} passed`);
      assert.deepEqual([...checked.value.fingerprint.digest], w.ours.split(':').map((h) => parseInt(h, 16)));
      assert.deepEqual([checked.value.certificate.username, [...checked.value.certificate.dhKey]], ['alice', [...w.alice.dh.publicKey]]);
    }),
    { seed: testSeed(), numRuns: 1_000 },
  );
  assert.ok(passed < 500, `${passed} of 1 000 mutations passed: most must change something signed`);
});
