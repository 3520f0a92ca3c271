// What a hostile inviter or member can make a device's group client spend, with a messenger
// stand-in that hands it payloads as the real one would (authenticated sender, decoded payload):
// welcomes from one inviter are budgeted, the groups a device is in are bounded, deliveries for
// groups nobody welcomed it to are held at most MAX_HELD_UNKNOWN and dropped after GAP_WAIT_MS,
// and every refusal is counted by its reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { Scheduler } from '../../src/env/virtual/scheduler.js';
import { SeededRandom } from '../../src/env/prng.js';
import type { Env } from '../../src/env/types.js';
import type { Messenger, PayloadHandler, Sender } from '../../src/messenger/messenger.js';
import { GroupClient, MAX_HELD_UNKNOWN } from '../../src/groups/group-client.js';
import { createGroup, makeWelcome, signOp } from '../../src/groups/membership.js';
import { GAP_WAIT_MS, MAX_GROUPS, WELCOME_BURST } from '../../src/groups/limits.js';
import { GroupSession } from '../../src/groups/group-session.js';
import { GroupContentSchema, GroupPayloadSchema, GroupTextSchema, type GroupPayload } from '../../src/wire/messages.js';
import type { NodeIdentity } from '../../src/crypto/identity.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';

function unwrap<T>(r: { ok: true; value: T } | { ok: false; error: { code: string; message: string } }): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

function setup() {
  const random = new SeededRandom(31);
  const net = testNetwork(random);
  const scheduler = new Scheduler(TEST_EPOCH_MS);
  const env = { clock: scheduler, random, net: undefined as never } as Env;
  const victim = net.identity('victim');
  let handler: PayloadHandler<'group'> | null = null;
  // The messenger as the group client sees it: who it is, and a subscription it hands payloads to.
  const messenger = {
    username: 'victim',
    deviceKey: victim.dh.publicKey,
    subscribe: (_kind: 'group', h: PayloadHandler<'group'>) => ((handler = h), () => (handler = null)),
    devicesOf: async () => [],
    sendKept: () => {},
    sealForOffline: async () => 0,
  } as unknown as Messenger;
  const groups = new GroupClient(env, messenger, { identity: victim, verifier: net.verifier });
  const deliver = (from: { user: string; identity: NodeIdentity }, payload: GroupPayload) => {
    const sender: Sender = { user: from.user, device: from.identity.dh.publicKey, relation: 'stranger' };
    return handler!(sender, payload, { offline: false });
  };
  /** A group made by `admin` with the victim in it, and its welcome. */
  const welcomeFrom = (admin: { user: string; identity: NodeIdentity }) => {
    let state = unwrap(createGroup(admin.identity, admin.user, random.bytes(16), 'spam'));
    state = unwrap(signOp(admin.identity, state, { kind: 'add', user: 'victim' }, TEST_EPOCH_MS)).state;
    return create(GroupPayloadSchema, { groupId: state.groupId, body: { case: 'welcome', value: makeWelcome(admin.identity, state, TEST_EPOCH_MS) } });
  };
  return { random, net, scheduler, groups, deliver, welcomeFrom };
}

test(`welcomes from one inviter: ${WELCOME_BURST}, then one a minute; at most ${MAX_GROUPS} groups on a device`, () => {
  const { net, scheduler, groups, deliver, welcomeFrom } = setup();
  const mallory = { user: 'mallory', identity: net.identity('mallory') };
  for (let i = 0; i < WELCOME_BURST; i++) assert.equal(deliver(mallory, welcomeFrom(mallory)), 'new');
  assert.equal(deliver(mallory, welcomeFrom(mallory)), undefined);
  assert.equal(groups.refused.get('rate_limited'), 1);
  scheduler.runFor(60_000);
  assert.equal(deliver(mallory, welcomeFrom(mallory)), 'new', 'one more after a minute');
  // Many inviters together still fill no more than MAX_GROUPS.
  let inviter = 0;
  while (groups.list().length < MAX_GROUPS) {
    const someone = { user: `inviter${inviter}`, identity: net.identity(`inviter${inviter}`) };
    for (let i = 0; i < WELCOME_BURST && groups.list().length < MAX_GROUPS; i++) deliver(someone, welcomeFrom(someone));
    inviter++;
  }
  const last = { user: 'late', identity: net.identity('late') };
  assert.equal(deliver(last, welcomeFrom(last)), undefined);
  assert.equal(groups.refused.get('too_many_groups'), 1);
  assert.equal(groups.list().length, MAX_GROUPS);
  // A welcome whose sender is not its admin (a member forwarding it) is refused too.
  const forwarded = welcomeFrom({ user: 'late', identity: last.identity });
  assert.equal(deliver(mallory, forwarded), undefined);
  assert.equal(groups.refused.get('not_admin'), 1);
  groups.close();
});

test(`deliveries for groups not known are held at most ${MAX_HELD_UNKNOWN}, for ${GAP_WAIT_MS / 1000} s, and counted`, () => {
  const { random, net, scheduler, groups, deliver, welcomeFrom } = setup();
  const mallory = { user: 'mallory', identity: net.identity('mallory') };
  // Messages of a real group of mallory's, sent before its welcome: held, then shown once it comes.
  const welcome = welcomeFrom(mallory);
  const state = unwrap(createGroup(mallory.identity, 'mallory', welcome.groupId, 'spam'));
  const added = unwrap(signOp(mallory.identity, state, { kind: 'add', user: 'victim' }, TEST_EPOCH_MS)).state;
  const session = new GroupSession(added, { user: 'mallory', device: mallory.identity.dh.publicKey });
  const content = create(GroupContentSchema, { body: { case: 'text', value: create(GroupTextSchema, { id: 'early', text: 'before the welcome', sentAtMs: 1n }) } });
  const early = session.seal(random, content).deliveryFor('victim', new Uint8Array(32), false).delivery;
  const earlyPayload = create(GroupPayloadSchema, { groupId: welcome.groupId, body: { case: 'message', value: early } });
  assert.equal(deliver(mallory, earlyPayload), undefined);
  // Garbage for groups that do not exist fills the rest, and no more.
  for (let i = 0; i < MAX_HELD_UNKNOWN; i++) deliver(mallory, create(GroupPayloadSchema, { groupId: random.bytes(16), body: { case: 'message', value: early } }));
  assert.equal(groups.waited.get('unknown_group'), MAX_HELD_UNKNOWN);
  assert.equal(groups.refused.get('held_full'), 1);
  // The welcome frees its group's held message; the rest expire.
  const shown: string[] = [];
  groups.onMessage((m) => shown.push(m.text));
  // The welcome is mallory's real one for that group (its id and state).
  const realWelcome = create(GroupPayloadSchema, { groupId: added.groupId, body: { case: 'welcome', value: makeWelcome(mallory.identity, added, TEST_EPOCH_MS) } });
  assert.equal(deliver(mallory, realWelcome), 'new');
  assert.deepEqual(shown, ['before the welcome']);
  scheduler.runFor(GAP_WAIT_MS);
  assert.equal(groups.refused.get('held_expired'), MAX_HELD_UNKNOWN - 1);
  // Malformed ids are refused at once.
  assert.equal(deliver(mallory, create(GroupPayloadSchema, { groupId: new Uint8Array(3) })), undefined);
  assert.equal(groups.refused.get('malformed'), 1);
  groups.close();
});
