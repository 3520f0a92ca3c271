import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { SeededRandom } from '../../src/env/prng.js';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { connectSecure } from '../../src/crypto/secure-link.js';
import { startSupernode } from '../../src/supernode/supernode.js';
import { FindPresenceSchema, PingSchema, PongSchema, Role, TurnCredentialsRequestSchema, type Envelope } from '../../src/wire/messages.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';
import { testSeed, withSeed } from '../support/seed.js';

test('a link that has not attached gets no answer to requests for attached devices, and what a client never sends is ignored; both are counted', () =>
  withSeed(testSeed(), async (seed) => {
    const net = testNetwork(new SeededRandom(seed));
    const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
    const host = network.addHost();
    const identity = net.identity('', { role: Role.SUPERNODE });
    const supernode = await startSupernode(host.env(), { identity, verifier: net.verifier, port: 33033, stun: false });
    try {
      const run = async () => {
        const link = await connectSecure(network.addHost().env(), { host: host.addressText, port: 33033, config: net.config(net.identity('a'), { remoteStaticKey: identity.dh.publicKey }) });
        try {
          const heard: Array<Envelope['body']['case']> = [];
          const pong = new Promise<void>((resolve) =>
            link.onMessage((e) => {
              heard.push(e.body.case);
              if (e.body.case === 'pong') resolve();
            }),
          );
          link.send({ case: 'findPresence', value: create(FindPresenceSchema, { requestId: 1n, username: 'b' }) });
          link.send({ case: 'turnCredentialsRequest', value: create(TurnCredentialsRequestSchema, { requestId: 2n }) });
          link.send({ case: 'pong', value: create(PongSchema, { nonce: 3n }) });
          // The link is ordered: the answer to the ping comes after the three were handled.
          link.send({ case: 'ping', value: create(PingSchema, { nonce: 4n }) });
          await pong;
          return heard;
        } finally {
          link.close();
        }
      };
      const heard = await network.scheduler.drive(run());
      assert.deepEqual(heard, ['pong']);
      assert.deepEqual(supernode.counters.requestsIgnored, { unknownKind: 1, notAttached: 2 });
      assert.deepEqual(supernode.counters.rateLimited, { lookup: 0, route: 0, reachability: 0 });
    } finally {
      supernode.close();
    }
  }));
