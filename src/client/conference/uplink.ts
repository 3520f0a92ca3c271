// A participant's media leg to the mixer: this device's SRTP master for what it sends goes to the
// mixer in a leg signal, the mixer answers with its own, and the path is the connector's (direct,
// hole-punched, or relayed through TURN when nothing else works). The leg watches the mix: none
// for LEG_LOST_MS (or no path within LEG_SETUP_MS) and the mixer is lost; too much of it
// concealed or rebuilt over DEGRADED_WINDOW_MS and the mixer degrades. A standby path to the
// member that would mix next is kept open, so that a handover need not wait for one.
import { equalBytes } from '../../crypto/bytes.js';
import type { Env } from '../../env/types.js';
import { MediaReceiver, MediaSender } from '../../media/media-stream.js';
import type { FrameMs } from '../../media/opus.js';
import type { Connection, Connector } from '../connector.js';
import type { PathKind } from '../../ice/ice-candidate.js';
import { isRtcp } from '../../rtp/rtcp.js';
import { SRTP_MASTER_KEY_BYTES } from '../../rtp/srtp.js';
import type { CallAudio } from '../calls.js';
import type { Member } from './roster.js';
import { SRTP_MASTER_BYTES } from './signals.js';

export type ConnectOutcome = Awaited<ReturnType<Connector['connect']>>;

/** No media from the mixer for this long: it is gone, and another takes over. */
export const LEG_LOST_MS = 1_000;
/** A leg to a new mixer that has no path and no media after this is lost too. */
export const LEG_SETUP_MS = 6_000;
/** How often the conference looks at its legs (silence, loss). */
export const WATCH_EVERY_MS = 200;
/** The mix losing more than this share of frames (concealed or rebuilt) over DEGRADED_WINDOW_MS: the mixer degrades. */
const DEGRADED_LOSS = 0.2;
const DEGRADED_WINDOW_MS = 1_500;
/** Loss samples kept: one a watch tick over the window, and one to spare. */
const MAX_LOSS_SAMPLES = Math.ceil(DEGRADED_WINDOW_MS / WATCH_EVERY_MS) + 2;

/** A member's source identifier in the mixer's RTP (CSRC): its device key's first 32 bits. */
export const csrcOf = (device: Uint8Array): number => ((device[0]! << 24) | (device[1]! << 16) | (device[2]! << 8) | device[3]!) >>> 0;
export const srtpKey = (master: Uint8Array) => ({ key: master.subarray(0, SRTP_MASTER_KEY_BYTES), salt: master.subarray(SRTP_MASTER_KEY_BYTES, SRTP_MASTER_BYTES) });

export interface UplinkEvents {
  /** Sends this device's SRTP master for the leg to the mixer. */
  sendLeg(mixer: Member, master: Uint8Array): void;
  /** No path, or the mix fell silent. */
  lost(mixer: Member): void;
  /** The mix arrives badly (reported once per leg). */
  degraded(mixer: Member): void;
  /** The path came: the roster's view (the leg's path) changed. */
  changed(): void;
}

export type UplinkVerdict = 'ok' | 'silent';

export class Uplink {
  private readonly ourMaster: Uint8Array;
  private readonly startedMs: number;
  private theirMaster: Uint8Array | null = null;
  private connection: Connection | null = null;
  private sender: MediaSender | null = null;
  private receiver: MediaReceiver | null = null;
  private lastHeardMs: number | null = null;
  /** The receiver's played and lost frame counts, sampled each watch tick (the last DEGRADED_WINDOW_MS). */
  private readonly lossSamples: { atMs: number; played: number; lost: number }[] = [];
  private reportedDegraded = false;
  private closed = false;

  /** Opens the leg: our master goes to the mixer first, then the path (the standby's, if it still lives). */
  constructor(
    private readonly env: Env,
    connector: Connector,
    private readonly audio: CallAudio | null,
    private readonly frameMs: FrameMs,
    readonly mixer: Member,
    private readonly events: UplinkEvents,
    standby: Promise<ConnectOutcome> | null,
  ) {
    this.ourMaster = env.random.bytes(SRTP_MASTER_BYTES);
    this.startedMs = env.clock.now();
    events.sendLeg(mixer, this.ourMaster);
    const alive = (o: ConnectOutcome) => o.ok && o.connection.agent.path !== null;
    const path = standby ? standby.then((o) => (alive(o) ? o : connector.connect(mixer.user, mixer.device, LEG_SETUP_MS))) : connector.connect(mixer.user, mixer.device, LEG_SETUP_MS);
    void path.then((outcome) => this.pathCame(outcome));
  }

  private pathCame(outcome: ConnectOutcome): void {
    if (this.closed) {
      if (outcome.ok) void outcome.connection.agent.close();
      return;
    }
    if (!outcome.ok) return this.events.lost(this.mixer);
    this.connection = outcome.connection;
    outcome.connection.agent.onData((bytes) => {
      this.lastHeardMs = this.env.clock.now();
      if (!isRtcp(bytes)) this.receiver?.receive(bytes);
    });
    this.startMedia();
    this.events.changed();
  }

  /**
   * The mixer's master for our leg. A newer one replaces it (the mixer answered a later leg
   * signal of ours, after an earlier answer was still on its way).
   */
  keyed(master: Uint8Array): void {
    if (this.closed || (this.theirMaster && equalBytes(this.theirMaster, master))) return;
    this.theirMaster = master.slice();
    if (this.receiver && this.audio) {
      this.receiver.stop();
      this.receiver = new MediaReceiver(this.env.clock, srtpKey(this.theirMaster), this.audio.sink, { frameMs: this.frameMs });
    }
    this.startMedia();
  }

  private startMedia(): void {
    if (!this.connection || !this.theirMaster || this.sender || !this.audio) return;
    const agent = this.connection.agent;
    this.sender = new MediaSender(this.env.clock, this.env.random, { send: (bytes) => void agent.send(bytes) }, srtpKey(this.ourMaster), this.audio.source, { frameMs: this.frameMs });
    this.receiver = new MediaReceiver(this.env.clock, srtpKey(this.theirMaster), this.audio.sink, { frameMs: this.frameMs });
    this.sender.start();
  }

  /** The path of this leg (null until it has one). */
  get path(): PathKind | null {
    return this.connection?.agent.path?.kind ?? null;
  }

  /** The members heard in the mix now (their CSRCs). */
  get contributors(): readonly number[] {
    return this.receiver?.contributors ?? [];
  }

  /** Looks at the mix: silent (the mixer is lost), or arriving badly (reported once). */
  watch(nowMs: number): UplinkVerdict {
    const silent = this.lastHeardMs === null ? nowMs - this.startedMs > LEG_SETUP_MS : nowMs - this.lastHeardMs > LEG_LOST_MS;
    if (silent) return 'silent';
    this.watchLoss(nowMs);
    return 'ok';
  }

  private watchLoss(nowMs: number): void {
    const stats = this.receiver?.stats;
    if (!stats || this.reportedDegraded) return;
    const samples = this.lossSamples;
    samples.push({ atMs: nowMs, played: stats.played, lost: stats.jitter.concealed + stats.jitter.recovered });
    while (samples.length > MAX_LOSS_SAMPLES || (samples.length > 1 && nowMs - samples[0]!.atMs > DEGRADED_WINDOW_MS)) samples.shift();
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    const played = last.played - first.played;
    if (nowMs - first.atMs < DEGRADED_WINDOW_MS - WATCH_EVERY_MS || played === 0 || (last.lost - first.lost) / played <= DEGRADED_LOSS) return;
    this.reportedDegraded = true;
    this.events.degraded(this.mixer);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sender?.stop();
    this.receiver?.stop();
    if (this.connection) void this.connection.agent.close();
  }
}

/** A path kept open to the member that would mix next (not to this device: the others come to it). */
export class StandbyPath {
  constructor(
    readonly member: Member,
    readonly outcome: Promise<ConnectOutcome>,
  ) {}

  close(): void {
    void this.outcome.then((o) => o.ok && void o.connection.agent.close());
  }
}
