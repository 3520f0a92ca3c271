// The conference roster as a pure reducer, driven by fast-check: any sequence of events (joins,
// leaves, kicks, losses, invitations, rosters from anyone, the end) keeps its invariants after
// every step: no member twice, the host a member (or the conference over), the mixer a present
// member, the size bound, a kicked member not back without a new invitation, a refused event
// changing nothing, a version that only grows, an end that stays. Then the wire messages:
// decode(encode(x)) gives x back, and random call signals never throw past the decoder.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { create } from '@bufbuild/protobuf';
import { applyRosterEvent, hostedRoster, hostOf, invitedRoster, isHost, MAX_MEMBERS, mixerOf, presentMembers, rosterViolation, type Member, type RosterEvent, type RosterState } from '../../src/client/conference/roster.js';
import { decodeConferenceSignal, encodeConferenceSignal, memberOf, SRTP_MASTER_BYTES, type ConferenceMessage } from '../../src/client/conference/signals.js';
import { CallSignalSchema, ConferenceMemberSchema, ConferenceRosterSchema, NatType } from '../../src/wire/messages.js';
import { testSeed, withSeed } from '../support/seed.js';

/** More users than fit, two devices each, so that the bound and "one device per user" are hit. */
const USERS = Array.from({ length: MAX_MEMBERS + 6 }, (_, i) => `user${i}`);
const NAT_TYPES = [NatType.OPEN, NatType.FULL_CONE, NatType.PORT_RESTRICTED, NatType.SYMMETRIC, NatType.UDP_BLOCKED, NatType.UNSPECIFIED];

const member = fc
  .record({ user: fc.constantFrom(...USERS), device: fc.integer({ min: 1, max: 2 }), natType: fc.constantFrom(...NAT_TYPES), uploadKbps: fc.integer({ min: 0, max: 5_000 }), cpuCores: fc.integer({ min: 1, max: 16 }) })
  .map((m): Member => memberOf(m.user, new Uint8Array(32).fill(m.device), { natType: m.natType, uploadKbps: m.uploadKbps, cpuCores: m.cpuCores }));

const ME = memberOf('me', new Uint8Array(32).fill(7), { natType: NatType.PORT_RESTRICTED, uploadKbps: 0, cpuCores: 2 });

/**
 * An event chosen against the state it meets: most pick a user, member or version that makes
 * sense then (a join from someone invited, a roster newer than ours), some pick anything at all.
 */
type Intent = (state: RosterState) => RosterEvent;

const pick = <T>(items: readonly T[], n: number): T | undefined => items[n % Math.max(1, items.length)];

/** Events a host sees: its user's actions and the members' signals. */
function hostEvents(): fc.Arbitrary<Intent[]> {
  const n = fc.nat();
  const anyKey = fc.oneof(member.map((m) => m.key), fc.constant(ME.key));
  const memberKey = n.map((i): ((state: RosterState) => string) => (state) => pick(state.members, i)?.key ?? ME.key);
  const key = fc.oneof(anyKey.map((k) => () => k), memberKey);
  const intent: fc.Arbitrary<Intent> = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...USERS).map((user): Intent => () => ({ type: 'invite', user })) },
    { weight: 1, arbitrary: fc.tuple(n, fc.constantFrom(...USERS)).map(([i, user]): Intent => (state) => ({ type: 'invite_over', user: pick(state.invites, i) ?? user })) },
    { weight: 8, arbitrary: fc.tuple(n, member, fc.nat({ max: 3 })).map(([i, m, invited]): Intent => (state) => ({ type: 'join', member: invited > 0 && state.invites.length > 0 ? memberOf(pick(state.invites, i)!, m.device, m.facts) : m })) },
    { weight: 3, arbitrary: key.map((k): Intent => (state) => ({ type: 'remove', key: k(state) })) },
    { weight: 2, arbitrary: key.map((k): Intent => (state) => ({ type: 'lost', key: k(state) })) },
    { weight: 1, arbitrary: key.map((k): Intent => (state) => ({ type: 'degraded', key: k(state) })) },
    { weight: 1, arbitrary: fc.constant((): RosterEvent => ({ type: 'reassert' })) },
    { weight: 1, arbitrary: fc.constant((): RosterEvent => ({ type: 'answer' })) },
    // Another member claiming to host (it was taken for lost here, and lives), with anyone in its roster.
    { weight: 1, arbitrary: fc.tuple(n, fc.array(member, { maxLength: MAX_MEMBERS + 2 }), fc.nat({ max: 3 })).map(([i, ms, ahead]): Intent => (state) => { const from = pick(state.members, i) ?? ME; return { type: 'roster', from: from.key, version: state.version + ahead, members: [from, ...ms] }; }) },
  );
  // The end comes last (anywhere, it would cut most sequences short); after it, everything is refused.
  const end = fc.constant((): RosterEvent => ({ type: 'end', end: { reason: 'left', by: 'local' } }));
  return fc.tuple(fc.array(intent, { maxLength: 150, size: 'max' }), end, fc.array(intent, { maxLength: 5 })).map(([before, last, after]) => [...before, last, ...after]);
}

/** Events a participant sees: rosters from its host (or from anyone), with or without it, losses, leaves. */
function participantEvents(): fc.Arbitrary<Intent[]> {
  const n = fc.nat();
  const roster = fc
    .record({ i: n, others: fc.uniqueArray(member, { maxLength: 4, selector: (m) => m.user }), withMe: fc.nat({ max: 9 }), ahead: fc.integer({ min: -1, max: 3 }), fromHost: fc.nat({ max: 4 }), stranger: member })
    .map(({ i, others, withMe, ahead, fromHost, stranger }): Intent => (state) => {
      const from = fromHost > 0 ? (hostOf(state) ?? stranger) : fromHost === 0 && i % 2 === 0 ? (pick(state.members, i) ?? stranger) : stranger;
      // Mostly the members so far, less some, plus some new ones; now and then without this device.
      const kept = state.members.filter((m, j) => m.key !== from.key && m.key !== ME.key && (i >> j) % 4 !== 0);
      const listed = [from, ...(withMe > 0 ? [ME] : []), ...kept, ...others];
      // Now and then a user twice (refused); mostly each once.
      const members = (i % 7 === 0 ? listed : listed.filter((m, j) => listed.findIndex((o) => o.user === m.user) === j)).slice(0, MAX_MEMBERS + (i % 5 === 0 ? 1 : 0));
      return { type: 'roster', from: from.key, version: state.version + ahead, members };
    });
  const key = fc.oneof(member.map((m) => (): string => m.key), n.map((i) => (state: RosterState): string => pick(state.members, i)?.key ?? ME.key), fc.constant((): string => ME.key));
  const intent: fc.Arbitrary<Intent> = fc.oneof(
    { weight: 6, arbitrary: roster },
    { weight: 1, arbitrary: fc.constant((): RosterEvent => ({ type: 'answer' })) },
    { weight: 2, arbitrary: key.map((k): Intent => (state) => ({ type: 'remove', key: k(state) })) },
    { weight: 3, arbitrary: key.map((k): Intent => (state) => ({ type: 'lost', key: k(state) })) },
    { weight: 1, arbitrary: member.map((m): Intent => () => ({ type: 'join', member: m })) },
  );
  const end = fc.constant((): RosterEvent => ({ type: 'end', end: { reason: 'kicked', by: 'remote' } }));
  return fc.tuple(fc.array(intent, { maxLength: 100, size: 'max' }), end, fc.array(intent, { maxLength: 5 })).map(([before, last, after]) => [...before, last, ...after]);
}

/** Checks every invariant of one step from `before` to `step`. */
function checkStep(before: RosterState, event: RosterEvent, after: RosterState, refused: string | null): void {
  const where = `after ${JSON.stringify(event, (_k, v: unknown) => (v instanceof Uint8Array ? `${v.length}B` : v))}`;
  assert.equal(rosterViolation(after), null, where);
  if (refused) assert.equal(after, before, `a refused event changes nothing (${refused}) ${where}`);
  assert.ok(after.version >= before.version, `the version only grows ${where}`);
  if (before.phase === 'ended') assert.deepEqual([after.phase, after.ended], ['ended', before.ended], `the end stays ${where}`);
  if (after.phase !== 'ended') {
    const host = hostOf(after);
    assert.ok(host && after.members.includes(host), `the host is a member ${where}`);
    const mixer = mixerOf(after);
    if (mixer) assert.ok(presentMembers(after).includes(mixer), `the mixer is a present member ${where}`);
    if (!refused && after.phase === 'active') assert.ok(presentMembers(after).length >= 2 || after.invites.length > 0, `nobody else and nobody invited: it ends ${where}`);
  }
  if (after.phase === 'active') assert.ok(after.members.some((m) => m.key === after.me), `an active member is in its own roster ${where}`);
}

test('roster, host side: any sequence of events keeps the invariants; a kicked member does not come back without a new invitation', () =>
  withSeed(testSeed(), (seed) => {
    let joins = 0;
    let kicksUndone = 0;
    fc.assert(
      fc.property(hostEvents(), (intents) => {
        let state = hostedRoster(ME);
        /** Users removed, and not invited again since. */
        const out = new Set<string>();
        for (const intent of intents) {
          const event = intent(state);
          const wasHost = isHost(state);
          const step = applyRosterEvent(state, event);
          checkStep(state, event, step.state, step.refused);
          if (!step.refused) {
            if (event.type === 'remove') out.add(state.members.find((m) => m.key === event.key)!.user);
            if (event.type === 'invite') {
              if (out.delete(event.user)) kicksUndone++;
            }
            if (event.type === 'join') joins++;
            // Another member's roster (a host that was taken for lost and lives) is that host's word.
            if (event.type === 'roster') out.clear();
            // Only the host changes the roster by itself, and each change it makes is a newer version.
            if (event.type === 'join' || event.type === 'degraded' || event.type === 'reassert') assert.ok(wasHost && step.state.version === state.version + 1);
          }
          for (const m of step.state.members) assert.ok(!out.has(m.user), `${m.user} was removed and is back without a new invitation`);
          state = step.state;
        }
      }),
      { seed, numRuns: 400 },
    );
    // The property saw what it is about (joins, and removed users invited back).
    assert.ok(joins > 1_000 && kicksUndone > 10, `joins ${joins}, removed users invited again ${kicksUndone}`);
  }));

test('roster, participant side: rosters only from its host, only newer, with it in them; any sequence keeps the invariants', () =>
  withSeed(testSeed(), (seed) => {
    const host = memberOf('host', new Uint8Array(32).fill(3), { natType: NatType.OPEN, uploadKbps: 0, cpuCores: 2 });
    let taken = 0;
    fc.assert(
      fc.property(participantEvents(), (intents) => {
        let state = invitedRoster(ME.key, [host], 1);
        for (const intent of intents) {
          const event = intent(state);
          const step = applyRosterEvent(state, event);
          checkStep(state, event, step.state, step.refused);
          if (event.type === 'roster' && !step.refused && step.state.phase !== 'ended') {
            taken++;
            assert.equal(event.from, hostOf(step.state)?.key, 'a roster taken came from the host it names');
            assert.ok(state.members.some((m) => m.key === event.from), 'from a member of the roster before');
            assert.equal(step.state.version, event.version);
          }
          // Nothing but the host's roster makes a participant active, or changes its members' order.
          if (state.phase !== 'active' && step.state.phase === 'active') assert.equal(event.type, 'roster');
          state = step.state;
        }
      }),
      { seed, numRuns: 400 },
    );
    assert.ok(taken > 100, `rosters taken: ${taken}`);
  }));

test('roster: a conference of MAX_MEMBERS refuses the next invitation, and counts it as full', () => {
  let state = hostedRoster(ME);
  for (let i = 0; i < MAX_MEMBERS - 1; i++) {
    const user = USERS[i]!;
    state = applyRosterEvent(state, { type: 'invite', user }).state;
    state = applyRosterEvent(state, { type: 'join', member: memberOf(user, new Uint8Array(32).fill(i + 10), { natType: NatType.OPEN, uploadKbps: 0, cpuCores: 1 }) }).state;
  }
  assert.equal(state.members.length, MAX_MEMBERS);
  assert.equal(state.version, MAX_MEMBERS, 'one version per join');
  assert.equal(applyRosterEvent(state, { type: 'invite', user: 'late' }).refused, 'full');
  // A member leaves: the place is free again.
  state = applyRosterEvent(state, { type: 'remove', key: state.members[1]!.key }).state;
  assert.equal(applyRosterEvent(state, { type: 'invite', user: 'late' }).refused, null);
});

test('roster: the host lost and then removed: the next member hosts, and the mixer is elected among those present', () => {
  const ann = memberOf('ann', new Uint8Array(32).fill(1), { natType: NatType.OPEN, uploadKbps: 0, cpuCores: 2 });
  const ben = memberOf('ben', new Uint8Array(32).fill(2), { natType: NatType.PORT_RESTRICTED, uploadKbps: 0, cpuCores: 2 });
  let state = applyRosterEvent(applyRosterEvent(invitedRoster(ME.key, [ann, ben], 3), { type: 'answer' }).state, { type: 'roster', from: ann.key, version: 4, members: [ann, ben, ME] }).state;
  assert.equal(state.phase, 'active');
  assert.equal(hostOf(state)?.key, ann.key);
  assert.equal(mixerOf(state)?.key, ann.key, 'ann is open: she mixes');
  state = applyRosterEvent(state, { type: 'lost', key: ann.key }).state;
  assert.equal(hostOf(state)?.key, ben.key, 'ben hosts while ann is lost');
  assert.notEqual(mixerOf(state)?.key, ann.key);
  // A roster from ann within the grace: she lives, and hosts again.
  const back = applyRosterEvent(state, { type: 'roster', from: ann.key, version: 5, members: [ann, ben, ME] }).state;
  assert.equal(hostOf(back)?.key, ann.key);
  assert.deepEqual(back.lost, []);
  // None came: ben removes her (a newer version only from ben's side, not ours: we do not host).
  const removed = applyRosterEvent(state, { type: 'remove', key: ann.key }).state;
  assert.deepEqual(removed.members.map((m) => m.user), ['ben', 'me']);
  assert.equal(removed.version, state.version, 'a participant does not bump the version');
});

const masterBytes = fc.uint8Array({ minLength: SRTP_MASTER_BYTES, maxLength: SRTP_MASTER_BYTES });
const memberWithDegraded = fc.tuple(member, fc.boolean()).map(([m, degraded]) => memberOf(m.user, m.device, { ...m.facts, degraded }));
const message: fc.Arbitrary<ConferenceMessage> = fc.oneof(
  fc.record({ kind: fc.constant('invite' as const), version: fc.nat(), members: fc.array(memberWithDegraded, { minLength: 1, maxLength: MAX_MEMBERS }), opus: fc.boolean(), frameMs: fc.constantFrom(10 as const, 20 as const), fromCall: fc.option(fc.uint8Array({ minLength: 16, maxLength: 16 })) }),
  fc.record({ kind: fc.constant('join' as const), member: memberWithDegraded }),
  fc.record({ kind: fc.constant('roster' as const), version: fc.nat(), members: fc.array(memberWithDegraded, { minLength: 1, maxLength: MAX_MEMBERS }) }),
  fc.record({ kind: fc.constant('leave' as const), reason: fc.constantFrom('left' as const, 'kicked' as const, 'lost' as const) }),
  fc.record({ kind: fc.constant('lost' as const), member: memberWithDegraded, degraded: fc.boolean() }),
  fc.record({ kind: fc.constant('leg' as const), srtpMaster: masterBytes }),
  fc.record({ kind: fc.constantFrom('decline' as const, 'cancel' as const), reason: fc.string({ maxLength: 64 }) }),
);

test('conference signals: decode(encode(x)) is x for every message; random call signals give a typed error or a message, never a throw', () =>
  withSeed(testSeed(), (seed) => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), message, (callId, m) => {
        const decoded = decodeConferenceSignal(encodeConferenceSignal(callId, m));
        assert.ok(decoded.ok, `decodes: ${!decoded.ok && decoded.error}`);
        assert.deepEqual(decoded.callId, callId);
        assert.deepEqual(decoded.message, { ...m });
      }),
      { seed, numRuns: 500 },
    );
    const wireMember = fc.record({ user: fc.string({ maxLength: 80 }), device: fc.uint8Array({ maxLength: 40 }), natType: fc.integer({ min: -1, max: 12 }), uploadKbps: fc.nat(), cpuCores: fc.nat(), degraded: fc.boolean() }).map((m) => create(ConferenceMemberSchema, m));
    const signal = fc
      .record({
        callId: fc.uint8Array({ minLength: 14, maxLength: 17 }),
        kind: fc.integer({ min: 0, max: 20 }),
        srtpMaster: fc.oneof(fc.uint8Array({ maxLength: 40 }), masterBytes),
        reason: fc.string({ maxLength: 80 }),
        roster: fc.record({ version: fc.nat(), members: fc.oneof(fc.array(wireMember, { maxLength: 3 }), fc.array(wireMember, { minLength: MAX_MEMBERS - 1, maxLength: MAX_MEMBERS + 3 })) }).map((r) => create(ConferenceRosterSchema, r)),
        member: wireMember,
        codecs: fc.array(fc.constantFrom('opus/48000/2', 'pcmu'), { maxLength: 2 }),
        frameMs: fc.nat({ max: 60 }),
        fromCall: fc.uint8Array({ maxLength: 17 }),
      })
      .map((s) => create(CallSignalSchema, s));
    const seen = new Set<string>();
    fc.assert(
      fc.property(signal, (s) => {
        const decoded = decodeConferenceSignal(s);
        seen.add(decoded.ok ? decoded.message.kind : decoded.error);
        if (!decoded.ok) return;
        // What decodes is within its bounds.
        const m = decoded.message;
        if (m.kind === 'roster' || m.kind === 'invite') assert.ok(m.members.length >= 1 && m.members.length <= MAX_MEMBERS);
        if (m.kind === 'leg') assert.equal(m.srtpMaster.length, SRTP_MASTER_BYTES);
        if ('member' in m) assert.ok(m.member.user.length > 0 && m.member.device.length === 32);
      }),
      { seed, numRuns: 2_000 },
    );
    for (const expected of ['bad_call_id', 'bad_member', 'too_many_members', 'bad_srtp_master', 'not_conference', 'leg', 'leave']) assert.ok(seen.has(expected), `the fuzzer reached ${expected}: ${[...seen].join(', ')}`);
  }));
