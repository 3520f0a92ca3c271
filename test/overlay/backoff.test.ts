// Coming back to the overlay after losing it: pauses grow, are capped, and are jittered; a
// supernode whose seeds were all down when it joined joins again once one is up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jitteredBackoffMs } from '../../src/util/backoff.js';
import { REJOIN_MAX_MS } from '../../src/supernode/dht.js';
import { Role } from '../../src/crypto/certificate.js';
import { SeededRandom } from '../../src/env/prng.js';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { startSupernode, type RunningSupernode } from '../../src/supernode/supernode.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';
import { testSeed, withSeed } from '../support/seed.js';

test('backoff pauses lie in the upper half of a doubling, capped step, and differ between nodes', () =>
  withSeed(testSeed(), (seed) => {
    const random = new SeededRandom(seed);
    for (let attempt = 0; attempt < 12; attempt++) {
      const stepMs = Math.min(30_000, 1_000 * 2 ** attempt);
      const pauses = Array.from({ length: 50 }, () => jitteredBackoffMs(attempt, 1_000, 30_000, random));
      for (const p of pauses) assert.ok(p >= stepMs / 2 && p <= stepMs, `attempt ${attempt}: ${p} ms outside [${stepMs / 2}, ${stepMs}]`);
      // Fifty nodes retrying together do not retry at the same instant.
      assert.ok(new Set(pauses).size > 40, `attempt ${attempt}: only ${new Set(pauses).size} distinct pauses`);
    }
  }));

test('a supernode whose seed was down when it joined joins again, with growing pauses, once the seed is up', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const net = testNetwork(new SeededRandom(seed));
    const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
    const elapse = (ms: number) => network.scheduler.drive(new Promise<void>((resolve) => network.scheduler.after(ms, resolve)));
    const seedHost = network.addHost();
    const seedIdentity = net.identity('', { role: Role.SUPERNODE });
    const running: RunningSupernode[] = [];
    try {
      const late = await startSupernode(network.addHost().env(), { identity: net.identity('', { role: Role.SUPERNODE }), verifier: net.verifier, port: 33033, stun: false });
      running.push(late);
      await network.scheduler.drive(late.join([{ host: seedHost.addressText, port: 33033, dhKey: seedIdentity.dh.publicKey }]));
      assert.ok(!late.dht.table.hasLive, 'the seed was not there (it failed to answer: a suspect, not handed out)');
      // A few pauses pass with nobody there: it keeps trying, not in a tight loop.
      await elapse(20_000);
      const triesWhileDown = late.dht.rejoins;
      assert.ok(triesWhileDown >= 2 && triesWhileDown <= 6, `${triesWhileDown} rejoins in 20 s`);
      running.push(await startSupernode(seedHost.env(), { identity: seedIdentity, verifier: net.verifier, port: 33033, stun: false }));
      await elapse(REJOIN_MAX_MS + 5_000);
      assert.equal(late.dht.table.size, 1, 'it found the seed once the seed was up');
      const triesAfter = late.dht.rejoins;
      await elapse(5 * REJOIN_MAX_MS);
      assert.equal(late.dht.rejoins, triesAfter, 'no more rejoins once it is in the overlay');
    } finally {
      for (const s of running) s.close();
    }
  }));
