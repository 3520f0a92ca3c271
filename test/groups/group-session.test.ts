// One group's session on each device, fed directly (no network): each sender's messages are
// handed on once and in its order whatever order they come in; duplicates, spoofed senders and
// non-members are refused; a gap is waited for, then passed over; what is held back is bounded;
// and after a removal the removed member's device, with every key it had, opens nothing more.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { SeededRandom } from '../../src/env/prng.js';
import { GroupContentSchema, GroupDeliverySchema, GroupTextSchema, type GroupDelivery } from '../../src/wire/messages.js';
import { GroupSession, type GroupDelivered } from '../../src/groups/group-session.js';
import { createGroup, makeWelcome, openWelcome, signOp, type GroupState } from '../../src/groups/membership.js';
import { ReceivedSenderKey, readHeader } from '../../src/groups/sender-key.js';
import { GAP_WAIT_MS, MAX_HELD_PER_SENDER } from '../../src/groups/limits.js';
import type { NodeIdentity } from '../../src/crypto/identity.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';

const NOW = TEST_EPOCH_MS;

function unwrap<T>(r: { ok: true; value: T } | { ok: false; error: { code: string; message: string } }): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}
const codeOf = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error!.code);
const text = (t: string) => create(GroupContentSchema, { body: { case: 'text', value: create(GroupTextSchema, { id: t, text: t, sentAtMs: 1n }) } });
const texts = (out: readonly GroupDelivered[]) => out.map((d) => (d.content.body.case === 'text' ? d.content.body.value.text : '?'));

function world(seed: number) {
  const random = new SeededRandom(seed);
  const net = testNetwork(random);
  const alice = net.identity('alice');
  const bob = net.identity('bob');
  const carol = net.identity('carol');
  let admin: GroupState = unwrap(createGroup(alice, 'alice', random.bytes(16), 'g'));
  for (const user of ['bob', 'carol']) admin = unwrap(signOp(alice, admin, { kind: 'add', user }, NOW)).state;
  const sessionOf = (identity: NodeIdentity, user: string) => new GroupSession(user === 'alice' ? admin : unwrap(openWelcome(net.verifier, makeWelcome(alice, admin, NOW), user, NOW)), { user, device: identity.dh.publicKey });
  const devices = { alice: { id: alice, s: sessionOf(alice, 'alice') }, bob: { id: bob, s: sessionOf(bob, 'bob') }, carol: { id: carol, s: sessionOf(carol, 'carol') } };
  /** Seals `t` on `from`'s device and returns the delivery each other device gets. */
  const send = (from: keyof typeof devices, t: string) => {
    const sealed = devices[from].s.seal(random, text(t));
    const out = new Map<string, { delivery: GroupDelivery; confirm: () => void }>();
    for (const [name, d] of Object.entries(devices)) if (name !== from) out.set(name, sealed.deliveryFor(name, d.id.dh.publicKey, false));
    return out;
  };
  const as = (name: keyof typeof devices) => ({ user: name, device: devices[name].id.dh.publicKey });
  return { random, net, alice, devices, send, as, admin: () => admin, setAdmin: (s: GroupState) => (admin = s) };
}

test('each sender\'s messages are handed on once, in order, whatever order they arrive in', () => {
  const { devices, send, as } = world(1);
  const m = [1, 2, 3, 4].map((i) => send('alice', `a${i}`).get('bob')!.delivery);
  const bob = devices.bob.s;
  assert.deepEqual(texts(unwrap(bob.receive(as('alice'), m[2]!, NOW))), [], 'the third waits for the first two');
  assert.deepEqual(texts(unwrap(bob.receive(as('alice'), m[0]!, NOW))), ['a1']);
  assert.deepEqual(texts(unwrap(bob.receive(as('alice'), m[1]!, NOW))), ['a2', 'a3']);
  assert.equal(codeOf(bob.receive(as('alice'), m[1]!, NOW)), 'duplicate');
  assert.equal(codeOf(bob.receive(as('alice'), m[2]!, NOW)), 'duplicate');
  assert.deepEqual(texts(unwrap(bob.receive(as('alice'), m[3]!, NOW))), ['a4']);
  assert.equal(bob.held, 0);
});

test('a delivery that names another sender, or comes from a non-member, is refused', () => {
  const { devices, send, as, net } = world(2);
  const toCarol = send('alice', 'hi').get('carol')!.delivery;
  // Carol hands alice's message on as if it were hers, and as from alice through her own device.
  assert.equal(codeOf(devices.bob.s.receive(as('carol'), toCarol, NOW)), 'wrong_sender');
  assert.equal(codeOf(devices.bob.s.receive({ user: 'alice', device: devices.carol.id.dh.publicKey }, toCarol, NOW)), 'wrong_sender');
  const dave = net.identity('dave');
  const daves = new GroupSession(devices.alice.s.state, { user: 'dave', device: dave.dh.publicKey });
  assert.throws(() => daves.seal(new SeededRandom(1), text('x')), /not a member/);
  // Dave believes he is a member (a state of his own making): bob's copy says he is not.
  const believer = new GroupSession({ ...devices.alice.s.state, members: [...devices.alice.s.state.members, 'dave'] }, { user: 'dave', device: dave.dh.publicKey });
  const fromDave = believer.seal(new SeededRandom(2), text('let me in')).deliveryFor('bob', devices.bob.id.dh.publicKey, false).delivery;
  assert.equal(codeOf(devices.bob.s.receive({ user: 'dave', device: dave.dh.publicKey }, fromDave, NOW)), 'not_member');
  const empty = create(GroupDeliverySchema, {});
  assert.equal(codeOf(devices.bob.s.receive(as('alice'), empty, NOW)), 'malformed');
});

test('a gap is waited for GAP_WAIT_MS, then passed over; what waits behind it is bounded', () => {
  const { devices, send, as } = world(3);
  const bob = devices.bob.s;
  const first = send('alice', 'first').get('bob')!.delivery;
  assert.deepEqual(texts(unwrap(bob.receive(as('alice'), first, NOW))), ['first']);
  send('alice', 'lost'); // never arrives
  const later = Array.from({ length: MAX_HELD_PER_SENDER + 1 }, (_, i) => send('alice', `later${i}`).get('bob')!.delivery);
  for (const d of later.slice(0, MAX_HELD_PER_SENDER)) assert.deepEqual(unwrap(bob.receive(as('alice'), d, NOW)), []);
  assert.equal(codeOf(bob.receive(as('alice'), later[MAX_HELD_PER_SENDER]!, NOW)), 'held_full');
  assert.equal(bob.held, MAX_HELD_PER_SENDER);
  assert.deepEqual(bob.tick(NOW + GAP_WAIT_MS - 1), { delivered: [], skipped: 0 }, 'still waiting');
  assert.equal(bob.nextDeadlineMs(), NOW + GAP_WAIT_MS);
  const passed = bob.tick(NOW + GAP_WAIT_MS);
  assert.equal(passed.skipped, 1);
  assert.deepEqual(texts(passed.delivered), Array.from({ length: MAX_HELD_PER_SENDER }, (_, i) => `later${i}`));
  assert.equal(bob.held, 0);
});

test('after a removal, the removed member\'s device opens nothing that follows, with any key it had', () => {
  const { alice, devices, send, as, admin, setAdmin } = world(4);
  // Everyone has everyone's key: a round of messages.
  for (const from of ['alice', 'bob', 'carol'] as const) {
    for (const [to, { delivery }] of send(from, `${from} before`)) assert.equal(texts(unwrap(devices[to as 'bob'].s.receive(as(from), delivery, NOW))).length, 1);
  }
  // What carol's device holds before the removal, as a hostile carol would keep it.
  const kept = JSON.parse(JSON.stringify(devices.carol.s.toJSON()));
  const removal = unwrap(signOp(alice, admin(), { kind: 'remove', user: 'carol' }, NOW));
  setAdmin(removal.state);
  devices.alice.s.adopt(removal.state);
  for (const name of ['bob', 'carol'] as const) unwrap(devices[name].s.applyOp(removal.op));
  assert.equal(devices.carol.s.active, false);
  // Alice and bob write on: each makes a fresh sender key first.
  for (const from of ['alice', 'bob'] as const) {
    const out = send(from, `${from} after`);
    const other = from === 'alice' ? 'bob' : 'alice';
    assert.deepEqual(texts(unwrap(devices[other].s.receive(as(from), out.get(other)!.delivery, NOW))), [`${from} after`]);
    // Carol's live session refuses (she is out); her kept copy has no key of this id…
    const toCarol = out.get('carol')!.delivery;
    assert.equal(codeOf(devices.carol.s.receive(as(from), toCarol, NOW)), 'removed');
    const hostile = GroupSession.fromJSON(kept, { user: 'carol', device: devices.carol.id.dh.publicKey })!;
    const bare = create(GroupDeliverySchema, { ciphertext: toCarol.ciphertext! });
    assert.equal(codeOf(hostile.receive(as(from), bare, NOW)), 'unknown_key');
    // …and no key she ever had opens it, whatever id it is tried under.
    const header = unwrap(readHeader(toCarol.ciphertext!));
    for (const sender of kept.senders) {
      for (const k of sender.keys) {
        const key = ReceivedSenderKey.fromJSON(k)!;
        assert.notEqual(codeOf(key.open(toCarol.ciphertext!, header.iteration)), 'ok');
      }
    }
  }
  // The deliveries meant for bob now carry a new key id; carol's id is not among them.
  const next = send('alice', 'again').get('bob')!.delivery;
  assert.ok(!kept.senders.some((s: { keys: { keyId: number }[] }) => s.keys.some((k) => k.keyId === unwrap(readHeader(next.ciphertext!)).keyId)));
});
