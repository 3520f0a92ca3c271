// TURN on a supernode, on the virtual network: a client behind a NAT allocates, permits and
// binds, and relays both ways; what it did not permit stays out; quotas, lifetimes, bandwidth
// caps and forbidden peers are enforced and counted; any bytes are survived.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { startStunService } from '../../src/supernode/stun-service.js';
import { TurnClient } from '../../src/turn/turn-client.js';
import type { Endpoint, UdpSocket } from '../../src/env/types.js';
import { testSeed, withSeed } from '../support/seed.js';

const PORT = 3478;

async function world(seed: number, turnLimits = {}) {
  const network = new VirtualNetwork(seed);
  const sn = network.addHost({ link: { latencyMs: 5 } });
  const service = await network.scheduler.drive(startStunService(sn.env(), { port: PORT, advertisedHost: sn.addressText, turnLimits }));
  const drive = <T>(work: Promise<T>) => network.scheduler.drive(work);
  const elapse = (ms: number) => drive(new Promise<void>((resolve) => network.scheduler.after(ms, resolve)));
  const client = async (user = 'alice') => {
    const host = network.addHost({ behind: network.addGateway({ nat: 'symmetric' }), link: { latencyMs: 5 } });
    const env = host.env();
    const socket = await drive(env.net.bindUdp({ port: 0 }));
    const credentials = service.credentials(user, 'dev');
    const turn = new TurnClient(socket, env.clock, env.random, { host: sn.addressText, port: PORT }, credentials);
    const received: { peer: Endpoint; text: string }[] = [];
    turn.onData((peer, data) => received.push({ peer, text: new TextDecoder().decode(data) }));
    return { host, turn, received };
  };
  const peer = async () => {
    const host = network.addHost({ link: { latencyMs: 5 } });
    const socket = await drive(host.env().net.bindUdp({ port: 7000 }));
    const received: { from: Endpoint; text: string }[] = [];
    socket.onMessage((bytes, from) => received.push({ from, text: new TextDecoder().decode(bytes) }));
    return { host, socket, received, endpoint: { host: host.addressText, port: 7000 } };
  };
  return { network, service, drive, elapse, client, peer };
}

const text = (s: string) => new TextEncoder().encode(s);
const send = (socket: UdpSocket, to: Endpoint, s: string) => socket.send(text(s), to);

test('a client behind a symmetric NAT relays both ways through a supernode; only permitted peers get in', () =>
  withSeed(testSeed(), async (seed) => {
    const { service, drive, elapse, client, peer } = await world(seed);
    const alice = await client();
    const allocated = await drive(alice.turn.allocate());
    assert.ok(allocated.ok, JSON.stringify(allocated));
    const relayed = allocated.value.relayed;
    const bob = await peer();
    const mallory = await peer();
    assert.ok((await drive(alice.turn.permit([bob.endpoint]))).ok);
    send(bob.socket, relayed, 'hello alice');
    send(mallory.socket, relayed, 'let me in');
    await elapse(100);
    assert.deepEqual(alice.received, [{ peer: bob.endpoint, text: 'hello alice' }], 'the permitted peer only');
    assert.equal(service.turn.refused.get('no_permission'), 1);
    // By indication, then by channel; bob sees the relayed address as the sender.
    alice.turn.send(bob.endpoint, text('by indication'));
    assert.ok((await drive(alice.turn.bindChannel(bob.endpoint))).ok);
    alice.turn.send(bob.endpoint, text('by channel'));
    send(bob.socket, relayed, 'back by channel');
    await elapse(100);
    assert.deepEqual(bob.received, [
      { from: relayed, text: 'by indication' },
      { from: relayed, text: 'by channel' },
    ]);
    assert.equal(alice.received.at(-1)?.text, 'back by channel');
    await drive(alice.turn.close());
    assert.equal(service.turn.allocationCount, 0, 'released');
  }));

test('TURN limits: a user\'s allocation quota, lifetimes without refresh, a bandwidth cap, forbidden peers; any bytes are survived', () =>
  withSeed(testSeed(), async (seed) => {
    const { service, drive, elapse, client, peer } = await world(seed, { allocationsPerUser: 2, bytesPerSecondPerAllocation: 1_000 });
    const first = await client('carol');
    const second = await client('carol');
    const third = await client('carol');
    assert.ok((await drive(first.turn.allocate(600))).ok);
    assert.ok((await drive(second.turn.allocate(600))).ok);
    const refused = await drive(third.turn.allocate());
    assert.equal(refused.ok ? 0 : refused.error.status, 486, 'Allocation Quota Reached');
    // Forbidden peers: multicast and "this network".
    for (const bad of [{ host: '224.0.0.1', port: 9 }, { host: '0.0.0.0', port: 9 }]) {
      const answer = await drive(first.turn.permit([bad]));
      assert.equal(answer.ok ? 0 : answer.error.status, 403);
    }
    // 1 000 bytes per second: a burst of 20 × 100 bytes gets 10 through.
    const bob = await peer();
    assert.ok((await drive(first.turn.bindChannel(bob.endpoint))).ok);
    for (let i = 0; i < 20; i++) first.turn.send(bob.endpoint, new Uint8Array(100));
    await elapse(50);
    assert.equal(bob.received.length, 10);
    assert.ok((service.turn.refused.get('rate_limited') ?? 0) >= 10);
    // The second allocation is never refreshed by a closed client: it is gone after its lifetime.
    second.turn.allocated = null; // forget it without releasing
    await drive(second.turn.close());
    await elapse(601_000);
    assert.equal(service.turn.allocationCount, 1, 'the refreshed allocation stays, the abandoned one expired');
    // Random bytes at the TURN port cost nothing but counts.
    const noise = await peer();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        noise.socket.send(bytes, { host: service.primary.host, port: PORT });
      }),
      { numRuns: 500 },
    );
    await elapse(100);
    assert.equal(service.turn.allocationCount, 1);
  }));

test('behind a 1:1 NAT: the operator\'s public host is advertised for STUN and put in relayed addresses, and relay ports stay in the operator\'s range', () =>
  withSeed(testSeed(), async (seed) => {
    const network = new VirtualNetwork(seed);
    const sn = network.addHost({ link: { latencyMs: 5 } });
    const drive = <T>(work: Promise<T>) => network.scheduler.drive(work);
    const relayPorts = { min: 49_152, max: 49_159 };
    const service = await drive(
      startStunService(sn.env(), { host: sn.addressText, port: PORT, advertisedHost: sn.addressText, publicHost: '198.51.100.20', relayPublicHost: '198.51.100.21', relayPorts }),
    );
    try {
      assert.deepEqual(service.primary, { host: '198.51.100.20', port: PORT }, 'STUN answers name the public address, not the bound one');
      const host = network.addHost({ link: { latencyMs: 5 } });
      const clients: TurnClient[] = [];
      for (let i = 0; i < 3; i++) {
        const socket = await drive(host.env().net.bindUdp({ port: 0 }));
        const turn = new TurnClient(socket, host.env().clock, host.env().random, { host: sn.addressText, port: PORT }, service.credentials('erin', 'dev'));
        clients.push(turn);
        const allocated = await drive(turn.allocate());
        assert.ok(allocated.ok, JSON.stringify(allocated));
        assert.equal(allocated.value.relayed.host, '198.51.100.21');
        assert.ok(allocated.value.relayed.port >= relayPorts.min && allocated.value.relayed.port <= relayPorts.max, `port ${allocated.value.relayed.port}`);
      }
      for (const turn of clients) await drive(turn.close());
    } finally {
      service.close();
    }
  }));
