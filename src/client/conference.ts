// Conferences: one participant mixes, the others send it their voice over their own leg and hear
// the mix of everyone else (src/media/mixer.ts). The signalling rides the calls' end-to-end
// streams (CallSignal, CONF_* kinds), so no supernode sees who talks with whom. This file
// composes the parts, each in src/client/conference/:
//
// - roster.ts: the roster as a pure reducer (members, version, who is found gone, invitations,
//   the phase); the host is the first member not known to be gone, and every member elects the
//   mixer from the roster's facts (mixer-election.ts), so all agree without a vote;
// - host.ts: the host's duties (invite, take joins, publish every change with a version that only
//   grows, weigh reports of a degraded mixer);
// - uplink.ts and mixing.ts: the media legs, a participant's to the mixer and the mixer's side;
// - signals.ts: the wire messages, their encoding and decoding, and the one adapter over the
//   messenger (its `call` kind).
//
// Handover: a member that leaves says so to everyone (CONF_LEAVE); a mixer that goes silent for
// LEG_LOST_MS is reported lost to the host (CONF_LOST). Either way every member drops it from the
// roster and elects again at once; if it was the host, the next member hosts.
import type { Env, Timer } from '../env/types.js';
import { every } from '../env/every.js';
import { equalBytes, toHex } from '../crypto/bytes.js';
import type { Relation } from '../messenger/transport.js';
import type { Connection, Connector } from './connector.js';
import type { PathKind } from '../ice/ice-candidate.js';
import { NatType } from '../wire/messages.js';
import type { FrameMs } from '../media/opus.js';
import { RING_TIMEOUT_MS, type Call, type CallAudio, type CallManager, type CallSignalling } from './calls.js';
import { ConferenceCounters } from './conference/counters.js';
import { HostDuties } from './conference/host.js';
import { MixerLegs } from './conference/mixing.js';
import { applyRosterEvent, hostedRoster, hostOf, invitedRoster, isHost, memberByKey, mixerOf, nextMixerOf, presentMembers, type ConferenceEnd, type ConferenceState, type Member, type MemberFacts, type RosterEvent, type RosterState } from './conference/roster.js';
import { ConferenceSignals, memberKey, memberOf, type ConferenceMessage, type SignalSender } from './conference/signals.js';
import { csrcOf, StandbyPath, Uplink, WATCH_EVERY_MS, LEG_SETUP_MS } from './conference/uplink.js';

export { MAX_MEMBERS } from './conference/roster.js';
export type { ConferenceEnd, ConferenceEndReason, ConferenceState, Member, MemberFacts } from './conference/roster.js';

/** Conferences this device is in or invited to at once. */
export const MAX_CONFERENCES = 4;
/** Joined, and no roster with us in it came back. */
const JOIN_TIMEOUT_MS = 10_000;
/** A host found silent has this long to show it lives (a roster) before the next member takes over hosting. */
const HOST_GRACE_MS = 2_000;

export interface RosterEntry {
  readonly user: string;
  readonly device: Uint8Array;
  readonly host: boolean;
  readonly mixer: boolean;
  /** Spoke in the last 300 ms: the mixer knows; the others learn it from the CSRCs of its mix. */
  readonly speaking: boolean;
}

export interface ConferenceOptions {
  readonly self: { readonly user: string; readonly device: Uint8Array };
  /** This device's facts for the mixer election. */
  readonly facts?: () => MemberFacts;
  readonly frameMs?: FrameMs;
  /** Who may invite this device (default: buddies). */
  readonly acceptFrom?: (user: string, relation: Relation) => boolean;
  /** The calls, so that a 1:1 call can turn into a conference. */
  readonly calls?: CallManager;
}

/** What a conference needs of its manager. */
interface ConferenceContext {
  readonly env: Env;
  readonly connector: Connector;
  readonly signals: ConferenceSignals;
  readonly counters: ConferenceCounters;
  forget(conference: Conference): void;
}

export class Conference {
  private rosterState: RosterState;
  audio: CallAudio | null = null;
  private uplink: Uplink | null = null;
  /** Participant: a path kept open to the member that would mix next, so a handover need not wait for one. */
  private standby: StandbyPath | null = null;
  private readonly mixing: MixerLegs;
  private readonly hostDuties: HostDuties;
  /** The watch (one periodic timer) and one-shot timers still pending; all cancelled at the end. */
  private readonly timers = new Set<Timer>();
  private readonly changeListeners = new Set<() => void>();
  private endResolve!: (end: ConferenceEnd) => void;
  readonly ended: Promise<ConferenceEnd>;
  /** When a 1:1 call turned into this conference: that call's id. */
  fromCall: Uint8Array | null = null;

  constructor(
    private readonly context: ConferenceContext,
    readonly id: Uint8Array,
    readonly frameMs: FrameMs,
    readonly me: Member,
    roster: RosterState,
  ) {
    this.rosterState = roster;
    this.ended = new Promise((resolve) => (this.endResolve = resolve));
    const { env, signals, counters } = context;
    this.mixing = new MixerLegs(env, frameMs, counters, (member, master) => signals.send(id, member, { kind: 'leg', srtpMaster: master }));
    this.hostDuties = new HostDuties(env, signals, counters, { id, frameMs, me, roster: () => this.rosterState, dispatch: (event) => this.dispatch(event) });
    this.timers.add(every(env.clock, WATCH_EVERY_MS, env.clock.now() + WATCH_EVERY_MS, () => this.watch()));
  }

  get state(): ConferenceState {
    return this.rosterState.phase;
  }

  get members(): readonly Member[] {
    return this.rosterState.members;
  }

  /** Why it ended, once it has. */
  get endedWith(): ConferenceEnd | null {
    return this.rosterState.ended;
  }

  /** Roster changes, mixer changes, the end. Returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private changed(): void {
    for (const listener of [...this.changeListeners]) listener();
  }

  /** The host: the first member not known to be gone. */
  get host(): Member | null {
    return hostOf(this.rosterState);
  }

  get isHost(): boolean {
    return isHost(this.rosterState);
  }

  /** The member that mixes now (every member computes the same one). */
  get mixerMember(): Member | null {
    return mixerOf(this.rosterState);
  }

  roster(): RosterEntry[] {
    const mixer = this.mixerMember;
    const host = this.host;
    const heard = new Set(this.uplink?.contributors ?? []);
    return presentMembers(this.rosterState).map((m) => ({
      user: m.user,
      device: m.device,
      host: m.key === host?.key,
      mixer: m.key === mixer?.key,
      speaking: this.mixing.speaking(m.key) ?? heard.has(csrcOf(m.device)),
    }));
  }

  /** The path of this participant's leg to the mixer (null while it mixes or has none). */
  get legPath(): PathKind | null {
    return this.uplink?.path ?? null;
  }

  /**
   * Applies `event` to the roster and acts on what changed: the end tears everything down; a
   * version this host grew goes to every member; the media follows the roster. False when the
   * roster refused the event (counted).
   */
  private dispatch(event: RosterEvent): boolean {
    const before = this.rosterState;
    const step = applyRosterEvent(before, event);
    if (step.refused) {
      this.context.counters.count(`roster.${step.refused}`);
      return false;
    }
    this.rosterState = step.state;
    if (step.state.phase === 'ended') {
      this.finish(step.state.ended!);
      return true;
    }
    if (event.type !== 'roster' && step.state.version > before.version && isHost(step.state)) this.hostDuties.publish();
    this.reconcile();
    return true;
  }

  private after(delayMs: number, fn: () => void): void {
    const timer = this.context.env.clock.after(delayMs, () => {
      this.timers.delete(timer);
      fn();
    });
    this.timers.add(timer);
  }

  private send(to: { readonly user: string; readonly device: Uint8Array }, message: ConferenceMessage): void {
    this.context.signals.send(this.id, to, message);
  }

  /** Host: starts with this audio. */
  start(audio: CallAudio): void {
    this.audio = audio;
  }

  /** Answers an invitation: joins with this audio. */
  join(audio: CallAudio): void {
    if (this.state !== 'invited') return;
    this.audio = audio;
    this.dispatch({ type: 'answer' });
    this.send(this.members[0]!, { kind: 'join', member: this.me });
    this.after(JOIN_TIMEOUT_MS, () => this.state === 'joining' && this.end({ reason: 'no_answer', by: 'remote' }));
  }

  decline(): void {
    if (this.state !== 'invited') return;
    this.send(this.members[0]!, { kind: 'decline', reason: 'declined' });
    this.end({ reason: 'declined', by: 'local' });
  }

  /** Host: invites every online device of `user`; the first to join is in. */
  invite(user: string, fromCall?: Call): Promise<boolean> {
    return this.hostDuties.invite(user, fromCall);
  }

  /** Host: removes `user` from the conference. */
  kick(user: string): void {
    const member = this.members.find((m) => m.user === user);
    if (!this.isHost || !member || member.key === this.me.key) return;
    this.send(member, { kind: 'leave', reason: 'kicked' });
    this.dispatch({ type: 'remove', key: member.key });
  }

  /** Leaves: everyone is told, and those left elect another mixer (and host) at once if it was this one. */
  leave(): void {
    if (this.state === 'ended') return;
    if (this.state === 'invited') return this.decline();
    for (const m of presentMembers(this.rosterState)) if (m.key !== this.me.key) this.send(m, { kind: 'leave', reason: 'left' });
    this.end({ reason: 'left', by: 'local' });
  }

  end(end: ConferenceEnd): void {
    this.dispatch({ type: 'end', end });
  }

  /** A message about this conference from one of its members (or an invitee). */
  received(from: SignalSender, message: ConferenceMessage): void {
    const member = memberByKey(this.rosterState, memberKey(from.user, from.device));
    switch (message.kind) {
      case 'join':
        return this.hostDuties.joinAsked(from, message.member);
      case 'decline':
        return this.hostDuties.declined(from);
      case 'cancel':
        if (this.state === 'invited' && member === this.members[0]) this.end({ reason: message.reason === 'answered elsewhere' ? 'answered_elsewhere' : 'cancelled', by: 'remote' });
        return;
      case 'roster':
        this.dispatch({ type: 'roster', from: memberKey(from.user, from.device), version: message.version, members: message.members });
        return;
      case 'leave':
        if (!member || this.state === 'invited') return this.context.counters.count('signal.not_member');
        // From the host to us: we are out. From anyone else: they are.
        if (message.reason !== 'left') {
          if (member.key === this.host?.key) this.end({ reason: message.reason === 'kicked' ? 'kicked' : 'removed', by: 'remote' });
          return;
        }
        this.dispatch({ type: 'remove', key: member.key });
        return;
      case 'lost':
        return this.lostReported(member, message.member, message.degraded);
      case 'leg':
        if (!member) return this.context.counters.count('signal.not_member');
        if (this.uplink?.mixer.key === member.key) return this.uplink.keyed(message.srtpMaster);
        this.mixing.legSignal(member, message.srtpMaster);
        return this.reconcile();
      case 'invite':
        return;
    }
  }

  /** Host: `reporter` finds `reported`'s media gone, or arriving badly. */
  private lostReported(reporter: Member | null, reported: Member, degraded: boolean): void {
    const target = memberByKey(this.rosterState, reported.key);
    if (!reporter || !target || !this.isHost) return this.context.counters.count('host.report_refused');
    if (degraded) return this.hostDuties.degradedReported(reporter, target);
    // Reported lost, but here: the reporter's path broke, or this device stalled. The roster
    // again (a newer version, from this host) tells everyone it lives.
    if (target.key === this.me.key) return void this.dispatch({ type: 'reassert' });
    this.send(target, { kind: 'leave', reason: 'lost' });
    this.dispatch({ type: 'remove', key: target.key });
  }

  /** Someone is gone (its media stopped): the host hears of it, everyone elects again. */
  private reportLost(member: Member): void {
    if (this.rosterState.lost.includes(member.key) || member.key === this.me.key || !memberByKey(this.rosterState, member.key)) return;
    const host = this.host;
    if (host?.key === member.key) {
      // The host itself went quiet. Ask it: a roster from it within HOST_GRACE_MS shows it lives
      // (only our path to it broke) and undoes this; if none comes, the next member hosts and
      // removes it. Meanwhile the media goes on without it.
      this.send(member, { kind: 'lost', member, degraded: false });
      this.after(HOST_GRACE_MS, () => {
        if (this.state !== 'active' || !this.rosterState.lost.includes(member.key) || !this.isHost) return;
        this.send(member, { kind: 'leave', reason: 'lost' });
        this.dispatch({ type: 'remove', key: member.key });
      });
      this.dispatch({ type: 'lost', key: member.key });
      return;
    }
    if (!this.isHost) {
      this.send(host!, { kind: 'lost', member, degraded: false });
      this.dispatch({ type: 'lost', key: member.key });
      return;
    }
    this.send(member, { kind: 'leave', reason: 'lost' });
    this.dispatch({ type: 'remove', key: member.key });
  }

  /** Brings the media in line with the roster: mix if elected, else a leg to the one who is. */
  private reconcile(): void {
    if (this.state !== 'active') return;
    const mixer = this.mixerMember;
    if (mixer?.key === this.me.key) {
      this.closeStandby();
      this.closeUplink();
      this.mixing.mix(this.me, this.audio, presentMembers(this.rosterState));
    } else {
      this.mixing.stop();
      if (this.uplink && this.uplink.mixer.key !== mixer?.key) this.closeUplink();
      if (mixer && !this.uplink) this.openUplink(mixer);
      this.keepStandby();
    }
    this.changed();
  }

  /** Participant: a leg to the mixer, on the standby path if that was kept to it. */
  private openUplink(mixer: Member): void {
    const standby = this.standby?.member.key === mixer.key ? this.standby.outcome : null;
    if (standby) this.standby = null;
    const uplink: Uplink = new Uplink(
      this.context.env,
      this.context.connector,
      this.audio,
      this.frameMs,
      mixer,
      {
        sendLeg: (to, master) => this.send(to, { kind: 'leg', srtpMaster: master }),
        lost: (gone) => this.uplink === uplink && this.reportLost(gone),
        degraded: (bad) => this.mixerDegraded(bad),
        changed: () => this.changed(),
      },
      standby,
    );
    this.uplink = uplink;
  }

  private closeUplink(): void {
    const uplink = this.uplink;
    this.uplink = null;
    uplink?.close();
  }

  /** Participant: the mix arrives badly: the host hears that the mixer degrades. */
  private mixerDegraded(mixer: Member): void {
    if (this.isHost) this.hostDuties.degradedReported(this.me, mixer);
    else if (this.host) this.send(this.host, { kind: 'lost', member: mixer, degraded: true });
  }

  /** Participant: keeps a path open to the next mixer (not to itself: the others will come to it). */
  private keepStandby(): void {
    const next = nextMixerOf(this.rosterState);
    if (!next || next.key === this.me.key) return this.closeStandby();
    if (this.standby?.member.key === next.key) return;
    this.closeStandby();
    this.standby = new StandbyPath(next, this.context.connector.connect(next.user, next.device, LEG_SETUP_MS));
  }

  private closeStandby(): void {
    const standby = this.standby;
    this.standby = null;
    standby?.close();
  }

  /** A member's path arrived (the manager routes only members' paths here). */
  connected(connection: Connection): void {
    const member = memberByKey(this.rosterState, memberKey(connection.user, connection.device));
    if (!member) return void connection.agent.close();
    this.mixing.connected(member, connection);
  }

  /** Watches the media: a silent mixer is lost (handover); at the mixer, a silent participant. */
  private watch(): void {
    const uplink = this.uplink;
    const now = this.context.env.clock.now();
    if (uplink && uplink.watch(now) === 'silent') this.reportLost(uplink.mixer);
    for (const member of this.mixing.silent(now)) this.reportLost(member);
  }

  /** The end: every timer, leg, path and invitation goes. */
  private finish(end: ConferenceEnd): void {
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
    this.hostDuties.close();
    this.closeUplink();
    this.mixing.close();
    this.closeStandby();
    this.context.forget(this);
    this.endResolve(end);
    this.changed();
    this.changeListeners.clear();
  }
}

export class ConferenceManager {
  private readonly conferences = new Map<string, Conference>();
  private readonly inviteListeners = new Set<(conference: Conference) => void>();
  private readonly frameMs: FrameMs;
  private readonly counters = new ConferenceCounters();
  private readonly signals: ConferenceSignals;
  private readonly context: ConferenceContext;

  constructor(
    private readonly env: Env,
    signalling: CallSignalling,
    readonly connector: Connector,
    private readonly options: ConferenceOptions,
  ) {
    this.frameMs = options.frameMs ?? 20;
    this.signals = new ConferenceSignals(signalling, this.counters);
    this.context = { env, connector, signals: this.signals, counters: this.counters, forget: (conference) => this.conferences.delete(toHex(conference.id)) };
    this.signals.listen((from, callId, message) => this.received(from, callId, message));
    connector.onConnection((connection) => this.connectedFrom(connection));
  }

  private get me(): Member {
    const { user, device } = this.options.self;
    return memberOf(user, device, this.options.facts?.() ?? { natType: NatType.UNSPECIFIED, uploadKbps: 0, cpuCores: 1 });
  }

  /** What was refused, ignored or failed, by name (every refusal is counted). */
  stats(): Record<string, number> {
    return this.counters.snapshot();
  }

  /** Invitations, ringing: join or decline them. Returns the unsubscribe. */
  onInvite(listener: (conference: Conference) => void): () => void {
    this.inviteListeners.add(listener);
    return () => this.inviteListeners.delete(listener);
  }

  /** Whether `user` may open a path to this device now: a member of a conference with it. */
  expectsConnectionFrom(user: string): boolean {
    return [...this.conferences.values()].some((c) => c.state === 'active' && c.members.some((m) => m.user === user));
  }

  /** Starts a conference hosted here and invites `users`. */
  async start(users: readonly string[], audio: CallAudio): Promise<Conference> {
    const conference = this.hosted(this.frameMs, audio);
    await Promise.all(users.map((u) => conference.invite(u)));
    return conference;
  }

  /** A new conference hosted here, with only this device in it yet. */
  private hosted(frameMs: FrameMs, audio: CallAudio): Conference {
    const me = this.me;
    const conference = new Conference(this.context, this.env.random.bytes(16), frameMs, me, hostedRoster(me));
    this.conferences.set(toHex(conference.id), conference);
    conference.start(audio);
    return conference;
  }

  /** Turns a 1:1 call into a conference: the other side joins with its call's audio, then `users` are invited. */
  async upgrade(call: Call, users: readonly string[]): Promise<Conference | null> {
    if (call.state !== 'active' || !call.audio || !call.device) return null;
    const conference = this.hosted(call.frameMs, call.audio);
    conference.fromCall = call.id;
    // The call ends here when the other side is in the conference (its own side ends it then too).
    conference.onChange(() => conference.members.some((m) => m.user === call.peer) && call.state === 'active' && this.options.calls?.release(call));
    await conference.invite(call.peer, call);
    await Promise.all(users.map((u) => conference.invite(u)));
    return conference;
  }

  private connectedFrom(connection: Connection): void {
    const conference = [...this.conferences.values()].find((c) => c.state === 'active' && c.members.some((m) => m.user === connection.user && equalBytes(m.device, connection.device)));
    conference?.connected(connection);
  }

  private received(from: SignalSender, callId: Uint8Array, message: ConferenceMessage): void {
    const conference = this.conferences.get(toHex(callId));
    if (message.kind === 'invite') {
      if (!conference) this.invited(from, callId, message);
      return;
    }
    conference?.received(from, message);
  }

  private invited(from: SignalSender, callId: Uint8Array, invite: Extract<ConferenceMessage, { kind: 'invite' }>): void {
    const refuse = (reason: string) => {
      this.counters.count(`invite.${reason}`);
      void this.signals.sendTo(from.user, [from.device], callId, { kind: 'decline', reason });
    };
    const call = invite.fromCall ? this.options.calls?.find(invite.fromCall) : undefined;
    const inCallWithHost = call?.state === 'active' && call.peer === from.user && call.device !== null && equalBytes(call.device, from.device);
    const accept = this.options.acceptFrom ?? ((_user: string, relation: Relation) => relation === 'buddy');
    if (!inCallWithHost && !accept(from.user, from.relation)) return refuse('refused');
    if (!invite.opus) return refuse('unsupported_codec');
    if (this.conferences.size >= MAX_CONFERENCES) return refuse('busy');
    const host = invite.members[0]!;
    if (host.user !== from.user || !equalBytes(host.device, from.device)) return this.counters.count('invite.not_from_host');
    const me = this.me;
    const conference = new Conference(this.context, callId.slice(), invite.frameMs, me, invitedRoster(me.key, invite.members, invite.version));
    this.conferences.set(toHex(conference.id), conference);
    const timer = this.env.clock.after(RING_TIMEOUT_MS, () => conference.state === 'invited' && conference.end({ reason: 'no_answer', by: 'local' }));
    void conference.ended.then(() => timer.cancel());
    if (call && inCallWithHost && call.audio) {
      // Our call goes on as this conference: joined with its audio, and it ends once we are in.
      conference.fromCall = call.id;
      conference.onChange(() => conference.state === 'active' && call.state === 'active' && this.options.calls?.release(call));
      conference.join(call.audio);
      return;
    }
    for (const listener of [...this.inviteListeners]) listener(conference);
  }
}
