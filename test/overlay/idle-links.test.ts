// Links between supernodes that carry nothing are closed unless they go to a contact of the
// routing table: the links a join's lookups opened to supernodes it keeps no contact of do not
// stay for ever (they were most of a supernode's heap), while links to its contacts stay warm
// for lookups (a hop over an open link is one round trip, over a new one three). A seeded
// virtual network.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testSeed, withSeed } from '../support/seed.js';
import { overlayWorld } from '../support/supernodes.js';
import { PEER_LINK_IDLE_MS } from '../../src/supernode/dht.js';
import { supernodeId, userKey } from '../../src/overlay/node-id.js';

test('an idle link to a supernode that is no routing-table contact closes; links to contacts stay warm; a lookup links again', { timeout: 120_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const w = await overlayWorld(seed, 16, { link: () => ({ latencyMs: 10 }) });
    try {
      const asker = w.supernodes[0]!.running.dht;
      const other = w.supernodes[5]!;
      const otherContact = { id: supernodeId(other.ref.dhKey), host: other.ref.host, port: other.ref.port, dhKey: other.ref.dhKey };
      await w.drive(asker.channelTo(otherContact));
      assert.ok(asker.isLinkedTo(other.ref.dhKey));
      // Neither keeps the other as a contact any more (as when a bucket replaced it).
      asker.table.remove(otherContact.id);
      other.running.dht.table.remove(asker.id);
      const linkedContacts = w.supernodes.map((s) => s.running.dht.table.all().filter((c) => s.running.dht.isLinkedTo(c.dhKey)));
      assert.ok(linkedContacts.every((linked) => linked.length >= 8), 'the joins linked each supernode to contacts of its table');
      await w.elapse(PEER_LINK_IDLE_MS + 60_000);
      assert.ok(!asker.isLinkedTo(other.ref.dhKey), 'the idle link to a non-contact closed');
      for (const [i, s] of w.supernodes.entries()) {
        for (const contact of linkedContacts[i]!) assert.ok(s.running.dht.isLinkedTo(contact.dhKey), `supernode ${i}: links to routing-table contacts stay open, idle or not`);
      }
      const closest = await w.drive(asker.findNodes(userKey('someone')));
      assert.equal(closest.filter((c) => !asker.isSelf(c.dhKey)).length, 15, 'a lookup still reaches every other supernode');
      assert.ok(asker.isLinkedTo(other.ref.dhKey), 'and links again where it needs to');
    } finally {
      for (const s of w.supernodes) s.running.close();
    }
  }));
