// The WebRTC endpoint's protocol with a stand-in stack, on virtual time: who may open a session
// here (buddies by default), the bounds (sessions per user), answers from the wrong device or
// for no session, a second copy of an offer, an offer left unanswered. The stack is a fake that
// writes an SDP with a fresh fingerprint and records what was applied to it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { SeededRandom } from '../../src/env/prng.js';
import { toHex } from '../../src/crypto/bytes.js';
import type { NodeIdentity } from '../../src/crypto/identity.js';
import type { Sender } from '../../src/messenger/messenger.js';
import type { Relation } from '../../src/messenger/transport.js';
import type { SignedDescription } from '../../src/wire/messages.js';
import type { RtcConnectionState, RtcDescriptionType, RtcPeer, RtcStack } from '../../src/media/rtc-peer.js';
import { ANSWER_TIMEOUT_MS, MAX_SESSIONS_PER_USER, WebRtcEndpoint, type DescriptionChannel } from '../../src/client/webrtc-session.js';
import { signDescription } from '../../src/client/webrtc-description.js';
import { TEST_EPOCH_MS, testNetwork } from '../support/identities.js';
import { testSeed, withSeed } from '../support/seed.js';

interface FakePeer extends RtcPeer {
  readonly applied: RtcDescriptionType[];
  closed: boolean;
}

function fakeStack(random: SeededRandom): RtcStack & { peers: FakePeer[] } {
  const peers: FakePeer[] = [];
  return {
    peers,
    createPeer: () => {
      const fingerprint = [...random.bytes(32)].map((b) => b.toString(16).padStart(2, '0')).join(':');
      const peer: FakePeer = {
        applied: [],
        closed: false,
        addAudio: () => ({ write: () => undefined }),
        onAudio: () => () => undefined,
        createChannel: () => {
          throw new Error('not in this fake');
        },
        onChannel: () => () => undefined,
        describe: async (type) => `v=0\r\ns=${type}\r\na=fingerprint:sha-256 ${fingerprint}\r\n`,
        applyRemote: async (type) => void peer.applied.push(type),
        connectionState: 'new' as RtcConnectionState,
        onConnectionState: () => () => undefined,
        selectedPair: async () => null,
        close: () => void (peer.closed = true),
      };
      peers.push(peer);
      return peer;
    },
  };
}

function world(seed: number) {
  const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
  const drive = <T>(work: Promise<T>) => network.scheduler.drive(work, 600_000);
  const elapse = (ms: number) => drive(new Promise<void>((resolve) => network.scheduler.after(ms, resolve)));
  const random = new SeededRandom(seed);
  const net = testNetwork(random);
  const stack = fakeStack(random);
  const ends = new Map<string, (from: Sender, type: RtcDescriptionType, d: SignedDescription) => void>();
  /** Sends as `user`'s device, with the relation the receiver has to it. */
  const channel = (user: string, device: Uint8Array, relation: Relation = 'buddy'): DescriptionChannel => ({
    send: async (to, type, description) => void network.scheduler.after(5, () => ends.get(toHex(to.device))?.({ user, device, relation }, type, description)),
    onDescription: (handler) => {
      ends.set(toHex(device), handler);
      return () => ends.delete(toHex(device));
    },
  });
  const endpoint = (user: string, identity: NodeIdentity, relation: Relation = 'buddy') =>
    new WebRtcEndpoint(network.addHost().env(), { identity, username: user, verifier: net.verifier, stack, channel: channel(user, identity.dh.publicKey, relation), iceServers: async () => [] });
  /** Delivers a description to `to` as if `from` had sent it. */
  const inject = (to: NodeIdentity, from: Sender, type: RtcDescriptionType, d: SignedDescription) => ends.get(toHex(to.dh.publicKey))!(from, type, d);
  return { network, drive, elapse, net, stack, endpoint, inject };
}

test('an offer from a buddy is answered and applied on both sides; a stranger is refused by default; an offer nobody answers ends no_answer', () =>
  withSeed(testSeed(), async (seed) => {
    const w = world(seed);
    const alice = w.net.identity('alice');
    const bob = w.net.identity('bob');
    const aliceEnd = w.endpoint('alice', alice);
    const bobEnd = w.endpoint('bob', bob);
    const session = await w.drive(aliceEnd.connect('bob', bob.dh.publicKey, () => undefined));
    await w.elapse(50);
    assert.equal(session.state, 'connecting');
    assert.deepEqual(w.stack.peers.map((p) => p.applied), [['answer'], ['offer']]);
    assert.equal(bobEnd.size, 1);

    const mallory = w.net.identity('mallory');
    const malloryEnd = w.endpoint('mallory', mallory, 'stranger');
    const refused = await w.drive(malloryEnd.connect('bob', bob.dh.publicKey, () => undefined));
    await w.elapse(ANSWER_TIMEOUT_MS + 100);
    assert.equal((await refused.ended).reason, 'no_answer');
    assert.equal(bobEnd.refusals.get('not_accepted'), 1);
    assert.equal(w.stack.peers.length, 3, 'no peer was made at bob for the stranger');
    assert.ok(w.stack.peers[2]!.closed, "the stranger's own peer is closed when its session ends");
  }));

test('an answer from another device, for no session, or a second copy of an offer is refused and counted; a user opens at most MAX_SESSIONS_PER_USER sessions here', () =>
  withSeed(testSeed(), async (seed) => {
    const w = world(seed);
    const alice = w.net.identity('alice');
    const bob = w.net.identity('bob');
    const bobLaptop = w.net.identity('bob');
    const aliceEnd = w.endpoint('alice', alice);
    w.endpoint('bob', bob);
    const bobEnd = w.endpoint('bob', bobLaptop);
    // Alice offers to bob's first device; an answer signed by his laptop for that session is not the one offered to.
    const session = await w.drive(aliceEnd.connect('bob', bob.dh.publicKey, () => undefined));
    const forged = signDescription(bobLaptop, { sessionId: session.id, type: 'answer', from: { user: 'bob', device: bobLaptop.dh.publicKey }, to: alice.dh.publicKey }, 'a=fingerprint:sha-256 ' + '00:'.repeat(31) + '00\r\n');
    assert.ok(forged.ok);
    w.inject(alice, { user: 'bob', device: bobLaptop.dh.publicKey, relation: 'buddy' }, 'answer', forged.value);
    const unknown = signDescription(bobLaptop, { sessionId: new Uint8Array(16), type: 'answer', from: { user: 'bob', device: bobLaptop.dh.publicKey }, to: alice.dh.publicKey }, 'a=fingerprint:sha-256 ' + '00:'.repeat(31) + '00\r\n');
    assert.ok(unknown.ok);
    w.inject(alice, { user: 'bob', device: bobLaptop.dh.publicKey, relation: 'buddy' }, 'answer', unknown.value);
    assert.equal(aliceEnd.refusals.get('unexpected'), 1);
    assert.equal(aliceEnd.refusals.get('unknown_session'), 1);
    await w.elapse(50);
    assert.equal(session.state, 'connecting', "the real answer from bob's first device still came and was applied");

    // A second copy of one offer, and more offers than a user may open.
    const offers = [];
    for (let i = 0; i <= MAX_SESSIONS_PER_USER; i++) {
      const sessionId = Uint8Array.from({ length: 16 }, (_, k) => (k === 0 ? i + 1 : 7));
      const offer = signDescription(alice, { sessionId, type: 'offer', from: { user: 'alice', device: alice.dh.publicKey }, to: bobLaptop.dh.publicKey }, 'a=fingerprint:sha-256 ' + '11:'.repeat(31) + '11\r\n');
      assert.ok(offer.ok);
      offers.push(offer.value);
    }
    const fromAlice: Sender = { user: 'alice', device: alice.dh.publicKey, relation: 'buddy' };
    w.inject(bobLaptop, fromAlice, 'offer', offers[0]!);
    w.inject(bobLaptop, fromAlice, 'offer', offers[0]!);
    await w.elapse(10);
    assert.equal(bobEnd.refusals.get('unexpected'), 1);
    for (const offer of offers.slice(1)) w.inject(bobLaptop, fromAlice, 'offer', offer);
    await w.elapse(10);
    assert.equal(bobEnd.size, MAX_SESSIONS_PER_USER);
    assert.equal(bobEnd.refusals.get('too_many_sessions'), 1);
  }));
