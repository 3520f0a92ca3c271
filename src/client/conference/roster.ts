// The conference roster as a pure reducer: a state and an event give the next state (or the same
// state and the reason the event was refused). No timers, sockets or I/O: the conference
// (src/client/conference.ts) feeds it what it hears and what its user does, and acts on the
// difference (publishes a roster whose version grew, re-elects the mixer, ends).
//
// What the roster holds, and who may change it:
// - members, in order: members[0] started the conference; the host is the first member not known
//   to be gone, so when a host goes the next member hosts without a vote;
// - the version, which only grows: the host bumps it on every change it makes, and a participant
//   takes a roster from its host only when it is newer;
// - members found gone (their media stopped) before the host's roster says so;
// - the host's pending invitations (users), which count against the size bound with the members:
//   only an invited user joins, and joining uses up the invitation, so a member that was kicked
//   does not come back without a new one;
// - the phase (invited, joining, active, ended) and, once ended, why.
// Who mixes is not stored: every member elects it from the present members' facts
// (mixer-election.ts), so all agree. Who speaks is not stored either: it is the mixer's (or its
// mix's CSRCs') live answer, read when the roster is shown.
import { electMixer } from '../../media/mixer-election.js';
import type { NatType } from '../../wire/messages.js';

/** Members of one conference (each is a leg, a decoder and an encoder at the mixer). */
export const MAX_MEMBERS = 16;

export interface MemberFacts {
  readonly natType: NatType;
  readonly uploadKbps: number;
  readonly cpuCores: number;
  /** Set by the host when the others find this member's mix arriving badly. */
  readonly degraded?: boolean;
}

export interface Member {
  readonly user: string;
  readonly device: Uint8Array;
  /** user/device: unique, and what the election and the mixer know it by. */
  readonly key: string;
  readonly facts: MemberFacts;
}

export type ConferenceState = 'invited' | 'joining' | 'active' | 'ended';

export type ConferenceEndReason =
  | 'left'
  | 'declined'
  | 'kicked'
  /** The others reported it lost (no media reached the mixer). */
  | 'removed'
  | 'cancelled'
  | 'answered_elsewhere'
  /** Everyone else left, or nobody joined. */
  | 'alone'
  | 'no_answer';

export interface ConferenceEnd {
  readonly reason: ConferenceEndReason;
  readonly by: 'local' | 'remote';
}

export interface RosterState {
  /** This device's key. */
  readonly me: string;
  readonly phase: ConferenceState;
  readonly members: readonly Member[];
  readonly version: number;
  /** Keys of members found gone before the host's roster says so (never this device's). */
  readonly lost: readonly string[];
  /** Host: users invited who have not answered yet. */
  readonly invites: readonly string[];
  readonly ended: ConferenceEnd | null;
}

export type RosterEvent =
  /** Host: `user` is invited. */
  | { readonly type: 'invite'; readonly user: string }
  /** Host: an invitation is over without a join (declined, unanswered, nobody online). */
  | { readonly type: 'invite_over'; readonly user: string }
  /** Host: an invited user's device joined. */
  | { readonly type: 'join'; readonly member: Member }
  /** Invitee: this device answered the invitation. */
  | { readonly type: 'answer' }
  /** Participant: a roster from `from` (who must be its host and one of ours). */
  | { readonly type: 'roster'; readonly from: string; readonly version: number; readonly members: readonly Member[] }
  /** A member is out: it left, was kicked, or the host removed it as lost. */
  | { readonly type: 'remove'; readonly key: string }
  /** A member's media stopped: gone for this device, until the host's roster says otherwise. */
  | { readonly type: 'lost'; readonly key: string }
  /** Host: the others find this member's mix arriving badly: it is marked, and another mixes. */
  | { readonly type: 'degraded'; readonly key: string }
  /** Host: reported lost, but here: a newer version tells everyone it lives. */
  | { readonly type: 'reassert' }
  | { readonly type: 'end'; readonly end: ConferenceEnd };

export type RosterRefusal =
  | 'ended'
  | 'not_active'
  | 'not_host'
  | 'full'
  | 'duplicate'
  | 'not_invited'
  | 'unknown_member'
  | 'self'
  | 'stale_version'
  | 'not_from_host'
  | 'invalid_roster'
  | 'not_in_roster'
  | 'no_change';

export const ROSTER_REFUSALS: readonly RosterRefusal[] = ['ended', 'not_active', 'not_host', 'full', 'duplicate', 'not_invited', 'unknown_member', 'self', 'stale_version', 'not_from_host', 'invalid_roster', 'not_in_roster', 'no_change'];

export interface RosterStep {
  readonly state: RosterState;
  /** Why the event changed nothing (null: it was applied). */
  readonly refused: RosterRefusal | null;
}

/** A conference started here: this device alone, hosting. */
export function hostedRoster(me: Member): RosterState {
  return { me: me.key, phase: 'active', members: [me], version: 1, lost: [], invites: [], ended: null };
}

/** An invitation: the host's roster as it came (the host first), ringing here. */
export function invitedRoster(me: string, members: readonly Member[], version: number): RosterState {
  return { me, phase: 'invited', members, version, lost: [], invites: [], ended: null };
}

/** The members not known to be gone. */
export function presentMembers(state: RosterState): Member[] {
  return state.members.filter((m) => !state.lost.includes(m.key));
}

/** The host: the first member not known to be gone. */
export function hostOf(state: RosterState): Member | null {
  return presentMembers(state)[0] ?? null;
}

export function isHost(state: RosterState): boolean {
  return hostOf(state)?.key === state.me;
}

/** The member that mixes now (every member computes the same one); none while fewer than two. */
export function mixerOf(state: RosterState): Member | null {
  return elect(presentMembers(state));
}

/** The member that would mix if the mixer went: every member computes the same one. */
export function nextMixerOf(state: RosterState): Member | null {
  const mixer = mixerOf(state);
  return elect(presentMembers(state).filter((m) => m.key !== mixer?.key));
}

function elect(candidates: readonly Member[]): Member | null {
  if (candidates.length < 2) return null;
  const id = electMixer(candidates.map((m) => ({ id: m.key, ...m.facts })));
  return candidates.find((m) => m.key === id) ?? null;
}

export function memberByKey(state: RosterState, key: string): Member | null {
  return state.members.find((m) => m.key === key) ?? null;
}

const refuse = (state: RosterState, refused: RosterRefusal): RosterStep => ({ state, refused });
const applied = (state: RosterState): RosterStep => ({ state: endIfAlone(state), refused: null });

/** Active with nobody else present and nobody invited: the conference is over. */
function endIfAlone(state: RosterState): RosterState {
  if (state.phase !== 'active' || presentMembers(state).length >= 2 || state.invites.length > 0) return state;
  return { ...state, phase: 'ended', ended: { reason: 'alone', by: 'remote' } };
}

/** A change the host makes: the version grows, so that every member takes the new roster. */
function byHost(state: RosterState, change: Partial<RosterState>): RosterState {
  const next = { ...state, ...change };
  return isHost(next) ? { ...next, version: next.version + 1 } : next;
}

function hasDuplicates(values: readonly string[]): boolean {
  return new Set(values).size !== values.length;
}

export function applyRosterEvent(state: RosterState, event: RosterEvent): RosterStep {
  if (state.phase === 'ended') return refuse(state, 'ended');
  switch (event.type) {
    case 'invite': {
      if (state.phase !== 'active') return refuse(state, 'not_active');
      if (!isHost(state)) return refuse(state, 'not_host');
      if (state.invites.includes(event.user) || state.members.some((m) => m.user === event.user)) return refuse(state, 'duplicate');
      if (state.members.length + state.invites.length >= MAX_MEMBERS) return refuse(state, 'full');
      return applied({ ...state, invites: [...state.invites, event.user] });
    }
    case 'invite_over':
      if (!state.invites.includes(event.user)) return refuse(state, 'not_invited');
      return applied({ ...state, invites: state.invites.filter((u) => u !== event.user) });
    case 'join': {
      const { member } = event;
      if (state.phase !== 'active') return refuse(state, 'not_active');
      if (!isHost(state)) return refuse(state, 'not_host');
      if (!state.invites.includes(member.user)) return refuse(state, 'not_invited');
      if (state.members.some((m) => m.key === member.key || m.user === member.user)) return refuse(state, 'duplicate');
      // Members and invitations together stay within the bound, so a join that uses one up fits.
      return applied(byHost(state, { members: [...state.members, member], invites: state.invites.filter((u) => u !== member.user) }));
    }
    case 'answer':
      if (state.phase !== 'invited') return refuse(state, 'not_active');
      return applied({ ...state, phase: 'joining' });
    case 'roster': {
      if (state.phase !== 'joining' && state.phase !== 'active') return refuse(state, 'not_active');
      if (event.version <= state.version) return refuse(state, 'stale_version');
      const keys = event.members.map((m) => m.key);
      // One device per user, as the host builds it.
      if (event.members.length === 0 || event.members.length > MAX_MEMBERS || hasDuplicates(event.members.map((m) => m.user))) return refuse(state, 'invalid_roster');
      // From the roster's own host, who must be one of ours (while joining: the one who invited us), and not this device.
      if (keys[0] !== event.from || event.from === state.me || !state.members.some((m) => m.key === event.from)) return refuse(state, 'not_from_host');
      if (!keys.includes(state.me)) {
        if (state.phase !== 'active') return refuse(state, 'not_in_roster');
        return applied({ ...state, phase: 'ended', ended: { reason: 'removed', by: 'remote' } });
      }
      // A roster from its host shows the host alive, whatever we concluded from the media.
      const lost = state.lost.filter((key) => keys.includes(key) && key !== event.from);
      return applied({ ...state, phase: 'active', members: event.members, version: event.version, lost });
    }
    case 'remove':
      if (state.phase !== 'active') return refuse(state, 'not_active');
      if (event.key === state.me) return refuse(state, 'self');
      if (!memberByKey(state, event.key)) return refuse(state, 'unknown_member');
      return applied(byHost(state, { members: state.members.filter((m) => m.key !== event.key), lost: state.lost.filter((key) => key !== event.key) }));
    case 'lost':
      if (state.phase !== 'active') return refuse(state, 'not_active');
      if (event.key === state.me) return refuse(state, 'self');
      if (!memberByKey(state, event.key)) return refuse(state, 'unknown_member');
      if (state.lost.includes(event.key)) return refuse(state, 'no_change');
      return applied({ ...state, lost: [...state.lost, event.key] });
    case 'degraded': {
      if (state.phase !== 'active') return refuse(state, 'not_active');
      if (!isHost(state)) return refuse(state, 'not_host');
      const target = memberByKey(state, event.key);
      if (!target) return refuse(state, 'unknown_member');
      if (target.facts.degraded) return refuse(state, 'no_change');
      return applied(byHost(state, { members: state.members.map((m) => (m === target ? { ...m, facts: { ...m.facts, degraded: true } } : m)) }));
    }
    case 'reassert':
      if (state.phase !== 'active') return refuse(state, 'not_active');
      if (!isHost(state)) return refuse(state, 'not_host');
      return applied(byHost(state, {}));
    case 'end':
      return { state: { ...state, phase: 'ended', ended: event.end }, refused: null };
  }
}

/**
 * What must hold after any sequence of events (the tests check it after each one; null: all
 * holds). The conference's own code relies on these too.
 */
export function rosterViolation(state: RosterState): string | null {
  const keys = state.members.map((m) => m.key);
  if (hasDuplicates(state.members.map((m) => m.user))) return 'a member (a user) is listed twice';
  if (hasDuplicates(state.invites)) return 'a user is invited twice';
  if (state.members.length > MAX_MEMBERS) return 'more members than MAX_MEMBERS';
  if (state.members.length + state.invites.length > MAX_MEMBERS) return 'members and invitations beyond MAX_MEMBERS';
  if (state.invites.some((u) => state.members.some((m) => m.user === u))) return 'a member is also invited';
  if (state.lost.some((key) => !keys.includes(key))) return 'a lost key is no member';
  if (state.lost.includes(state.me)) return 'this device is lost to itself';
  if ((state.phase === 'ended') !== (state.ended !== null)) return 'the phase and the end disagree';
  if (state.phase === 'ended') return null;
  const host = hostOf(state);
  if (!host) return 'no host';
  if (state.phase === 'active' && !keys.includes(state.me)) return 'active, and this device is no member';
  const mixer = mixerOf(state);
  if (mixer && !presentMembers(state).some((m) => m.key === mixer.key)) return 'the mixer is not a present member';
  return null;
}
