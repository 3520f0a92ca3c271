// Issue 19, same class as items 1-4 (a limit on every resource a peer can make us spend): a user
// who is not a buddy gets a few end-to-end sessions with a device (then one a minute), but once
// a session was open every message in it was shown to the user and written to the history on
// disk, with no limit: one stranger could fill the disk and the screen with "requests". Now a
// stranger's messages pass a budget of their own and one shared by all strangers; buddies, and
// strangers this user wrote to, are not counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { STRANGER_MESSAGE_BURST, ALL_STRANGERS_MESSAGE_BURST, type ReceivedMessage } from '../../src/chat/chat-client.js';
import type { SignallingTransport } from '../../src/messenger/transport.js';
import { chatOn } from '../support/chat.js';
import { ChatHistory } from '../../src/chat/history.js';
import { toHex } from '../../src/crypto/bytes.js';
import { SeededRandom } from '../../src/env/prng.js';
import { TEST_EPOCH_MS, testNetwork } from '../support/identities.js';
import { testSeed, withSeed } from '../support/seed.js';

/** Clients that reach each other in 2 ms through an in-memory router that names the sender, as the overlay does. */
function chatWorld(seed: number) {
  const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
  const drive = <T>(work: Promise<T>) => network.scheduler.drive(work, 3_600_000);
  const elapse = (ms: number) => drive(new Promise<void>((resolve) => network.scheduler.after(ms, resolve)));
  const net = testNetwork(new SeededRandom(seed));
  const handlers = new Map<string, (from: string, payload: Uint8Array) => void>();
  const devicesOf = new Map<string, Uint8Array[]>();
  const clients: (() => void)[] = [];
  const client = (user: string, relationOf: (other: string) => 'buddy' | 'stranger' = () => 'buddy', history?: ChatHistory) => {
    const identity = net.identity(user);
    devicesOf.set(user, [...(devicesOf.get(user) ?? []), identity.dh.publicKey]);
    const transport: SignallingTransport = {
      send: async (_to, key, payload) => {
        network.scheduler.after(2, () => handlers.get(toHex(key))?.(user, payload));
        return 'delivered';
      },
      devices: async (other) => devicesOf.get(other) ?? [],
      onReceive: (handler) => void handlers.set(toHex(identity.dh.publicKey), handler),
    };
    const { messenger, chat, close } = chatOn(network.addHost().env(), { identity, verifier: net.verifier, username: user, transport, relationOf, ...(history ? { history } : {}) });
    clients.push(close);
    const inbox: ReceivedMessage[] = [];
    chat.onMessage((m) => inbox.push(m));
    return { messenger, chat, inbox };
  };
  return { drive, elapse, client, close: () => clients.forEach((close) => close()) };
}

const FLOOD = 300;

test(`a stranger's ${FLOOD} messages: ${STRANGER_MESSAGE_BURST} are shown and stored, the rest refused and counted, one more a minute later; a buddy's all arrive`, () =>
  withSeed(testSeed(), async (seed) => {
    const world = chatWorld(seed);
    const history = ChatHistory.open(':memory:');
    try {
      const bob = world.client('bob', (other) => (other === 'alice' ? 'buddy' : 'stranger'), history);
      const mallory = world.client('mallory');
      const alice = world.client('alice');
      for (let i = 0; i < FLOOD; i++) {
        await world.drive(mallory.chat.send('bob', `buy now #${i}`));
        await world.drive(alice.chat.send('bob', `hello #${i}`));
      }
      await world.elapse(5_000);
      const fromMallory = () => bob.inbox.filter((m) => m.from === 'mallory');
      assert.equal(fromMallory().length, STRANGER_MESSAGE_BURST, 'shown from the stranger');
      assert.ok(fromMallory().every((m) => m.request));
      assert.equal(history.conversation('mallory', { limit: 1_000 }).length, STRANGER_MESSAGE_BURST, 'stored from the stranger');
      assert.equal(bob.messenger.refused.get('rate_limited'), FLOOD - STRANGER_MESSAGE_BURST);
      assert.equal(bob.inbox.filter((m) => m.from === 'alice').length, FLOOD, "every buddy's message arrives");
      assert.equal(history.conversation('alice', { limit: 1_000 }).length, FLOOD);
      // The budget refills at one a minute.
      await world.elapse(60_000);
      await world.drive(mallory.chat.send('bob', 'one more'));
      await world.elapse(1_000);
      assert.equal(fromMallory().length, STRANGER_MESSAGE_BURST + 1);
      // Once bob writes to mallory, mallory's answers are a conversation bob chose: not counted.
      await world.drive(bob.chat.send('mallory', 'who are you?'));
      for (let i = 0; i < 30; i++) await world.drive(mallory.chat.send('bob', `answer #${i}`));
      await world.elapse(5_000);
      assert.equal(fromMallory().length, STRANGER_MESSAGE_BURST + 1 + 30);
    } finally {
      world.close();
      history.close();
    }
  }));

test(`many strangers together are shown at most ${ALL_STRANGERS_MESSAGE_BURST} messages at once; buddies still get through`, () =>
  withSeed(testSeed(), async (seed) => {
    const world = chatWorld(seed);
    try {
      const bob = world.client('bob', (other) => (other === 'alice' ? 'buddy' : 'stranger'));
      const alice = world.client('alice');
      const strangers = Array.from({ length: 30 }, (_, i) => world.client(`sybil${i}`));
      for (const s of strangers) for (let i = 0; i < STRANGER_MESSAGE_BURST; i++) await world.drive(s.chat.send('bob', `spam ${i}`));
      for (let i = 0; i < 20; i++) await world.drive(alice.chat.send('bob', `hello #${i}`));
      await world.elapse(5_000);
      const fromStrangers = bob.inbox.filter((m) => m.from.startsWith('sybil')).length;
      assert.equal(fromStrangers, ALL_STRANGERS_MESSAGE_BURST, `shown from ${strangers.length} strangers`);
      assert.equal(bob.messenger.refused.get('rate_limited'), strangers.length * STRANGER_MESSAGE_BURST - ALL_STRANGERS_MESSAGE_BURST);
      assert.equal(bob.inbox.filter((m) => m.from === 'alice').length, 20);
    } finally {
      world.close();
    }
  }));
