// Links between supernodes that carry nothing are closed: the links a join's lookups opened do
// not stay for ever (they were most of a supernode's heap), and lookups open them again when
// needed. A seeded virtual network.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testSeed, withSeed } from '../support/seed.js';
import { overlayWorld } from '../support/supernodes.js';
import { PEER_LINK_IDLE_MS } from '../../src/supernode/dht.js';
import { userKey } from '../../src/overlay/node-id.js';

test('idle links between supernodes are closed; neighbours stay linked, and a lookup links again', { timeout: 120_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const w = await overlayWorld(seed, 16, { link: () => ({ latencyMs: 10 }) });
    try {
      const links = () => w.supernodes.map((s) => s.running.dht.peerLinkCount);
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      const afterJoin = sum(links());
      await w.elapse(PEER_LINK_IDLE_MS + 60_000);
      const later = links();
      assert.ok(sum(later) < afterJoin, `idle links closed: ${afterJoin} after the joins, ${sum(later)} later`);
      // Each probes its 8 nearest every 30 s: those links carry traffic and stay.
      for (const [i, n] of later.entries()) assert.ok(n >= 8, `supernode ${i} still linked to its neighbours (${n})`);
      const asker = w.supernodes[0]!.running.dht;
      const before = asker.peerLinkCount;
      const closest = await w.drive(asker.findNodes(userKey('someone')));
      assert.equal(closest.filter((c) => !asker.isSelf(c.dhKey)).length, 15, 'a lookup still reaches every other supernode');
      assert.ok(asker.peerLinkCount >= before, 'and links again where it needs to');
    } finally {
      for (const s of w.supernodes) s.running.close();
    }
  }));
