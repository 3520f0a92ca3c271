// Calls on the virtual network, through the overlay: signalling end to end, the path from the
// connector, Opus/SRTP media both ways. Bob has two devices: both ring, the first to accept
// wins and the other stops ringing. Each hears the other's signal; hold and hang-up reach the
// other side. A stranger is refused in the first exchange; a second caller gets busy; nobody
// online is unavailable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallManager, type Call, type CallAudio } from '../../src/client/calls.js';
import { BufferSource, RecordingSink } from '../../src/media/media-stream.js';
import { findDelay, spectralSimilarity, testSignal } from '../../src/media/audio-compare.js';
import { testSeed, withSeed } from '../support/seed.js';
import { overlayWorld } from '../support/supernodes.js';
import { device, shutDown, type World } from '../support/devices.js';

async function phone(world: World, user: string, buddies: string[]) {
  const d = await device(world, user, buddies);
  const calls = new CallManager(d.host.env(), d.chat, d.connector);
  d.policy.accept = (other, relation) => calls.expectsConnectionFrom(other) || relation === 'buddy';
  const incoming: Call[] = [];
  calls.onIncoming((call) => incoming.push(call));
  return { ...d, calls, incoming };
}

/** Alice and bob, buddies, each with one device on an overlay of three supernodes (5 ms links). */
async function aliceAndBob(seed: number) {
  const world = await overlayWorld(seed, 3, { link: () => ({ latencyMs: 5 }) });
  const alice = await phone(world, 'alice', ['bob']);
  const bob = await phone(world, 'bob', ['alice']);
  await world.elapse(1_000);
  return { world, ...world, alice, bob };
}

const audio = (world: World, seconds: number, seed: number): CallAudio & { input: Int16Array; sink: RecordingSink } => {
  const input = testSignal(seconds, seed);
  return { input, source: new BufferSource(input), sink: new RecordingSink(world.network.scheduler.now()) };
};

test('alice calls bob: both his devices ring, the second answers, the first stops; both hear each other; hold and hang-up reach the other side', () =>
  withSeed(testSeed(), async (seed) => {
    const world = await overlayWorld(seed, 3, { link: () => ({ latencyMs: 5 }) });
    const { drive, elapse } = world;
    const alice = await phone(world, 'alice', ['bob']);
    const bob1 = await phone(world, 'bob', ['alice']);
    const bob2 = await phone(world, 'bob', ['alice']);
    await elapse(1_000);
    const aliceAudio = audio(world, 3, 1);
    const call = await drive(alice.calls.call('bob', aliceAudio));
    await elapse(1_000);
    assert.equal(call.state, 'ringing');
    assert.equal(bob1.incoming.length, 1);
    assert.equal(bob2.incoming.length, 1);
    // While they ring, alice has opened a path to each: answering starts the audio at once.
    assert.ok(bob1.incoming[0]!.earlyConnection && bob2.incoming[0]!.earlyConnection, 'paths opened while ringing');
    const bobAudio = audio(world, 3, 2);
    const answered = bob2.incoming[0]!;
    answered.accept(bobAudio);
    await elapse(100);
    assert.equal(call.state, 'active', 'active within 100 ms of the answer');
    assert.equal(answered.state, 'active');
    assert.deepEqual(await drive(bob1.incoming[0]!.ended), { reason: 'answered_elsewhere', by: 'remote' });
    await elapse(3_000);
    // Each hears the other's signal.
    for (const [name, heard, sent] of [
      ['bob hears alice', bobAudio.sink.samples(), aliceAudio.input],
      ['alice hears bob', aliceAudio.sink.samples(), bobAudio.input],
    ] as const) {
      const { delayMs } = findDelay(sent, heard, 2_000);
      const similarity = spectralSimilarity(sent.subarray(0, 48 * 2500), heard, delayMs);
      assert.ok(similarity > 0.9, `${name}: similarity ${similarity} at ${delayMs} ms`);
    }
    const stats = call.stats();
    assert.equal(stats.path, 'hole-punched');
    assert.ok(stats.packetsSent > 150 && stats.packetsReceived > 150, JSON.stringify(stats));
    // RTCP over the media path: two NATed hosts, four 5 ms links each way.
    assert.ok(stats.rttMs !== null && stats.rttMs > 35 && stats.rttMs < 50, `RTT ${stats.rttMs}`);
    assert.ok(stats.mos !== null && stats.mos > 4.2, `MOS ${stats.mos}`);
    assert.ok(stats.bitrate > 24_000, 'a clean path raises the bitrate');
    call.hold(true);
    await elapse(300);
    assert.equal(answered.stats().heldByPeer, true);
    const sentBeforeHold = call.stats().packetsSent;
    await elapse(6_000);
    assert.ok(call.stats().packetsSent - sentBeforeHold <= 3, 'one packet every 3 s on hold');
    assert.equal(answered.state, 'active', 'a held call stays up');
    call.hangup();
    assert.deepEqual(await drive(call.ended), { reason: 'hung_up', by: 'local' });
    assert.deepEqual(await drive(answered.ended), { reason: 'hung_up', by: 'remote' });
    shutDown(world, [alice, bob1, bob2]);
  }));

test('a stranger is refused in the first exchange, a second caller gets busy, a user with no device online is unavailable, an unanswered call ends', () =>
  withSeed(testSeed(), async (seed) => {
    const world = await overlayWorld(seed, 3, { link: () => ({ latencyMs: 5 }) });
    const { drive, elapse } = world;
    const alice = await phone(world, 'alice', ['bob']);
    const bob = await phone(world, 'bob', ['alice', 'carol']);
    const carol = await phone(world, 'carol', ['bob']);
    const mallory = await phone(world, 'mallory', ['bob']);
    await elapse(1_000);
    const refused = await drive(mallory.calls.call('bob', audio(world, 1, 3)));
    assert.deepEqual(await drive(refused.ended), { reason: 'refused', by: 'remote' });
    assert.equal(bob.incoming.length, 0, 'bob never saw the stranger ring');
    const first = await drive(alice.calls.call('bob', audio(world, 1, 1)));
    await elapse(300);
    const second = await drive(carol.calls.call('bob', audio(world, 1, 4)));
    assert.deepEqual(await drive(second.ended), { reason: 'busy', by: 'remote' });
    first.hangup();
    assert.deepEqual(await drive(bob.incoming[0]!.ended), { reason: 'cancelled', by: 'remote' });
    const nobody = await drive(alice.calls.call('dave', audio(world, 1, 5)));
    assert.deepEqual(await drive(nobody.ended), { reason: 'unavailable', by: 'remote' });
    const unanswered = await drive(alice.calls.call('bob', audio(world, 1, 1)));
    assert.deepEqual(await drive(unanswered.ended), { reason: 'no_answer', by: 'remote' });
    shutDown(world, [alice, bob, carol, mallory]);
  }));

test('a path that dies mid-call: the call moves to a relay within seconds and keeps its audio', () =>
  withSeed(testSeed(), async (seed) => {
    const { world, drive, elapse, network, alice, bob } = await aliceAndBob(seed);
    const aliceAudio = audio(world, 20, 1);
    const call = await drive(alice.calls.call('bob', aliceAudio));
    await elapse(300);
    const bobAudio = audio(world, 20, 2);
    bob.incoming[0]!.accept(bobAudio);
    await elapse(2_000);
    assert.equal(call.stats().path, 'hole-punched');
    // The two NATs can no longer reach each other; the supernodes (and their relays) still can.
    network.cuts.push({ a: alice.gateway.addressText, b: bob.gateway.addressText });
    await elapse(6_000);
    assert.equal(call.stats().path, 'relayed-udp');
    assert.equal(call.state, 'active');
    const before = bob.incoming[0]!.stats().packetsReceived;
    await elapse(2_000);
    const perSecond = (bob.incoming[0]!.stats().packetsReceived - before) / 2;
    assert.ok(perSecond >= 45, `${perSecond} packets a second over the relay`);
    // What bob heard over the relay (seconds 6-9.5 of the call, well after the switch) is alice's
    // signal. (Long windows: the test signal's rhythm repeats every 200 ms, its loudness does not.)
    const said = aliceAudio.input.subarray(48 * 6_000, 48 * 9_500);
    const heard = bobAudio.sink.samples().subarray(48 * 5_800);
    const { delayMs } = findDelay(said, heard, 800);
    const similarity = spectralSimilarity(said, heard, delayMs);
    assert.ok(similarity > 0.85, `bob heard alice over the relay with similarity ${similarity} (delay ${delayMs} ms)`);
    call.hangup();
    await drive(call.ended);
    shutDown(world, [alice, bob]);
  }));

test('glare: alice and bob call each other at once; both end up in one call (the smaller id), answered, with audio both ways', () =>
  withSeed(testSeed(), async (seed) => {
    const { world, drive, elapse, alice, bob } = await aliceAndBob(seed);
    const [fromAlice, fromBob] = await drive(Promise.all([alice.calls.call('bob', audio(world, 3, 1)), bob.calls.call('alice', audio(world, 3, 2))]));
    await elapse(2_000);
    const ends = await drive(Promise.race([Promise.all([fromAlice!.ended, fromBob!.ended]), new Promise<null>((resolve) => world.network.scheduler.after(10, () => resolve(null)))]));
    // Exactly one of the two outgoing calls was replaced; the other is the call both are in.
    const [loser, winner] = fromAlice!.state === 'ended' ? [fromAlice!, fromBob!] : [fromBob!, fromAlice!];
    assert.equal(ends, null, 'one call goes on');
    assert.deepEqual(await drive(loser.ended), { reason: 'replaced', by: 'remote' });
    assert.equal(winner.state, 'active');
    const other = loser.replacement!;
    assert.ok(other && other.state === 'active', `the replacement is ${other?.state}`);
    assert.deepEqual(other.id, winner.id);
    assert.ok(other.stats().packetsReceived > 50 && winner.stats().packetsReceived > 50, 'audio both ways');
    winner.hangup();
    assert.deepEqual(await drive(other.ended), { reason: 'hung_up', by: 'remote' });
    shutDown(world, [alice, bob]);
  }));

test('a peer that goes silent (its machine cut off from everyone): the call ends after 10 s with the reason, not hanging forever', () =>
  withSeed(testSeed(), async (seed) => {
    const { world, drive, elapse, network, alice, bob } = await aliceAndBob(seed);
    const call = await drive(alice.calls.call('bob', audio(world, 30, 1)));
    await elapse(1_000);
    bob.incoming[0]!.accept(audio(world, 30, 2));
    await elapse(1_000);
    assert.equal(call.state, 'active');
    // Bob's router loses its uplink: no media, no relay, no signalling.
    network.cuts.push({ a: bob.gateway.addressText, b: alice.gateway.addressText });
    for (const s of world.supernodes) network.cuts.push({ a: bob.gateway.addressText, b: s.host.addressText });
    const cutAt = network.scheduler.now();
    const end = await drive(call.ended);
    assert.deepEqual(end, { reason: 'media_lost', by: 'remote' });
    const after = network.scheduler.now() - cutAt;
    assert.ok(after >= 10_000 && after <= 12_000, `ended ${after} ms after the cut`);
    shutDown(world, [alice, bob]);
  }));
