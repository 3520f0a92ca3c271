// The virtual NAT boxes against RFC 4787: mapping behaviour (section 4.1), filtering behaviour
// (section 5), mapping refresh and timeout (4.3), hairpinning (6), and the firewalls.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Endpoint, UdpSocket } from '../../src/env/types.js';
import { NAT_CLASSES, VirtualNetwork, type NatClass } from '../../src/env/virtual/index.js';
import type { NatBehaviour } from '../../src/env/virtual/nat.js';
import { testSeed, withSeed } from '../support/seed.js';

interface Received {
  bytes: Uint8Array;
  from: Endpoint;
}

/** Records every datagram a socket receives. */
function record(socket: UdpSocket): Received[] {
  const log: Received[] = [];
  socket.onMessage((bytes, from) => log.push({ bytes, from }));
  return log;
}

const SERVER_PORT_1 = 3478;
const SERVER_PORT_2 = 3479;

async function natScenario(nat: NatClass | NatBehaviour, options: { hairpinning?: boolean } = {}) {
  const network = new VirtualNetwork(testSeed());
  const gateway = network.addGateway({ nat, natOverrides: { hairpinning: options.hairpinning ?? true } });
  const client = network.addHost({ behind: gateway });
  const server1 = network.addHost();
  const server2 = network.addHost();
  const c = await client.net.bindUdp({ port: 5000 });
  const s1a = await server1.net.bindUdp({ port: SERVER_PORT_1 });
  const s1b = await server1.net.bindUdp({ port: SERVER_PORT_2 });
  const s2a = await server2.net.bindUdp({ port: SERVER_PORT_1 });
  const logs = { c: record(c), s1a: record(s1a), s1b: record(s1b), s2a: record(s2a) };
  const settle = () => network.scheduler.runFor(1_000);
  return { network, gateway, client, server1, server2, c, s1a, s1b, s2a, logs, settle };
}

const mappingExpectations: Record<NatClass, { sameAcrossPorts: boolean; sameAcrossAddresses: boolean }> = {
  'full-cone': { sameAcrossPorts: true, sameAcrossAddresses: true },
  'address-restricted': { sameAcrossPorts: true, sameAcrossAddresses: true },
  'port-restricted': { sameAcrossPorts: true, sameAcrossAddresses: true },
  symmetric: { sameAcrossPorts: false, sameAcrossAddresses: false },
};

const filteringExpectations: Record<NatClass, { samePortAllowed: boolean; otherPortAllowed: boolean; otherAddressAllowed: boolean }> = {
  'full-cone': { samePortAllowed: true, otherPortAllowed: true, otherAddressAllowed: true },
  'address-restricted': { samePortAllowed: true, otherPortAllowed: true, otherAddressAllowed: false },
  'port-restricted': { samePortAllowed: true, otherPortAllowed: false, otherAddressAllowed: false },
  symmetric: { samePortAllowed: true, otherPortAllowed: false, otherAddressAllowed: false },
};

for (const natClass of Object.keys(NAT_CLASSES) as NatClass[]) {
  test(`${natClass}: mapping behaviour (RFC 4787 4.1)`, () =>
    withSeed(testSeed(), async () => {
      const s = await natScenario(natClass);
      s.c.send(new Uint8Array([1]), { host: s.server1.addressText, port: SERVER_PORT_1 });
      s.c.send(new Uint8Array([2]), { host: s.server1.addressText, port: SERVER_PORT_2 });
      s.c.send(new Uint8Array([3]), { host: s.server2.addressText, port: SERVER_PORT_1 });
      s.settle();
      const seen1 = s.logs.s1a[0]!.from;
      const seen2 = s.logs.s1b[0]!.from;
      const seen3 = s.logs.s2a[0]!.from;
      for (const seen of [seen1, seen2, seen3]) assert.equal(seen.host, s.gateway.addressText, 'translated to the NAT address');
      const expected = mappingExpectations[natClass];
      assert.equal(seen1.port === seen2.port, expected.sameAcrossPorts, 'same mapping for another port of the same address');
      assert.equal(seen1.port === seen3.port, expected.sameAcrossAddresses, 'same mapping for another address');
    }));

  test(`${natClass}: filtering behaviour (RFC 4787 5)`, () =>
    withSeed(testSeed(), async () => {
      const s = await natScenario(natClass);
      s.c.send(new Uint8Array([1]), { host: s.server1.addressText, port: SERVER_PORT_1 });
      s.settle();
      const mapped = s.logs.s1a[0]!.from;
      s.s1a.send(new Uint8Array([10]), mapped);
      s.s1b.send(new Uint8Array([11]), mapped);
      s.s2a.send(new Uint8Array([12]), mapped);
      s.settle();
      const got = new Set(s.logs.c.map((r) => r.bytes[0]));
      const expected = filteringExpectations[natClass];
      assert.equal(got.has(10), expected.samePortAllowed, 'reply from the endpoint it sent to');
      assert.equal(got.has(11), expected.otherPortAllowed, 'from another port of that address');
      assert.equal(got.has(12), expected.otherAddressAllowed, 'from another address');
      // What arrives shows the true remote endpoint, not a translated one.
      for (const r of s.logs.c) assert.notEqual(r.from.host, s.gateway.addressText);
    }));
}

test('mapping expires after the idle timeout and is kept alive by outbound refreshes (RFC 4787 4.3)', () =>
  withSeed(testSeed(), async () => {
    const s = await natScenario({ ...NAT_CLASSES['port-restricted'], udpMappingTimeoutMs: 30_000 });
    const to = { host: s.server1.addressText, port: SERVER_PORT_1 };
    s.c.send(new Uint8Array([1]), to);
    s.settle();
    const mapped = s.logs.s1a[0]!.from;
    // Refresh every 20 s for a minute: the mapping survives.
    for (let i = 0; i < 3; i++) {
      s.network.scheduler.runFor(20_000);
      s.c.send(new Uint8Array([2]), to);
    }
    s.settle();
    s.s1a.send(new Uint8Array([20]), mapped);
    s.settle();
    assert.deepEqual(s.logs.c.map((r) => r.bytes[0]), [20], 'refreshed mapping still lets the reply in');
    // Silence longer than the timeout: the mapping is gone.
    s.network.scheduler.runFor(31_000);
    s.s1a.send(new Uint8Array([21]), mapped);
    s.settle();
    assert.deepEqual(s.logs.c.map((r) => r.bytes[0]), [20], 'expired mapping drops the reply');
  }));

test('inbound traffic does not refresh a mapping unless the NAT is configured to', () =>
  withSeed(testSeed(), async () => {
    for (const inboundRefresh of [false, true]) {
      const s = await natScenario({ ...NAT_CLASSES['full-cone'], udpMappingTimeoutMs: 30_000, inboundRefresh });
      s.c.send(new Uint8Array([1]), { host: s.server1.addressText, port: SERVER_PORT_1 });
      s.settle();
      const mapped = s.logs.s1a[0]!.from;
      for (let i = 0; i < 4; i++) {
        s.network.scheduler.runFor(20_000);
        s.s1a.send(new Uint8Array([i]), mapped);
      }
      s.settle();
      // Sent at 21, 41, 61, 81 s after the only outbound packet at ~0 s.
      assert.equal(s.logs.c.length, inboundRefresh ? 4 : 1, `inboundRefresh=${inboundRefresh}`);
    }
  }));

test('symmetric NAT with sequential allocation gives consecutive ports (what port prediction relies on)', () =>
  withSeed(testSeed(), async () => {
    const s = await natScenario('symmetric');
    for (let port = 7000; port < 7004; port++) s.c.send(new Uint8Array([1]), { host: s.server1.addressText, port });
    const seen: number[] = [];
    for (let port = 7000; port < 7004; port++) {
      const socket = await s.server1.net.bindUdp({ port });
      socket.onMessage((_b, from) => seen.push(from.port));
    }
    s.settle();
    assert.equal(seen.length, 4);
    for (let i = 1; i < seen.length; i++) assert.equal(seen[i], seen[i - 1]! + 1);
  }));

for (const hairpinning of [true, false]) {
  test(`hairpinning ${hairpinning ? 'on' : 'off'}: clients behind one NAT reach each other's external endpoint or not (RFC 4787 6)`, () =>
    withSeed(testSeed(), async () => {
      const s = await natScenario('full-cone', { hairpinning });
      const other = s.network.addHost({ behind: s.gateway });
      const o = await other.net.bindUdp({ port: 6000 });
      const oLog = record(o);
      // Both learn their external endpoints from a server.
      s.c.send(new Uint8Array([1]), { host: s.server1.addressText, port: SERVER_PORT_1 });
      o.send(new Uint8Array([2]), { host: s.server1.addressText, port: SERVER_PORT_1 });
      s.settle();
      const cExternal = s.logs.s1a.find((r) => r.bytes[0] === 1)!.from;
      const oExternal = s.logs.s1a.find((r) => r.bytes[0] === 2)!.from;
      s.c.send(new Uint8Array([42]), oExternal);
      s.settle();
      if (hairpinning) {
        assert.equal(oLog.length, 1);
        assert.deepEqual(oLog[0]!.from, cExternal, 'the source is translated to the external endpoint (REQ-9)');
      } else {
        assert.equal(oLog.length, 0);
      }
    }));
}

test('UDP-blocked firewall drops all UDP but lets TCP out', () =>
  withSeed(testSeed(), async () => {
    const network = new VirtualNetwork(testSeed());
    const gateway = network.addGateway({ nat: 'port-restricted', firewall: 'udp-blocked' });
    const client = network.addHost({ behind: gateway });
    const server = network.addHost();
    const udp = record(await server.net.bindUdp({ port: 3478 }));
    (await client.net.bindUdp({ port: 0 })).send(new Uint8Array([1]), { host: server.addressText, port: 3478 });
    await server.net.listenTcp({ port: 5000, onConnection: () => {} });
    const connection = await network.scheduler.drive(client.net.connectTcp({ host: server.addressText, port: 5000 }));
    assert.equal(connection.remote.port, 5000);
    network.scheduler.runFor(1_000);
    assert.equal(udp.length, 0);
  }));

test('web-only firewall lets TCP out to 80 and 443 only, and no UDP', () =>
  withSeed(testSeed(), async () => {
    const network = new VirtualNetwork(testSeed());
    const gateway = network.addGateway({ nat: 'symmetric', firewall: 'web-only' });
    const client = network.addHost({ behind: gateway });
    const server = network.addHost();
    for (const port of [80, 443, 5000]) await server.net.listenTcp({ port, onConnection: () => {} });
    const udp = record(await server.net.bindUdp({ port: 443 }));
    (await client.net.bindUdp({ port: 0 })).send(new Uint8Array([1]), { host: server.addressText, port: 443 });
    for (const port of [80, 443]) {
      const c = await network.scheduler.drive(client.net.connectTcp({ host: server.addressText, port }));
      assert.equal(c.remote.port, port);
    }
    const blocked = network.scheduler.drive(client.net.connectTcp({ host: server.addressText, port: 5000, timeoutMs: 3_000 }));
    await assert.rejects(blocked, (error: Error & { code?: string }) => error.code === 'timeout');
    assert.equal(udp.length, 0);
  }));

test('TCP through a NAT: the server sees the NAT, and nobody outside can connect in', () =>
  withSeed(testSeed(), async () => {
    const network = new VirtualNetwork(testSeed());
    const gateway = network.addGateway({ nat: 'full-cone' });
    const client = network.addHost({ behind: gateway });
    const server = network.addHost();
    let seenFrom: Endpoint | undefined;
    await server.net.listenTcp({ port: 443, onConnection: (c) => (seenFrom = c.remote) });
    const connection = await network.scheduler.drive(client.net.connectTcp({ host: server.addressText, port: 443 }));
    assert.equal(seenFrom?.host, gateway.addressText);
    assert.notEqual(connection.local.host, gateway.addressText);
    await client.net.listenTcp({ port: 7000, onConnection: () => assert.fail('unsolicited connection got in') });
    const inbound = network.scheduler.drive(server.net.connectTcp({ host: gateway.addressText, port: 7000, timeoutMs: 2_000 }));
    await assert.rejects(inbound, (error: Error & { code?: string }) => error.code === 'timeout');
  }));

test('same seed, same run, event for event; another seed, another run', async () => {
  const trace = async (seed: number): Promise<string[]> => {
    const network = new VirtualNetwork(seed);
    const gateway = network.addGateway({ nat: 'port-restricted' });
    const client = network.addHost({ behind: gateway, link: { latencyMs: 20, jitterMs: 15, lossRate: 0.2 } });
    const server = network.addHost({ link: { latencyMs: 5, jitterMs: 5, bandwidthBps: 1_000_000 } });
    const c = await client.net.bindUdp({ port: 4000 });
    const s = await server.net.bindUdp({ port: 3478 });
    const log: string[] = [];
    s.onMessage((bytes, from) => {
      log.push(`${network.scheduler.now().toFixed(3)} ${bytes[0]} ${from.port}`);
      s.send(bytes, from);
    });
    c.onMessage((bytes) => log.push(`${network.scheduler.now().toFixed(3)} back ${bytes[0]}`));
    for (let i = 0; i < 50; i++) {
      network.scheduler.after(i * 10, () => c.send(new Uint8Array(200).fill(i), { host: server.addressText, port: 3478 }));
    }
    network.scheduler.runUntilIdle();
    return log;
  };
  const first = await trace(7);
  assert.ok(first.length > 20, 'the scenario delivers packets');
  assert.ok(first.length < 100, 'and loses some');
  assert.deepEqual(await trace(7), first);
  assert.notDeepEqual(await trace(8), first);
});

test('a NAT that forgets its mappings drops what comes in for them until its client sends again', () =>
  withSeed(testSeed(), async (seed) => {
    const network = new VirtualNetwork(seed);
    const gateway = network.addGateway({ nat: 'port-restricted' });
    const client = network.addHost({ behind: gateway });
    const server = network.addHost();
    const c = await client.net.bindUdp({ port: 4000 });
    const s = await server.net.bindUdp({ port: 3478 });
    let from: Endpoint | undefined;
    s.onMessage((_bytes, sender) => (from = sender));
    const received: number[] = [];
    c.onMessage((bytes) => received.push(bytes[0]!));
    c.send(Uint8Array.of(0), { host: server.addressText, port: 3478 });
    network.scheduler.runUntilIdle();
    s.send(Uint8Array.of(1), from!);
    network.scheduler.runUntilIdle();
    assert.deepEqual(received, [1]);
    assert.equal(gateway.udp.size, 1);
    gateway.forgetMappings();
    assert.equal(gateway.udp.size, 0);
    s.send(Uint8Array.of(2), from!);
    network.scheduler.runUntilIdle();
    assert.deepEqual(received, [1], 'nothing gets in through a forgotten mapping');
    c.send(Uint8Array.of(0), { host: server.addressText, port: 3478 });
    network.scheduler.runUntilIdle();
    s.send(Uint8Array.of(3), from!);
    network.scheduler.runUntilIdle();
    assert.deepEqual(received, [1, 3], 'a new mapping (the same port: this NAT preserves ports) lets it in again');
  }));
