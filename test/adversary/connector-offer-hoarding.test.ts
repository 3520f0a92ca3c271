// Issue 19, same class as items 11-12 (one peer hoarding a shared limit): a device answers at
// most MAX_ANSWERING connectivity offers at once, each holding a socket, a TURN allocation and
// its place for up to 10 s while the checks run. One buddy sending offers that lead nowhere
// held every place, again and again, and no other buddy could connect to the device: their
// calls rang without a path. Now one user holds at most MAX_ANSWERING_PER_USER places.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_ANSWERING, MAX_ANSWERING_PER_USER, offerOf } from '../../src/client/connector.js';
import { testSeed, withSeed } from '../support/seed.js';
import { overlayWorld } from '../support/supernodes.js';
import { device, shutDown } from '../support/devices.js';

test(`a buddy sending ${MAX_ANSWERING} offers that lead nowhere holds ${MAX_ANSWERING_PER_USER} of the device's places; another buddy still connects`, () =>
  withSeed(testSeed(), async (seed) => {
    const world = await overlayWorld(seed, 3, { link: () => ({ latencyMs: 5 }) });
    const { drive, elapse } = world;
    const alice = await device(world, 'alice', ['bob']);
    const bob = await device(world, 'bob', ['alice', 'mallory']);
    const mallory = await device(world, 'mallory', ['bob']);
    try {
      await elapse(1_000);
      // Offers whose only candidate is an address that never answers: bob's checks run their course.
      for (let i = 0; i < MAX_ANSWERING; i++) {
        const attemptId = new Uint8Array(16).fill(i + 1);
        void mallory.messenger.send('bob', [bob.identity.dh.publicKey], 'connectivity', offerOf(attemptId, false, { ufrag: `mal${i}x`, pwd: 'p'.repeat(24), candidates: [{ type: 'host', address: { host: '198.51.100.7', port: 9 }, priority: 1 }] }));
      }
      await elapse(1_000);
      const hoarded = bob.refusals.filter((r) => r === 'mallory: too many connections being set up with this user').length;
      assert.equal(hoarded, MAX_ANSWERING - MAX_ANSWERING_PER_USER, `bob's refusals: ${JSON.stringify(bob.refusals)}`);
      // While mallory's offers still hold their places, alice connects.
      const outcome = await drive(alice.connector.connect('bob', bob.identity.dh.publicKey));
      assert.ok(outcome.ok, outcome.ok ? '' : `alice could not connect: ${outcome.error}; bob's refusals: ${JSON.stringify(bob.refusals)}`);
      await elapse(500);
      assert.equal(bob.incoming.length, 1);
      await drive(Promise.all([outcome.connection.agent.close(), bob.incoming[0]!.agent.close()]));
      // Mallory's places come free once their checks gave up (10 s), and its offers are answered again.
      await elapse(12_000);
      const before = bob.refusals.length;
      void mallory.messenger.send('bob', [bob.identity.dh.publicKey], 'connectivity', offerOf(new Uint8Array(16).fill(99), false, { ufrag: 'mal99x', pwd: 'p'.repeat(24), candidates: [{ type: 'host', address: { host: '198.51.100.7', port: 9 }, priority: 1 }] }));
      await elapse(1_000);
      assert.equal(bob.refusals.length, before, 'answered, not refused');
      await elapse(12_000);
    } finally {
      shutDown(world, [alice, bob, mallory]);
    }
  }));
