// The membership chain: the admin device's ops apply on every member's copy in order; forged,
// replayed, out-of-order and forked ops are refused with their reasons and change nothing; a
// welcome and a leave are checked against certificates; the member limit holds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { SeededRandom } from '../../src/env/prng.js';
import { applyLeave, applyOp, createGroup, currentMembers, makeLeave, makeWelcome, openWelcome, signOp, type GroupState } from '../../src/groups/membership.js';
import { MAX_GROUP_MEMBERS } from '../../src/groups/limits.js';
import { GroupOpSchema, GroupWelcomeSchema } from '../../src/wire/messages.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';

const random = new SeededRandom(2424);
const net = testNetwork(random);
const aliceLaptop = net.identity('alice');
const alicePhone = net.identity('alice');
const bob = net.identity('bob');
const carol = net.identity('carol');
const NOW = TEST_EPOCH_MS;

function unwrap<T>(r: { ok: true; value: T } | { ok: false; error: { code: string; message: string } }): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}
const codeOf = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error!.code);

function group(): GroupState {
  return unwrap(createGroup(aliceLaptop, 'alice', random.bytes(16), 'climbing'));
}

test('every member applies the admin\'s ops to the same state', () => {
  let admin = group();
  const add = unwrap(signOp(aliceLaptop, admin, { kind: 'add', user: 'bob' }, NOW));
  admin = add.state;
  // Bob starts from his welcome; carol is added after, then renamed, then bob removed.
  let bobView = unwrap(openWelcome(net.verifier, makeWelcome(aliceLaptop, admin, NOW), 'bob', NOW));
  const ops = [];
  for (const change of [{ kind: 'add', user: 'carol' }, { kind: 'rename', name: 'climbing club' }, { kind: 'add', user: 'dave' }] as const) {
    const signed = unwrap(signOp(aliceLaptop, admin, change, NOW));
    admin = signed.state;
    ops.push(signed.op);
  }
  for (const op of ops) bobView = unwrap(applyOp(bobView, op)).state;
  assert.deepEqual(currentMembers(bobView), ['alice', 'bob', 'carol', 'dave']);
  assert.equal(bobView.name, 'climbing club');
  assert.deepEqual(bobView.head, admin.head);
  assert.equal(bobView.version, admin.version);
});

test('forged, replayed, out-of-order and forked ops are refused and change nothing', () => {
  let admin = group();
  const welcome = () => unwrap(openWelcome(net.verifier, makeWelcome(aliceLaptop, admin, NOW), 'alice', NOW));
  admin = unwrap(signOp(aliceLaptop, admin, { kind: 'add', user: 'bob' }, NOW)).state;
  const member = welcome();
  // Forged: signed by another device, even one of the admin's own user.
  const forged = signOp(alicePhone, { ...admin, adminKey: alicePhone.signing.publicKey }, { kind: 'add', user: 'mallory' }, NOW);
  assert.equal(codeOf(applyOp(member, unwrap(forged).op)), 'bad_signature');
  assert.equal(codeOf(signOp(bob, admin, { kind: 'remove', user: 'alice' }, NOW)), 'not_admin');
  // Out of order: version +2 before +1.
  const v1 = unwrap(signOp(aliceLaptop, admin, { kind: 'add', user: 'carol' }, NOW));
  const v2 = unwrap(signOp(aliceLaptop, v1.state, { kind: 'add', user: 'dave' }, NOW));
  assert.equal(codeOf(applyOp(member, v2.op)), 'ahead');
  const after1 = unwrap(applyOp(member, v1.op)).state;
  // Replayed.
  assert.equal(codeOf(applyOp(after1, v1.op)), 'stale');
  // Forked: an op for the next version made on another branch.
  const branch = unwrap(signOp(aliceLaptop, admin, { kind: 'add', user: 'erin' }, NOW));
  const branchNext = unwrap(signOp(aliceLaptop, branch.state, { kind: 'add', user: 'frank' }, NOW));
  assert.equal(codeOf(applyOp(after1, branchNext.op)), 'fork');
  // A damaged op.
  assert.equal(codeOf(applyOp(after1, create(GroupOpSchema, { body: v2.op.body.slice(0, 5), signature: v2.op.signature }))), 'malformed');
  assert.deepEqual(currentMembers(after1), ['alice', 'bob', 'carol'], 'nothing refused changed the state');
  assert.deepEqual(currentMembers(unwrap(applyOp(after1, v2.op)).state), ['alice', 'bob', 'carol', 'dave']);
});

test(`a group holds at most ${MAX_GROUP_MEMBERS} members; re-adding and removing the admin are refused`, () => {
  let admin = group();
  for (let i = 1; i < MAX_GROUP_MEMBERS; i++) admin = unwrap(signOp(aliceLaptop, admin, { kind: 'add', user: `member${i}` }, NOW)).state;
  assert.equal(currentMembers(admin).length, MAX_GROUP_MEMBERS);
  assert.equal(codeOf(signOp(aliceLaptop, admin, { kind: 'add', user: 'onetoomany' }, NOW)), 'too_many_members');
  assert.equal(codeOf(signOp(aliceLaptop, admin, { kind: 'add', user: 'member1' }, NOW)), 'already_member');
  assert.equal(codeOf(signOp(aliceLaptop, admin, { kind: 'remove', user: 'alice' }, NOW)), 'invalid_user');
  assert.equal(codeOf(signOp(aliceLaptop, admin, { kind: 'add', user: 'Not A Name' }, NOW)), 'invalid_user');
  assert.equal(codeOf(signOp(aliceLaptop, admin, { kind: 'rename', name: 'x'.repeat(200) }, NOW)), 'invalid_name');
  // A full welcome still opens (and fits a payload).
  const w = makeWelcome(aliceLaptop, admin, NOW);
  assert.ok(unwrap(openWelcome(net.verifier, w, 'member7', NOW)).members.length === MAX_GROUP_MEMBERS);
});

test('welcomes are checked: signed by the admin device, for this member, of this network', () => {
  let admin = group();
  admin = unwrap(signOp(aliceLaptop, admin, { kind: 'add', user: 'bob' }, NOW)).state;
  const w = makeWelcome(aliceLaptop, admin, NOW);
  assert.equal(codeOf(openWelcome(net.verifier, w, 'carol', NOW)), 'not_member');
  const tampered = create(GroupWelcomeSchema, { ...w, body: Uint8Array.from(w.body, (b, i) => (i === w.body.length - 1 ? b ^ 1 : b)) });
  assert.notEqual(codeOf(openWelcome(net.verifier, tampered, 'bob', NOW)), 'ok');
  const otherNetwork = testNetwork(new SeededRandom(9));
  const stranger = otherNetwork.identity('alice');
  assert.equal(codeOf(openWelcome(net.verifier, makeWelcome(stranger, admin, NOW), 'bob', NOW)), 'bad_certificate');
  // Signed by a device of a user who is not a member: not the admin of this group.
  assert.equal(codeOf(openWelcome(net.verifier, makeWelcome(carol, admin, NOW), 'bob', NOW)), 'not_admin');
});

test('a leave is signed by a device of the member it names; the admin leaving freezes the members', () => {
  let admin = group();
  admin = unwrap(signOp(aliceLaptop, admin, { kind: 'add', user: 'bob' }, NOW)).state;
  admin = unwrap(signOp(aliceLaptop, admin, { kind: 'add', user: 'carol' }, NOW)).state;
  const byBob = makeLeave(bob, 'bob', admin.groupId, NOW);
  const left = unwrap(applyLeave(net.verifier, admin, byBob, NOW));
  assert.deepEqual(currentMembers(left), ['alice', 'carol']);
  assert.equal(codeOf(applyLeave(net.verifier, left, byBob, NOW)), 'not_member', 'the same leave again');
  // Carol cannot make bob leave.
  assert.equal(codeOf(applyLeave(net.verifier, admin, makeLeave(carol, 'bob', admin.groupId, NOW), NOW)), 'bad_certificate');
  // The admin's REMOVE makes it final; after alice leaves, no op of hers applies.
  const removed = unwrap(signOp(aliceLaptop, left, { kind: 'remove', user: 'bob' }, NOW)).state;
  assert.deepEqual(removed.members, ['alice', 'carol']);
  const aliceGone = unwrap(applyLeave(net.verifier, removed, makeLeave(alicePhone, 'alice', admin.groupId, NOW), NOW));
  assert.equal(codeOf(signOp(aliceLaptop, aliceGone, { kind: 'add', user: 'dave' }, NOW)), 'not_admin');
});
