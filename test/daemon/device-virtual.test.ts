// The device users run — the daemon's session over the device core, the same code as
// `parley daemon` — on the virtual network, seeded: two users behind NATs sign up against the
// real login server, become buddies through the API the app uses, chat, see each other's
// presence, call (each hears the other's microphone) and meet in a conference.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findDelay, spectralSimilarity, testSignal } from '../../src/media/audio-compare.js';
import type { CallView, ConferenceView, DaemonEvent } from '../../src/daemon/api-types.js';
import type { ClientSession } from '../../src/daemon/session.js';
import { testSeed, withSeed } from '../support/seed.js';
import { deviceWorld, type OnlineUser } from '../support/device-world.js';

const FRAME_SAMPLES = 480; // 10 ms at 48 kHz: what the app's audio socket carries

/** The page's side of the audio socket: `input` goes to the microphone a frame every 10 ms; what the speaker plays is kept. */
function page(session: ClientSession, every: (ms: number, fn: () => void) => { cancel(): void }, input: Int16Array) {
  const heard: Int16Array[] = [];
  const link = session.attachAudio((frame) => heard.push(new Int16Array(frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength))));
  let at = 0;
  const timer = every(10, () => {
    const frame = new Uint8Array(FRAME_SAMPLES * 2);
    const view = new DataView(frame.buffer);
    for (let i = 0; i < FRAME_SAMPLES; i++) view.setInt16(2 * i, input[at + i] ?? 0, true);
    at += FRAME_SAMPLES;
    link.microphone(frame);
  });
  return {
    heard: () => {
      const out = new Int16Array(heard.reduce((n, f) => n + f.length, 0));
      let offset = 0;
      for (const f of heard) {
        out.set(f, offset);
        offset += f.length;
      }
      return out;
    },
    stop: () => {
      timer.cancel();
      link.detach();
    },
  };
}

const lastOf = <K extends DaemonEvent['type']>(user: OnlineUser, type: K) => user.events.filter((e): e is Extract<DaemonEvent, { type: K }> => e.type === type).at(-1);

test('the daemon\'s device on the virtual network: sign up, become buddies, chat, presence, a call both hear, a conference', () =>
  withSeed(testSeed(), async (seed) => {
    const world = await deviceWorld(seed);
    const { drive, elapse, scheduler } = world;
    const timers: { cancel(): void }[] = [];
    const every = (ms: number, fn: () => void) => {
      let timer = scheduler.after(ms, function tick() {
        fn();
        timer = scheduler.after(ms, tick);
      });
      const handle = { cancel: () => timer.cancel() };
      timers.push(handle);
      return handle;
    };
    try {
      const alice = await world.online('alice', { nat: 'port-restricted' });
      const bob = await world.online('bob', { nat: 'symmetric' });
      await elapse(2_000);
      // Each device attached and found what it is behind (published in its presence record).
      for (const user of [alice, bob]) {
        const status = user.session.status();
        assert.ok(status.supernode, `${user.name} is attached`);
        assert.ok(status.nat !== null, `${user.name}'s NAT type was found`);
      }
      assert.equal(bob.session.status().nat, 'symmetric');

      // Buddies, as the app makes them: a request with words, accepted on the other side.
      assert.equal(await drive(alice.session.requestBuddy('bob', 'hello bob, it is alice')), 'sent');
      await elapse(2_000);
      const request = lastOf(bob, 'message');
      assert.equal(request?.message.text, 'hello bob, it is alice', 'the request\'s words arrived end to end');
      const incoming = (await drive(bob.session.buddyRequests())).incoming;
      assert.deepEqual(incoming.map((r) => r.from), ['alice']);
      assert.equal(await drive(bob.session.answerBuddyRequest(incoming[0]!.id, 'accept')), true);
      await elapse(20_000);
      assert.deepEqual(bob.session.buddies().map((b) => b.user), ['alice']);
      assert.deepEqual(alice.session.buddies().map((b) => b.user), ['bob']);
      // Presence reaches the new buddies.
      assert.equal(alice.session.buddies()[0]!.state, 'online');
      assert.equal(bob.session.buddies()[0]!.state, 'online');
      await drive(alice.session.setPresence({ state: 'away', text: 'lunch' }));
      await elapse(1_000);
      assert.deepEqual(bob.session.buddies()[0], { user: 'alice', state: 'away', text: 'lunch' });

      // Chat both ways, kept in each device's history.
      await drive(bob.session.sendMessage('alice', 'hi alice'));
      await elapse(1_000);
      assert.equal(lastOf(alice, 'message')?.message.text, 'hi alice');
      assert.deepEqual(alice.session.messages('bob', 10).map((m) => m.text), ['hello bob, it is alice', 'hi alice']);

      // A call: bob's device rings, he answers, each hears the other's microphone.
      const call = await drive(alice.session.call('bob'));
      await elapse(1_000);
      const ringing = bob.session.calls().find((c) => c.direction === 'incoming' && c.state === 'ringing');
      assert.ok(ringing, `bob's device rings: ${JSON.stringify(bob.session.calls())}`);
      assert.equal(bob.session.callAction(ringing.id, 'answer')?.state !== 'ended', true);
      await elapse(500);
      const active = alice.session.calls().find((c) => c.id === call.id) as CallView;
      assert.equal(active.state, 'active');
      assert.ok(active.stats && active.stats.path !== null, 'the call has a path');
      // The pages speak once the call is up: three seconds each, heard on the other side.
      const aliceSays = testSignal(3, seed);
      const bobSays = testSignal(3, seed + 1);
      const alicePage = page(alice.session, every, aliceSays);
      const bobPage = page(bob.session, every, bobSays);
      await elapse(4_000);
      bob.session.callAction(ringing.id, 'hangup');
      await elapse(1_000);
      alicePage.stop();
      bobPage.stop();
      assert.equal(alice.session.calls().find((c) => c.id === call.id)?.state, 'ended');
      for (const [who, sent, heard] of [
        ['bob hears alice', aliceSays, bobPage.heard()],
        ['alice hears bob', bobSays, alicePage.heard()],
      ] as const) {
        const { delayMs } = findDelay(sent, heard, 2_000);
        const similarity = spectralSimilarity(sent.subarray(0, 48 * 1500), heard, delayMs);
        assert.ok(similarity > 0.8, `${who}: similarity ${similarity} at ${delayMs} ms`);
      }

      // A conference: alice hosts, bob joins; both see the same roster and one mixer.
      const hosted = await drive(alice.session.startConference(['bob']));
      await elapse(1_000);
      const invited = bob.session.conferences().find((c) => c.id === hosted.id);
      assert.equal(invited?.state, 'invited');
      await drive(bob.session.conferenceAction(hosted.id, 'join'));
      await elapse(3_000);
      const views = [alice, bob].map((u) => u.session.conferences().find((c) => c.id === hosted.id) as ConferenceView);
      for (const view of views) {
        assert.equal(view.state, 'active');
        assert.deepEqual(view.roster.map((r) => r.user).sort(), ['alice', 'bob']);
        assert.equal(view.roster.filter((r) => r.mixer).length, 1);
      }
      assert.deepEqual(views[0]!.roster.find((r) => r.mixer)?.user, views[1]!.roster.find((r) => r.mixer)?.user);
      await drive(alice.session.conferenceAction(hosted.id, 'leave'));
      await elapse(2_000);
      assert.equal(bob.session.conferences().find((c) => c.id === hosted.id)?.state, 'ended');
    } finally {
      for (const timer of timers) timer.cancel();
      await world.close();
    }
  }));
