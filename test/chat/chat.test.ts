// Chat on the virtual network through the overlay, with a transport that loses, repeats and
// delays routed payloads: every message reaches every device of the recipient and the sender's
// other device exactly once and in order, also across a supernode crash; and nothing a user
// wrote appears in what the supernodes carry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/env/prng.js';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { AttachedClient } from '../../src/client/attachment.js';
import { HostCache } from '../../src/overlay/host-cache.js';
import { ChatClient, type ReceivedMessage, type SignallingTransport } from '../../src/chat/chat-client.js';
import { overlayTransport } from '../../src/chat/overlay-transport.js';
import { toHex } from '../../src/crypto/bytes.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';
import { testSeed, withSeed } from '../support/seed.js';
import { startSupernodes } from '../support/supernodes.js';

const PER_SENDER = 500;

test(`two users with two devices each exchange ${2 * PER_SENDER} messages over a lossy, reordering path and a supernode crash: each arrives once, in order, on every device`, { timeout: 120_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const random = new SeededRandom(seed);
    const net = testNetwork(random);
    const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
    const scheduler = network.scheduler;
    const drive = <T>(work: Promise<T>) => scheduler.drive(work, 3_600_000);
    const supernodes = await startSupernodes(network, net, 6, { link: (i) => ({ latencyMs: 5 + 4 * i }) });
    for (const s of supernodes) await drive(s.running.join(supernodes.map((x) => x.ref)));

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
      const chat = new ChatClient(host.env(), { identity, verifier: net.verifier, username: user, transport: lossy(overlayTransport(attached)) });
      const inbox: ReceivedMessage[] = [];
      chat.onMessage((m) => inbox.push(m));
      return { user, key: toHex(identity.dh.publicKey), attached, chat, inbox };
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
      d.chat.close();
      d.attached.close();
    }
    for (const s of supernodes) s.running.close();
  }));
