// The mixer's side of the participants' legs: each participant's leg signal gets this device's
// own SRTP master for that leg back, the path is the participant's to open, and its media goes
// into the mix (src/media/mixer.ts). A leg signal or a path that comes before this device knows
// it mixes (the roster reached the participant first) is kept a while for it, one of each per
// member at most.
import { equalBytes } from '../../crypto/bytes.js';
import type { Env } from '../../env/types.js';
import { ConferenceMixer } from '../../media/mixer.js';
import type { FrameMs } from '../../media/opus.js';
import type { Connection } from '../connector.js';
import { isRtcp } from '../../rtp/rtcp.js';
import type { CallAudio } from '../calls.js';
import type { ConferenceCounters } from './counters.js';
import { MAX_MEMBERS, type Member } from './roster.js';
import { SRTP_MASTER_BYTES } from './signals.js';
import { csrcOf, srtpKey } from './uplink.js';

/** The mixer's view: a participant with no media for this long is gone. */
export const MEMBER_LOST_MS = 10_000;
/** A leg signal that came before this device knew it mixes is kept this long. */
const EARLY_LEG_MS = 10_000;

interface MixerLeg {
  readonly member: Member;
  readonly ourMaster: Uint8Array;
  readonly theirMaster: Uint8Array;
  connection: Connection | null;
  lastHeardMs: number;
}

export class MixerLegs {
  private mixer: ConferenceMixer | null = null;
  private readonly legs = new Map<string, MixerLeg>();
  /** Leg signals from members, waiting for this device to mix (member key → master). */
  private readonly earlyLegs = new Map<string, { member: Member; master: Uint8Array; atMs: number }>();
  /** Paths from members before their leg: standby paths, and paths that beat their leg signal. */
  private readonly earlyConnections = new Map<string, Connection>();

  constructor(
    private readonly env: Env,
    private readonly frameMs: FrameMs,
    private readonly counters: ConferenceCounters,
    /** Sends this device's master for `member`'s leg. */
    private readonly sendLeg: (member: Member, master: Uint8Array) => void,
  ) {}

  get mixing(): boolean {
    return this.mixer !== null;
  }

  /** A member's leg signal: answered now if this device mixes, else kept for when it does. */
  legSignal(member: Member, master: Uint8Array): void {
    if (!this.earlyLegs.has(member.key) && this.earlyLegs.size >= MAX_MEMBERS) return this.counters.count('mixer.early_legs_full');
    this.earlyLegs.set(member.key, { member, master: master.slice(), atMs: this.env.clock.now() });
  }

  /** Mixes (with this device's own audio) for `present`: legs of members gone are dropped, waiting leg signals answered. */
  mix(me: Member, audio: CallAudio | null, present: readonly Member[]): void {
    if (!this.mixer) {
      this.mixer = new ConferenceMixer(this.env.clock, this.env.random, this.frameMs);
      if (audio) this.mixer.addLocal(me.key, audio.source, audio.sink, csrcOf(me.device));
      this.mixer.start();
    }
    for (const key of [...this.legs.keys()]) if (!present.some((m) => m.key === key)) this.dropLeg(key);
    const now = this.env.clock.now();
    for (const [key, early] of this.earlyLegs) {
      this.earlyLegs.delete(key);
      const member = present.find((m) => m.key === key);
      if (member && now - early.atMs <= EARLY_LEG_MS) this.acceptLeg(member, early.master);
    }
  }

  /** A participant's leg signal: our master for that leg goes back, the path is its to open. */
  private acceptLeg(member: Member, theirMaster: Uint8Array): void {
    // The same leg signal again: the same answer, and the leg (its decoder and encoder) stays.
    const existing = this.legs.get(member.key);
    if (existing && equalBytes(existing.theirMaster, theirMaster)) return this.sendLeg(member, existing.ourMaster);
    this.dropLeg(member.key);
    const leg: MixerLeg = { member, ourMaster: this.env.random.bytes(SRTP_MASTER_BYTES), theirMaster, connection: null, lastHeardMs: this.env.clock.now() };
    this.legs.set(member.key, leg);
    this.sendLeg(member, leg.ourMaster);
    const early = this.earlyConnections.get(member.key);
    this.earlyConnections.delete(member.key);
    // Only a path still alive (consent checks pass): the participant may have dropped an old one.
    if (early?.agent.path) this.attach(leg, early);
    else if (early) void early.agent.close();
  }

  /** A member's path arrived: its leg's, or kept for the leg to come. */
  connected(member: Member, connection: Connection): void {
    const leg = this.legs.get(member.key);
    // A participant's newest path is its leg (it opens another when it finds the old one dead).
    if (this.mixer && leg) return this.attach(leg, connection);
    const previous = this.earlyConnections.get(member.key);
    if (previous) void previous.agent.close();
    else if (this.earlyConnections.size >= MAX_MEMBERS) {
      this.counters.count('mixer.early_paths_full');
      return void connection.agent.close();
    }
    this.earlyConnections.set(member.key, connection);
  }

  private attach(leg: MixerLeg, connection: Connection): void {
    if (!this.mixer) return void connection.agent.close();
    const key = leg.member.key;
    if (leg.connection) {
      this.mixer.remove(key);
      void leg.connection.agent.close();
    }
    leg.connection = connection;
    leg.lastHeardMs = this.env.clock.now();
    const input = this.mixer.add(key, { path: { send: (bytes) => void connection.agent.send(bytes) }, ourKey: srtpKey(leg.ourMaster), theirKey: srtpKey(leg.theirMaster) }, csrcOf(leg.member.device));
    connection.agent.onData((bytes) => {
      leg.lastHeardMs = this.env.clock.now();
      if (!isRtcp(bytes)) input.receive(bytes);
    });
  }

  /** Members whose media has not come for MEMBER_LOST_MS. */
  silent(nowMs: number): Member[] {
    return [...this.legs.values()].filter((leg) => nowMs - leg.lastHeardMs > MEMBER_LOST_MS).map((leg) => leg.member);
  }

  /** Whether `key` spoke in the last moment (null: this device does not mix, so it does not know). */
  speaking(key: string): boolean | null {
    const roster = this.mixer?.roster();
    return roster ? roster.some((r) => r.id === key && r.speaking) : null;
  }

  private dropLeg(key: string): void {
    const leg = this.legs.get(key);
    if (!leg) return;
    this.legs.delete(key);
    this.mixer?.remove(key);
    if (leg.connection) void leg.connection.agent.close();
  }

  /** Another mixes now: the legs go (the early signals and paths stay for a later turn). */
  stop(): void {
    if (!this.mixer) return;
    for (const key of [...this.legs.keys()]) this.dropLeg(key);
    this.mixer.stop();
    this.mixer = null;
  }

  close(): void {
    this.stop();
    for (const early of this.earlyConnections.values()) void early.agent.close();
    this.earlyConnections.clear();
    this.earlyLegs.clear();
  }
}
