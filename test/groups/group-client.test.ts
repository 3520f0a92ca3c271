// The group client over a messenger stand-in: what it hands the messenger for each member
// device, and its store across a crash. A client that dies right after sending (no close, no
// timer fired) numbers its next message after the last one it sent, with a fresh sender key, so
// a member's device shows all of them, once each, in order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromBinary } from '@bufbuild/protobuf';
import { Scheduler } from '../../src/env/virtual/scheduler.js';
import { SeededRandom } from '../../src/env/prng.js';
import type { Env } from '../../src/env/types.js';
import type { Messenger, PayloadHandler } from '../../src/messenger/messenger.js';
import { GroupClient } from '../../src/groups/group-client.js';
import { MemoryGroupStore } from '../../src/groups/group-history.js';
import { GroupSession } from '../../src/groups/group-session.js';
import { openWelcome } from '../../src/groups/membership.js';
import { ChatPayloadSchema, type GroupPayload } from '../../src/wire/messages.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';

test('a client that crashed after sending goes on numbering where it was; the member shows every message once, in order', async () => {
  const random = new SeededRandom(5);
  const net = testNetwork(random);
  const scheduler = new Scheduler(TEST_EPOCH_MS);
  const env = { clock: scheduler, random, net: undefined as never } as Env;
  const alice = net.identity('alice');
  const bob = net.identity('bob');
  const toBob: GroupPayload[] = [];
  const messenger = {
    username: 'alice',
    deviceKey: alice.dh.publicKey,
    subscribe: (_kind: 'group', _h: PayloadHandler<'group'>) => () => {},
    devicesOf: async (user: string) => (user === 'bob' ? [bob.dh.publicKey] : []),
    sendKept: (_user: string, key: Uint8Array, payload: Uint8Array) => {
      const decoded = fromBinary(ChatPayloadSchema, payload);
      if (Buffer.from(key).equals(bob.dh.publicKey) && decoded.body.case === 'group') toBob.push(decoded.body.value);
    },
    sealForOffline: async () => 0,
  } as unknown as Messenger;
  const store = new MemoryGroupStore();
  const first = new GroupClient(env, messenger, { identity: alice, verifier: net.verifier, store });
  const id = await first.create('pair', ['bob']);
  await first.send(id, 'one');
  await first.send(id, 'two');
  // The process dies: no close, and the save timer never fires.
  const second = new GroupClient(env, messenger, { identity: alice, verifier: net.verifier, store });
  assert.equal(second.group(id).members.length, 2, 'the group survived');
  await second.send(id, 'three');

  const welcome = toBob.find((p) => p.body.case === 'welcome');
  assert.ok(welcome?.body.case === 'welcome');
  const state = openWelcome(net.verifier, welcome.body.value, 'bob', TEST_EPOCH_MS);
  assert.ok(state.ok);
  const bobs = new GroupSession(state.value, { user: 'bob', device: bob.dh.publicKey });
  const shown: string[] = [];
  const keyIds = new Set<number>();
  for (const p of toBob) {
    if (p.body.case !== 'message') continue;
    keyIds.add(p.body.value.senderKey!.keyId);
    const out = bobs.receive({ user: 'alice', device: alice.dh.publicKey }, p.body.value, 0);
    assert.ok(out.ok, out.ok ? '' : out.error.message);
    for (const d of out.value) if (d.content.body.case === 'text') shown.push(`${d.seq}:${d.content.body.value.text}`);
  }
  assert.deepEqual(shown, ['1:one', '2:two', '3:three']);
  assert.equal(keyIds.size, 2, 'a fresh sender key after the restart');
  first.close();
  second.close();
});
