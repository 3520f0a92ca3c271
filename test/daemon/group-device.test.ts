// Group chat through the daemon's own session (the device core, as `parley daemon` composes it)
// on the virtual network, with the real login server in process: three users who are not each
// other's buddies make a group, talk in it (every device shows each message once, in one order),
// a member goes offline and catches up (the login server's offline store holds what it missed), one is
// removed and sees nothing after.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DaemonEvent, GroupMessageView } from '../../src/daemon/api-types.js';
import { testSeed, withSeed } from '../support/seed.js';
import { deviceWorld, type OnlineUser } from '../support/device-world.js';

const groupMessages = (user: OnlineUser) => user.events.filter((e): e is Extract<DaemonEvent, { type: 'group-message' }> => e.type === 'group-message').map((e) => e.message);
const texts = (messages: readonly GroupMessageView[]) => messages.map((m) => m.text);

test('the daemon\'s device: a group of strangers talks end to end, one catches up after being offline, a removed one sees nothing after', { timeout: 180_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const world = await deviceWorld(seed);
    const { drive, elapse } = world;
    try {
      const alice = await world.online('alice');
      const bob = await world.online('bob');
      const carol = await world.online('carol');
      await elapse(2_000);
      const made = await drive(alice.session.createGroup('hikers', ['bob', 'carol']));
      assert.deepEqual(made.members, ['alice', 'bob', 'carol']);
      assert.equal(made.isAdmin, true);
      await elapse(3_000);
      for (const user of [bob, carol]) assert.deepEqual(user.session.groups().map((g) => [g.id, g.name, g.isAdmin]), [[made.id, 'hikers', false]], `${user.name} was welcomed`);

      await drive(alice.session.sendGroupMessage(made.id, 'hello all', []));
      await drive(bob.session.sendGroupMessage(made.id, 'hi @carol', ['carol']));
      await drive(carol.session.sendGroupMessage(made.id, 'hey', []));
      await elapse(3_000);
      assert.deepEqual(texts(groupMessages(alice)).sort(), ['hey', 'hi @carol']);
      assert.deepEqual(texts(groupMessages(bob)).sort(), ['hello all', 'hey']);
      assert.deepEqual(groupMessages(carol).find((m) => m.from === 'bob')?.mentions, ['carol']);
      // One display order on every device, kept in each device's groups file.
      const orders = [alice, bob, carol].map((u) => texts(u.session.groupMessages(made.id, 10)));
      assert.deepEqual(orders[1], orders[0]);
      assert.deepEqual(orders[2], orders[0]);
      assert.equal(orders[0]!.length, 3);

      // Bob's read mark reaches the others.
      await drive(bob.session.groupAction(made.id, 'read'));
      await elapse(2_000);
      assert.ok(Number(alice.session.groups()[0]!.readMarks.bob) >= 1);

      // Carol signs out (her device goes offline); what is said meanwhile waits for her, sealed.
      await drive(carol.session.close());
      await elapse(2_000);
      await drive(alice.session.sendGroupMessage(made.id, 'while carol was away', []));
      await elapse(12_000);
      const carolBack = await world.online('carol', { login: 'again' });
      await elapse(3_000);
      // Fetched as the device starts (before the test listens), kept in its file, and not shown
      // again when the live copy comes too.
      assert.deepEqual(texts(carolBack.session.groupMessages(made.id, 50)), [...orders[0]!, 'while carol was away']);
      assert.ok(!texts(groupMessages(carolBack)).includes('while carol was away'), 'shown once');

      // Alice removes carol; what follows reaches bob, not carol.
      await drive(alice.session.groupAction(made.id, 'remove', 'carol'));
      await elapse(3_000);
      assert.equal(carolBack.session.groups()[0]!.active, false);
      await drive(alice.session.sendGroupMessage(made.id, 'after carol', []));
      await elapse(12_000);
      assert.equal(texts(groupMessages(bob)).at(-1), 'after carol');
      assert.ok(!texts(groupMessages(carolBack)).includes('after carol'));
      assert.ok(!carolBack.session.groupMessages(made.id, 50).some((m) => m.text === 'after carol'));
    } finally {
      await world.close();
    }
  }));
