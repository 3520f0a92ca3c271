// The messenger alone, with no chat on it: two devices over an in-memory router that names the
// sender (as the overlay does). Each kind's subscribers get that kind and nothing else; a kind
// nobody here subscribed to — or one this build does not know — is refused and counted; an
// unsubscribed handler hears nothing more; what waited in the offline store says so; failures
// with nobody to tell (a send, the offline store, chat's device lookups) are counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { SeededRandom } from '../../src/env/prng.js';
import { toHex } from '../../src/crypto/bytes.js';
import { CallSignalKind, CallSignalSchema, PresenceState, ReadReceiptSchema, TypingSchema } from '../../src/wire/messages.js';
import { ChatClient } from '../../src/chat/chat-client.js';
import { DEVICE_LIST_TTL_MS, Messenger, OFFLINE_FALLBACK_MS, encodePayload, type Sender } from '../../src/messenger/messenger.js';
import { STALE_LIST_MS } from '../../src/messenger/list-cache.js';
import type { OfflineStore, Relation, SignallingTransport } from '../../src/messenger/transport.js';
import { TEST_EPOCH_MS, testNetwork } from '../support/identities.js';
import { testSeed, withSeed } from '../support/seed.js';

function world(seed: number) {
  const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
  const drive = <T>(work: Promise<T>) => network.scheduler.drive(work, 600_000);
  const elapse = (ms: number) => drive(new Promise<void>((resolve) => network.scheduler.after(ms, resolve)));
  const net = testNetwork(new SeededRandom(seed));
  const handlers = new Map<string, (from: string, payload: Uint8Array) => void>();
  const devicesOf = new Map<string, Uint8Array[]>();
  const registered = new Map<string, Uint8Array[]>();
  const opened: Messenger[] = [];
  // The login server's offline store: sealed payloads per device key, until acknowledged.
  const waiting: { id: number; device: string; sender: string; ciphertext: Uint8Array; storedAtMs: number }[] = [];
  const deviceIds = new Map<number, string>();
  // Set to make the transport's sends (not attached) or the offline store (the login server away) fail.
  const failing = { send: false, store: false, devices: false };
  const storeFor = (caller: string, key: Uint8Array): OfflineStore => ({
    devicesOf: async (user) => (registered.get(user) ?? []).map((dhKey) => ({ id: [...deviceIds].find(([, hex]) => hex === toHex(dhKey))![0], dhKey })),
    store: async (id, ciphertext) => {
      if (failing.store) throw new Error('the login server does not answer');
      waiting.push({ id: waiting.length + 1, device: deviceIds.get(id)!, sender: caller, ciphertext, storedAtMs: network.scheduler.wallTimeMs() });
    },
    fetch: async () => waiting.filter((m) => m.device === toHex(key)),
    ack: async (ids) => void ids.forEach((id) => waiting.splice(waiting.findIndex((m) => m.id === id), 1)),
  });
  const device = (user: string, relationOf: (other: string) => Relation = () => 'buddy', options: { online?: boolean } = {}) => {
    const identity = net.identity(user);
    const key = identity.dh.publicKey;
    deviceIds.set(deviceIds.size + 1, toHex(key));
    registered.set(user, [...(registered.get(user) ?? []), key]);
    if (options.online !== false) devicesOf.set(user, [...(devicesOf.get(user) ?? []), key]);
    const transport: SignallingTransport = {
      send: async (_to, to, payload) => {
        if (failing.send) throw new Error('not attached to a supernode');
        network.scheduler.after(2, () => handlers.get(toHex(to))?.(user, payload));
        return 'delivered';
      },
      devices: async (other) => {
        if (failing.devices) throw new Error('not attached to a supernode');
        return devicesOf.get(other) ?? [];
      },
      onReceive: (handler) => void handlers.set(toHex(key), handler),
    };
    const messenger = new Messenger(network.addHost().env(), { identity, verifier: net.verifier, username: user, transport, offline: storeFor(user, key), relationOf });
    opened.push(messenger);
    return { messenger, key };
  };
  return { network, drive, elapse, device, waiting, failing, close: () => opened.forEach((m) => m.close()) };
}

const typing = (active: boolean) => create(TypingSchema, { to: 'bob', active, atMs: BigInt(TEST_EPOCH_MS) });
const ring = (id: number) => create(CallSignalSchema, { callId: new Uint8Array(16).fill(id), kind: CallSignalKind.INVITE });

test('a subscription receives only its kind; a kind nobody subscribed to, or one this build does not know, is refused and counted', () =>
  withSeed(testSeed(), async (seed) => {
    const w = world(seed);
    try {
      const alice = w.device('alice');
      const bob = w.device('bob');
      const typings: [Sender, boolean][] = [];
      const calls: number[] = [];
      const stopTyping = bob.messenger.subscribe('typing', (from, t) => void typings.push([from, t.active]));
      bob.messenger.subscribe('call', (_from, signal) => void calls.push(signal.callId[0]!));
      // A second subscriber of the same kind hears it too.
      const callsAgain: number[] = [];
      bob.messenger.subscribe('call', (_from, signal) => void callsAgain.push(signal.callId[0]!));

      await w.drive(alice.messenger.send('bob', [bob.key], 'typing', typing(true)));
      await w.drive(alice.messenger.send('bob', 'all', 'call', ring(1)));
      await w.drive(alice.messenger.send('bob', [bob.key], 'read', create(ReadReceiptSchema, { ids: ['x'] })));
      // A newer peer's kind: field 99 of the payload, which this build decodes as no known case.
      alice.messenger.sendKept('bob', bob.key, Uint8Array.of(0x98, 0x06, 0x01));
      await w.drive(alice.messenger.send('bob', [bob.key], 'typing', typing(false)));
      await w.drive(alice.messenger.send('bob', [bob.key], 'call', ring(2)));
      await w.elapse(1_000);

      assert.deepEqual(typings.map(([from, active]) => [from.user, toHex(from.device), from.relation, active]), [['alice', toHex(alice.key), 'buddy', true], ['alice', toHex(alice.key), 'buddy', false]]);
      assert.deepEqual(calls, [1, 2]);
      assert.deepEqual(callsAgain, [1, 2]);
      assert.equal(bob.messenger.refused.get('unknown_kind'), 2, 'the read receipt (no subscriber) and the unknown kind');
      assert.equal(alice.messenger.unacknowledged, 0, 'refused payloads are still acknowledged: the stream goes on');

      // Unsubscribed: typing is now a kind nobody here listens for.
      stopTyping();
      await w.drive(alice.messenger.send('bob', [bob.key], 'typing', typing(true)));
      await w.elapse(1_000);
      assert.equal(typings.length, 2);
      assert.equal(bob.messenger.refused.get('unknown_kind'), 3);
    } finally {
      w.close();
    }
  }));

test('a blocked user\'s payloads reach no subscriber; a subscriber\'s refusal is counted; what waited offline says so and counts as new when taken so', () =>
  withSeed(testSeed(), async (seed) => {
    const w = world(seed);
    try {
      const bob = w.device('bob', (other) => (other === 'mallory' ? 'blocked' : 'buddy'), { online: false });
      const alice = w.device('alice');
      const mallory = w.device('mallory');
      const got: [string, boolean][] = [];
      bob.messenger.subscribe('typing', (from, t, arrival) => {
        got.push([from.user, arrival.offline]);
        return t.active ? 'new' : { refused: 'rate_limited' };
      });
      // Bob is offline: both are sealed for his device and left with the login server.
      const payload = (active: boolean) => encodePayload('typing', typing(active));
      assert.equal(await w.drive(alice.messenger.sealForOffline('bob', [], payload(true))), 1);
      assert.equal(await w.drive(alice.messenger.sealForOffline('bob', [], payload(false))), 1);
      assert.equal(await w.drive(mallory.messenger.sealForOffline('bob', [], payload(true))), 1);
      assert.equal(w.waiting.length, 3);
      assert.equal(await w.drive(bob.messenger.fetchOffline()), 1, 'one the subscriber took as new');
      assert.deepEqual(got, [['alice', true], ['alice', true]]);
      assert.equal(bob.messenger.refused.get('rate_limited'), 1, 'the subscriber\'s refusal');
      assert.equal(bob.messenger.refused.get('blocked'), 1, 'mallory\'s, before any subscriber');
      assert.equal(w.waiting.length, 0, 'all acknowledged');
      // Live, mallory gets no session at all.
      await w.drive(mallory.messenger.send('bob', [bob.key], 'typing', typing(true)));
      await w.elapse(1_000);
      assert.equal(got.length, 2);
      assert.ok(mallory.messenger.unacknowledged > 0, 'no answer, no acknowledgement');
    } finally {
      w.close();
    }
  }));


test('failures with nobody to tell are counted: a send the transport refused (then retried), a payload the offline store did not take (then left again)', () =>
  withSeed(testSeed(), async (seed) => {
    const w = world(seed);
    try {
      const alice = w.device('alice');
      const bob = w.device('bob');
      const typings: boolean[] = [];
      bob.messenger.subscribe('typing', (_from, t) => void typings.push(t.active));
      w.failing.send = true;
      await w.drive(alice.messenger.send('bob', [bob.key], 'typing', typing(true)));
      await w.elapse(1_000);
      assert.deepEqual(typings, []);
      const refusedSends = alice.messenger.failures.get('transport_send') ?? 0;
      assert.ok(refusedSends >= 1, 'the refused send is counted');
      w.failing.send = false;
      await w.elapse(30_000);
      assert.deepEqual(typings, [true], 'the stream sent it again');
      assert.equal(alice.messenger.failures.get('transport_send'), refusedSends, 'nothing failed since');

      // carol's device never acknowledges (its messenger is closed): the payload is sealed for the
      // offline store, which does not answer at first.
      const carol = w.device('carol');
      carol.messenger.close();
      w.failing.store = true;
      alice.messenger.sendKept('carol', carol.key, Uint8Array.of(1, 2, 3));
      await w.elapse(OFFLINE_FALLBACK_MS + 1_000);
      assert.equal(alice.messenger.failures.get('offline_store'), 1);
      assert.equal(w.waiting.length, 0);
      w.failing.store = false;
      await w.elapse(30_000);
      assert.equal(w.waiting.filter((m) => m.sender === 'alice').length, 1, 'left with the store at the next occasion');
    } finally {
      w.close();
    }
  }));

test('chat on the messenger: a typing indicator or presence whose devices could not be looked up (and no recent list) goes to nobody, and is counted', () =>
  withSeed(testSeed(), async (seed) => {
    const w = world(seed);
    const alice = w.device('alice');
    w.device('bob');
    const chat = new ChatClient(w.network.addHost().env(), alice.messenger, { buddies: () => ['bob'] });
    try {
      await w.drive(chat.setTyping('bob', true));
      assert.equal(chat.deviceLookupFailures, 0);
      w.failing.devices = true;
      // Looked up afresh (the cached list has expired) and refused: the last list found, still
      // recent, answers.
      await w.elapse(DEVICE_LIST_TTL_MS + 1);
      await w.drive(chat.setTyping('bob', false));
      assert.equal(chat.deviceLookupFailures, 0, 'the last list found answers while recent');
      // Once that list is too old, the refusal is the sender's.
      await w.elapse(STALE_LIST_MS);
      await w.drive(chat.setTyping('bob', true));
      assert.equal(chat.deviceLookupFailures, 1);
      await w.drive(chat.setPresence(PresenceState.AWAY));
      assert.equal(chat.deviceLookupFailures, 3, 'bob and alice herself');
    } finally {
      chat.close();
      w.close();
    }
  }));
