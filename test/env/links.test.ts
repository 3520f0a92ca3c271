// Links of the virtual network: latency adds up along the path, bandwidth serialises packets,
// a full queue drops, loss drops about the configured share, jitter reorders.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { testSeed, withSeed } from '../support/seed.js';

async function pairOfHosts(seed: number, a: object, b: object) {
  const network = new VirtualNetwork(seed);
  const ha = network.addHost({ link: a });
  const hb = network.addHost({ link: b });
  const sa = await ha.net.bindUdp({ port: 1000 });
  const sb = await hb.net.bindUdp({ port: 2000 });
  const arrivals: { at: number; id: number }[] = [];
  sb.onMessage((bytes) => arrivals.push({ at: network.scheduler.now(), id: new DataView(bytes.buffer, bytes.byteOffset).getUint32(0) }));
  const send = (id: number, size = 100) => {
    const bytes = new Uint8Array(size);
    new DataView(bytes.buffer).setUint32(0, id);
    sa.send(bytes, { host: hb.addressText, port: 2000 });
  };
  return { network, send, arrivals };
}

test('one-way delay is the sum of both links; through a NAT, of all three', () =>
  withSeed(testSeed(), async (seed) => {
    const direct = await pairOfHosts(seed, { latencyMs: 12 }, { latencyMs: 30 });
    direct.send(1);
    direct.network.scheduler.runUntilIdle();
    assert.deepEqual(direct.arrivals, [{ at: 42, id: 1 }]);

    const network = new VirtualNetwork(seed);
    const gateway = network.addGateway({ nat: 'full-cone', link: { latencyMs: 5 } });
    const inside = network.addHost({ behind: gateway, link: { latencyMs: 1 } });
    const server = network.addHost({ link: { latencyMs: 20 } });
    const s = await server.net.bindUdp({ port: 9 });
    let at = -1;
    s.onMessage(() => (at = network.scheduler.now()));
    (await inside.net.bindUdp({ port: 0 })).send(new Uint8Array(1), { host: server.addressText, port: 9 });
    network.scheduler.runUntilIdle();
    assert.equal(at, 26);
  }));

test('bandwidth serialises packets, and a queue longer than its limit drops', () =>
  withSeed(testSeed(), async (seed) => {
    // 1 Mbit/s: a 1 250-byte packet (1 222 payload + 28 header) takes 10 ms on the wire.
    const p = await pairOfHosts(seed, { latencyMs: 0, bandwidthBps: 1_000_000, queueLimitMs: 95 }, { latencyMs: 0 });
    for (let i = 0; i < 20; i++) p.send(i, 1222);
    p.network.scheduler.runUntilIdle();
    const times = p.arrivals.map((a) => a.at);
    assert.deepEqual(times, Array.from({ length: 10 }, (_, i) => (i + 1) * 10), 'ten fit in a 95 ms queue, 10 ms apart');
    assert.equal(p.network.stats.lost, 10);
  }));

test('loss drops about the configured share of UDP packets', () =>
  withSeed(testSeed(), async (seed) => {
    const p = await pairOfHosts(seed, { lossRate: 0.3 }, {});
    for (let i = 0; i < 5000; i++) p.send(i);
    p.network.scheduler.runUntilIdle();
    const share = 1 - p.arrivals.length / 5000;
    assert.ok(share > 0.27 && share < 0.33, `lost ${share}`);
  }));

test('jitter reorders packets sent close together; without jitter order is kept', () =>
  withSeed(testSeed(), async (seed) => {
    for (const jitterMs of [0, 20]) {
      const p = await pairOfHosts(seed, { latencyMs: 10, jitterMs }, {});
      for (let i = 0; i < 100; i++) p.network.scheduler.after(i, () => p.send(i));
      p.network.scheduler.runUntilIdle();
      const ids = p.arrivals.map((a) => a.id);
      const inOrder = ids.every((id, i) => i === 0 || id > ids[i - 1]!);
      assert.equal(inOrder, jitterMs === 0, `jitter ${jitterMs}`);
      assert.equal(ids.length, 100);
    }
  }));

test('a crashed host answers nothing: its packets vanish and TCP connections to it time out', () =>
  withSeed(testSeed(), async (seed) => {
    const network = new VirtualNetwork(seed);
    const a = network.addHost();
    const b = network.addHost();
    await b.net.listenTcp({ port: 80, onConnection: () => {} });
    b.crash();
    const attempt = network.scheduler.drive(a.net.connectTcp({ host: b.addressText, port: 80, timeoutMs: 1000 }));
    await assert.rejects(attempt, (error: Error & { code?: string }) => error.code === 'timeout');
  }));

test('TCP across a cut: segments the cut drops are sent again, and the stream resumes in order once it heals; a cut that lasts gives up', () =>
  withSeed(testSeed(), async (seed) => {
    const network = new VirtualNetwork(seed);
    const client = network.addHost({ link: { latencyMs: 5 } });
    const server = network.addHost({ link: { latencyMs: 5 } });
    const received: number[] = [];
    const listener = await server.net.listenTcp({ port: 80, onConnection: (c) => c.onData((bytes) => received.push(...bytes)) });
    const scheduler = network.scheduler;
    try {
      const connection = await scheduler.drive(client.net.connectTcp({ host: server.addressText, port: 80 }));
      connection.write(Uint8Array.of(1));
      scheduler.runFor(100);
      assert.deepEqual(received, [1]);
      // Cut for 10 s: what is written meanwhile waits, then comes in order.
      network.cuts.push({ a: client.addressText, b: server.addressText });
      connection.write(Uint8Array.of(2));
      scheduler.runFor(50);
      connection.write(Uint8Array.of(3));
      scheduler.runFor(10_000);
      assert.deepEqual(received, [1], 'nothing crosses the cut');
      network.cuts.length = 0;
      scheduler.runFor(20_000);
      assert.deepEqual(received, [1, 2, 3], 'the stream resumes in order after the cut heals');
      // A cut longer than every retransmission: the segment is gone for good.
      network.cuts.push({ a: client.addressText, b: server.addressText });
      connection.write(Uint8Array.of(4));
      scheduler.runFor(20 * 60_000);
      network.cuts.length = 0;
      scheduler.runFor(5 * 60_000);
      assert.deepEqual(received, [1, 2, 3]);
      connection.close();
    } finally {
      listener.close();
      scheduler.runUntilIdle();
    }
  }));

test('a clogged link serialises at its clogged bandwidth and drops beyond its queue; unclogged, it is as built', () =>
  withSeed(testSeed(), async (seed) => {
    const p = await pairOfHosts(seed, { latencyMs: 0 }, { latencyMs: 0 });
    const sender = p.network.hosts[0]!;
    // 100 kbit/s: a 1 250-byte packet takes 100 ms; a packet that would wait over 350 ms is dropped.
    p.network.clog(sender, { bandwidthBps: 100_000, queueLimitMs: 350 });
    for (let i = 0; i < 10; i++) p.send(i, 1222);
    p.network.scheduler.runUntilIdle();
    assert.deepEqual(p.arrivals.map((a) => a.at), [100, 200, 300, 400]);
    assert.equal(p.network.stats.lost, 6);
    p.network.clog(sender, null);
    const before = p.network.scheduler.now();
    for (let i = 10; i < 20; i++) p.send(i, 1222);
    p.network.scheduler.runUntilIdle();
    assert.equal(p.arrivals.length, 14, 'all ten pass at once without the clog');
    assert.ok(p.arrivals.slice(4).every((a) => a.at === before));
  }));
