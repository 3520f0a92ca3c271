// A supernode asked for a record it does not hold, by a lookup that allows it (may_forward),
// asks the user's closest supernodes it holds open links to, once, and answers with their
// records: the asker's lookup then costs two round trips over open links instead of a new link
// to a replica. It never dials for someone else, and never passes the request on further. A
// seeded virtual network.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { compareDistance, supernodeId, userKey } from '../../src/overlay/node-id.js';
import { createPresenceRecord, verifyPresenceRecord } from '../../src/overlay/presence.js';
import { FindPresenceSchema } from '../../src/wire/messages.js';
import { DEFAULT_REPLICATION } from '../../src/supernode/dht.js';
import { testSeed, withSeed } from '../support/seed.js';
import { overlayWorld, type TestSupernode } from '../support/supernodes.js';

test('a supernode without the record answers a forwardable lookup with its linked replicas\' records, and only then', { timeout: 120_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const w = await overlayWorld(seed, 12, { link: () => ({ latencyMs: 10 }) });
    try {
      const name = 'carol';
      const key = userKey(name);
      const byCloseness = [...w.supernodes].sort((a, b) => compareDistance(key, supernodeId(a.ref.dhKey), supernodeId(b.ref.dhKey)));
      const replicas = byCloseness.slice(0, DEFAULT_REPLICATION);
      const [forwarder, asker] = byCloseness.slice(DEFAULT_REPLICATION) as [TestSupernode, TestSupernode];
      const encoded = createPresenceRecord(w.net.identity(name), w.net.verifier.networkId, name, { supernodes: [replicas[0]!.ref], candidates: [], sequence: 1, issuedAtMs: w.scheduler.wallTimeMs() });
      const record = verifyPresenceRecord(encoded, w.net.verifier, w.scheduler.wallTimeMs());
      assert.ok(record.ok);
      assert.ok((await w.drive(replicas[0]!.running.dht.publish(record.value))) >= DEFAULT_REPLICATION - 1);
      assert.equal(forwarder.running.dht.store.get(name, w.scheduler.wallTimeMs()).length, 0, 'the forwarder holds no copy');

      const contactOf = (s: TestSupernode) => ({ id: supernodeId(s.ref.dhKey), host: s.ref.host, port: s.ref.port, dhKey: s.ref.dhKey });
      const channel = await w.drive(asker.running.dht.channelTo(contactOf(forwarder)));
      const ask = (mayForward: boolean) => w.drive(channel.request((requestId) => ({ case: 'findPresence', value: create(FindPresenceSchema, { requestId, username: name, mayForward }) })));

      const plain = await ask(false);
      assert.ok(plain.body.case === 'foundPresence');
      assert.equal(plain.body.value.records.length, 0, 'not allowed to forward: nodes only');
      assert.ok(plain.body.value.nodes.length > 0);

      // Linked to the closest replica: it asks it.
      await w.drive(forwarder.running.dht.channelTo(contactOf(replicas[0]!)));
      const forwarded = await ask(true);
      assert.ok(forwarded.body.case === 'foundPresence');
      assert.equal(forwarded.body.value.records.length, 1, 'the record, from a linked replica');
      assert.deepEqual(forwarded.body.value.records[0], encoded);
      assert.equal(forwarded.body.value.nodes.length, 0);

      // With no open link to any replica, it dials none: nodes only, and no new link.
      for (const r of replicas) forwarder.running.dht.forget(r.ref.dhKey);
      const linksBefore = forwarder.running.dht.peerLinkCount;
      const unlinked = await ask(true);
      assert.ok(unlinked.body.case === 'foundPresence');
      assert.equal(unlinked.body.value.records.length, 0);
      assert.equal(forwarder.running.dht.peerLinkCount, linksBefore, 'no dial on someone else\'s behalf');
      for (const r of replicas) assert.ok(!forwarder.running.dht.isLinkedTo(r.ref.dhKey));
    } finally {
      for (const s of w.supernodes) s.running.close();
    }
  }));
