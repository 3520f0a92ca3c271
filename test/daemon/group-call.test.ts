// A group call: from a group of three users who are not each other's buddies, one member starts
// a call (a conference with the group's other members invited); the other two are invited as a
// fellow member's guests, join, and all three end up in one conference with one mixer. A user
// outside the group is not invited, and a group call from a group one has left is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConferenceView } from '../../src/daemon/api-types.js';
import { GroupError } from '../../src/groups/group-client.js';
import { testSeed, withSeed } from '../support/seed.js';
import { deviceWorld } from '../support/device-world.js';

test('a group call: the group\'s three members (strangers to each other) end up in one conference with one mixer; an outsider is not invited', { timeout: 180_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const world = await deviceWorld(seed);
    const { drive, elapse } = world;
    try {
      const alice = await world.online('alice');
      const bob = await world.online('bob');
      const carol = await world.online('carol');
      const dave = await world.online('dave');
      await elapse(2_000);
      const made = await drive(alice.session.createGroup('climbers', ['bob', 'carol']));
      await elapse(3_000);
      for (const user of [bob, carol]) assert.equal(user.session.groups().length, 1, `${user.name} was welcomed`);

      // Bob, not the admin, starts the call.
      const hosted = await drive(bob.session.startGroupCall(made.id));
      await elapse(2_000);
      for (const user of [alice, carol]) assert.equal(user.session.conferences().find((c) => c.id === hosted.id)?.state, 'invited', `${user.name} is invited`);
      assert.equal(dave.session.conferences().length, 0, 'dave, outside the group, is not invited');
      for (const user of [alice, carol]) await drive(user.session.conferenceAction(hosted.id, 'join'));
      await elapse(4_000);

      const views = [alice, bob, carol].map((u) => u.session.conferences().find((c) => c.id === hosted.id) as ConferenceView);
      const mixers = new Set<string>();
      for (const view of views) {
        assert.equal(view.state, 'active');
        assert.deepEqual(view.roster.map((r) => r.user).sort(), ['alice', 'bob', 'carol']);
        const mixing = view.roster.filter((r) => r.mixer);
        assert.equal(mixing.length, 1, 'one mixer in each member\'s roster');
        mixers.add(mixing[0]!.user);
      }
      assert.equal(mixers.size, 1, `every member has the same mixer: ${[...mixers].join(', ')}`);

      // Carol leaves the group: she can no longer start a call from it.
      await drive(carol.session.groupAction(made.id, 'leave'));
      await assert.rejects(drive(carol.session.startGroupCall(made.id)), (error: unknown) => error instanceof GroupError && error.code === 'not_member');
      await assert.rejects(drive(dave.session.startGroupCall(made.id)), (error: unknown) => error instanceof GroupError && error.code === 'unknown_group');
      await drive(bob.session.conferenceAction(hosted.id, 'leave'));
      await elapse(2_000);
    } finally {
      await world.close();
    }
  }));
