// WebRTC between two Node devices on this machine, over libwebrtc (@roamhq/wrtc): the offer and
// the answer travel end to end in the messenger's call signalling, each signed for its DTLS
// fingerprint by its device key, with a supernode's STUN/TURN service (on loopback) as the ICE
// server. Audio each way (a tone each side; the other side must hear that tone, not the other)
// and a data channel message each way. A man in the middle of the descriptions (where a supernode
// or relay would sit if the signalling were not end to end) that swaps the fingerprint for its
// own DTLS endpoint's is refused before anything is applied. And the TURN credential scheme a
// page would use: the supernode's credentials as iceServers, relay-only, relay/relay path; a
// wrong password gets no relay.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { realEnv } from '../../src/env/real.js';
import { SeededRandom } from '../../src/env/prng.js';
import { toHex } from '../../src/crypto/bytes.js';
import type { NodeIdentity } from '../../src/crypto/identity.js';
import { Messenger, type Sender } from '../../src/messenger/messenger.js';
import type { SignallingTransport } from '../../src/messenger/transport.js';
import { startStunService, type StunService } from '../../src/supernode/stun-service.js';
import { LOOPBACK_PEERS } from '../../src/turn/peer-policy.js';
import { wrtcStack } from '../../src/media/wrtc-peer.js';
import type { RtcDescriptionType, RtcIceServer, RtcPeer } from '../../src/media/rtc-peer.js';
import { bridgeAudio } from '../../src/media/rtc-audio.js';
import { callSignalDescriptions, WebRtcEndpoint, type DescriptionChannel, type WebRtcSession } from '../../src/client/webrtc-session.js';
import { sdpFingerprint } from '../../src/client/webrtc-description.js';
import { iceServersFor } from '../../src/client/webrtc-ice-servers.js';
import { create } from '@bufbuild/protobuf';
import { SignedDescriptionSchema, type SignedDescription } from '../../src/wire/messages.js';
import { testNetwork } from '../support/identities.js';
import { testSeed } from '../support/seed.js';

const stack = wrtcStack(realEnv.clock);
/** Everything a test opened, closed at the end even when it failed. */
const cleanups: (() => void)[] = [];
after(() => {
  for (const cleanup of cleanups.reverse()) cleanup();
});

function identities() {
  const net = testNetwork(new SeededRandom(testSeed()));
  // Real time: the certificates must be valid now.
  const issuedAtMs = Date.now() - 3_600_000;
  return { net, identity: (user: string) => net.identity(user, { issuedAtMs }) };
}

async function supernode(): Promise<StunService> {
  const stun = await startStunService(realEnv, { host: '127.0.0.1', port: 0, advertisedHost: '127.0.0.1', allowPeers: LOOPBACK_PEERS });
  cleanups.push(() => stun.close());
  return stun;
}

/** The supernode's STUN and TURN for one device, as the device core asks for them (credentials named after the device). */
function iceServersOf(stun: StunService, user: string, identity: NodeIdentity): RtcIceServer[] {
  const credentials = stun.credentials(user, toHex(identity.dh.publicKey).slice(0, 16));
  return iceServersFor({ server: stun.primary, turn: { username: credentials.username, password: credentials.password } });
}

/** A tone from an AudioSource through the bridge a call uses (media/rtc-audio.ts), for as long as the test runs (stopped at the end). */
function playTone(peer: RtcPeer, hz: number): void {
  let phase = 0;
  const source = {
    read: (samples: number) => {
      const frame = new Int16Array(samples);
      for (let i = 0; i < frame.length; i++) {
        frame[i] = Math.round(8_000 * Math.sin(phase));
        phase += (2 * Math.PI * hz) / 48_000;
      }
      return frame;
    },
  };
  const bridge = bridgeAudio(realEnv.clock, peer, peer.addAudio(), { source, sink: { write: () => undefined } });
  cleanups.push(() => bridge.stop());
}

/** Power of `hz` in `samples` (Goertzel), normalised by length. */
function powerAt(samples: Int16Array, rate: number, hz: number): number {
  const w = (2 * Math.PI * hz) / rate;
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    const s = x + 2 * Math.cos(w) * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return (s1 * s1 + s2 * s2 - 2 * Math.cos(w) * s1 * s2) / samples.length;
}

/** What one side heard: frames, and a promise that resolves once 100 frames (1 s) with sound came, with their samples. */
function listenTo(peer: RtcPeer) {
  const heard: Int16Array[] = [];
  let rate = 48_000;
  const enough = new Promise<void>((resolve) =>
    peer.onAudio((samples, sampleRate) => {
      rate = sampleRate;
      if (samples.some((v) => v !== 0)) heard.push(samples.slice());
      if (heard.length === 100) resolve();
    }),
  );
  return {
    enough,
    /** Which of the two tones the second half of what was heard is. */
    tone: (a: number, b: number) => {
      const tail = heard.slice(50, 100);
      const all = new Int16Array(tail.reduce((n, f) => n + f.length, 0));
      let at = 0;
      for (const f of tail) all.set(f, (at += f.length) - f.length);
      return powerAt(all, rate, a) > 10 * powerAt(all, rate, b) ? a : powerAt(all, rate, b) > 10 * powerAt(all, rate, a) ? b : null;
    },
  };
}

/** Two in-memory messengers that name the sender as the overlay does (live delivery, a turn of the event loop later). */
function messengers(ids: ReturnType<typeof identities>, users: { name: string; identity: NodeIdentity }[]): Messenger[] {
  const handlers = new Map<string, (from: string, payload: Uint8Array) => void>();
  return users.map(({ name, identity }) => {
    const transport: SignallingTransport = {
      send: async (_to, device, payload) => {
        setImmediate(() => handlers.get(toHex(device))?.(name, payload));
        return 'delivered';
      },
      devices: async (other) => users.filter((u) => u.name === other).map((u) => u.identity.dh.publicKey),
      onReceive: (handler) => void handlers.set(toHex(identity.dh.publicKey), handler),
    };
    const messenger = new Messenger(realEnv, { identity, verifier: ids.net.verifier, username: name, transport });
    cleanups.push(() => messenger.close());
    return messenger;
  });
}

/**
 * Descriptions between two endpoints through a hop that can change them: what a supernode or
 * relay could do if the signalling were not end to end (or the daemon's hop to its page).
 */
function descriptionHop(tamper: (type: RtcDescriptionType, d: SignedDescription) => Promise<SignedDescription> | SignedDescription) {
  const ends = new Map<string, (from: Sender, type: RtcDescriptionType, d: SignedDescription) => void>();
  const channel = (user: string, device: Uint8Array): DescriptionChannel => ({
    send: async (to, type, description) => {
      const changed = await tamper(type, description);
      setImmediate(() => ends.get(toHex(to.device))?.({ user, device, relation: 'buddy' }, type, changed));
    },
    onDescription: (handler) => {
      ends.set(toHex(device), handler);
      return () => ends.delete(toHex(device));
    },
  });
  return channel;
}

function endpoint(ids: ReturnType<typeof identities>, user: string, identity: NodeIdentity, channel: DescriptionChannel, iceServers: RtcIceServer[], extra: { iceTransportPolicy?: 'relay'; answerTimeoutMs?: number } = {}): WebRtcEndpoint {
  const e = new WebRtcEndpoint(realEnv, { identity, username: user, verifier: ids.net.verifier, stack, channel, iceServers: async () => iceServers, ...extra });
  cleanups.push(() => e.close());
  return e;
}

test('two Node devices call each other over real WebRTC: signed offer and answer in the call signalling, audio and a data channel message each way', { timeout: 60_000 }, async () => {
  const ids = identities();
  const stun = await supernode();
  const alice = ids.identity('alice');
  const bob = ids.identity('bob');
  const [aliceMessenger, bobMessenger] = messengers(ids, [
    { name: 'alice', identity: alice },
    { name: 'bob', identity: bob },
  ]);
  const aliceEnd = endpoint(ids, 'alice', alice, callSignalDescriptions(aliceMessenger!), iceServersOf(stun, 'alice', alice));
  const bobEnd = endpoint(ids, 'bob', bob, callSignalDescriptions(bobMessenger!), iceServersOf(stun, 'bob', bob));

  const bobGot: string[] = [];
  let bobHears: ReturnType<typeof listenTo> | null = null;
  const bobSession = new Promise<WebRtcSession>((resolve) =>
    bobEnd.onSession((session) => {
      playTone(session.peer, 880);
      bobHears = listenTo(session.peer);
      session.peer.onChannel((channel) =>
        channel.onMessage((data) => {
          bobGot.push(String(data));
          channel.send('hello alice');
        }),
      );
      resolve(session);
    }),
  );
  let aliceReplied!: (text: string) => void;
  const aliceGot = new Promise<string>((resolve) => (aliceReplied = resolve));
  let aliceHears: ReturnType<typeof listenTo> | null = null;
  const session = await aliceEnd.connect('bob', bob.dh.publicKey, (peer) => {
    playTone(peer, 440);
    aliceHears = listenTo(peer);
    const channel = peer.createChannel('chat');
    channel.onOpen(() => channel.send('hello bob'));
    channel.onMessage((data) => aliceReplied(String(data)));
  });
  assert.equal(await session.connected(), true, `ended: ${JSON.stringify(session.endedWith)}`);
  const theirs = await bobSession;
  assert.equal(await theirs.connected(), true);
  assert.equal(await aliceGot, 'hello alice');
  assert.deepEqual(bobGot, ['hello bob']);
  await Promise.all([aliceHears!.enough, bobHears!.enough]);
  assert.equal(bobHears!.tone(440, 880), 440, 'bob hears the tone alice sends');
  assert.equal(aliceHears!.tone(440, 880), 880, 'alice hears the tone bob sends');
  // Each side applied the other's description as signed: the certificate is the other's device.
  assert.equal(session.remoteDescription?.certificate.username, 'bob');
  assert.equal(theirs.remoteDescription?.certificate.username, 'alice');
  assert.deepEqual(Object.fromEntries(aliceEnd.refusals), {});
  assert.deepEqual(Object.fromEntries(bobEnd.refusals), {});
  const pair = await session.selectedPair();
  assert.ok(pair && ['host', 'srflx', 'prflx', 'relay'].includes(pair.local), JSON.stringify(pair));
  session.close();
  assert.equal((await session.ended).reason, 'closed');
});

test("a hop that swaps the answer's fingerprint for its own DTLS endpoint's is refused before the answer is applied; a swapped offer is never answered", { timeout: 60_000 }, async () => {
  const ids = identities();
  const alice = ids.identity('alice');
  const bob = ids.identity('bob');
  // The man in the middle runs a real peer of its own and puts its fingerprint in what passes.
  const mallory = stack.createPeer({ iceServers: [] });
  cleanups.push(() => mallory.close());
  mallory.addAudio();
  const malloryFingerprint = sdpFingerprint(await mallory.describe('offer', 2_000));
  assert.ok(malloryFingerprint.ok);
  const swap = (d: SignedDescription) => {
    const ours = sdpFingerprint(d.sdp);
    assert.ok(ours.ok);
    const text = (f: typeof ours.value) => [...f.digest].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
    return create(SignedDescriptionSchema, { ...d, sdp: d.sdp.replaceAll(text(ours.value), text(malloryFingerprint.value)) });
  };
  let swapWhat: RtcDescriptionType = 'answer';
  const hop = descriptionHop((type, d) => (type === swapWhat ? swap(d) : d));
  const aliceEnd = endpoint(ids, 'alice', alice, hop('alice', alice.dh.publicKey), [], { answerTimeoutMs: 3_000 });
  const bobEnd = endpoint(ids, 'bob', bob, hop('bob', bob.dh.publicKey), []);
  const bobSessions: WebRtcSession[] = [];
  bobEnd.onSession((s) => void bobSessions.push(s));

  const refused = await aliceEnd.connect('bob', bob.dh.publicKey, (peer) => void peer.createChannel('chat'));
  const end = await refused.ended;
  assert.deepEqual([end.reason, end.code], ['refused', 'fingerprint_not_signed']);
  assert.equal(refused.remoteDescription, null, 'nothing of the swapped answer was applied');
  assert.equal(aliceEnd.refusals.get('fingerprint_not_signed'), 1);

  swapWhat = 'offer';
  const unanswered = await aliceEnd.connect('bob', bob.dh.publicKey, (peer) => void peer.createChannel('chat'));
  assert.equal((await unanswered.ended).reason, 'no_answer');
  assert.equal(bobEnd.refusals.get('fingerprint_not_signed'), 1);
  assert.equal(bobSessions.length, 1, 'only the first (honest) offer made a session at bob');
});

test('the TURN credential scheme a page uses: the supernode\'s credentials as iceServers, relay only, reach each other relay to relay; a wrong password gets no relay', { timeout: 60_000 }, async () => {
  const ids = identities();
  const stun = await supernode();
  const alice = ids.identity('alice');
  const bob = ids.identity('bob');
  const aliceServers = iceServersOf(stun, 'alice', alice);
  // The shape a page is handed (docs/calls.md): STUN and TURN on the supernode's UDP port, REST-API credentials.
  assert.deepEqual(aliceServers[0]!.urls, [`stun:127.0.0.1:${stun.primary.port}`]);
  assert.deepEqual(aliceServers[1]!.urls, [`turn:127.0.0.1:${stun.primary.port}?transport=udp`]);
  const [expiry, user, tag] = aliceServers[1]!.username!.split(':');
  assert.equal(user, 'alice');
  assert.equal(tag, toHex(alice.dh.publicKey).slice(0, 16));
  assert.ok(Number(expiry) * 1000 > Date.now() && Number(expiry) * 1000 <= Date.now() + 24 * 3_600_000);

  const hop = descriptionHop((_type, d) => d);
  const aliceEnd = endpoint(ids, 'alice', alice, hop('alice', alice.dh.publicKey), aliceServers, { iceTransportPolicy: 'relay' });
  const bobEnd = endpoint(ids, 'bob', bob, hop('bob', bob.dh.publicKey), iceServersOf(stun, 'bob', bob), { iceTransportPolicy: 'relay' });
  const bobGot = new Promise<string>((resolve) => bobEnd.onSession((s) => s.peer.onChannel((c) => c.onMessage((data) => resolve(String(data))))));
  const session = await aliceEnd.connect('bob', bob.dh.publicKey, (peer) => {
    const channel = peer.createChannel('chat');
    channel.onOpen(() => channel.send('through the relay'));
  });
  assert.equal(await session.connected(), true, `ended: ${JSON.stringify(session.endedWith)}`);
  assert.equal(await bobGot, 'through the relay');
  assert.deepEqual(await session.selectedPair(), { local: 'relay', remote: 'relay' });
  assert.ok(stun.turn.allocationsCreated >= 2, `${stun.turn.allocationsCreated} allocations`);
  assert.ok(stun.turn.relayed.toPeers > 0 && stun.turn.relayed.toClients > 0);

  const refusedBefore = stun.turn.refused.get('wrong_credentials') ?? 0;
  const wrong = stack.createPeer({ iceServers: [{ ...aliceServers[1]!, credential: 'not the password' }], iceTransportPolicy: 'relay' });
  cleanups.push(() => wrong.close());
  wrong.createChannel('chat');
  const sdp = await wrong.describe('offer', 3_000);
  assert.doesNotMatch(sdp, /typ relay/);
  assert.ok((stun.turn.refused.get('wrong_credentials') ?? 0) > refusedBefore, 'the TURN server refused the wrong password');
});
