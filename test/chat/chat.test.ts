// Chat on the virtual network through the overlay, with a transport that loses, repeats and
// delays routed payloads: every message reaches every device of the recipient and the sender's
// other device exactly once and in order, also across a supernode crash; and nothing a user
// wrote appears in what the supernodes carry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatHistory } from '../../src/chat/history.js';
import { AttachedClient } from '../../src/client/attachment.js';
import { HostCache } from '../../src/overlay/host-cache.js';
import type { BuddyPresence, ReadEvent, ReceivedMessage, TypingEvent } from '../../src/chat/chat-client.js';
import type { OfflineStore, SignallingTransport } from '../../src/messenger/transport.js';
import { PresenceState } from '../../src/wire/messages.js';
import { overlayTransport } from '../../src/client/overlay-transport.js';
import { chatOn } from '../support/chat.js';
import { toHex } from '../../src/crypto/bytes.js';
import { testSeed, withSeed } from '../support/seed.js';
import { overlayWorld } from '../support/supernodes.js';

const PER_SENDER = 500;

test(`two users with two devices each exchange ${2 * PER_SENDER} messages over a lossy, reordering path and a supernode crash: each arrives once, in order, on every device`, { timeout: 120_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const { random, net, network, scheduler, drive, supernodes } = await overlayWorld(seed, 6, { link: (i) => ({ latencyMs: 5 + 4 * i }), maxVirtualMs: 3_600_000 });

    // Everything routed through the overlay, as the supernodes receive it.
    const carried: Uint8Array[] = [];
    /** Loses 10%, repeats 5% and delays each payload by 0–300 ms (so they overtake each other). */
    const lossy = (inner: SignallingTransport): SignallingTransport => ({
      ...inner,
      send: async (to, key, payload) => {
        carried.push(payload);
        if (random.float() < 0.1) return;
        const copies = random.float() < 0.05 ? 2 : 1;
        for (let i = 0; i < copies; i++) scheduler.after(random.float() * 300, () => void inner.send(to, key, payload).catch(() => {}));
      },
    });
    const device = async (user: string, sn: number) => {
      const host = network.addHost({ behind: network.addGateway({ nat: 'port-restricted' }), link: { latencyMs: 10 + random.int(20) } });
      const identity = net.identity(user);
      const attached = new AttachedClient(host.env(), { identity, verifier: net.verifier, username: user, hostCache: new HostCache(), bootstrap: [supernodes[sn]!.ref, ...supernodes.map((s) => s.ref)] });
      await drive(attached.start());
      const { chat, close } = chatOn(host.env(), { identity, verifier: net.verifier, username: user, transport: lossy(overlayTransport(attached)) });
      const inbox: ReceivedMessage[] = [];
      chat.onMessage((m) => inbox.push(m));
      return { user, key: toHex(identity.dh.publicKey), attached, chat, close, inbox };
    };
    const aliceLaptop = await device('alice', 0);
    const alicePhone = await device('alice', 1);
    const bobLaptop = await device('bob', 2);
    const bobPhone = await device('bob', 3);
    const all = [aliceLaptop, alicePhone, bobLaptop, bobPhone];
    await drive(new Promise<void>((resolve) => scheduler.after(3_000, resolve)));

    const text = (from: string, i: number) => `${from} #${i}: secret-${from}-${i}`;
    for (let i = 0; i < PER_SENDER; i++) {
      await drive(aliceLaptop.chat.send('bob', text('alice', i)));
      await drive(bobPhone.chat.send('alice', text('bob', i)));
      if (i % 50 === 49) await drive(new Promise<void>((resolve) => scheduler.after(200, resolve)));
      if (i === PER_SENDER / 2) {
        // Bob's laptop loses its supernode mid-conversation.
        const sn = supernodes.find((s) => s.host.addressText === bobLaptop.attached.supernode!.host)!;
        sn.host.crash();
      }
    }
    // Until every device acknowledged everything (bounded by the drive limit).
    await drive(
      new Promise<void>((resolve) => {
        const check = () => (all.every((d) => d.chat.unacknowledged === 0) ? resolve() : scheduler.after(250, check));
        check();
      }),
    );

    const expect = (d: (typeof all)[number], from: string, fromKey: string, conversation: string) => {
      const got = d.inbox.filter((m) => toHex(m.fromDevice) === fromKey);
      assert.equal(got.length, PER_SENDER, `${d.user} device ${d.key.slice(0, 6)}: messages from ${from}`);
      assert.deepEqual(got.map((m) => m.text), Array.from({ length: PER_SENDER }, (_, i) => text(from, i)), 'in order, each once');
      assert.ok(got.every((m) => m.conversation === conversation && m.from === from));
    };
    expect(bobLaptop, 'alice', aliceLaptop.key, 'alice');
    expect(bobPhone, 'alice', aliceLaptop.key, 'alice');
    expect(alicePhone, 'alice', aliceLaptop.key, 'bob'); // the sender's own other device: the conversation is with bob
    expect(aliceLaptop, 'bob', bobPhone.key, 'bob');
    expect(alicePhone, 'bob', bobPhone.key, 'bob');
    expect(bobLaptop, 'bob', bobPhone.key, 'alice');
    assert.equal(aliceLaptop.inbox.length, PER_SENDER, 'nothing shown twice, nothing of its own');

    // The supernodes carried sealed frames only: no message text in any of them.
    const needle = Buffer.from('secret-');
    const leaked = carried.filter((bytes) => Buffer.from(bytes).includes(needle));
    assert.equal(leaked.length, 0, 'plaintext in routed payloads');
    assert.ok(carried.length > 0);
    for (const d of all) {
      d.close();
      d.attached.close();
    }
    for (const s of supernodes) s.running.close();
  }));

test('a user with no device online gets what was sent meanwhile at the next login, once each, in order; the store holds no plaintext', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const { net, network, drive, supernodes } = await overlayWorld(seed, 3);
    const bobIdentity = net.identity('bob');
    const bobPhone = net.identity('bob'); // registered, never online in this test
    const aliceTablet = net.identity('alice'); // likewise
    // The login server's offline store, as its API behaves: per device, oldest first, until acknowledged.
    const waiting: { id: number; device: number; sender: string; ciphertext: Uint8Array; storedAtMs: number }[] = [];
    let nextId = 1;
    const storeFor = (caller: string, device: number): OfflineStore => ({
      devicesOf: async (user) =>
        user === 'bob' ? [{ id: 7, dhKey: bobIdentity.dh.publicKey }, { id: 8, dhKey: bobPhone.dh.publicKey }] : user === 'alice' ? [{ id: 1, dhKey: aliceIdentity.dh.publicKey }, { id: 2, dhKey: aliceTablet.dh.publicKey }] : [],
      store: async (deviceId, ciphertext) => void waiting.push({ id: nextId++, device: deviceId, sender: caller, ciphertext, storedAtMs: network.scheduler.wallTimeMs() }),
      fetch: async () => waiting.filter((m) => m.device === device).slice(0, 2),
      ack: async (ids) => void ids.forEach((id) => waiting.splice(waiting.findIndex((m) => m.id === id), 1)),
    });
    const aliceIdentity = net.identity('alice');
    const online = async (user: string, identity: ReturnType<typeof net.identity>, device: number) => {
      const host = network.addHost({ behind: network.addGateway({ nat: 'symmetric' }) });
      const attached = new AttachedClient(host.env(), { identity, verifier: net.verifier, username: user, hostCache: new HostCache(), bootstrap: supernodes.map((s) => s.ref) });
      await drive(attached.start());
      const { messenger, chat, close } = chatOn(host.env(), { identity, verifier: net.verifier, username: user, transport: overlayTransport(attached), offline: storeFor(user, device) });
      const inbox: ReceivedMessage[] = [];
      chat.onMessage((m) => inbox.push(m));
      return { attached, messenger, chat, close, inbox };
    };
    const alice = await online('alice', aliceIdentity, 1);
    for (let i = 0; i < 5; i++) {
      const sent = await drive(alice.chat.send('bob', `while you were out ${i}`));
      assert.deepEqual([sent.devices, sent.offlineDevices], [0, 3], 'both of bob\'s devices and alice\'s tablet, sealed');
    }
    await assert.rejects(drive(alice.chat.send('nobody', 'hello?')), /nobody has no device to deliver to/);
    assert.ok(!waiting.some((m) => Buffer.from(m.ciphertext).includes(Buffer.from('while you were out'))), 'the store holds sealed bytes only');
    // A message the store claims came from someone else is refused, as is a damaged one.
    const forLaptop = waiting.filter((m) => m.device === 7);
    waiting.push({ ...forLaptop[0]!, id: nextId++, sender: 'mallory' });
    const damaged = Uint8Array.from(forLaptop[1]!.ciphertext);
    damaged[damaged.length - 3]! ^= 1;
    waiting.push({ ...forLaptop[1]!, id: nextId++, ciphertext: damaged });

    const bob = await online('bob', bobIdentity, 7);
    const shown = await drive(bob.chat.fetchOffline());
    assert.equal(shown, 5);
    assert.deepEqual(bob.inbox.map((m) => m.text), Array.from({ length: 5 }, (_, i) => `while you were out ${i}`));
    assert.ok(bob.inbox.every((m) => m.offline && m.from === 'alice' && m.conversation === 'alice'));
    assert.equal(bob.messenger.refused.get('wrong_peer'), 1);
    assert.equal(bob.messenger.refused.get('handshake_failed'), 1);
    assert.equal(waiting.filter((m) => m.device === 7).length, 0, 'everything fetched was acknowledged');
    assert.equal(await drive(bob.chat.fetchOffline()), 0);
    // Now online, bob's laptop gets the next one live; his phone and alice's tablet, sealed.
    const live = await drive(alice.chat.send('bob', 'welcome back'));
    assert.deepEqual([live.devices, live.recipientOnline, live.offlineDevices], [1, 1, 2]);
    assert.deepEqual(waiting.filter((m) => m.device === 8).length, 6);
    assert.deepEqual(waiting.filter((m) => m.device === 2).length, 6);
    await drive(new Promise<void>((resolve) => network.scheduler.after(2_000, resolve)));
    assert.equal(bob.inbox.at(-1)?.text, 'welcome back');
    assert.equal(bob.inbox.at(-1)?.offline, false);
    for (const d of [alice, bob]) {
      d.close();
      d.attached.close();
    }
    for (const s of supernodes) s.running.close();
  }));

test('presence goes to buddies only and reaches a device that connects later; strangers\' messages are requests; a blocked user is refused silently', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const { net, network, drive, elapse, supernodes } = await overlayWorld(seed, 3);
    const contacts: Record<string, { buddies: string[]; blocked: string[] }> = {
      alice: { buddies: ['bob'], blocked: [] },
      bob: { buddies: ['alice'], blocked: ['mallory'] },
      carol: { buddies: ['bob'], blocked: [] }, // carol thinks bob is her buddy; bob does not
      mallory: { buddies: ['bob'], blocked: [] },
    };
    const online = async (user: string) => {
      const host = network.addHost({ behind: network.addGateway({ nat: 'port-restricted' }) });
      const identity = net.identity(user);
      const attached = new AttachedClient(host.env(), { identity, verifier: net.verifier, username: user, hostCache: new HostCache(), bootstrap: supernodes.map((s) => s.ref) });
      await drive(attached.start());
      const mine = contacts[user]!;
      const { messenger, chat, close } = chatOn(host.env(), {
        identity,
        verifier: net.verifier,
        username: user,
        transport: overlayTransport(attached),
        relationOf: (other) => (mine.blocked.includes(other) ? 'blocked' : mine.buddies.includes(other) ? 'buddy' : 'stranger'),
        buddies: () => mine.buddies,
      });
      const inbox: ReceivedMessage[] = [];
      const seen: BuddyPresence[] = [];
      chat.onMessage((m) => inbox.push(m));
      chat.onPresence((p) => seen.push(p));
      return { host, identity, attached, messenger, chat, close, inbox, seen };
    };
    const alice = await online('alice');
    const bob = await online('bob');
    const carol = await online('carol');
    const mallory = await online('mallory');
    await elapse(2_000);

    await drive(bob.chat.setPresence(PresenceState.AWAY, 'lunch'));
    await elapse(2_000);
    assert.deepEqual(alice.seen.map((p) => [p.user, p.state, p.text]), [['bob', PresenceState.AWAY, 'lunch']]);
    assert.deepEqual(carol.seen, [], 'presence goes to buddies only');
    // Carol pushes her presence to bob, who does not count her as a buddy: he ignores it.
    await drive(carol.chat.setPresence(PresenceState.ONLINE, 'hi bob'));
    await drive(carol.chat.send('bob', 'can we talk?'));
    await drive(mallory.chat.send('bob', 'let me in'));
    await elapse(5_000);
    assert.deepEqual(bob.seen, []);
    assert.deepEqual(bob.inbox.map((m) => [m.from, m.text, m.request]), [['carol', 'can we talk?', true]], 'a stranger\'s message is a request; a blocked user\'s never shows');
    assert.ok((bob.messenger.refused.get('blocked') ?? 0) >= 1);
    assert.ok(mallory.chat.unacknowledged > 0, 'the blocked user learns nothing: no answer, no acknowledgement');

    // Alice's second device comes online later: its first session with bob brings bob's presence.
    const alice2 = await online('alice');
    await elapse(31_000); // bob's cached list of alice's devices runs out
    await drive(bob.chat.send('alice', 'back soon'));
    await elapse(3_000);
    assert.deepEqual(alice2.seen.map((p) => [p.user, p.text]), [['bob', 'lunch']]);
    assert.deepEqual(alice2.inbox.map((m) => m.text), ['back soon']);

    // Alice's first device restarts its chat (same keys, all session state gone); bob, who
    // still holds the old session, notices the silence, starts a new one, and gets through.
    alice.close();
    const restarted = chatOn(alice.host.env(), { identity: alice.identity, verifier: net.verifier, username: 'alice', transport: overlayTransport(alice.attached), relationOf: () => 'buddy' });
    const afterRestart: string[] = [];
    restarted.chat.onMessage((m) => afterRestart.push(m.text));
    await drive(bob.chat.send('alice', 'still there?'));
    await elapse(20_000);
    assert.deepEqual(afterRestart, ['still there?']);
    assert.equal(bob.chat.unacknowledged, 0, 'every device acknowledged bob\'s messages');
    restarted.close();
    for (const d of [alice, alice2, bob, carol, mallory]) {
      d.close();
      d.attached.close();
    }
    for (const s of supernodes) s.running.close();
  }));

test('typing indicators and read receipts reach the other side, and not when the user turned them off', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const { net, network, drive, elapse, supernodes } = await overlayWorld(seed, 2);
    const online = async (user: string, settings: { typingIndicators?: boolean; readReceipts?: boolean }) => {
      const host = network.addHost({ behind: network.addGateway({ nat: 'port-restricted' }) });
      const identity = net.identity(user);
      const attached = new AttachedClient(host.env(), { identity, verifier: net.verifier, username: user, hostCache: new HostCache(), bootstrap: supernodes.map((s) => s.ref) });
      await drive(attached.start());
      const { chat, close } = chatOn(host.env(), { identity, verifier: net.verifier, username: user, transport: overlayTransport(attached), ...settings });
      const typing: TypingEvent[] = [];
      const reads: ReadEvent[] = [];
      const inbox: ReceivedMessage[] = [];
      chat.onTyping((t) => typing.push(t));
      chat.onRead((r) => reads.push(r));
      chat.onMessage((m) => inbox.push(m));
      return { attached, chat, close, typing, reads, inbox };
    };
    const alice = await online('alice', {});
    const bob = await online('bob', {});
    const quiet = await online('quiet', { typingIndicators: false, readReceipts: false });
    await elapse(2_000);

    await drive(alice.chat.setTyping('bob', true));
    const sent = await drive(alice.chat.send('bob', 'hello'));
    await drive(alice.chat.setTyping('bob', false));
    await elapse(2_000);
    assert.deepEqual(bob.typing.map((t) => [t.user, t.active]), [['alice', true], ['alice', false]]);
    bob.chat.markRead(bob.inbox);
    await elapse(2_000);
    assert.deepEqual(alice.reads.map((r) => [r.user, r.ids]), [['bob', [sent.id]]]);

    // A user who turned both off tells nobody, but still sees others'.
    await drive(quiet.chat.setTyping('alice', true));
    const toQuiet = await drive(alice.chat.send('quiet', 'are you reading this?'));
    await elapse(2_000);
    quiet.chat.markRead(quiet.inbox);
    await elapse(2_000);
    assert.deepEqual(alice.typing, []);
    assert.equal(alice.reads.filter((r) => r.ids.includes(toQuiet.id)).length, 0);
    assert.equal(quiet.inbox.length, 1);
    for (const d of [alice, bob, quiet]) {
      d.close();
      d.attached.close();
    }
    for (const s of supernodes) s.running.close();
  }));

test('a sender that restarts with messages no device acknowledged sends them again from its history; each shows once, in order', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const { net, network, drive, elapse, supernodes } = await overlayWorld(seed, 2);
    const dir = mkdtempSync(join(tmpdir(), 'parley-outbox-'));
    try {
      const attach = async (user: string, identity: ReturnType<typeof net.identity>) => {
        const host = network.addHost({ behind: network.addGateway({ nat: 'port-restricted' }) });
        const attached = new AttachedClient(host.env(), { identity, verifier: net.verifier, username: user, hostCache: new HostCache(), bootstrap: supernodes.map((s) => s.ref) });
        await drive(attached.start());
        return { host, attached };
      };
      const bobIdentity = net.identity('bob');
      const bob = await attach('bob', bobIdentity);
      const bobDevice = chatOn(bob.host.env(), { identity: bobIdentity, verifier: net.verifier, username: 'bob', transport: overlayTransport(bob.attached) });
      const bobInbox: string[] = [];
      bobDevice.chat.onMessage((m) => bobInbox.push(m.text));

      const aliceIdentity = net.identity('alice');
      const alice = await attach('alice', aliceIdentity);
      // Alice's link to the overlay, with switches to lose what she sends or what she hears.
      const cut = { outbound: false, inbound: false };
      const overlay = overlayTransport(alice.attached);
      const flaky: SignallingTransport = {
        send: (user, key, payload) => (cut.outbound ? Promise.resolve() : overlay.send(user, key, payload)),
        devices: (user) => overlay.devices(user),
        onReceive: (handler) => overlay.onReceive((from, payload) => cut.inbound || handler(from, payload)),
      };
      const historyPath = join(dir, 'alice.sqlite');
      let history = ChatHistory.open(historyPath);
      const aliceDevice = chatOn(alice.host.env(), { identity: aliceIdentity, verifier: net.verifier, username: 'alice', transport: flaky, history });
      const aliceChat = aliceDevice.chat;
      await drive(aliceChat.send('bob', 'one'));
      await elapse(2_000);
      assert.equal(aliceChat.unacknowledged, 0);
      // Bob gets 'two' but his acknowledgement is lost; 'three' never leaves.
      cut.inbound = true;
      await drive(aliceChat.send('bob', 'two'));
      await elapse(2_000);
      cut.outbound = true;
      await drive(aliceChat.send('bob', 'three'));
      await elapse(2_000);
      assert.deepEqual(bobInbox, ['one', 'two']);
      assert.equal(aliceChat.unacknowledged, 2);
      aliceDevice.close();
      history.close();

      // Alice's chat starts again on the same profile: its outbox has 'two' and 'three'.
      history = ChatHistory.open(historyPath);
      const restarted = chatOn(alice.host.env(), { identity: aliceIdentity, verifier: net.verifier, username: 'alice', transport: overlayTransport(alice.attached), history });
      await elapse(10_000);
      assert.deepEqual(bobInbox, ['one', 'two', 'three'], 'every message once, in order');
      assert.equal(restarted.chat.unacknowledged, 0);
      assert.deepEqual(history.queued(network.scheduler.wallTimeMs()), [], 'acknowledged messages leave the outbox');
      restarted.close();
      history.close();
      bobDevice.close();
      for (const d of [alice, bob]) d.attached.close();
      for (const s of supernodes) s.running.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }));
