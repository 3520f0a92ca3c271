// Calls on the virtual network, through the overlay: signalling end to end, the path from the
// connector, Opus/SRTP media both ways. Bob has two devices: both ring, the first to accept
// wins and the other stops ringing. Each hears the other's signal; hold and hang-up reach the
// other side. A stranger is refused in the first exchange; a second caller gets busy; nobody
// online is unavailable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallManager, PATH_SILENCE_MS, RESTART_DEADLINE_MS, type Call, type CallAudio } from '../../src/client/calls.js';
import type { NatClass } from '../../src/env/virtual/index.js';
import { BufferSource, RecordingSink } from '../../src/media/media-stream.js';
import { findDelay, spectralSimilarity, testSignal } from '../../src/media/audio-compare.js';
import { testSeed, withSeed } from '../support/seed.js';
import { overlayWorld } from '../support/supernodes.js';
import { device, shutDown, type World } from '../support/devices.js';

async function phone(world: World, user: string, buddies: string[], options: { nat?: NatClass; bootstrap?: number } = {}) {
  const d = await device(world, user, buddies, options);
  const calls = new CallManager(d.host.env(), d.messenger, d.connector);
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
    // The jitter buffer starts deep (200 ms, for a busy sender) and comes down after 3 s: the
    // settled call is what the MOS is judged on.
    await elapse(3_000);
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
    assert.equal(call.stats().pathRestarts, 0, 'silence on hold is not a dead path');
    // Mute is told too (the media goes on, silent), and so is its end, each once.
    const told: boolean[] = [];
    const unsubscribe = answered.onHoldOrMute(() => told.push(answered.mutedByPeer));
    call.mute(true);
    await elapse(300);
    assert.equal(answered.stats().mutedByPeer, true);
    call.mute(false);
    await elapse(300);
    assert.deepEqual([told, answered.stats().mutedByPeer, call.muted], [[true, false], false, false]);
    unsubscribe();
    call.mute(true);
    await elapse(300);
    assert.deepEqual(told, [true, false], 'an unsubscribed listener hears nothing more');
    // Fifteen seconds of call: one watch timer each, and the ring timeout not yet due; not a timer per tick.
    assert.ok(call.pendingTimers <= 3 && answered.pendingTimers <= 3, `timers held: caller ${call.pendingTimers}, callee ${answered.pendingTimers}`);
    call.hangup();
    assert.deepEqual(await drive(call.ended), { reason: 'hung_up', by: 'local' });
    assert.deepEqual(await drive(answered.ended), { reason: 'hung_up', by: 'remote' });
    assert.deepEqual([call.pendingTimers, answered.pendingTimers], [0, 0], 'every timer cancelled at the end');
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

test('a caller that is not attached: the invitation reaches no device, the call ends unavailable, and the failed send is counted', () =>
  withSeed(testSeed(), async (seed) => {
    const { world, drive, alice, bob } = await aliceAndBob(seed);
    assert.equal(alice.calls.failures.get('invite_send'), undefined);
    alice.attached.close();
    const call = await drive(alice.calls.call('bob', audio(world, 1, 1)));
    assert.deepEqual(await drive(call.ended), { reason: 'unavailable', by: 'remote' });
    assert.equal(alice.calls.failures.get('invite_send'), 1);
    assert.equal(bob.incoming.length, 0);
    shutDown(world, [alice, bob]);
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
    await elapse(1_000); // what was said until 9.5 s has been played, whatever the buffer's depth
    // What bob heard over the relay (seconds 7-9.5 of the call, well after the switch and after the
    // jitter buffer came back down from the switch's burst) is alice's
    // signal. (Long windows: the test signal's rhythm repeats every 200 ms, its loudness does not.)
    const said = aliceAudio.input.subarray(48 * 7_000, 48 * 9_500);
    const heard = bobAudio.sink.samples().subarray(48 * 6_800);
    const { delayMs } = findDelay(said, heard, 1_200);
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

test('a peer that goes silent (its machine cut off from everyone): the caller restarts ICE, finds no path, and ends the call with the reason within its bound, not hanging forever', () =>
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
    assert.deepEqual(end, { reason: 'no_path', by: 'local' });
    const after = network.scheduler.now() - cutAt;
    assert.ok(after >= RESTART_DEADLINE_MS && after <= PATH_SILENCE_MS + RESTART_DEADLINE_MS + 500, `ended ${after} ms after the cut`);
    shutDown(world, [alice, bob]);
  }));

/**
 * Steps virtual time by `stepMs` for `forMs` and returns, for each call, the longest time no
 * media packet arrived (the arrival times are the virtual clock's, to within `stepMs`).
 */
async function longestGapsMs(world: World, calls: readonly Call[], forMs: number, stepMs = 10): Promise<number[]> {
  const now = () => world.network.scheduler.now();
  const last = calls.map((c) => ({ count: c.stats().packetsReceived, atMs: now() }));
  const gaps = calls.map(() => 0);
  for (let elapsed = 0; elapsed < forMs; elapsed += stepMs) {
    await world.elapse(stepMs);
    calls.forEach((call, i) => {
      const count = call.stats().packetsReceived;
      if (count === last[i]!.count) return;
      gaps[i] = Math.max(gaps[i]!, now() - last[i]!.atMs);
      last[i] = { count, atMs: now() };
    });
  }
  // Silence that lasts to the end counts too.
  return gaps.map((gap, i) => Math.max(gap, now() - last[i]!.atMs));
}

/** Where a path's relay is (its relayed candidate's host), or null for a path without one. */
function relayHost(call: Call): string | null {
  const path = call.selectedPath;
  const relay = [path?.local, path?.remote].find((c) => c?.type === 'relay');
  return relay?.address.host ?? null;
}

/**
 * The similarity of what was heard to what was said over [fromMs, toMs) of the input: the
 * recording starts before the other side's sender, so it lags the input by up to a second and
 * a half (the answer's trip, the path, the jitter buffer); the delay is found by correlation.
 */
function heardSimilarity(said: Int16Array, heard: Int16Array, fromMs: number, toMs: number): { similarity: number; delayMs: number } {
  const window = said.subarray(48 * fromMs, 48 * toMs);
  const tail = heard.subarray(48 * fromMs);
  const { delayMs } = findDelay(window, tail, 1_500);
  return { similarity: spectralSimilarity(window, tail, delayMs), delayMs };
}

/**
 * Alice (symmetric NAT) calls bob (port-restricted NAT): only a relay joins them (docs/nat.md).
 * Both attach to the first supernode, so its relays carry the call; gossip told them of the others.
 */
async function relayedCall(seed: number) {
  const world = await overlayWorld(seed, 3, { link: () => ({ latencyMs: 5 }) });
  const { drive, elapse, supernodes } = world;
  const alice = await phone(world, 'alice', ['bob'], { nat: 'symmetric', bootstrap: 0 });
  const bob = await phone(world, 'bob', ['alice'], { bootstrap: 0 });
  await elapse(1_000);
  const doomed = supernodes[0]!;
  const aliceAudio = audio(world, 20, 1);
  const call = await drive(alice.calls.call('bob', aliceAudio));
  await elapse(300);
  const bobAudio = audio(world, 20, 2);
  const answered = bob.incoming[0]!;
  answered.accept(bobAudio);
  const answeredAtMs = world.network.scheduler.now();
  await elapse(2_000);
  assert.equal(call.state, 'active');
  assert.equal(call.stats().path, 'relayed-udp');
  assert.equal(answered.stats().path, 'relayed-udp');
  assert.equal(relayHost(call), doomed.host.addressText, 'the call is relayed by the supernode about to die');
  return { world, drive, elapse, supernodes, alice, bob, doomed, aliceAudio, bobAudio, call, answered, answeredAtMs };
}

test('a relayed call survives its relay\'s death: the supernode relaying it is killed, the call restarts ICE on a new relay and goes on with a gap under 2 s', (t) =>
  withSeed(testSeed(), async (seed) => {
    const { world, drive, elapse, supernodes, alice, bob, doomed, aliceAudio, bobAudio, call, answered, answeredAtMs } = await relayedCall(seed);
    // The supernode's process is killed: its links close (FIN), its relays are gone.
    doomed.host.kill();
    doomed.running.close();
    const killedAtMs = world.network.scheduler.now();
    const [aliceGapMs, bobGapMs] = await longestGapsMs(world, [call, answered], 5_000);
    t.diagnostic(`seed ${seed}: audio gap after the relay died: alice ${aliceGapMs} ms, bob ${bobGapMs} ms`);
    assert.equal(call.state, 'active');
    assert.equal(answered.state, 'active');
    assert.ok(aliceGapMs! <= 2_000 && bobGapMs! <= 2_000, `gaps ${aliceGapMs} / ${bobGapMs} ms`);
    assert.ok(aliceGapMs! >= PATH_SILENCE_MS, `a gap there was (${aliceGapMs} ms): the old relay did die`);
    // A new relayed path, through a relay on a supernode still alive.
    assert.equal(call.stats().path, 'relayed-udp');
    assert.equal(answered.stats().path, 'relayed-udp');
    const newRelay = relayHost(call);
    assert.ok(newRelay && newRelay !== doomed.host.addressText && supernodes.some((s) => s.host.addressText === newRelay), `relayed by ${newRelay}`);
    assert.equal(call.stats().pathRestarts, 1);
    assert.equal(answered.stats().pathRestarts, 1);
    assert.notEqual(alice.attached.supernode?.host, doomed.host.addressText, 'alice re-attached elsewhere');
    // Both hear the other after the restart (seconds 3.5-6.5 after the kill).
    // Both hear the other on the new path: 3 s of the input from 1.5 s after the kill (each
    // sender reads its input from the answer on, through the gap too, so input time is call time).
    await elapse(2_000);
    const start = killedAtMs - answeredAtMs + 1_500;
    for (const [name, said, heard] of [
      ['bob hears alice', aliceAudio.input, bobAudio.sink.samples()],
      ['alice hears bob', bobAudio.input, aliceAudio.sink.samples()],
    ] as const) {
      const { similarity, delayMs } = heardSimilarity(said, heard, start, start + 3_000);
      assert.ok(similarity > 0.85, `${name} after the restart: similarity ${similarity} (delay ${delayMs} ms)`);
    }
    call.hangup();
    assert.deepEqual(await drive(answered.ended), { reason: 'hung_up', by: 'remote' });
    shutDown(world, [alice, bob]);
  }));

test('a direct (hole-punched) call is not disturbed when the supernode both devices are attached to is killed', () =>
  withSeed(testSeed(), async (seed) => {
    const world = await overlayWorld(seed, 3, { link: () => ({ latencyMs: 5 }) });
    const { drive, elapse, supernodes } = world;
    const alice = await phone(world, 'alice', ['bob'], { bootstrap: 0 });
    const bob = await phone(world, 'bob', ['alice'], { bootstrap: 0 });
    await elapse(1_000);
    const call = await drive(alice.calls.call('bob', audio(world, 10, 1)));
    await elapse(300);
    const answered = bob.incoming[0]!;
    answered.accept(audio(world, 10, 2));
    await elapse(2_000);
    assert.equal(call.stats().path, 'hole-punched');
    supernodes[0]!.host.kill();
    supernodes[0]!.running.close();
    const gaps = await longestGapsMs(world, [call, answered], 4_000);
    assert.ok(gaps.every((gap) => gap < 100), `gaps ${gaps.join(' / ')} ms`);
    assert.equal(call.stats().path, 'hole-punched');
    assert.equal(call.stats().pathRestarts, 0);
    assert.equal(answered.stats().pathRestarts, 0);
    assert.notEqual(alice.attached.supernode?.host, supernodes[0]!.host.addressText, 'alice re-attached elsewhere');
    call.hangup();
    assert.deepEqual(await drive(answered.ended), { reason: 'hung_up', by: 'remote' });
    shutDown(world, [alice, bob]);
  }));

test('the callee notices first (the caller hears nothing anyway: the callee holds): it asks for a restart, and the caller\'s audio is back within 2 s', () =>
  withSeed(testSeed(), async (seed) => {
    const { world, drive, elapse, alice, bob, doomed, call, answered } = await relayedCall(seed);
    answered.hold(true);
    await elapse(500);
    assert.equal(call.stats().heldByPeer, true);
    doomed.host.kill();
    doomed.running.close();
    // Alice's own watch is off (bob holds: one packet every 3 s); bob's RESTART brings the new path.
    const [bobGapMs] = await longestGapsMs(world, [answered], 4_000);
    assert.ok(bobGapMs! >= PATH_SILENCE_MS && bobGapMs! <= 2_000, `bob's gap ${bobGapMs} ms`);
    assert.equal(call.stats().pathRestarts, 1);
    assert.notEqual(relayHost(call), doomed.host.addressText);
    answered.hold(false);
    await elapse(1_000);
    const before = call.stats().packetsReceived;
    await elapse(1_000);
    assert.ok(call.stats().packetsReceived - before >= 45, 'alice hears bob again once he resumes');
    call.hangup();
    await drive(answered.ended);
    shutDown(world, [alice, bob]);
  }));
