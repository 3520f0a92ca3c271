// Voice calls: signalling end to end between devices (INVITE to every online device of the
// callee, RINGING, ACCEPT / DECLINE / BUSY, CANCEL, BYE, HOLD / RESUME, RESTART), the path from
// the connector (direct, hole-punched or relayed) and the media on it. Hold and mute are told
// to the other side (HOLD / RESUME, MUTE / UNMUTE), which shows them. The first device to accept
// wins and the caller cancels the others; a caller the callee does not take calls from is
// refused in the first exchange; every wait has a timeout and every end has a reason.
//
// A path that dies mid-call (its relay's supernode killed, a NAT rebooted) is replaced by an ICE
// restart: the media falls silent for PATH_SILENCE_MS while the other side should be sending, or
// the ICE agent's consent checks find no working pair, and the caller (the controlling side)
// connects again: fresh candidates, a new TURN allocation on the supernode it is attached to
// now, exchanged end to end like every connectivity offer. The callee asks for it (RESTART)
// when it notices first. The media moves to the new path with its SRTP keys and sequence
// numbers; a restart that finds no path within its bounds ends the call with `no_path`.
import { create } from '@bufbuild/protobuf';
import type { Env } from '../env/types.js';
import { equalBytes, toHex } from '../crypto/bytes.js';
import type { Messenger, Sender } from '../messenger/messenger.js';
import type { Relation } from '../messenger/transport.js';
import type { Connection, Connector } from './connector.js';
import { CallSignalKind, CallSignalSchema, type CallSignal } from '../wire/messages.js';
import type { FrameMs } from '../media/opus.js';

export const RING_TIMEOUT_MS = 45_000;
/** No device rang within this: the callee is not really there. */
const RINGING_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;
/** Calls ringing or under way at once (each costs sockets, a relay and a codec). */
const MAX_CALLS = 4;

/** Ringing devices a caller opens paths to before anyone answers (each costs a socket and a relay). */
const MAX_EARLY_PATHS = 3;

/** An ICE restart gives up after this long or this many connection attempts (each a socket and a relay allocation). */
export const RESTART_DEADLINE_MS = 8_000;

const RESTART_ATTEMPTS = 4;

/** One attempt waits this long for the answer and a path (the other side may still be re-attaching). */
const RESTART_ATTEMPT_MS = 4_000;

/** The callee asks the caller for a restart at most this often. */
const RESTART_ASK_EVERY_MS = 1_000;

/** What calls and conferences need of the messenger: call signals in the end-to-end streams to other devices (`send` resolves with the devices a signal went to). */
export type CallSignalling = Pick<Messenger, 'subscribe' | 'send'>;

/**
 * Hands call signals from other devices to `listener` (blocked users' never arrive). One that
 * waited in the offline store is about a call long over, and dropped. Returns the unsubscribe.
 */
export function subscribeLiveCallSignals(signalling: CallSignalling, listener: (from: Sender, signal: CallSignal) => void): () => void {
  return signalling.subscribe('call', (from, signal, arrival) => {
    if (!arrival.offline) listener(from, signal);
  });
}

import { Call, OPUS_CODEC, PATH_SILENCE_MS, RESTART_RETRY_MS, SRTP_MASTER_BYTES, type CallAudio, type CallEnd, type CallEndReason, type CallOwner } from './call.js';

export { OPUS_CODEC, PATH_SILENCE_MS, Call };
export type { CallAudio, CallState, CallEndReason, CallEnd, CallStats } from './call.js';

export interface CallManagerOptions {
  readonly frameMs?: FrameMs;
  /** Who may call this device (default: buddies). */
  readonly acceptFrom?: (user: string, relation: Relation) => boolean;
  readonly ringTimeoutMs?: number;
}

export type CallFailure = 'invite_send' | 'signal_send' | 'restart_no_network';

export class CallManager implements CallOwner {
  private readonly calls = new Map<string, Call>();
  /** What failed and was handled without an exception, by kind. */
  readonly failures = new Map<CallFailure, number>();
  private readonly incomingListeners = new Set<(call: Call) => void>();
  private readonly frameMs: FrameMs;

  constructor(
    private readonly env: Env,
    private readonly signalling: CallSignalling,
    private readonly connector: Connector,
    private readonly options: CallManagerOptions = {},
  ) {
    this.frameMs = options.frameMs ?? 20;
    subscribeLiveCallSignals(signalling, (from, signal) => this.received(from, signal));
    connector.onConnection((connection) => this.connected(connection));
  }

  /** Incoming calls, ringing. Returns the unsubscribe. */
  onIncoming(listener: (call: Call) => void): () => void {
    this.incomingListeners.add(listener);
    return () => this.incomingListeners.delete(listener);
  }

  /**
   * Whether a path from `user` is expected now: the connector asks. A call ringing here lets the
   * caller open the path while it rings (so answering starts the audio at once); that tells a
   * caller this device's addresses before the user answers, as Skype did, and only callers the
   * user takes calls from ring at all.
   */
  expectsConnectionFrom(user: string): boolean {
    // An active call too: its caller restarts ICE when the path dies.
    return [...this.calls.values()].some((c) => c.direction === 'incoming' && c.peer === user && (c.state === 'ringing' || c.state === 'connecting' || c.state === 'active'));
  }

  /** Calls every online device of `user`. */
  async call(user: string, audio: CallAudio): Promise<Call> {
    const call = new Call(this, this.env.random.bytes(16), user, 'outgoing', this.frameMs, this.env.random.bytes(SRTP_MASTER_BYTES), null);
    call.audio = audio;
    this.calls.set(toHex(call.id), call);
    const invite = create(CallSignalSchema, { callId: call.id, kind: CallSignalKind.INVITE, srtpMaster: call.ourMaster, codecs: [OPUS_CODEC], frameMs: this.frameMs });
    call.invited = await this.signalling.send(user, 'all', 'call', invite).catch(() => {
      this.failed('invite_send');
      return [];
    });
    if (call.invited.length === 0) {
      this.close(call, { reason: 'unavailable', by: 'remote' });
      return call;
    }
    call.after(this.env.clock, RINGING_TIMEOUT_MS, () => call.state === 'calling' && this.finish(call, { reason: 'unavailable', by: 'remote' }, CallSignalKind.CANCEL, 'no device rang'));
    call.after(this.env.clock, this.options.ringTimeoutMs ?? RING_TIMEOUT_MS, () => (call.state === 'calling' || call.state === 'ringing') && this.finish(call, { reason: 'no_answer', by: 'remote' }, CallSignalKind.CANCEL, 'no answer'));
    return call;
  }

  /** Sends `kind` about `call` to the other side (every invited device while none answered). */
  signal(call: Call, kind: CallSignalKind, reason = '', extra: { srtpMaster?: Uint8Array } = {}): void {
    this.send(call.peer, call.device ? [call.device] : 'all', call.id, kind, reason, extra);
  }

  /** One signal, sent without waiting: the end-to-end stream retries it, and a lost one ends in a timeout. */
  private send(user: string, devices: readonly Uint8Array[] | 'all', callId: Uint8Array, kind: CallSignalKind, reason = '', extra: { srtpMaster?: Uint8Array } = {}): void {
    void this.signalling.send(user, devices, 'call', create(CallSignalSchema, { callId, kind, reason, ...extra })).catch(() => this.failed('signal_send'));
  }

  private failed(what: CallFailure): void {
    this.failures.set(what, (this.failures.get(what) ?? 0) + 1);
  }

  /** Ends `call`, telling the other side with `kind` (unless it was the other side that ended it). */
  finish(call: Call, end: CallEnd, kind: CallSignalKind | null, reason: string): void {
    if (call.state === 'ended') return;
    if (kind !== null) this.signal(call, kind, reason);
    this.close(call, end);
  }

  /** Ends `call` without a word to the other side: both moved its audio to a conference. */
  release(call: Call): void {
    this.close(call, { reason: 'conference', by: 'local' });
  }

  /**
   * The call's path died (silent, or no pair passes consent checks): the caller restarts ICE; the
   * callee asks it to (the caller is the controlling side, so two restarts never cross).
   */
  pathLost(call: Call): void {
    if (call.state !== 'active') return;
    if (call.direction === 'outgoing') return void this.restartPath(call);
    const now = this.env.clock.now();
    if (now - call.restartAskedMs < RESTART_ASK_EVERY_MS) return;
    call.restartAskedMs = now;
    this.signal(call, CallSignalKind.RESTART, 'path silent');
  }

  /**
   * ICE restart, caller side: connects to the callee's device again (new candidates, a relay on
   * the supernode this device is attached to now) until a path works, within RESTART_ATTEMPTS
   * and RESTART_DEADLINE_MS; then the media moves to it. While this device has no network to
   * gather on (it is re-attaching after its supernode died) it tries again every RESTART_RETRY_MS.
   */
  private async restartPath(call: Call): Promise<void> {
    const device = call.device;
    if (call.restarting || !device) return;
    call.restarting = true;
    const startedMs = this.env.clock.now();
    let attempts = 0;
    try {
      while (call.state === 'active' && attempts < RESTART_ATTEMPTS) {
        const leftMs = RESTART_DEADLINE_MS - (this.env.clock.now() - startedMs);
        if (leftMs <= 0) break;
        const outcome = await this.connector.connect(call.peer, device, Math.min(RESTART_ATTEMPT_MS, leftMs), { urgent: true }).catch(() => {
          this.failed('restart_no_network');
          return null;
        });
        if (call.state !== 'active') {
          if (outcome?.ok) void outcome.connection.agent.close();
          return;
        }
        if (outcome === null) {
          await new Promise<void>((resolve) => call.after(this.env.clock, RESTART_RETRY_MS, resolve));
          continue;
        }
        attempts++;
        if (outcome.ok) return call.movePath(this.env, outcome.connection);
      }
    } finally {
      call.restarting = false;
    }
    // Nothing worked; unless the old path came back meanwhile, the call is over.
    if (call.pathSilent(this.env.clock.now())) this.finish(call, { reason: 'no_path', by: 'local' }, CallSignalKind.BYE, 'no path');
  }

  /** The call with this id, if it is under way here. */
  find(callId: Uint8Array): Call | undefined {
    return this.calls.get(toHex(callId));
  }

  private close(call: Call, end: CallEnd): void {
    this.calls.delete(toHex(call.id));
    call.close(end);
  }

  acceptCall(call: Call): void {
    call.setState('connecting');
    this.signal(call, CallSignalKind.ACCEPT, '', { srtpMaster: call.ourMaster });
    if (call.earlyConnection) return call.startMedia(this.env, call.earlyConnection);
    call.after(this.env.clock, CONNECT_TIMEOUT_MS, () => call.state === 'connecting' && this.finish(call, { reason: 'no_path', by: 'local' }, CallSignalKind.BYE, 'no path'));
  }

  private connected(connection: Connection): void {
    const call = [...this.calls.values()].find((c) => c.direction === 'incoming' && c.state !== 'ended' && c.peer === connection.user && c.device && equalBytes(c.device, connection.device));
    if (!call) return;
    // Under way: the caller restarted ICE (its path died); the media moves to the new path.
    if (call.state === 'active') return call.movePath(this.env, connection);
    if (call.state === 'connecting') return call.startMedia(this.env, connection);
    // Still ringing: keep the path for the answer (one per call; a second replaces the first).
    if (call.earlyConnection) void call.earlyConnection.agent.close();
    call.earlyConnection = connection;
  }

  private received(from: { user: string; device: Uint8Array; relation: Relation }, signal: CallSignal): void {
    if (signal.callId.length !== 16) return;
    const call = this.calls.get(toHex(signal.callId));
    if (signal.kind === CallSignalKind.INVITE) {
      if (!call) this.invited(from, signal);
      return;
    }
    // Everything else is about a call we know, from its peer (and, once answered, its device).
    if (!call || call.peer !== from.user || (call.device && !equalBytes(call.device, from.device))) return;
    switch (signal.kind) {
      case CallSignalKind.RINGING:
        if (call.direction !== 'outgoing' || (call.state !== 'calling' && call.state !== 'ringing')) return;
        call.setState('ringing');
        // Open the path to this ringing device now: answering then starts the audio at once.
        if (call.earlyPaths.size < MAX_EARLY_PATHS && !call.earlyPaths.has(toHex(from.device))) call.earlyPaths.set(toHex(from.device), this.connector.connect(call.peer, from.device, RING_TIMEOUT_MS));
        return;
      case CallSignalKind.ACCEPT:
        if (call.direction === 'outgoing' && (call.state === 'calling' || call.state === 'ringing') && signal.srtpMaster.length === SRTP_MASTER_BYTES) void this.answered(call, from.device, signal.srtpMaster);
        return;
      case CallSignalKind.DECLINE:
      case CallSignalKind.BUSY: {
        if (call.direction !== 'outgoing' || call.device || signal.reason === 'glare') return;
        const reason: CallEndReason = signal.kind === CallSignalKind.BUSY ? 'busy' : signal.reason === 'refused' ? 'refused' : signal.reason === 'unsupported_codec' ? 'unsupported_codec' : 'declined';
        call.refusals.push(reason);
        // Only when every device said no: one declining does not stop the others ringing.
        if (call.refusals.length >= call.invited.length || call.invited.length === 0) this.close(call, { reason, by: 'remote' });
        return;
      }
      case CallSignalKind.CANCEL:
        if (call.direction === 'incoming') this.close(call, { reason: signal.reason === 'answered elsewhere' ? 'answered_elsewhere' : 'cancelled', by: 'remote' });
        return;
      case CallSignalKind.BYE:
        this.close(call, { reason: signal.reason === 'no media' ? 'media_lost' : signal.reason === 'no path' ? 'no_path' : 'hung_up', by: 'remote' });
        return;
      case CallSignalKind.RESTART:
        // The callee hears nothing: the caller restarts ICE, unless it is at it already. A request
        // about a path younger than the silence it reports was about the path before (it crossed).
        if (call.direction === 'outgoing' && call.state === 'active' && (call.pathAgeMs(this.env.clock.now()) ?? 0) > PATH_SILENCE_MS) void this.restartPath(call);
        return;
      case CallSignalKind.HOLD:
      case CallSignalKind.RESUME:
        call.peerHeld(signal.kind === CallSignalKind.HOLD);
        return;
      case CallSignalKind.MUTE:
      case CallSignalKind.UNMUTE:
        call.peerMuted(signal.kind === CallSignalKind.MUTE);
        return;
      default:
        return;
    }
  }

  private invited(from: { user: string; device: Uint8Array; relation: Relation }, signal: CallSignal): void {
    const answer = (kind: CallSignalKind, reason: string) => this.send(from.user, [from.device], signal.callId, kind, reason);
    const accept = this.options.acceptFrom ?? ((_user: string, relation: Relation) => relation === 'buddy');
    if (!accept(from.user, from.relation)) return answer(CallSignalKind.DECLINE, 'refused');
    if (!signal.codecs.includes(OPUS_CODEC) || signal.srtpMaster.length !== SRTP_MASTER_BYTES) return answer(CallSignalKind.DECLINE, 'unsupported_codec');
    // Glare: we are calling the one who calls us. Both sides keep the call with the smaller id.
    const crossing = [...this.calls.values()].find((c) => c.direction === 'outgoing' && c.peer === from.user && (c.state === 'calling' || c.state === 'ringing'));
    if (crossing) {
      if (toHex(crossing.id) < toHex(signal.callId)) return answer(CallSignalKind.DECLINE, 'glare');
      const replacement = this.ring(from, signal);
      crossing.replacement = replacement;
      this.close(crossing, { reason: 'replaced', by: 'remote' });
      // This user wanted the call: it is answered with the audio of the call it replaces.
      if (crossing.audio) replacement.accept(crossing.audio);
      return;
    }
    if (this.calls.size >= MAX_CALLS || [...this.calls.values()].some((c) => c.state !== 'ended')) return answer(CallSignalKind.BUSY, 'busy');
    const call = this.ring(from, signal);
    for (const listener of [...this.incomingListeners]) listener(call);
  }

  /** An incoming call from `from`, ringing here. */
  private ring(from: { user: string; device: Uint8Array }, signal: CallSignal): Call {
    const frameMs: FrameMs = signal.frameMs === 10 ? 10 : 20;
    const call = new Call(this, signal.callId.slice(), from.user, 'incoming', frameMs, this.env.random.bytes(SRTP_MASTER_BYTES), from.device);
    call.theirMaster = signal.srtpMaster.slice();
    this.calls.set(toHex(call.id), call);
    this.send(from.user, [from.device], signal.callId, CallSignalKind.RINGING);
    call.after(this.env.clock, this.options.ringTimeoutMs ?? RING_TIMEOUT_MS, () => call.state === 'ringing' && this.finish(call, { reason: 'no_answer', by: 'local' }, CallSignalKind.DECLINE, 'no answer'));
    return call;
  }

  /** The first device to accept gets the call; the others stop ringing. */
  private async answered(call: Call, device: Uint8Array, theirMaster: Uint8Array): Promise<void> {
    call.device = device;
    call.theirMaster = theirMaster.slice();
    call.setState('connecting');
    const others = call.invited.filter((d) => !equalBytes(d, device));
    if (others.length > 0) this.send(call.peer, others, call.id, CallSignalKind.CANCEL, 'answered elsewhere');
    // The path opened while it rang, if there is one and it worked; else one now.
    let outcome = await (call.earlyPaths.get(toHex(device)) ?? Promise.resolve(null));
    if (!outcome?.ok && call.state !== 'ended') outcome = await this.connector.connect(call.peer, device, CONNECT_TIMEOUT_MS);
    call.closeEarlyPaths(outcome?.ok ? outcome.connection.agent : undefined);
    if (call.state === 'ended' || !outcome) {
      if (outcome?.ok) void outcome.connection.agent.close();
      return;
    }
    if (!outcome.ok) return this.finish(call, { reason: 'no_path', by: 'local' }, CallSignalKind.BYE, 'no path');
    call.startMedia(this.env, outcome.connection);
  }
}
