// The connectivity matrix on the virtual network: every pair of places a device can be (public,
// full cone, address-restricted, port-restricted, symmetric, UDP-blocking firewall, web-only
// firewall, double NAT, same LAN) connects, data flows both ways, and the path chosen is the
// best one possible for the pair: a pair that relays when a direct path was possible fails.
// Devices behind the firewalls reach TURN over TCP (web-only: on port 443).
// Links: 5 ms per hop, so about 20-30 ms round trips between devices.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualNetwork, type Gateway } from '../../src/env/virtual/index.js';
import { startStunService } from '../../src/supernode/stun-service.js';
import { IceAgent } from '../../src/ice/ice-agent.js';
import { PLACEMENTS, place, HOP_MS, bestPath, type Placement } from '../support/nat-matrix.js';
import { testSeed, withSeed } from '../support/seed.js';

const PORT = 3478;

export async function connectPair(seed: number, a: Placement, b: Placement) {
  const network = new VirtualNetwork(seed);
  const drive = <T>(work: Promise<T>) => network.scheduler.drive(work, 120_000);
  const sn = network.addHost({ link: { latencyMs: HOP_MS } });
  const service = await drive(startStunService(sn.env(), { port: PORT, advertisedHost: sn.addressText, tcpPorts: [PORT, 443] }));
  let lan: Gateway | null = null;
  const shared = () => (lan ??= network.addGateway({ nat: 'port-restricted', link: { latencyMs: HOP_MS } }));
  const hosts = [place(network, a, shared), place(network, b, shared)];
  const server = { host: sn.addressText, port: PORT };
  const placements = [a, b];
  const [alice, bob] = await drive(
    Promise.all(
      hosts.map((h, i) =>
        IceAgent.gather(h.env(), {
          controlling: i === 0,
          server,
          turnCredentials: service.credentials(i === 0 ? 'alice' : 'bob', 'dev'),
          ...(placements[i] === 'web-only' ? { turnTcp: { host: sn.addressText, port: 443 } } : {}),
        }),
      ),
    ),
  );
  // Signalling: bob gets alice's offer, answers; alice gets the answer one signalling delay later.
  bob!.connect(alice!.parameters);
  network.scheduler.after(20, () => alice!.connect(bob!.parameters));
  const [pathA, pathB] = await drive(Promise.all([alice!.established(5_000), bob!.established(5_000)]));
  const got: string[] = [];
  alice!.onData((bytes) => got.push(`alice:${new TextDecoder().decode(bytes)}`));
  bob!.onData((bytes) => got.push(`bob:${new TextDecoder().decode(bytes)}`));
  alice!.send(new TextEncoder().encode('ping'));
  bob!.send(new TextEncoder().encode('pong'));
  await drive(new Promise<void>((resolve) => network.scheduler.after(200, resolve)));
  await drive(Promise.all([alice!.close(), bob!.close()]));
  return { pathA, pathB, got: got.sort(), network };
}

const pairs: [Placement, Placement][] = [];
for (let i = 0; i < PLACEMENTS.length; i++) for (let j = i; j < PLACEMENTS.length; j++) pairs.push([PLACEMENTS[i]!, PLACEMENTS[j]!]);

for (const [a, b] of pairs) {
  test(`matrix (virtual): ${a} ↔ ${b} connects on the best path (${bestPath(a, b)})`, () =>
    withSeed(testSeed(), async (seed) => {
      const { pathA, pathB, got } = await connectPair(seed, a, b);
      assert.ok(pathA && pathB, `no path: ${JSON.stringify({ pathA, pathB })}`);
      assert.equal(pathA.kind, bestPath(a, b), `alice's path: ${JSON.stringify(pathA)}`);
      assert.equal(pathB.kind, pathA.kind, 'both sides agree');
      assert.deepEqual(got, ['alice:pong', 'bob:ping']);
    }));
}

test('a path that dies mid-call falls back to the relay within seconds, and comes back when the direct path heals', () =>
  withSeed(testSeed(), async (seed) => {
    const network = new VirtualNetwork(seed);
    const drive = <T>(work: Promise<T>) => network.scheduler.drive(work, 120_000);
    const elapse = (ms: number) => drive(new Promise<void>((resolve) => network.scheduler.after(ms, resolve)));
    const sn = network.addHost({ link: { latencyMs: HOP_MS } });
    const service = await drive(startStunService(sn.env(), { port: PORT, advertisedHost: sn.addressText }));
    const aliceHost = network.addHost({ link: { latencyMs: HOP_MS } });
    const bobGateway = network.addGateway({ nat: 'full-cone', link: { latencyMs: HOP_MS } });
    const bobHost = network.addHost({ behind: bobGateway, link: { latencyMs: HOP_MS } });
    const server = { host: sn.addressText, port: PORT };
    const [alice, bob] = await drive(Promise.all([aliceHost, bobHost].map((h, i) => IceAgent.gather(h.env(), { controlling: i === 0, server, turnCredentials: service.credentials(`u${i}`, 'dev') }))));
    const paths: string[] = [];
    alice!.onPath((p) => paths.push(p.kind));
    bob!.connect(alice!.parameters);
    alice!.connect(bob!.parameters);
    assert.equal((await drive(alice!.established()))?.kind, 'direct');
    // A stream of packets both ways, 50 per second; count what bob gets per second.
    let received = 0;
    bob!.onData(() => received++);
    const stream = () => {
      alice!.send(new Uint8Array(100).fill(0x80)); // RTP-like: a first byte of 0-3 would be taken for STUN (RFC 7983)
      network.scheduler.after(20, stream);
    };
    stream();
    await elapse(1_000);
    assert.ok(received >= 45, `direct: ${received} packets in a second`);
    network.cuts.push({ a: aliceHost.addressText, b: bobGateway.addressText });
    await elapse(5_000);
    assert.deepEqual(paths, ['direct', 'relayed-udp'], 'fell back to the relay');
    received = 0;
    await elapse(1_000);
    assert.ok(received >= 45, `relayed: ${received} packets in a second`);
    network.cuts.length = 0;
    await elapse(6_000);
    assert.deepEqual(paths, ['direct', 'relayed-udp', 'direct'], 'back on the direct path once it works again');
    await drive(Promise.all([alice!.close(), bob!.close()]));
  }));
