// Devices on a dual-stack supernode, on real sockets (the virtual network is IPv4 only): the
// device core learns where its supernode's STUN answers over IPv6 (with its TURN credentials),
// finds its own IPv6 address toward it, gathers IPv6 candidates beside the IPv4 ones and two
// such devices connect over an IPv6 pair (RFC 8421: IPv6 first); relay-only devices allocate an
// IPv6 relay beside the IPv4 one and connect relay to relay over IPv6. On ::1 always, and on this
// machine's unique-local or global IPv6 address when it has one. A supernode without IPv6 (or
// one older than the field) leaves devices IPv4 only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatHistory } from '../../src/chat/history.js';
import { isUsableIpv6 } from '../../src/client/ipv6-address.js';
import { DEFAULT_STATUS, type OwnStatus } from '../../src/client/own-status.js';
import { startDevice, type Device, type DeviceStore } from '../../src/client/device.js';
import type { Connection } from '../../src/client/connector.js';
import type { NetworkDescriptor } from '../../src/crypto/descriptor.js';
import { SeededRandom } from '../../src/env/prng.js';
import { realEnv } from '../../src/env/real.js';
import { HostCache } from '../../src/overlay/host-cache.js';
import { startSupernode, type RunningSupernode } from '../../src/supernode/supernode.js';
import { Role } from '../../src/wire/messages.js';
import { testNetwork, type TestNetwork } from '../support/identities.js';
import { testSeed, withSeed } from '../support/seed.js';

const CONNECT_TIMEOUT_MS = 15_000;

/** A supernode on 127.0.0.1 (links are IPv4), with STUN/TURN on `ipv6` too when given: its UDP port number must be free on both families, hence a few tries. */
async function supernodeOn(net: TestNetwork, issuedAtMs: number, ipv6: string | null, publicHost6?: string): Promise<{ supernode: RunningSupernode; dhKey: Uint8Array }> {
  const identity = net.identity('', { role: Role.SUPERNODE, issuedAtMs });
  for (let attempt = 1; ; attempt++) {
    const supernode = await startSupernode(realEnv, { identity, verifier: net.verifier, host: '127.0.0.1', port: 0, log: () => {}, ...(ipv6 ? { stun: { ipv6: { host: ipv6, ...(publicHost6 ? { publicHost: publicHost6 } : {}) } } } : {}) });
    if (supernode.stun && (!ipv6 || supernode.stun.primary6)) return { supernode, dhKey: identity.dh.publicKey };
    supernode.close();
    if (attempt >= 5) throw new Error(`no port free for STUN on 127.0.0.1 and ${ipv6 ?? 'IPv4 only'}`);
  }
}

/** What the device keeps, in memory. */
function memoryStore(): DeviceStore {
  let status: OwnStatus = DEFAULT_STATUS;
  const cache = new HostCache();
  return {
    loadHostCache: () => cache,
    saveHostCache: () => {},
    openHistory: () => ChatHistory.open(':memory:'),
    loadStatus: () => status,
    saveStatus: (next) => {
      status = next;
    },
  };
}

/** A device attached to `supernode`, taking connections from anyone; no login server here (its calls fail, and are counted). */
function deviceOn(net: TestNetwork, { supernode, dhKey }: { supernode: RunningSupernode; dhKey: Uint8Array }, username: string, issuedAtMs: number, relayOnly = false): Promise<Device> {
  const identity = net.identity(username, { issuedAtMs });
  const descriptor: NetworkDescriptor = {
    version: 1,
    name: 'ipv6-test',
    caPublicKey: net.ca.keyPair.publicKey,
    networkId: net.verifier.networkId,
    loginServerUrl: 'https://127.0.0.1:9',
    bootstrap: [{ host: '127.0.0.1', port: supernode.port, dhKey }],
  };
  return startDevice(realEnv, {
    account: {
      username,
      identity: async () => identity,
      call: async () => {
        throw new Error('no login server in this test');
      },
    },
    descriptor,
    store: memoryStore(),
    policy: { callsFrom: 'anyone', readReceipts: false, ...(relayOnly ? { relayOnly } : {}) },
    attach: 'once',
  });
}

/** Two devices on a dual-stack supernode whose IPv6 address is `host6` connect over IPv6. */
async function connectOverIpv6(seed: number, host6: string): Promise<void> {
  const net = testNetwork(new SeededRandom(seed));
  // Real time: certificates issued a second ago.
  const issuedAtMs = Date.now() - 1_000;
  const devices: Device[] = [];
  const connections: Connection[] = [];
  const running = await supernodeOn(net, issuedAtMs, host6);
  const { supernode } = running;
  try {
    const alice = await deviceOn(net, running, 'alice', issuedAtMs);
    devices.push(alice);
    const bob = await deviceOn(net, running, 'bob', issuedAtMs);
    devices.push(bob);

    const local = await alice.localNetwork();
    assert.deepEqual(local.server6, { host: host6, port: supernode.stun!.primary.port }, 'the supernode told where its STUN answers over IPv6');
    assert.equal(local.localHost6, host6, 'the route toward the supernode leaves from this address');
    assert.equal(local.localHost, '127.0.0.1');

    const bobSide = new Promise<Connection>((resolve) => bob.connector.onConnection(resolve));
    const outcome = await alice.connector.connect('bob', bob.deviceKey, CONNECT_TIMEOUT_MS);
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
    const connection = outcome.connection;
    connections.push(connection);
    const theirs = await bobSide;
    connections.push(theirs);

    const offered = connection.agent.parameters.candidates.filter((c) => c.type === 'host').map((c) => c.address.host);
    assert.deepEqual(offered, ['127.0.0.1', host6], 'an IPv4 and an IPv6 host candidate');
    const [v4, v6] = connection.agent.parameters.candidates.filter((c) => c.type === 'host');
    assert.ok(v6!.priority > v4!.priority, 'IPv6 first (RFC 8421)');
    assert.equal(connection.path.kind, 'direct');
    assert.deepEqual([connection.path.local.address.host, connection.path.remote.address.host], [host6, host6], 'the IPv6 pair was chosen');
    assert.deepEqual([theirs.path.local.address, theirs.path.remote.address], [connection.path.remote.address, connection.path.local.address], 'both sides on the same pair');

    // Data over it, both ways (a first byte of 0-3 would be taken for STUN: RFC 7983).
    const got: string[] = [];
    const arrived = new Promise<void>((resolve) => {
      const take = (who: string) => (bytes: Uint8Array) => {
        got.push(`${who}:${new TextDecoder().decode(bytes)}`);
        if (got.length === 2) resolve();
      };
      connection.agent.onData(take('alice'));
      theirs.agent.onData(take('bob'));
    });
    connection.agent.send(new TextEncoder().encode('\x80ping'));
    theirs.agent.send(new TextEncoder().encode('\x80pong'));
    await arrived;
    assert.deepEqual(got.sort(), ['alice:\x80pong', 'bob:\x80ping']);
    assert.ok(supernode.stun!.server6!.answered >= 2, 'both devices asked STUN over IPv6');
  } finally {
    for (const connection of connections) await connection.agent.close();
    for (const device of devices) await device.close();
    supernode.close();
  }
}

test('two devices on a dual-stack supernode on ::1 learn its IPv6 STUN address, offer IPv6 candidates and connect over IPv6', { timeout: 60_000 }, () =>
  withSeed(testSeed(), (seed) => connectOverIpv6(seed, '::1')));

test('two relay-only devices on a dual-stack supernode each allocate an IPv4 and an IPv6 relay, and connect relay to relay over IPv6', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const net = testNetwork(new SeededRandom(seed));
    const issuedAtMs = Date.now() - 1_000;
    const devices: Device[] = [];
    const connections: Connection[] = [];
    const running = await supernodeOn(net, issuedAtMs, '::1');
    const { supernode } = running;
    try {
      const alice = await deviceOn(net, running, 'alice', issuedAtMs, true);
      devices.push(alice);
      const bob = await deviceOn(net, running, 'bob', issuedAtMs, true);
      devices.push(bob);
      const ipv6Before = supernode.stun!.turn.ipv6AllocationsCreated;
      const bobSide = new Promise<Connection>((resolve) => bob.connector.onConnection(resolve));
      const outcome = await alice.connector.connect('bob', bob.deviceKey, CONNECT_TIMEOUT_MS);
      assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
      const connection = outcome.connection;
      connections.push(connection);
      const theirs = await bobSide;
      connections.push(theirs);
      for (const side of [connection, theirs]) {
        const offered = side.agent.parameters.candidates;
        assert.deepEqual(offered.map((c) => c.type), ['relay', 'relay'], 'relayed candidates only: no address of the device is offered');
        assert.deepEqual(offered.map((c) => c.address.host).sort(), ['127.0.0.1', '::1'], 'one relay per family');
        const [v4, v6] = ['127.0.0.1', '::1'].map((host) => offered.find((c) => c.address.host === host)!);
        assert.ok(v6!.priority > v4!.priority, 'the IPv6 relay first (RFC 8421)');
      }
      assert.equal(supernode.stun!.turn.ipv6AllocationsCreated - ipv6Before, 2, 'each device allocated an IPv6 relay');
      assert.equal(connection.path.kind, 'relayed-udp');
      assert.deepEqual([connection.path.local.type, connection.path.remote.type], ['relay', 'relay']);
      assert.deepEqual([connection.path.local.address.host, connection.path.remote.address.host], ['::1', '::1'], 'the IPv6 relays were chosen');
      const got: string[] = [];
      const arrived = new Promise<void>((resolve) => {
        const take = (who: string) => (bytes: Uint8Array) => {
          got.push(`${who}:${new TextDecoder().decode(bytes)}`);
          if (got.length === 2) resolve();
        };
        connection.agent.onData(take('alice'));
        theirs.agent.onData(take('bob'));
      });
      connection.agent.send(new TextEncoder().encode('\x80ping'));
      theirs.agent.send(new TextEncoder().encode('\x80pong'));
      await arrived;
      assert.deepEqual(got.sort(), ['alice:\x80pong', 'bob:\x80ping']);
      assert.ok(supernode.stun!.turn.relayed.toPeers >= 2, 'through the relays');
    } finally {
      for (const connection of connections) await connection.agent.close();
      for (const device of devices) await device.close();
      supernode.close();
    }
  }));

/** What a device attached to a supernode with these IPv6 settings brings to a connection. */
async function localNetworkOn(seed: number, ipv6: string | null, publicHost6?: string) {
  const net = testNetwork(new SeededRandom(seed));
  const issuedAtMs = Date.now() - 1_000;
  const running = await supernodeOn(net, issuedAtMs, ipv6, publicHost6);
  const devices: Device[] = [];
  try {
    const alice = await deviceOn(net, running, 'alice', issuedAtMs);
    devices.push(alice);
    return { local: await alice.localNetwork(), credentials: await alice.client.turnCredentials(), stunPort: running.supernode.stun!.primary.port };
  } finally {
    for (const device of devices) await device.close();
    running.supernode.close();
  }
}

test('a supernode without IPv6 (as one older than the field) leaves its devices IPv4 only', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const { local, stunPort } = await localNetworkOn(seed, null);
    assert.deepEqual(local.server, { host: '127.0.0.1', port: stunPort });
    assert.ok(local.turn, 'TURN credentials came');
    assert.equal(local.server6, undefined);
    assert.equal(local.localHost6, undefined);
  }));

test('an IPv6 address a device cannot use (link-local: no zone on the wire) is not taken from the supernode', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const { local, credentials } = await localNetworkOn(seed, '::1', 'fe80::1');
    assert.ok(local.turn, 'TURN credentials came');
    assert.equal(credentials?.server6, undefined, 'the attachment refused it');
    assert.equal(local.server6, undefined);
    assert.equal(local.localHost6, undefined);
  }));

test('only a plain IPv6 unicast address serves as an IPv6 host candidate or STUN server', () => {
  for (const good of ['::1', 'fd00::2', '2001:db8::12', '2a01:4f8::1']) assert.ok(isUsableIpv6(good), good);
  for (const bad of ['', '::', '127.0.0.1', '::ffff:192.0.2.1', 'fe80::1', 'fe80::1%eth0', 'ff02::1', 'example.org', '2001:db8::1::2']) assert.ok(!isUsableIpv6(bad), bad);
});
