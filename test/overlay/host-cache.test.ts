import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { HostCache, parseHostCache, raceFirst, backoffMs, HOST_CACHE_CLOCK_SKEW_MS } from '../../src/overlay/host-cache.js';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { testSeed, withSeed } from '../support/seed.js';

const key = (n: number) => new Uint8Array(32).fill(n);
const host = (n: number) => ({ host: `20.0.0.${n}`, port: 33033, dhKey: key(n) });
const WALL_MS = Date.UTC(2026, 0, 1);

test('the best entries are reached ones, with fewer failures, then faster; failed ones wait out a backoff', () => {
  const cache = new HostCache();
  cache.merge([host(1), host(2), host(3), host(4)], 'bootstrap');
  cache.recordSuccess('20.0.0.2', 33033, 80, 1000);
  cache.recordSuccess('20.0.0.3', 33033, 20, 1000);
  cache.recordFailure('20.0.0.4', 33033, 1000);
  assert.deepEqual(cache.best(4, 1000).map((e) => e.host), ['20.0.0.3', '20.0.0.2', '20.0.0.1'], 'the failed one waits');
  assert.deepEqual(cache.best(4, 1000 + backoffMs(1)).map((e) => e.host), ['20.0.0.3', '20.0.0.2', '20.0.0.1', '20.0.0.4']);
  cache.recordSuccess('20.0.0.2', 33033, 10, 2000);
  assert.equal(cache.get('20.0.0.2', 33033)?.rttMs, 80 + 0.25 * (10 - 80), 'RTT is smoothed');
  assert.deepEqual(backoffMs(0), 0);
  assert.ok(backoffMs(40) === 3_600_000, 'backoff is capped');
});

test('gossip adds unknown hosts without overwriting measurements, and the cache keeps at most 200', () => {
  const cache = new HostCache();
  cache.merge([host(1)], 'bootstrap');
  cache.recordSuccess('20.0.0.1', 33033, 30, 5);
  assert.equal(cache.merge([host(1), host(2)], 'gossip'), 1);
  assert.equal(cache.get('20.0.0.1', 33033)?.rttMs, 30);
  // A web port learned later is kept; one out of range is not.
  cache.merge([{ ...host(1), webPort: 443 }, { ...host(2), webPort: 70000 }], 'gossip');
  assert.equal(cache.get('20.0.0.1', 33033)?.webPort, 443);
  assert.equal(cache.get('20.0.0.2', 33033)?.webPort, undefined);
  const many = Array.from({ length: 300 }, (_, i) => ({ host: `21.0.${i >> 8}.${i & 255}`, port: 1, dhKey: key(9) }));
  cache.merge(many, 'gossip');
  assert.equal(cache.size, 200);
  assert.ok(cache.get('20.0.0.1', 33033), 'a host we reached is kept');
});

test('the cache survives a round trip through its file; a damaged file is a typed error or loses only bad entries', () => {
  const cache = new HostCache();
  cache.merge([host(1), { ...host(2), webPort: 443 }], 'bootstrap');
  cache.recordSuccess('20.0.0.2', 33033, 12, WALL_MS);
  cache.recordFailure('20.0.0.1', 33033, WALL_MS + 5);
  const back = parseHostCache(cache.toJSON(), WALL_MS + 10);
  assert.equal(back.ok && back.value.get('20.0.0.2', 33033)?.webPort, 443);
  assert.ok(back.ok);
  assert.deepEqual(back.value.all(), cache.all());
  assert.equal(parseHostCache('{', WALL_MS).ok, false);
  assert.equal(parseHostCache('{"version":2,"entries":[]}', WALL_MS).ok, false);
  const partly = parseHostCache(JSON.stringify({ version: 1, entries: [{ host: '1.2.3.4', port: 70000, dhKey: 'x' }, JSON.parse(cache.toJSON()).entries[0]] }), WALL_MS);
  assert.ok(partly.ok && partly.value.size === 1);
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => typeof parseHostCache(text, WALL_MS).ok === 'boolean'));
});

test('a saved time from the future or from before wall-clock times never keeps an entry waiting', () => {
  const saved = new HostCache();
  saved.merge([host(1), host(2), host(3), host(4)], 'gossip');
  // 1: a monotonic time, as older versions saved (an hour into some process's life).
  saved.recordFailure('20.0.0.1', 33033, 3_600_000);
  saved.recordSuccess('20.0.0.1', 33033, 20, 3_000_000);
  saved.recordFailure('20.0.0.1', 33033, 3_600_000);
  // 2: a day ahead of this machine's clock (a clock set wrong, then fixed).
  saved.recordFailure('20.0.0.2', 33033, WALL_MS + 86_400_000);
  // 3: a little ahead, within the skew a machine's clock may have moved back: kept.
  saved.recordFailure('20.0.0.3', 33033, WALL_MS + HOST_CACHE_CLOCK_SKEW_MS - 1);
  const json = JSON.parse(saved.toJSON()) as { entries: Record<string, unknown>[] };
  json.entries[3]!.lastFailureMs = 1e300;
  json.entries[3]!.failures = 3;
  const parsed = parseHostCache(JSON.stringify(json), WALL_MS);
  assert.ok(parsed.ok);
  const cache = parsed.value;
  assert.equal(cache.get('20.0.0.1', 33033)?.lastFailureMs, null, 'a monotonic time is dropped');
  assert.equal(cache.get('20.0.0.1', 33033)?.lastSuccessMs, null, 'a success at a monotonic time is not "recently reached"');
  assert.equal(cache.get('20.0.0.2', 33033)?.lastFailureMs, null, 'a day in the future is dropped');
  assert.equal(cache.get('20.0.0.3', 33033)?.lastFailureMs, WALL_MS + HOST_CACHE_CLOCK_SKEW_MS - 1, 'within the skew it is kept');
  assert.equal(cache.get('20.0.0.4', 33033)?.lastFailureMs, null, 'an absurd time is dropped');
  assert.deepEqual(cache.best(4, WALL_MS).map((e) => e.host).sort(), ['20.0.0.1', '20.0.0.2', '20.0.0.4'], 'only the entry that failed within the skew waits');
});

test('when every entry waits out a backoff, they are still offered, soonest ready first, so the cache heals', () => {
  const cache = new HostCache();
  cache.merge([host(1), host(2), host(3)], 'gossip');
  for (let i = 0; i < 5; i++) cache.recordFailure('20.0.0.1', 33033, WALL_MS);
  cache.recordFailure('20.0.0.2', 33033, WALL_MS);
  cache.recordFailure('20.0.0.3', 33033, WALL_MS - 200);
  assert.deepEqual(cache.best(3, WALL_MS), [], 'none is ready');
  assert.deepEqual(cache.waiting(WALL_MS).map((e) => e.host), ['20.0.0.3', '20.0.0.2', '20.0.0.1'], 'the least recently failed, and the fewest failures, first');
  assert.deepEqual(cache.waiting(WALL_MS + backoffMs(1)).map((e) => e.host), ['20.0.0.1'], 'the ready ones are no longer waiting');
});

test('startup races the best few and takes the first to answer; it falls back past dead ones and closes latecomers', () =>
  withSeed(testSeed(), async (seed) => {
    const network = new VirtualNetwork(seed);
    const client = network.addHost();
    const near = network.addHost({ link: { latencyMs: 5 } });
    const far = network.addHost({ link: { latencyMs: 60 } });
    const dead = network.addHost();
    for (const h of [near, far]) await h.net.listenTcp({ port: 33033, onConnection: () => {} });
    let lateClosed!: (host: string) => void;
    const latecomer = new Promise<string>((resolve) => (lateClosed = resolve));
    const candidates = [dead, far, near].map((h) => h.addressText);
    const result = await network.scheduler.drive(
      raceFirst(candidates, (address) => client.net.connectTcp({ host: address, port: 33033, timeoutMs: 2000 }), (late) => {
        late.close();
        lateClosed(late.remote.host);
      }),
    );
    assert.equal(result.candidate, near.addressText, 'the nearest answered first');
    assert.equal(await network.scheduler.drive(latecomer), far.addressText, 'the slower connection is closed');
    const none = network.scheduler.drive(raceFirst([dead.addressText], (a) => client.net.connectTcp({ host: a, port: 33033, timeoutMs: 1000 }), () => {}));
    await assert.rejects(none, AggregateError);
  }));

test('forgetKeys drops every entry of a revoked supernode, whatever its address, and nothing else', () => {
  const cache = new HostCache();
  const revoked = new Uint8Array(32).fill(7);
  const kept = new Uint8Array(32).fill(8);
  cache.merge([{ host: '203.0.113.1', port: 33033, dhKey: revoked }, { host: '203.0.113.1', port: 443, dhKey: revoked }, { host: '203.0.113.2', port: 33033, dhKey: kept }], 'bootstrap');
  assert.equal(cache.forgetKeys([revoked]), 2);
  assert.deepEqual(cache.all().map((e) => `${e.host}:${e.port}`), ['203.0.113.2:33033']);
  assert.equal(cache.forgetKeys([revoked]), 0);
});
