// Issue 19, same class as item 4 (work dearer than the request, without a rate limit): a client
// may ask its supernode for LOOKUPS_PER_SECOND lookups, but ROUTES_PER_SECOND routed messages,
// and a route to a user the supernode holds no record of is a lookup through the overlay all
// the same (a request to each of several supernodes per hop). Routing to made-up names was 40
// times the lookup budget. Now such a route spends a lookup; routes to users found lately (the
// chat looks its recipients up first) do not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AttachedClient } from '../../src/client/attachment.js';
import { HostCache } from '../../src/overlay/host-cache.js';
import { LOOKUP_BURST, LOOKUPS_PER_SECOND } from '../../src/supernode/attachments.js';
import { RouteFailure } from '../../src/wire/messages.js';
import { testSeed, withSeed } from '../support/seed.js';
import { overlayWorld } from '../support/supernodes.js';

const ROUTES = 200;
const BATCH = 20;

test(`${ROUTES} routes to made-up names cost the overlay at most ${LOOKUP_BURST} lookups; routes to a user just looked up still go`, () =>
  withSeed(testSeed(), async (seed) => {
    const world = await overlayWorld(seed, 6, { link: () => ({ latencyMs: 5 }) });
    const { drive, elapse, net, network, supernodes } = world;
    const clients: AttachedClient[] = [];
    try {
      const attach = async (user: string) => {
        const identity = net.identity(user);
        const client = new AttachedClient(network.addHost({ link: { latencyMs: 5 } }).env(), { identity, verifier: net.verifier, username: user, hostCache: new HostCache(), bootstrap: [supernodes[0]!.ref] });
        clients.push(client);
        await drive(client.start());
        return client;
      };
      const bob = await attach('bob');
      const mallory = await attach('mallory');
      await elapse(2_000);
      const home = supernodes.find((s) => s.running.attachments.sessionsOf('mallory').length > 0) ?? supernodes[0]!;
      const lookups = () => {
        const c = home.running.dht.counters.presenceLookups;
        return c.found + c.not_found;
      };
      const before = lookups();
      const startedMs = world.scheduler.now();
      // As fast as the link lets one client ask (a bounded number of requests in flight).
      const outcomes = [];
      for (let i = 0; i < ROUTES; i += BATCH) outcomes.push(...(await drive(Promise.all(Array.from({ length: BATCH }, (_, j) => mallory.route(`nobody${i + j}`, new Uint8Array([1, 2, 3])))))));
      const seconds = (world.scheduler.now() - startedMs) / 1000;
      const rateLimited = outcomes.filter((o) => 'failure' in o && o.failure === RouteFailure.RATE_LIMITED).length;
      const made = lookups() - before;
      const allowed = LOOKUP_BURST + Math.ceil(LOOKUPS_PER_SECOND * seconds);
      assert.ok(made <= allowed, `${made} lookups through the overlay for ${ROUTES} routes in ${seconds} s (at most ${allowed})`);
      assert.equal(rateLimited, ROUTES - made);
      // A route to a user looked up first costs no second lookup, with the lookup budget spent or not.
      await elapse(4_000);
      const found = await drive(mallory.find('bob'));
      assert.equal(found.length, 1);
      const routed = await drive(mallory.route('bob', new Uint8Array([4, 5, 6])));
      assert.ok('deliveries' in routed, `route to bob: ${JSON.stringify(routed)}`);
      void bob;
    } finally {
      for (const c of clients) c.close();
      for (const s of supernodes) s.running.close();
    }
  }));
