// A message to someone who just went offline is not lost: whether their presence record was
// already withdrawn, still stood, or their link died without a goodbye, the message ends up
// sealed in the login server's offline store and is shown once at their next login — also when
// the live copy reaches them after all.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AttachedClient } from '../../src/client/attachment.js';
import { HostCache } from '../../src/overlay/host-cache.js';
import type { ReceivedMessage } from '../../src/chat/chat-client.js';
import { OFFLINE_FALLBACK_MS } from '../../src/messenger/messenger.js';
import type { OfflineStore } from '../../src/messenger/transport.js';
import { overlayTransport } from '../../src/client/overlay-transport.js';
import { chatOn } from '../support/chat.js';
import { testSeed, withSeed } from '../support/seed.js';
import { overlayWorld } from '../support/supernodes.js';

async function world(seed: number) {
  const w = await overlayWorld(seed, 4, { link: (i) => ({ latencyMs: 5 + 3 * i }) });
  const identities = { alice: w.net.identity('alice'), bob: w.net.identity('bob') };
  const ids = { alice: 1, bob: 7 };
  // The login server's offline store as its API behaves: per device, oldest first, until acknowledged.
  const waiting: { id: number; device: number; sender: string; ciphertext: Uint8Array; storedAtMs: number }[] = [];
  let nextId = 1;
  const storeFor = (caller: 'alice' | 'bob'): OfflineStore => ({
    devicesOf: async (user) => (user === 'alice' || user === 'bob' ? [{ id: ids[user], dhKey: identities[user].dh.publicKey }] : []),
    store: async (deviceId, ciphertext) => void waiting.push({ id: nextId++, device: deviceId, sender: caller, ciphertext, storedAtMs: w.network.scheduler.wallTimeMs() }),
    fetch: async () => waiting.filter((m) => m.device === ids[caller]).slice(0, 2),
    ack: async (acked) => void acked.forEach((id) => waiting.splice(waiting.findIndex((m) => m.id === id), 1)),
  });
  const opened: { attached: AttachedClient; close: () => void }[] = [];
  /** A login of `user` on a fresh host: attached, chatting, and (as `parley online` does) fetching what waits. */
  const login = async (user: 'alice' | 'bob', sn: number) => {
    const host = w.network.addHost({ behind: w.network.addGateway({ nat: 'port-restricted' }), link: { latencyMs: 15 } });
    const identity = identities[user];
    const attached = new AttachedClient(host.env(), { identity, verifier: w.net.verifier, username: user, hostCache: new HostCache(), bootstrap: [w.supernodes[sn]!.ref] });
    await w.drive(attached.start());
    const { chat, close } = chatOn(host.env(), { identity, verifier: w.net.verifier, username: user, transport: overlayTransport(attached), offline: storeFor(user) });
    const inbox: ReceivedMessage[] = [];
    chat.onMessage((m) => inbox.push(m));
    opened.push({ attached, close });
    return { host, attached, chat, close, inbox, fetched: () => w.drive(chat.fetchOffline()) };
  };
  const close = () => {
    for (const o of opened) {
      o.close();
      o.attached.close();
    }
    for (const s of w.supernodes) s.running.close();
  };
  /** Waits (virtual time, checked every 250 ms) until `done`, at most `limitMs`; true when it happened. */
  const until = async (done: () => boolean, limitMs: number) => {
    const started = w.network.scheduler.now();
    while (!done()) {
      if (w.network.scheduler.now() - started > limitMs) return false;
      await w.elapse(250);
    }
    return true;
  };
  const forBob = () => waiting.filter((m) => m.device === ids.bob).length;
  return { ...w, login, close, until, waiting, forBob };
}

/** Alice and bob chat, so alice's client knows bob's device as online (its list is kept 30 s). */
async function chatting(w: Awaited<ReturnType<typeof world>>) {
  const alice = await w.login('alice', 0);
  const bob = await w.login('bob', 3);
  await w.elapse(1_000);
  await w.drive(alice.chat.send('bob', 'hello bob'));
  assert.ok(await w.drive(alice.chat.acknowledged(10_000)), 'the first message is acknowledged live');
  assert.deepEqual(bob.inbox.map((m) => m.text), ['hello bob']);
  return { alice, bob };
}

test('a message to someone who closed a second ago (alice still thinks him online) is left for him, and shown once at his next login', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const w = await world(seed);
    try {
      const { alice, bob } = await chatting(w);
      bob.close();
      bob.attached.close();
      await w.elapse(1_000);
      const sent = await w.drive(alice.chat.send('bob', 'are you still there?'));
      assert.equal(sent.recipientOnline, 1, 'alice\'s client still lists bob\'s device as online');
      assert.ok(await w.until(() => w.forBob() === 1, 5_000), 'sealed for bob and left with the login server within seconds (the route said he is not there)');
      // The next message asks the overlay again, finds bob offline and seals it at once.
      const next = await w.drive(alice.chat.send('bob', 'see you later'));
      assert.deepEqual([next.recipientOnline, next.offlineDevices], [0, 1]);
      assert.equal(w.forBob(), 2);

      await w.elapse(60_000);
      const again = await w.login('bob', 2);
      assert.equal(await again.fetched(), 2);
      assert.deepEqual(again.inbox.map((m) => [m.text, m.offline]), [['are you still there?', true], ['see you later', true]]);
      // Alice's stream still holds the live copy of the first: it reaches bob's new session, is acknowledged, and not shown again.
      assert.ok(await w.until(() => alice.chat.unacknowledged === 0, 90_000), 'the live copy was acknowledged in the end');
      assert.equal(again.inbox.length, 2, 'each shown once');
      assert.equal(w.forBob(), 0, 'nothing left waiting');
    } finally {
      w.close();
    }
  }));

test('a message to someone who went offline a minute ago is sealed at once and reaches him at his next login', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const w = await world(seed);
    try {
      const { alice, bob } = await chatting(w);
      bob.close();
      bob.attached.close();
      await w.elapse(60_000);
      const sent = await w.drive(alice.chat.send('bob', 'a minute later'));
      assert.deepEqual([sent.recipientOnline, sent.offlineDevices], [0, 1], 'the overlay says bob is offline');
      const again = await w.login('bob', 1);
      assert.equal(await again.fetched(), 1);
      assert.deepEqual(again.inbox.map((m) => m.text), ['a minute later']);
    } finally {
      w.close();
    }
  }));

test('a message to someone whose link died without a goodbye (his record still stands) is left for him once; the live copy arriving later is not shown twice', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const w = await world(seed);
    try {
      const { alice, bob } = await chatting(w);
      bob.host.crash();
      const sent = await w.drive(alice.chat.send('bob', 'hello? 1'));
      assert.equal(sent.recipientOnline, 1, 'his record still stands');
      await w.drive(alice.chat.send('bob', 'hello? 2'));
      // Delivered to his supernode, never acknowledged by his device: left for him within the fallback time.
      assert.ok(await w.until(() => w.forBob() === 2, OFFLINE_FALLBACK_MS + 1_000), `both left with the login server (${w.forBob()})`);
      // Retransmissions and later failures do not leave them again.
      await w.elapse(30_000);
      assert.equal(w.forBob(), 2, 'each left once');

      const again = await w.login('bob', 2);
      assert.equal(await again.fetched(), 2);
      assert.ok(await w.until(() => alice.chat.unacknowledged === 0, 90_000), 'the live copies reached bob\'s new session too');
      assert.deepEqual(again.inbox.map((m) => m.text), ['hello? 1', 'hello? 2'], 'each shown once, in order');
    } finally {
      w.close();
    }
  }));

test('a client that gives up waiting (a one-shot `parley chat`) has left what was not acknowledged with the login server before it returns', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const w = await world(seed);
    try {
      const { alice, bob } = await chatting(w);
      bob.host.crash();
      await w.drive(alice.chat.send('bob', 'last words'));
      // Shorter than the fallback time: the wait itself leaves the message.
      assert.equal(await w.drive(alice.chat.acknowledged(2_000)), false);
      assert.equal(w.forBob(), 1, 'left with the login server by the time the wait returned');
      alice.chat.close();
      alice.attached.close();
      const again = await w.login('bob', 2);
      assert.equal(await again.fetched(), 1);
      assert.deepEqual(again.inbox.map((m) => m.text), ['last words']);
    } finally {
      w.close();
    }
  }));
