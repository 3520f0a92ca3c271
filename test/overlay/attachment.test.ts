// Clients attach to supernodes on the virtual network: keep-alive, dropping silent clients,
// failover when a supernode dies, and the supernode's limits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { SeededRandom } from '../../src/env/prng.js';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { connectSecure } from '../../src/crypto/secure-link.js';
import { AttachedClient, AttachFailure, attachTo, type AttachmentEvent } from '../../src/client/attachment.js';
import { HostCache, parseHostCache } from '../../src/overlay/host-cache.js';
import type { Env } from '../../src/env/types.js';
import type { VirtualHost } from '../../src/env/virtual/index.js';
import { createPresenceRecord } from '../../src/overlay/presence.js';
import { AttachRefusal, AttachRequestSchema } from '../../src/wire/messages.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';
import { testSeed, withSeed } from '../support/seed.js';
import { startSupernodes } from '../support/supernodes.js';

async function world(seed: number, supernodeCount: number, limits: { maxClients?: number } = {}) {
  const net = testNetwork(new SeededRandom(seed));
  const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
  const supernodes = await startSupernodes(network, net, supernodeCount, { link: (i) => ({ latencyMs: 10 + 5 * i }), attachment: limits });
  const bootstrap = supernodes.map((s) => s.ref);
  const client = (username: string) => {
    const gateway = network.addGateway({ nat: 'port-restricted' });
    const host = network.addHost({ behind: gateway, link: { latencyMs: 20 } });
    const identity = net.identity(username);
    const attached = new AttachedClient(host.env(), { identity, verifier: net.verifier, username, hostCache: new HostCache(), bootstrap });
    const events: AttachmentEvent[] = [];
    attached.onEvent((e) => events.push(e));
    return { host, identity, attached, events };
  };
  const waitFor = (events: AttachmentEvent[], kind: AttachmentEvent['kind'], count = 1) =>
    network.scheduler.drive(
      new Promise<AttachmentEvent>((resolve) => {
        const check = () => {
          const matching = events.filter((e) => e.kind === kind);
          if (matching.length >= count) resolve(matching[count - 1]!);
          else network.scheduler.after(100, check);
        };
        check();
      }),
    );
  const elapse = (ms: number) => network.scheduler.drive(new Promise<void>((resolve) => network.scheduler.after(ms, resolve)));
  return { net, network, supernodes, bootstrap, client, waitFor, elapse };
}

test('a client behind a NAT attaches, stays attached on keep-alives, and a silent one is dropped', () =>
  withSeed(testSeed(), async (seed) => {
    const w = await world(seed, 3);
    const alice = w.client('alice');
    const supernode = await w.network.scheduler.drive(alice.attached.start());
    assert.equal(alice.events[0]?.kind === 'attached' && alice.events[0].source, 'bootstrap');
    assert.equal(supernode.host, w.supernodes[0]!.host.addressText, 'the nearest supernode answers first');
    const sn = w.supernodes.find((s) => s.host.addressText === supernode.host)!;
    assert.equal(sn.running.attachments.sessionsOf('alice').length, 1);
    await w.elapse(10 * 25_000);
    assert.equal(sn.running.attachments.sessionsOf('alice').length, 1, 'keep-alives hold the session');
    assert.ok(!alice.events.some((e) => e.kind === 'lost'));
    alice.host.crash();
    await w.elapse(4 * 25_000);
    assert.equal(sn.running.attachments.size, 0, 'a client silent for three intervals is dropped');
  }));

test('when its supernode dies, the client attaches to another one within seconds of noticing', () =>
  withSeed(testSeed(), async (seed) => {
    const w = await world(seed, 3);
    const alice = w.client('alice');
    const first = await w.network.scheduler.drive(alice.attached.start());
    const dead = w.supernodes.find((s) => s.host.addressText === first.host)!;
    dead.host.crash();
    const lost = await w.waitFor(alice.events, 'lost');
    const again = await w.waitFor(alice.events, 'attached', 2);
    assert.ok(again.kind === 'attached' && again.supernode.host !== first.host);
    const failoverMs = again.atMs - lost.atMs;
    assert.ok(failoverMs <= 3_000, `re-attached ${failoverMs} ms after noticing`);
    assert.ok(lost.kind === 'lost' && /no pong/.test(lost.reason), 'a silent crash is noticed by the missing pong');
    const now = w.supernodes.find((s) => s.host.addressText === (again.kind === 'attached' ? again.supernode.host : ''))!;
    assert.equal(now.running.attachments.sessionsOf('alice').length, 1, 'findable on the new supernode');
    assert.equal(alice.attached.supernode?.host, now.host.addressText);
  }));

test('listeners come off: stayAttached removes its own without hiding the event from the next listener, and a removed listener hears nothing more', () =>
  withSeed(testSeed(), async (seed) => {
    const w = await world(seed, 3);
    const alice = w.client('alice');
    const staying = alice.attached.stayAttached();
    // Added after stayAttached's own: the attachment that removes that one reaches this one too.
    const later: AttachmentEvent['kind'][] = [];
    const stop = alice.attached.onEvent((e) => later.push(e.kind));
    const first = await w.network.scheduler.drive(staying);
    assert.deepEqual(later, ['attached']);
    stop();
    w.supernodes.find((s) => s.host.addressText === first.host)!.host.crash();
    await w.waitFor(alice.events, 'attached', 2);
    assert.deepEqual(alice.events.map((e) => e.kind), ['attached', 'lost', 'attached'], 'the listener still on hears the failover');
    assert.deepEqual(later, ['attached'], 'the removed one does not');
    alice.attached.close();
  }));

/** `host`'s environment as a process that has been running for `uptimeMs` sees it: its monotonic clock starts at its own start. */
function processEnv(host: VirtualHost, uptimeMs: number): Env {
  const scheduler = host.clock;
  const startedAtMs = scheduler.now() - uptimeMs;
  return { ...host.env(), clock: { now: () => scheduler.now() - startedAtMs, wallTimeMs: () => scheduler.wallTimeMs(), after: (delayMs, fn) => scheduler.after(delayMs, fn) } };
}

test('a host cache saved after every supernode failed serves the next process, whose clock started afresh', () =>
  withSeed(testSeed(), async (seed) => {
    const w = await world(seed, 2);
    const device = w.network.addHost({ link: { latencyMs: 20 } });
    const identity = w.net.identity('alice');
    const config = { identity, verifier: w.net.verifier, username: 'alice', bootstrap: w.bootstrap };
    // A long-running `parley online`, up for an hour, loses every supernode for a while.
    const hostCache = new HostCache();
    const first = new AttachedClient(processEnv(device, 3_600_000), { ...config, hostCache });
    const events: AttachmentEvent[] = [];
    first.onEvent((e) => events.push(e));
    const cutAtWallMs = w.network.scheduler.wallTimeMs();
    try {
      await w.network.scheduler.drive(first.start());
      for (const sn of w.supernodes) w.network.cuts.push({ a: device.addressText, b: sn.host.addressText });
      await w.waitFor(events, 'unreachable');
    } finally {
      first.close();
      w.network.cuts.length = 0;
    }
    const saved = hostCache.toJSON();
    for (const entry of hostCache.all()) {
      assert.ok(entry.failures > 0 && entry.lastFailureMs !== null, `${entry.host} failed`);
      assert.ok(entry.lastFailureMs >= cutAtWallMs && entry.lastFailureMs <= w.network.scheduler.wallTimeMs(), `${entry.host}'s failure is kept in wall-clock time, not ${entry.lastFailureMs}`);
    }
    // The next command, a minute later, in a new process: its monotonic clock starts at 0.
    await w.elapse(60_000);
    const parsed = parseHostCache(saved, w.network.scheduler.wallTimeMs());
    assert.ok(parsed.ok);
    const second = new AttachedClient(processEnv(device, 0), { ...config, hostCache: parsed.value });
    try {
      const supernode = await w.network.scheduler.drive(second.start());
      assert.ok(w.supernodes.some((s) => s.host.addressText === supernode.host), 'attached again');
    } finally {
      second.close();
    }
  }));

test('a full supernode refuses with FULL; a record for someone else is refused with BAD_PRESENCE', () =>
  withSeed(testSeed(), async (seed) => {
    const w = await world(seed, 1, { maxClients: 1 });
    const sn = w.bootstrap[0]!;
    const alice = w.client('alice');
    await w.network.scheduler.drive(alice.attached.start());
    const bob = w.client('bob');
    const full = await w.network.scheduler.drive(attachTo(bob.host.env(), sn, { identity: bob.identity, verifier: w.net.verifier, username: 'bob' }).catch((e: unknown) => e));
    assert.ok(full instanceof AttachFailure && full.refusal === AttachRefusal.FULL, String(full));
    // Carol presents a record signed for alice's name with her own certificate.
    const w2 = await world(seed + 1, 1);
    const carol = w2.client('carol');
    const refused = await w2.network.scheduler.drive(
      (async () => {
        const link = await connectSecure(carol.host.env(), { host: w2.bootstrap[0]!.host, port: 33033, config: { identity: carol.identity, verifier: w2.net.verifier, remoteStaticKey: w2.bootstrap[0]!.dhKey } });
        const record = createPresenceRecord(carol.identity, w2.net.ca.networkId, 'alice', { supernodes: [], candidates: [], sequence: 1, issuedAtMs: TEST_EPOCH_MS });
        const answer = new Promise<{ reason: AttachRefusal; detail: string }>((resolve) => link.onMessage((e) => e.body.case === 'attachRefused' && resolve(e.body.value)));
        link.send({ case: 'attachRequest', value: create(AttachRequestSchema, { presence: record }) });
        return answer;
      })(),
    );
    assert.equal(refused.reason, AttachRefusal.BAD_PRESENCE);
    assert.match(refused.detail, /alice/);
    assert.equal(w2.supernodes[0]!.running.attachments.size, 0, 'nothing stored');
  }));

test('a flood of lookups from one client is rate-limited with a clear error; it may go on after a pause', () =>
  withSeed(testSeed(), async (seed) => {
    const w = await world(seed, 1);
    const alice = w.client('alice');
    await w.network.scheduler.drive(alice.attached.start());
    const outcomes = await w.network.scheduler.drive(
      Promise.all(Array.from({ length: 30 }, () => alice.attached.find('nobody').then(() => 'answered', (e: Error) => e.message))),
    );
    assert.equal(outcomes.filter((o) => o === 'answered').length, 20, 'a burst of 20 is answered');
    assert.equal(outcomes.filter((o) => /too many lookups/.test(o)).length, 10);
    await w.elapse(2_000);
    assert.deepEqual(await w.network.scheduler.drive(alice.attached.find('nobody')), [], 'allowed again after a pause');
  }));
