// Hostile peers (issue 19, item 11): the overlay must not connect wherever a user names. A
// presence record names its device's supernode by address and key; before, routing to that user
// made supernodes dial the address as given, so a record naming a victim's host:port turned
// every message to its user into connections there. Both ways in: a device attaching with such
// a record, and a supernode certificate holder (a promoted user's machine) storing one straight
// into the replicas. A seeded virtual network; the victim is a host that counts connections.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { AttachedClient } from '../../src/client/attachment.js';
import { connectSecure, type SecureLink } from '../../src/crypto/secure-link.js';
import { Role } from '../../src/crypto/certificate.js';
import { HostCache } from '../../src/overlay/host-cache.js';
import { createPresenceRecord } from '../../src/overlay/presence.js';
import { RpcChannel } from '../../src/overlay/rpc.js';
import { AttachRequestSchema, DeliveryOutcome, RouteFailure, StoreOutcome, StorePresenceSchema } from '../../src/wire/messages.js';
import type { TcpListener } from '../../src/env/types.js';
import { testSeed, withSeed } from '../support/seed.js';
import { overlayWorld } from '../support/supernodes.js';

const MESSAGES = 40;
const VICTIM_PORT = 80;

async function world(seed: number) {
  const w = await overlayWorld(seed, 6, { link: (i) => ({ latencyMs: 5 + i * 2 }) });
  const victim = w.network.addHost();
  let connections = 0;
  const listener: TcpListener = await victim.env().net.listenTcp({
    port: VICTIM_PORT,
    onConnection: (connection) => {
      connections++;
      connection.close();
    },
  });
  const alice = new AttachedClient(w.network.addHost().env(), { identity: w.net.identity('alice'), verifier: w.net.verifier, username: 'alice', hostCache: new HostCache(), bootstrap: [w.supernodes[1]!.ref] });
  await w.drive(alice.start());
  /** Routes `MESSAGES` messages to `to`, one after another, and returns what the last one said. */
  const routeMany = async (to: string) => {
    let last: Awaited<ReturnType<AttachedClient['route']>> | null = null;
    for (let i = 0; i < MESSAGES; i++) last = await w.drive(alice.route(to, new TextEncoder().encode(`hello ${i}`)));
    return last!;
  };
  return { ...w, victim, alice, listener, routeMany, victimConnections: () => connections };
}

test('a device whose record names a victim\'s address as its supernode makes no supernode connect there', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const w = await world(seed);
    const links: SecureLink[] = [];
    try {
      // Mallory attaches to supernode 0 with a record naming the victim (and a made-up key).
      const mallory = w.net.identity('mallory');
      const link = await w.drive(connectSecure(w.network.addHost().env(), { host: w.supernodes[0]!.ref.host, port: 33033, config: w.net.config(mallory, { remoteStaticKey: w.supernodes[0]!.ref.dhKey }) }));
      links.push(link);
      const answer = new Promise<string>((resolve) => link.onMessage((e) => resolve(e.body.case ?? '')));
      const record = createPresenceRecord(mallory, w.net.verifier.networkId, 'mallory', {
        supernodes: [{ host: w.victim.addressText, port: VICTIM_PORT, dhKey: w.random.bytes(32) }],
        candidates: [],
        sequence: 1,
        issuedAtMs: w.scheduler.wallTimeMs(),
      });
      link.send({ case: 'attachRequest', value: create(AttachRequestSchema, { presence: record }) });
      const answered = await w.drive(answer);
      await w.elapse(2_000);
      const last = await w.routeMany('mallory');
      assert.equal(w.victimConnections(), 0, 'no supernode connected to the address the record named');
      assert.equal(answered, 'attachRefused', 'a record must name the supernode it attaches to');
      // Mallory never attached, so she is offline; after 20 such routes, alice's lookup budget
      // (routes to users with no record spend it) answers RATE_LIMITED instead.
      assert.ok('failure' in last && [RouteFailure.OFFLINE, RouteFailure.RATE_LIMITED].includes(last.failure), JSON.stringify(last));
    } finally {
      for (const link of links) link.close();
      w.alice.close();
      w.listener.close();
      for (const s of w.supernodes) s.running.close();
    }
  }));

test('a record stored straight into the replicas by a supernode certificate holder, naming a victim, makes no supernode connect there', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const w = await world(seed);
    const links: SecureLink[] = [];
    try {
      const mallory = w.net.identity('mallory');
      const record = createPresenceRecord(mallory, w.net.verifier.networkId, 'mallory', {
        supernodes: [{ host: w.victim.addressText, port: VICTIM_PORT, dhKey: w.random.bytes(32) }],
        candidates: [],
        sequence: 1,
        issuedAtMs: w.scheduler.wallTimeMs(),
      });
      // A promoted machine of Mallory's: it holds a supernode certificate and speaks the overlay.
      const promoted = w.net.identity('', { role: Role.SUPERNODE });
      const host = w.network.addHost();
      for (const s of w.supernodes) {
        const link = await w.drive(connectSecure(host.env(), { host: s.ref.host, port: 33033, config: w.net.config(promoted, { remoteStaticKey: s.ref.dhKey }) }));
        links.push(link);
        const channel = new RpcChannel(link, host.env().clock, () => {});
        const stored = await w.drive(channel.request((requestId) => ({ case: 'storePresence', value: create(StorePresenceSchema, { requestId, record }) })));
        assert.ok(stored.body.case === 'stored' && stored.body.value.outcome === StoreOutcome.STORED, 'the replicas take the signed record (its signature is good)');
      }
      const lookupsBefore = w.supernodes[1]!.running.dht.counters.nodeLookups;
      const last = await w.routeMany('mallory');
      assert.ok('deliveries' in last);
      assert.deepEqual(last.deliveries.map((d) => d.outcome), [DeliveryOutcome.UNREACHABLE]);
      assert.equal(w.victimConnections(), 0, 'no supernode connected to the address the record named');
      // The made-up supernode key was looked up once and then held back, not once per message.
      const lookups = w.supernodes[1]!.running.dht.counters.nodeLookups - lookupsBefore;
      assert.ok(lookups <= 2, `${lookups} lookups for ${MESSAGES} messages`);
    } finally {
      for (const link of links) link.close();
      w.alice.close();
      w.listener.close();
      for (const s of w.supernodes) s.running.close();
    }
  }));
