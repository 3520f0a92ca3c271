// One call as a device holds it: its state and who ends it, the media on its path (Opus over
// SRTP, RTCP quality), the watch that notices a dead path or lost media, moving to a new path
// after an ICE restart, hold and mute, and its statistics. Signalling (who rings, who answers,
// glare, restarts) is the call manager's (calls.ts), reached through `CallOwner`.
import type { Clock, Env, Timer } from '../env/types.js';
import { every } from '../env/every.js';
import type { Connection, Connector } from './connector.js';
import type { PathKind, SelectedPath } from '../ice/ice-candidate.js';
import { CallSignalKind } from '../wire/messages.js';
import { MediaReceiver, MediaSender, type AudioSink, type AudioSource } from '../media/media-stream.js';
import { CallQuality, estimateMos } from '../media/call-quality.js';
import { isRtcp } from '../rtp/rtcp.js';
import type { FrameMs } from '../media/opus.js';
import { SRTP_MASTER_KEY_BYTES, SRTP_MASTER_SALT_BYTES } from '../rtp/srtp.js';

type ConnectOutcome = Awaited<ReturnType<Connector['connect']>>;

export const OPUS_CODEC = 'opus/48000/2';

/** No media for this long (hold sends every 3 s) and the call is lost. */
export const MEDIA_TIMEOUT_MS = 10_000;

/**
 * No media for this long while the other side should be sending (it is not holding): the path
 * is taken for dead and restarted. 30 frames of 20 ms: far beyond a loss burst or a busy
 * machine's stall, and a false alarm only costs a new path while the old one goes on.
 */
export const PATH_SILENCE_MS = 600;

export const PATH_WATCH_MS = 100;

/** No network to gather on yet (this device is re-attaching to another supernode): tried again after this. */
export const RESTART_RETRY_MS = 100;

export interface CallAudio {
  readonly source: AudioSource;
  readonly sink: AudioSink;
}

export type CallState = 'calling' | 'ringing' | 'connecting' | 'active' | 'ended';

export type CallEndReason =
  | 'hung_up'
  | 'declined'
  | 'busy'
  | 'refused'
  | 'unsupported_codec'
  | 'no_answer'
  | 'cancelled'
  | 'answered_elsewhere'
  | 'unavailable'
  | 'no_path'
  | 'media_lost'
  /** Both called each other at once: the other call (`Call.replacement`) goes on instead. */
  | 'replaced'
  /** Turned into a conference (both sides go on there). */
  | 'conference';

export interface CallEnd {
  readonly reason: CallEndReason;
  /** Who ended it: this side, or the other. */
  readonly by: 'local' | 'remote';
}

export interface CallStats {
  readonly path: PathKind | null;
  readonly codec: string;
  readonly frameMs: number;
  readonly bitrate: number;
  readonly packetsSent: number;
  readonly bytesSent: number;
  readonly packetsReceived: number;
  /** Packets that never arrived, of those sent (RTP sequence numbers): the network's loss, %. */
  readonly lossPercent: number;
  /** Packets that arrived after their frame was played (thrown away), of those sent, %. */
  readonly latePercent: number;
  /** Frames played by concealment or rebuilt from FEC (for lost or late packets, or while the buffer waited), of those played, %. */
  readonly concealedPercent: number;
  readonly jitterMs: number;
  readonly bufferMs: number;
  /** Paths this call moved to after its path died (ICE restarts that worked). */
  readonly pathRestarts: number;
  /** Round trip over the media path (RTCP), ms. */
  readonly rttMs: number | null;
  /** Our stream's loss as the other side reports it, %. */
  readonly remoteLossPercent: number;
  /** Estimated mean opinion score, 1-4.5 (ITU-T G.107 E-model). */
  readonly mos: number | null;
  readonly heldByPeer: boolean;
  readonly mutedByPeer: boolean;
}

/** What a call asks of the manager that owns it (calls.ts): signals to the other side, its end, a path lost, an answer. */
export interface CallOwner {
  signal(call: Call, kind: CallSignalKind, reason?: string, extra?: { srtpMaster?: Uint8Array }): void;
  finish(call: Call, end: CallEnd, kind: CallSignalKind | null, reason: string): void;
  pathLost(call: Call): void;
  acceptCall(call: Call): void;
}

export const SRTP_MASTER_BYTES = SRTP_MASTER_KEY_BYTES + SRTP_MASTER_SALT_BYTES;

export function masterKey(bytes: Uint8Array): { key: Uint8Array; salt: Uint8Array } {
  return { key: bytes.subarray(0, SRTP_MASTER_KEY_BYTES), salt: bytes.subarray(SRTP_MASTER_KEY_BYTES, SRTP_MASTER_BYTES) };
}

export class Call {
  state: CallState;
  /** The other side's device, once one answered (incoming: the caller's). */
  device: Uint8Array | null;
  private readonly stateListeners = new Set<(state: CallState) => void>();
  private readonly holdListeners = new Set<() => void>();
  private endResolve!: (end: CallEnd) => void;
  /** Resolves when the call is over, with why. */
  readonly ended: Promise<CallEnd>;
  /** Why it ended, once it has. */
  endedWith: CallEnd | null = null;
  /** Timers still pending (each leaves the set when it fires): the media watch and the waits; all cancelled at the end. */
  private readonly timers = new Set<Timer>();
  private media: {
    sender: MediaSender;
    receiver: MediaReceiver;
    quality: CallQuality;
    connection: Connection;
    /** When the last datagram arrived (null: none yet), and since when the current path carries the call. */
    lastHeardMs: number | null;
    pathSinceMs: number;
  } | null = null;
  /** The caller is restarting ICE (one restart at a time). */
  restarting = false;
  /** When the callee last asked for a restart. */
  restartAskedMs = -Infinity;
  private pathRestarts = 0;
  /** Hold and mute, asked for here and told by the other side. */
  held = false;
  muted = false;
  heldByPeer = false;
  mutedByPeer = false;
  /** The other side's SRTP master (key and salt) for what it sends. */
  theirMaster: Uint8Array | null = null;
  /** Devices invited (outgoing), and those that said no. */
  invited: Uint8Array[] = [];
  readonly refusals: CallEndReason[] = [];
  audio: CallAudio | null = null;
  /** When both sides called each other at once and the other's call won: that call, already answered. */
  replacement: Call | null = null;
  /** Paths opened while ringing (caller: one per ringing device; callee: the caller's), so that answering starts the audio at once. */
  readonly earlyPaths = new Map<string, Promise<ConnectOutcome>>();
  earlyConnection: Connection | null = null;

  constructor(
    private readonly manager: CallOwner,
    readonly id: Uint8Array,
    readonly peer: string,
    readonly direction: 'outgoing' | 'incoming',
    readonly frameMs: FrameMs,
    readonly ourMaster: Uint8Array,
    device: Uint8Array | null,
  ) {
    this.state = direction === 'outgoing' ? 'calling' : 'ringing';
    this.device = device;
    this.ended = new Promise((resolve) => (this.endResolve = resolve));
  }

  /** Returns the unsubscribe. */
  onState(listener: (state: CallState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  setState(state: CallState): void {
    if (this.state === state || this.state === 'ended') return;
    this.state = state;
    for (const listener of [...this.stateListeners]) listener(state);
  }

  /** Hold or mute changed, on either side. Returns the unsubscribe. */
  onHoldOrMute(listener: () => void): () => void {
    this.holdListeners.add(listener);
    return () => this.holdListeners.delete(listener);
  }

  private heldOrMuted(): void {
    for (const listener of [...this.holdListeners]) listener();
  }

  /** Runs `fn` after `delayMs` unless the call ends first; the timer is the call's only until it fires. */
  after(clock: Clock, delayMs: number, fn: () => void): void {
    if (this.state === 'ended') return;
    const timer = clock.after(delayMs, () => {
      this.timers.delete(timer);
      fn();
    });
    this.timers.add(timer);
  }

  /** Timers the call holds now (the watch, and waits not over yet): a handful, however long the call. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Answers an incoming call with this audio. */
  accept(audio: CallAudio): void {
    if (this.direction !== 'incoming' || this.state !== 'ringing') return;
    this.audio = audio;
    this.manager.acceptCall(this);
  }

  decline(): void {
    if (this.direction === 'incoming' && this.state === 'ringing') this.manager.finish(this, { reason: 'declined', by: 'local' }, CallSignalKind.DECLINE, 'declined');
  }

  /** Ends the call: cancels it while it rings, hangs up once it is under way. */
  hangup(): void {
    if (this.state === 'ended') return;
    if (this.direction === 'outgoing' && (this.state === 'calling' || this.state === 'ringing')) this.manager.finish(this, { reason: 'cancelled', by: 'local' }, CallSignalKind.CANCEL, 'cancelled');
    else if (this.direction === 'incoming' && this.state === 'ringing') this.decline();
    else this.manager.finish(this, { reason: 'hung_up', by: 'local' }, CallSignalKind.BYE, 'hung up');
  }

  /** Hold: one packet every 3 s instead of audio, and the other side is told. */
  hold(on: boolean): void {
    if (!this.media) return;
    this.media.sender.hold(on);
    this.held = on;
    this.manager.signal(this, on ? CallSignalKind.HOLD : CallSignalKind.RESUME);
    this.heldOrMuted();
  }

  /** Mute: silent frames instead of the microphone, and the other side is told. */
  mute(on: boolean): void {
    if (!this.media) return;
    this.media.sender.mute(on);
    this.muted = on;
    this.manager.signal(this, on ? CallSignalKind.MUTE : CallSignalKind.UNMUTE);
    this.heldOrMuted();
  }

  peerHeld(on: boolean): void {
    if (this.heldByPeer === on) return;
    this.heldByPeer = on;
    this.heldOrMuted();
  }

  peerMuted(on: boolean): void {
    if (this.mutedByPeer === on) return;
    this.mutedByPeer = on;
    this.heldOrMuted();
  }

  startMedia(env: Env, connection: Connection): void {
    if (!this.audio || !this.theirMaster || this.state === 'ended') return;
    // Media goes on whichever path carries the call now (an ICE restart replaces it).
    const path = { send: (bytes: Uint8Array) => void this.media?.connection.agent.send(bytes) };
    const sender = new MediaSender(env.clock, env.random, path, masterKey(this.ourMaster), this.audio.source, { frameMs: this.frameMs });
    const receiver = new MediaReceiver(env.clock, masterKey(this.theirMaster), this.audio.sink, { frameMs: this.frameMs });
    const quality = new CallQuality(env.clock, path, masterKey(this.ourMaster), masterKey(this.theirMaster), sender, receiver);
    const startedMs = env.clock.now();
    const media = { sender, receiver, quality, connection, lastHeardMs: null, pathSinceMs: startedMs };
    this.media = media;
    this.listen(env, connection);
    sender.start();
    quality.start();
    // One watch for the whole call (one timer, cancelled at the end): the media gone for
    // MEDIA_TIMEOUT_MS ends the call; silence while the other side sends (it is not on hold)
    // means the path died.
    this.timers.add(
      every(env.clock, PATH_WATCH_MS, startedMs + PATH_WATCH_MS, () => {
        if (this.state === 'ended') return;
        const now = env.clock.now();
        if (now - (media.lastHeardMs ?? startedMs) > MEDIA_TIMEOUT_MS) return this.manager.finish(this, { reason: 'media_lost', by: 'remote' }, CallSignalKind.BYE, 'no media');
        if (this.pathSilent(now)) this.manager.pathLost(this);
      }),
    );
    this.setState('active');
  }

  /** RTP and RTCP from this path (RFC 5761: they share it); its death is reported at once. */
  private listen(env: Env, connection: Connection): void {
    connection.agent.onData((bytes) => {
      const media = this.media;
      if (!media) return;
      media.lastHeardMs = env.clock.now();
      if (isRtcp(bytes)) media.quality.receive(bytes);
      else media.receiver.receive(bytes);
    });
    connection.agent.onPathLost(() => {
      if (this.media?.connection === connection) this.manager.pathLost(this);
    });
  }

  /**
   * Whether the path looks dead: the other side's media, which came before, has not come for
   * PATH_SILENCE_MS on this path, and the other side is not holding (hold sends every 3 s).
   */
  pathSilent(nowMs: number): boolean {
    const media = this.media;
    if (!media || media.lastHeardMs === null || this.heldByPeer || this.restarting) return false;
    return nowMs - Math.max(media.lastHeardMs, media.pathSinceMs) > PATH_SILENCE_MS;
  }

  /** The path the media takes now (its candidates: where its relay is), null before media. */
  get selectedPath(): SelectedPath | null {
    return this.media?.connection.agent.path ?? null;
  }

  /** How long the current path has carried the call (null before media). */
  pathAgeMs(nowMs: number): number | null {
    return this.media ? nowMs - this.media.pathSinceMs : null;
  }

  /** Moves the media to a new path (an ICE restart): the SRTP contexts, sequence numbers and jitter buffer go on; the old path is closed. */
  movePath(env: Env, connection: Connection): void {
    const media = this.media;
    if (!media || this.state === 'ended' || media.connection === connection) {
      if (media?.connection !== connection) void connection.agent.close();
      return;
    }
    const old = media.connection;
    media.connection = connection;
    media.pathSinceMs = env.clock.now();
    this.pathRestarts++;
    this.listen(env, connection);
    void old.agent.close();
  }

  stats(): CallStats {
    const m = this.media;
    const j = m?.receiver.stats.jitter;
    const played = m?.receiver.stats.played ?? 0;
    const counts = m?.receiver.receptionCounts();
    const expected = counts?.expected ?? 0;
    const lossPercent = expected > 0 ? (100 * counts!.lost) / expected : 0;
    const latePercent = expected > 0 ? (100 * counts!.late) / expected : 0;
    const concealedPercent = played > 0 && j ? (100 * (j.concealed + j.recovered + j.waited + j.stretched)) / played : 0;
    const rttMs = m?.quality.figures.rttMs ?? null;
    // Mouth to ear, one way: half the round trip, the frame, the codec's lookahead, the jitter buffer.
    const oneWayMs = rttMs === null ? null : rttMs / 2 + this.frameMs + 6.5 + (m?.receiver.bufferedMs ?? 0);
    return {
      path: m?.connection.agent.path?.kind ?? null,
      codec: OPUS_CODEC,
      frameMs: this.frameMs,
      bitrate: m?.sender.bitrate ?? 0,
      packetsSent: m?.sender.stats.packets ?? 0,
      bytesSent: m?.sender.stats.bytes ?? 0,
      packetsReceived: j?.received ?? 0,
      lossPercent,
      latePercent,
      concealedPercent,
      jitterMs: m?.receiver.stats.jitterMs ?? 0,
      bufferMs: m?.receiver.bufferedMs ?? 0,
      rttMs,
      remoteLossPercent: m?.quality.figures.lossPercent ?? 0,
      pathRestarts: this.pathRestarts,
      // The E-model's packet loss is what the listener loses: never arrived, or thrown away by
      // the jitter buffer as late (ITU-T G.1020 counts such discards as loss). Concealed frames
      // are what was done about that loss (counting them too would count it twice), and frames
      // the buffer waited for cost delay, which oneWayMs already holds.
      mos: oneWayMs === null || !m ? null : estimateMos(oneWayMs, lossPercent + latePercent, m.sender.bitrate),
      heldByPeer: this.heldByPeer,
      mutedByPeer: this.mutedByPeer,
    };
  }

  /** Stops timers and media; the manager has already said goodbye. */
  close(end: CallEnd): void {
    if (this.state === 'ended') return;
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
    // Paths opened while ringing that the call did not use.
    const used = this.media?.connection.agent;
    if (this.earlyConnection && this.earlyConnection.agent !== used) void this.earlyConnection.agent.close();
    this.closeEarlyPaths(used);
    if (this.media) {
      this.media.quality.stop();
      this.media.sender.stop();
      this.media.receiver.stop();
      void this.media.connection.agent.close();
    }
    this.endedWith = end;
    this.setState('ended');
    this.endResolve(end);
  }

  /** Closes the paths opened while ringing, except `keep`. */
  closeEarlyPaths(keep?: unknown): void {
    for (const pending of this.earlyPaths.values()) {
      void pending.then((o) => {
        if (o.ok && o.connection.agent !== keep) void o.connection.agent.close();
      });
    }
  }
}

/**
 * Failures the call manager meets and does not throw, counted (`failures`): an invitation that
 * reached no device because the lookup of the callee's devices failed (the call ends
 * 'unavailable'); a signal that could not be queued; an ICE restart with no network to gather
 * on (tried again after RESTART_RETRY_MS).
 */
