// Conferences: one participant mixes, the others send it their voice over their own leg and hear
// the mix of everyone else (src/media/mixer.ts). The signalling rides the calls' end-to-end
// streams (CallSignal, CONF_* kinds), so no supernode sees who talks with whom:
//
// - the host (the one who started it; members[0] of the roster) invites, takes joins, kicks and
//   sends every change of the roster to every member, with a version that only grows;
// - every member elects the mixer from the roster's facts (mixer-election.ts), so all agree
//   without a vote, and opens a leg to it: its SRTP master for what it sends goes in a CONF_LEG
//   signal to the mixer's device, the mixer answers with its own for that leg, and the path is
//   the connector's (direct, hole-punched or relayed through TURN when nothing else works);
// - handover: a member that leaves says so to everyone (CONF_LEAVE); a mixer that goes silent
//   for LEG_LOST_MS is reported lost to the host (CONF_LOST). Either way every member drops it
//   from the roster and elects again at once; if it was the host, the next member hosts.
import { create } from '@bufbuild/protobuf';
import type { Env, Timer } from '../env/types.js';
import { every } from '../env/every.js';
import { equalBytes, toHex } from '../crypto/bytes.js';
import type { Relation } from '../messenger/transport.js';
import type { Connection, Connector } from './connector.js';

type ConnectOutcome = Awaited<ReturnType<Connector['connect']>>;
import type { PathKind } from '../nat/ice-candidate.js';
import { CallSignalKind, CallSignalSchema, ConferenceMemberSchema, ConferenceRosterSchema, NatType, type CallSignal, type ConferenceMember } from '../wire/messages.js';
import { MediaReceiver, MediaSender } from '../media/media-stream.js';
import { ConferenceMixer } from '../media/mixer.js';
import { electMixer } from '../media/mixer-election.js';
import { isRtcp } from '../rtp/rtcp.js';
import type { FrameMs } from '../media/opus.js';
import { SRTP_MASTER_KEY_BYTES, SRTP_MASTER_SALT_BYTES } from '../rtp/srtp.js';
import { OPUS_CODEC, RING_TIMEOUT_MS, subscribeLiveCallSignals, type Call, type CallAudio, type CallManager, type CallSignalling } from './calls.js';

/** Members of one conference (each is a leg, a decoder and an encoder at the mixer). */
export const MAX_MEMBERS = 16;
/** Conferences this device is in or invited to at once. */
const MAX_CONFERENCES = 4;
/** No media from the mixer for this long: it is gone, and another takes over. */
const LEG_LOST_MS = 1_000;
/** A leg to a new mixer that has no path and no media after this is lost too. */
const LEG_SETUP_MS = 6_000;
/** The mixer's view: a participant with no media for this long is gone. */
const MEMBER_LOST_MS = 10_000;
/** Joined, and no roster with us in it came back. */
const JOIN_TIMEOUT_MS = 10_000;
/** A leg signal that came before this device knew it mixes is kept this long. */
const EARLY_LEG_MS = 10_000;
const WATCH_EVERY_MS = 200;
/** The mixer's stream to a participant losing more than this (concealed or rebuilt frames) over DEGRADED_WINDOW_MS: it degrades. */
const DEGRADED_LOSS = 0.2;
const DEGRADED_WINDOW_MS = 1_500;
/** A host found silent has this long to show it lives (a roster) before the next member takes over hosting. */
const HOST_GRACE_MS = 2_000;
const MAX_USER_CHARS = 64;
const DEVICE_KEY_BYTES = 32;
const SRTP_MASTER_BYTES = SRTP_MASTER_KEY_BYTES + SRTP_MASTER_SALT_BYTES;

export interface MemberFacts {
  readonly natType: NatType;
  readonly uploadKbps: number;
  readonly cpuCores: number;
  /** Set by the host when the others find this member's mix arriving badly. */
  readonly degraded?: boolean;
}

interface Member {
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

const keyOf = (user: string, device: Uint8Array) => `${user}/${toHex(device)}`;
/** A member's source identifier in the mixer's RTP (CSRC): its device key's first 32 bits. */
const csrcOf = (device: Uint8Array) => ((device[0]! << 24) | (device[1]! << 16) | (device[2]! << 8) | device[3]!) >>> 0;
const srtpKey = (master: Uint8Array) => ({ key: master.subarray(0, SRTP_MASTER_KEY_BYTES), salt: master.subarray(SRTP_MASTER_KEY_BYTES, SRTP_MASTER_BYTES) });

function memberOf(m: ConferenceMember | undefined): Member | null {
  if (!m || m.user.length === 0 || m.user.length > MAX_USER_CHARS || m.device.length !== DEVICE_KEY_BYTES) return null;
  const natType = m.natType in NatType ? m.natType : NatType.UNSPECIFIED;
  return { user: m.user, device: m.device.slice(), key: keyOf(m.user, m.device), facts: { natType, uploadKbps: Math.min(m.uploadKbps, 10_000_000), cpuCores: Math.min(m.cpuCores, 1024), degraded: m.degraded } };
}

function wireMember(m: Member): ConferenceMember {
  return create(ConferenceMemberSchema, { user: m.user, device: m.device, natType: m.facts.natType, uploadKbps: m.facts.uploadKbps, cpuCores: m.facts.cpuCores, degraded: m.facts.degraded === true });
}

/** This participant's leg to the mixer. */
interface Uplink {
  readonly mixer: Member;
  readonly ourMaster: Uint8Array;
  readonly startedMs: number;
  theirMaster: Uint8Array | null;
  connection: Connection | null;
  sender: MediaSender | null;
  receiver: MediaReceiver | null;
  lastHeardMs: number | null;
  /** The receiver's played and lost frame counts, sampled each watch tick (the last DEGRADED_WINDOW_MS). */
  lossSamples: { atMs: number; played: number; lost: number }[];
  reportedDegraded: boolean;
}

/** The mixer's side of a participant's leg. */
interface MixerLeg {
  readonly ourMaster: Uint8Array;
  readonly theirMaster: Uint8Array;
  connection: Connection | null;
  lastHeardMs: number;
}

export class Conference {
  state: ConferenceState;
  members: Member[];
  private version: number;
  /** Members this device found gone (the mixer went silent) before the host's roster says so. */
  private readonly lost = new Set<string>();
  audio: CallAudio | null = null;
  private uplink: Uplink | null = null;
  /** Participant: a path kept open to the member that would mix next, so a handover need not wait for one. */
  private standby: { member: Member; outcome: Promise<ConnectOutcome> } | null = null;
  private mixer: ConferenceMixer | null = null;
  private readonly legs = new Map<string, MixerLeg>();
  private readonly earlyLegs = new Map<string, { master: Uint8Array; atMs: number }>();
  /** Paths from members before their leg: standby paths, and paths that beat their leg signal. */
  private readonly earlyConnections = new Map<string, Connection>();
  /** Host: who found each member's mix degraded. */
  private readonly degradedReports = new Map<string, Set<string>>();
  /** Host: invited users, the devices invited and those that said no. */
  private readonly invites = new Map<string, { devices: Uint8Array[]; refused: number; timer: Timer }>();
  private readonly timers: Timer[] = [];
  private readonly changeListeners: (() => void)[] = [];
  private endResolve!: (end: ConferenceEnd) => void;
  readonly ended: Promise<ConferenceEnd>;
  /** Why it ended, once it has. */
  endedWith: ConferenceEnd | null = null;
  readonly me: Member;
  /** When a 1:1 call turned into this conference: that call's id. */
  fromCall: Uint8Array | null = null;

  constructor(
    private readonly manager: ConferenceManager,
    private readonly env: Env,
    readonly id: Uint8Array,
    readonly frameMs: FrameMs,
    me: Member,
    members: Member[],
    version: number,
    state: ConferenceState,
  ) {
    this.me = me;
    this.members = members;
    this.version = version;
    this.state = state;
    this.ended = new Promise((resolve) => (this.endResolve = resolve));
    this.timers.push(every(env.clock, WATCH_EVERY_MS, env.clock.now() + WATCH_EVERY_MS, () => this.watch()));
  }

  /** Roster changes, mixer changes, the end. */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  private changed(): void {
    for (const listener of this.changeListeners) listener();
  }

  private get present(): Member[] {
    return this.members.filter((m) => !this.lost.has(m.key));
  }

  /** The host: the first member not known to be gone. */
  get host(): Member | null {
    return this.present[0] ?? null;
  }

  get isHost(): boolean {
    return this.host?.key === this.me.key;
  }

  /** The member that mixes now (every member computes the same one). */
  get mixerMember(): Member | null {
    const present = this.present;
    if (present.length < 2) return null;
    const id = electMixer(present.map((m) => ({ id: m.key, ...m.facts })));
    return present.find((m) => m.key === id) ?? null;
  }

  roster(): RosterEntry[] {
    const mixer = this.mixerMember;
    const mixing = this.mixer?.roster();
    const heard = new Set(this.uplink?.receiver?.contributors ?? []);
    return this.present.map((m) => ({
      user: m.user,
      device: m.device,
      host: m.key === this.host?.key,
      mixer: m.key === mixer?.key,
      speaking: mixing ? mixing.some((r) => r.id === m.key && r.speaking) : heard.has(csrcOf(m.device)),
    }));
  }

  /** The path of this participant's leg to the mixer (null while it mixes or has none). */
  get legPath(): PathKind | null {
    return this.uplink?.connection?.agent.path?.kind ?? null;
  }

  /** Answers an invitation: joins with this audio. */
  join(audio: CallAudio): void {
    if (this.state !== 'invited') return;
    this.audio = audio;
    this.state = 'joining';
    const host = this.members[0]!;
    this.manager.send(this, host, CallSignalKind.CONF_JOIN, { member: wireMember(this.me) });
    this.timers.push(this.env.clock.after(JOIN_TIMEOUT_MS, () => this.state === 'joining' && this.end({ reason: 'no_answer', by: 'remote' })));
  }

  decline(): void {
    if (this.state !== 'invited') return;
    this.manager.send(this, this.members[0]!, CallSignalKind.DECLINE, { reason: 'declined' });
    this.end({ reason: 'declined', by: 'local' });
  }

  /** Host: invites every online device of `user`; the first to join is in. */
  async invite(user: string, fromCall?: Call): Promise<boolean> {
    if (!this.isHost || this.state !== 'active' || this.invites.has(user) || this.members.some((m) => m.user === user)) return false;
    if (this.members.length + this.invites.size >= MAX_MEMBERS) return false;
    const signal = this.signal(CallSignalKind.CONF_INVITE, { roster: this.wireRoster(), codecs: [OPUS_CODEC], frameMs: this.frameMs, ...(fromCall ? { fromCall: fromCall.id } : {}) });
    const timer = this.env.clock.after(RING_TIMEOUT_MS, () => this.inviteEnded(user, 'no answer'));
    this.invites.set(user, { devices: [], refused: 0, timer });
    const devices = await this.manager.sendTo(user, fromCall?.device ? [fromCall.device] : 'all', signal);
    const invite = this.invites.get(user);
    if (invite) invite.devices = devices;
    if (devices.length === 0) this.inviteEnded(user, 'not online');
    return devices.length > 0;
  }

  /** Host: an invitation over (declined, unanswered): the devices that still ring stop. */
  private inviteEnded(user: string, reason: string): void {
    const invite = this.invites.get(user);
    if (!invite) return;
    invite.timer.cancel();
    this.invites.delete(user);
    if (reason !== 'declined') for (const device of invite.devices) this.manager.sendTo(user, [device], this.signal(CallSignalKind.CANCEL, { reason })).catch(() => []);
    this.checkAlone();
  }

  /** Host: removes `user` from the conference. */
  kick(user: string): void {
    const member = this.members.find((m) => m.user === user);
    if (!this.isHost || !member || member.key === this.me.key) return;
    this.manager.send(this, member, CallSignalKind.CONF_LEAVE, { reason: 'kicked' });
    this.remove(member);
  }

  /** Leaves: everyone is told, and those left elect another mixer (and host) at once if it was this one. */
  leave(): void {
    if (this.state === 'ended') return;
    if (this.state === 'invited') return this.decline();
    for (const m of this.present) if (m.key !== this.me.key) this.manager.send(this, m, CallSignalKind.CONF_LEAVE, { reason: 'left' });
    this.end({ reason: 'left', by: 'local' });
  }

  signal(kind: CallSignalKind, extra: Partial<Pick<CallSignal, 'srtpMaster' | 'reason' | 'roster' | 'member' | 'codecs' | 'frameMs' | 'fromCall'>> = {}): CallSignal {
    return create(CallSignalSchema, { callId: this.id, kind, ...extra });
  }

  private wireRoster() {
    return create(ConferenceRosterSchema, { version: this.version, members: this.members.map(wireMember) });
  }

  /** Host: the roster changed; every member hears the new one. */
  private publish(): void {
    this.version++;
    const roster = this.wireRoster();
    for (const m of this.members) if (m.key !== this.me.key) this.manager.send(this, m, CallSignalKind.CONF_ROSTER, { roster });
  }

  /** Drops `member` (left, kicked, lost); the host tells everyone. */
  private remove(member: Member): void {
    this.members = this.members.filter((m) => m.key !== member.key);
    this.lost.delete(member.key);
    if (this.isHost) this.publish();
    this.reconcile();
  }

  /** A signal about this conference from one of its members (or an invitee). */
  received(from: Member | { user: string; device: Uint8Array }, signal: CallSignal): void {
    const member = this.members.find((m) => m.user === from.user && equalBytes(m.device, from.device)) ?? null;
    switch (signal.kind) {
      case CallSignalKind.CONF_JOIN:
        return this.joined(from, signal);
      case CallSignalKind.DECLINE: {
        const invite = this.invites.get(from.user);
        if (!invite || !invite.devices.some((d) => equalBytes(d, from.device))) return;
        if (++invite.refused >= invite.devices.length) this.inviteEnded(from.user, 'declined');
        return;
      }
      case CallSignalKind.CANCEL:
        if (this.state === 'invited' && member === this.members[0]) this.end({ reason: signal.reason === 'answered elsewhere' ? 'answered_elsewhere' : 'cancelled', by: 'remote' });
        return;
      case CallSignalKind.CONF_ROSTER:
        return this.rosterReceived(from, signal);
      case CallSignalKind.CONF_LEAVE:
        if (!member || this.state === 'invited') return;
        // From the host to us: we are out. From anyone else: they are.
        if (signal.reason === 'kicked' || signal.reason === 'lost') {
          if (member.key === this.host?.key) this.end({ reason: signal.reason === 'kicked' ? 'kicked' : 'removed', by: 'remote' });
          return;
        }
        return this.remove(member);
      case CallSignalKind.CONF_LOST: {
        const gone = memberOf(signal.member);
        const target = gone && this.members.find((m) => m.key === gone.key);
        if (!member || !target || !this.isHost) return;
        if (signal.reason === 'degraded') return this.degradedReported(member, target);
        // Reported lost, but here: the reporter's path broke, or this device stalled. The roster
        // again (a newer version, from this host) tells everyone it lives.
        if (target.key === this.me.key) return this.publish();
        this.manager.send(this, target, CallSignalKind.CONF_LEAVE, { reason: 'lost' });
        return this.remove(target);
      }
      case CallSignalKind.CONF_LEG:
        if (!member || signal.srtpMaster.length !== SRTP_MASTER_BYTES) return;
        if (this.uplink && this.uplink.mixer.key === member.key) return this.mixerKeyed(this.uplink, signal.srtpMaster);
        this.earlyLegs.set(member.key, { master: signal.srtpMaster.slice(), atMs: this.env.clock.now() });
        return this.reconcile();
      default:
        return;
    }
  }

  /** Host: an invited device joins (the first of its user's devices). */
  private joined(from: { user: string; device: Uint8Array }, signal: CallSignal): void {
    const invite = this.invites.get(from.user);
    const member = memberOf(signal.member);
    if (!this.isHost || !invite || !member || member.user !== from.user || !equalBytes(member.device, from.device)) return;
    invite.timer.cancel();
    this.invites.delete(from.user);
    for (const device of invite.devices) if (!equalBytes(device, from.device)) this.manager.sendTo(from.user, [device], this.signal(CallSignalKind.CANCEL, { reason: 'answered elsewhere' })).catch(() => []);
    this.members.push(member);
    this.publish();
    this.reconcile();
  }

  /** A newer roster from its host: it replaces ours. */
  private rosterReceived(from: { user: string; device: Uint8Array }, signal: CallSignal): void {
    const roster = signal.roster;
    if (!roster || roster.version <= this.version || roster.members.length > MAX_MEMBERS || this.state === 'invited') return;
    const members = roster.members.map(memberOf);
    if (members.some((m) => m === null)) return;
    const valid = members as Member[];
    const sender = valid[0];
    // From the roster's own host, who must be one of ours (while joining: the one who invited us).
    if (!sender || sender.user !== from.user || !equalBytes(sender.device, from.device) || !this.members.some((m) => m.key === sender.key)) return;
    if (!valid.some((m) => m.key === this.me.key)) {
      if (this.state === 'active') this.end({ reason: 'removed', by: 'remote' });
      return;
    }
    this.members = valid;
    this.version = roster.version;
    for (const key of this.lost) if (!valid.some((m) => m.key === key)) this.lost.delete(key);
    // A roster from its host shows the host alive, whatever we concluded from the media.
    this.lost.delete(sender.key);
    this.state = 'active';
    this.reconcile();
  }

  /** Host: starts with this audio. */
  start(audio: CallAudio): void {
    this.audio = audio;
    this.state = 'active';
  }

  /** Someone is gone (its media stopped): the host hears of it, everyone elects again. */
  private reportLost(member: Member): void {
    if (this.lost.has(member.key) || member.key === this.me.key) return;
    const wasHost = this.host?.key === member.key;
    this.lost.add(member.key);
    if (wasHost) {
      // The host itself went quiet. Ask it: a roster from it within HOST_GRACE_MS shows it lives
      // (only our path to it broke) and undoes this; if none comes, the next member hosts and
      // removes it. Meanwhile the media goes on without it.
      this.manager.send(this, member, CallSignalKind.CONF_LOST, { member: wireMember(member) });
      this.timers.push(
        this.env.clock.after(HOST_GRACE_MS, () => {
          if (this.state !== 'active' || !this.lost.has(member.key) || !this.isHost || !this.members.some((m) => m.key === member.key)) return;
          this.manager.send(this, member, CallSignalKind.CONF_LEAVE, { reason: 'lost' });
          this.remove(member);
        }),
      );
      return this.reconcile();
    }
    if (!this.isHost) {
      this.manager.send(this, this.host!, CallSignalKind.CONF_LOST, { member: wireMember(member) });
      return this.reconcile();
    }
    this.manager.send(this, member, CallSignalKind.CONF_LEAVE, { reason: 'lost' });
    this.remove(member);
  }

  private checkAlone(): boolean {
    if (this.state !== 'active' || this.present.length >= 2 || this.invites.size > 0) return false;
    this.end({ reason: 'alone', by: 'remote' });
    return true;
  }

  /** Brings the media in line with the roster: mix if elected, else a leg to the one who is. */
  private reconcile(): void {
    if (this.state !== 'active' || this.checkAlone()) return;
    const mixer = this.mixerMember;
    if (mixer?.key === this.me.key) {
      this.closeStandby();
      this.mix();
    } else {
      this.stopMixing();
      if (this.uplink && this.uplink.mixer.key !== mixer?.key) this.closeUplink();
      if (mixer && !this.uplink) this.openUplink(mixer);
      this.keepStandby(mixer);
    }
    this.changed();
  }

  /** The member that would mix if `mixer` went: every member computes the same one. */
  private nextMixer(mixer: Member | null): Member | null {
    const rest = this.present.filter((m) => m.key !== mixer?.key);
    if (rest.length < 2) return null;
    const id = electMixer(rest.map((m) => ({ id: m.key, ...m.facts })));
    return rest.find((m) => m.key === id) ?? null;
  }

  /** Participant: keeps a path open to the next mixer (not to itself: the others will come to it). */
  private keepStandby(mixer: Member | null): void {
    const next = this.nextMixer(mixer);
    if (!next || next.key === this.me.key) return this.closeStandby();
    if (this.standby?.member.key === next.key) return;
    this.closeStandby();
    this.standby = { member: next, outcome: this.manager.connector.connect(next.user, next.device, LEG_SETUP_MS) };
  }

  private closeStandby(): void {
    const standby = this.standby;
    if (!standby) return;
    this.standby = null;
    void standby.outcome.then((o) => o.ok && void o.connection.agent.close());
  }

  private mix(): void {
    this.closeUplink();
    if (!this.mixer) {
      this.mixer = new ConferenceMixer(this.env.clock, this.env.random, this.frameMs);
      if (this.audio) this.mixer.addLocal(this.me.key, this.audio.source, this.audio.sink, csrcOf(this.me.device));
      this.mixer.start();
    }
    for (const key of [...this.legs.keys()]) if (!this.present.some((m) => m.key === key)) this.dropLeg(key);
    const now = this.env.clock.now();
    for (const [key, early] of this.earlyLegs) {
      this.earlyLegs.delete(key);
      const member = this.present.find((m) => m.key === key);
      if (member && now - early.atMs <= EARLY_LEG_MS) this.acceptLeg(member, early.master);
    }
  }

  /** Mixer: a participant's leg signal: our master for that leg goes back, the path is its to open. */
  private acceptLeg(member: Member, theirMaster: Uint8Array): void {
    // The same leg signal again: the same answer, and the leg (its decoder and encoder) stays.
    const existing = this.legs.get(member.key);
    if (existing && equalBytes(existing.theirMaster, theirMaster)) return this.manager.send(this, member, CallSignalKind.CONF_LEG, { srtpMaster: existing.ourMaster });
    this.dropLeg(member.key);
    const leg: MixerLeg = { ourMaster: this.env.random.bytes(SRTP_MASTER_BYTES), theirMaster, connection: null, lastHeardMs: this.env.clock.now() };
    this.legs.set(member.key, leg);
    this.manager.send(this, member, CallSignalKind.CONF_LEG, { srtpMaster: leg.ourMaster });
    const early = this.earlyConnections.get(member.key);
    this.earlyConnections.delete(member.key);
    // Only a path still alive (consent checks pass): the participant may have dropped an old one.
    if (early?.agent.path) this.attachLeg(member.key, leg, early);
    else if (early) void early.agent.close();
  }

  /** Mixer: a participant's path arrived. */
  connected(connection: Connection): void {
    const key = keyOf(connection.user, connection.device);
    const leg = this.legs.get(key);
    // A participant's newest path is its leg (it opens another when it finds the old one dead).
    if (this.mixer && leg) return this.attachLeg(key, leg, connection);
    // The path came before the leg signal (or before we knew we mix): kept for it a while.
    const previous = this.earlyConnections.get(key);
    if (previous) void previous.agent.close();
    this.earlyConnections.set(key, connection);
  }

  private attachLeg(key: string, leg: MixerLeg, connection: Connection): void {
    const member = this.members.find((m) => m.key === key);
    if (!this.mixer || !member) return void connection.agent.close();
    if (leg.connection) {
      this.mixer.remove(key);
      void leg.connection.agent.close();
    }
    leg.connection = connection;
    leg.lastHeardMs = this.env.clock.now();
    const input = this.mixer.add(key, { path: { send: (bytes) => void connection.agent.send(bytes) }, ourKey: srtpKey(leg.ourMaster), theirKey: srtpKey(leg.theirMaster) }, csrcOf(member.device));
    connection.agent.onData((bytes) => {
      leg.lastHeardMs = this.env.clock.now();
      if (!isRtcp(bytes)) input.receive(bytes);
    });
  }

  private dropLeg(key: string): void {
    const leg = this.legs.get(key);
    if (!leg) return;
    this.legs.delete(key);
    this.mixer?.remove(key);
    if (leg.connection) void leg.connection.agent.close();
  }

  private stopMixing(): void {
    if (!this.mixer) return;
    for (const key of [...this.legs.keys()]) this.dropLeg(key);
    this.mixer.stop();
    this.mixer = null;
  }

  /** Participant: a leg to the mixer: our master goes to it first, then the path. */
  private openUplink(mixer: Member): void {
    const uplink: Uplink = { mixer, ourMaster: this.env.random.bytes(SRTP_MASTER_BYTES), startedMs: this.env.clock.now(), theirMaster: null, connection: null, sender: null, receiver: null, lastHeardMs: null, lossSamples: [], reportedDegraded: false };
    this.uplink = uplink;
    this.manager.send(this, mixer, CallSignalKind.CONF_LEG, { srtpMaster: uplink.ourMaster });
    // The standby path to this member, if it is still alive: the handover costs no path setup.
    const standby = this.standby?.member.key === mixer.key ? this.standby.outcome : null;
    if (standby) this.standby = null;
    const alive = (o: ConnectOutcome) => o.ok && o.connection.agent.path !== null;
    const path = standby ? standby.then((o) => (alive(o) ? o : this.manager.connector.connect(mixer.user, mixer.device, LEG_SETUP_MS))) : this.manager.connector.connect(mixer.user, mixer.device, LEG_SETUP_MS);
    void path.then((outcome) => {
      if (this.uplink !== uplink) {
        if (outcome.ok) void outcome.connection.agent.close();
        return;
      }
      if (!outcome.ok) return this.reportLost(mixer);
      uplink.connection = outcome.connection;
      outcome.connection.agent.onData((bytes) => {
        uplink.lastHeardMs = this.env.clock.now();
        if (!isRtcp(bytes)) uplink.receiver?.receive(bytes);
      });
      this.startUplinkMedia();
      this.changed();
    });
  }

  /**
   * Participant: the mixer's master for our leg. A newer one replaces it (the mixer answered a
   * later leg signal of ours, after an earlier answer was still on its way).
   */
  private mixerKeyed(uplink: Uplink, master: Uint8Array): void {
    if (uplink.theirMaster && equalBytes(uplink.theirMaster, master)) return;
    uplink.theirMaster = master.slice();
    if (uplink.receiver && this.audio) {
      uplink.receiver.stop();
      uplink.receiver = new MediaReceiver(this.env.clock, srtpKey(uplink.theirMaster), this.audio.sink, { frameMs: this.frameMs });
    }
    this.startUplinkMedia();
  }

  private startUplinkMedia(): void {
    const uplink = this.uplink;
    if (!uplink?.connection || !uplink.theirMaster || uplink.sender || !this.audio) return;
    const agent = uplink.connection.agent;
    uplink.sender = new MediaSender(this.env.clock, this.env.random, { send: (bytes) => void agent.send(bytes) }, srtpKey(uplink.ourMaster), this.audio.source, { frameMs: this.frameMs });
    uplink.receiver = new MediaReceiver(this.env.clock, srtpKey(uplink.theirMaster), this.audio.sink, { frameMs: this.frameMs });
    uplink.sender.start();
  }

  private closeUplink(): void {
    const uplink = this.uplink;
    if (!uplink) return;
    this.uplink = null;
    uplink.sender?.stop();
    uplink.receiver?.stop();
    if (uplink.connection) void uplink.connection.agent.close();
  }

  /** Watches the media: a silent mixer is lost (handover); at the mixer, a silent participant. */
  private watch(): void {
    const now = this.env.clock.now();
    const uplink = this.uplink;
    if (uplink) {
      const silent = uplink.lastHeardMs === null ? now - uplink.startedMs > LEG_SETUP_MS : now - uplink.lastHeardMs > LEG_LOST_MS;
      if (silent) this.reportLost(uplink.mixer);
      else if (this.uplink === uplink) this.watchLoss(uplink, now);
    }
    for (const [key, leg] of this.legs) {
      const member = this.members.find((m) => m.key === key);
      if (member && now - leg.lastHeardMs > MEMBER_LOST_MS) this.reportLost(member);
    }
  }

  /** Participant: the mix arriving badly for a while: the host hears that the mixer degrades. */
  private watchLoss(uplink: Uplink, now: number): void {
    const stats = uplink.receiver?.stats;
    if (!stats || uplink.reportedDegraded) return;
    uplink.lossSamples.push({ atMs: now, played: stats.played, lost: stats.jitter.concealed + stats.jitter.recovered });
    while (uplink.lossSamples.length > 1 && now - uplink.lossSamples[0]!.atMs > DEGRADED_WINDOW_MS) uplink.lossSamples.shift();
    const first = uplink.lossSamples[0]!;
    const last = uplink.lossSamples[uplink.lossSamples.length - 1]!;
    const played = last.played - first.played;
    if (now - first.atMs < DEGRADED_WINDOW_MS - WATCH_EVERY_MS || played === 0 || (last.lost - first.lost) / played <= DEGRADED_LOSS) return;
    uplink.reportedDegraded = true;
    const report = { member: wireMember(uplink.mixer), reason: 'degraded' };
    if (this.isHost) this.degradedReported(this.me, uplink.mixer);
    else this.manager.send(this, this.host!, CallSignalKind.CONF_LOST, report);
  }

  /**
   * Host: `reporter` finds `target`'s mix bad. When half the others (at least one) say so, the
   * target is marked degraded in the roster and every member elects another mixer. One
   * participant's own bad link is not enough to move everyone.
   */
  private degradedReported(reporter: Member, target: Member): void {
    const reports = this.degradedReports.get(target.key) ?? new Set<string>();
    this.degradedReports.set(target.key, reports);
    reports.add(reporter.key);
    const others = this.present.filter((m) => m.key !== target.key).length;
    if (target.facts.degraded || reports.size < Math.max(1, Math.ceil(others / 2))) return;
    this.members = this.members.map((m) => (m.key === target.key ? { ...m, facts: { ...m.facts, degraded: true } } : m));
    this.publish();
    this.reconcile();
  }

  end(end: ConferenceEnd): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.endedWith = end;
    for (const timer of this.timers) timer.cancel();
    for (const invite of this.invites.values()) invite.timer.cancel();
    this.closeUplink();
    this.stopMixing();
    for (const early of this.earlyConnections.values()) void early.agent.close();
    this.closeStandby();
    this.earlyConnections.clear();
    this.manager.forget(this);
    this.endResolve(end);
    this.changed();
  }
}

export class ConferenceManager {
  private readonly conferences = new Map<string, Conference>();
  private readonly inviteListeners: ((conference: Conference) => void)[] = [];
  private readonly frameMs: FrameMs;

  constructor(
    private readonly env: Env,
    private readonly signalling: CallSignalling,
    readonly connector: Connector,
    private readonly options: ConferenceOptions,
  ) {
    this.frameMs = options.frameMs ?? 20;
    subscribeLiveCallSignals(signalling, (from, signal) => this.received(from, signal));
    connector.onConnection((connection) => this.connectedFrom(connection));
  }

  private get me(): Member {
    const { user, device } = this.options.self;
    return { user, device, key: keyOf(user, device), facts: this.options.facts?.() ?? { natType: NatType.UNSPECIFIED, uploadKbps: 0, cpuCores: 1 } };
  }

  /** Invitations, ringing: join or decline them. */
  onInvite(listener: (conference: Conference) => void): void {
    this.inviteListeners.push(listener);
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
    const conference = new Conference(this, this.env, this.env.random.bytes(16), frameMs, me, [me], 1, 'active');
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

  send(conference: Conference, to: { user: string; device: Uint8Array }, kind: CallSignalKind, extra: Parameters<Conference['signal']>[1] = {}): void {
    void this.sendTo(to.user, [to.device], conference.signal(kind, extra)).catch(() => []);
  }

  sendTo(user: string, devices: readonly Uint8Array[] | 'all', signal: CallSignal): Promise<Uint8Array[]> {
    return this.signalling.send(user, devices, 'call', signal).catch(() => []);
  }

  forget(conference: Conference): void {
    this.conferences.delete(toHex(conference.id));
  }

  private connectedFrom(connection: Connection): void {
    const conference = [...this.conferences.values()].find((c) => c.state === 'active' && c.members.some((m) => m.user === connection.user && equalBytes(m.device, connection.device)));
    conference?.connected(connection);
  }

  private received(from: { user: string; device: Uint8Array; relation: Relation }, signal: CallSignal): void {
    if (signal.callId.length !== 16) return;
    const conference = this.conferences.get(toHex(signal.callId));
    if (signal.kind === CallSignalKind.CONF_INVITE) {
      if (!conference) this.invited(from, signal);
      return;
    }
    conference?.received(from, signal);
  }

  private invited(from: { user: string; device: Uint8Array; relation: Relation }, signal: CallSignal): void {
    const refuse = (reason: string) => void this.sendTo(from.user, [from.device], create(CallSignalSchema, { callId: signal.callId, kind: CallSignalKind.DECLINE, reason }));
    const call = signal.fromCall.length === 16 ? this.options.calls?.find(signal.fromCall) : undefined;
    const inCallWithHost = call?.state === 'active' && call.peer === from.user && call.device !== null && equalBytes(call.device, from.device);
    const accept = this.options.acceptFrom ?? ((_user: string, relation: Relation) => relation === 'buddy');
    if (!inCallWithHost && !accept(from.user, from.relation)) return refuse('refused');
    if (!signal.codecs.includes(OPUS_CODEC)) return refuse('unsupported_codec');
    if (this.conferences.size >= MAX_CONFERENCES) return refuse('busy');
    const roster = signal.roster;
    const members = (roster?.members ?? []).slice(0, MAX_MEMBERS).map(memberOf);
    const host = members[0];
    if (!roster || members.some((m) => m === null) || !host || host.user !== from.user || !equalBytes(host.device, from.device)) return;
    const frameMs: FrameMs = signal.frameMs === 10 ? 10 : 20;
    const conference = new Conference(this, this.env, signal.callId.slice(), frameMs, this.me, members as Member[], roster.version, 'invited');
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
    for (const listener of this.inviteListeners) listener(conference);
  }
}
