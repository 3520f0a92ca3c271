// WebRTC sessions between two devices (issue 23): the offer and the answer travel end to end in
// Parley's call signalling (OFFER / ANSWER call signals on the messenger), each signed for its
// DTLS fingerprint by its device key (webrtc-description.ts) and checked before it is applied;
// ICE, DTLS-SRTP, Opus and SCTP are the injected stack's (media/rtc-peer.ts; libwebrtc in
// production), with this device's supernode as its STUN/TURN server (webrtc-ice-servers.ts).
//
//   offerer                                   answerer
//   stack.createPeer, setup (tracks, channels)
//   describe('offer') → sign → OFFER  ───────▶ verify (certificate = sender's device, signature
//                                               covers the SDP's fingerprint) → accept? → peer,
//                                               applyRemote(offer), setup, describe('answer')
//   verify, applyRemote(answer)  ◀─────────── ANSWER ← sign
//   ICE checks, DTLS handshake (the fingerprints checked by the stack), SRTP, SCTP
//
// Bounds: live sessions (MAX_SESSIONS), offers answered per user (MAX_SESSIONS_PER_USER), the
// wait for an answer and for the connection; every refusal is counted by reason (`refusals`).
// Candidates go in the SDP (gathering bounded by `gatherTimeoutMs`); trickle ICE is not built.
import type { Env, Timer } from '../env/types.js';
import { equalBytes, toHex } from '../crypto/bytes.js';
import type { CertificateVerifier } from '../crypto/certificate.js';
import type { NodeIdentity } from '../crypto/identity.js';
import { create } from '@bufbuild/protobuf';
import { CallSignalKind, CallSignalSchema, type SignedDescription } from '../wire/messages.js';
import type { Messenger, Sender } from '../messenger/messenger.js';
import type { Relation } from '../messenger/transport.js';
import { Listeners } from '../util/listeners.js';
import type { RtcDescriptionType, RtcIceServer, RtcPeer, RtcSelectedPair, RtcStack } from '../media/rtc-peer.js';
import { SESSION_ID_BYTES, signDescription, verifyDescription, type DescriptionErrorCode, type VerifiedDescription } from './webrtc-description.js';

/** Sessions alive at once on a device (each holds a peer connection: sockets, a relay, threads). */
export const MAX_SESSIONS = 8;
/** Of those, sessions another user's offers may open here. */
export const MAX_SESSIONS_PER_USER = 4;
/** Gathering candidates (host, the supernode's STUN and TURN) may take this long before the description leaves with what it has. */
export const GATHER_TIMEOUT_MS = 3_000;
/** An offer not answered within this is given up. */
export const ANSWER_TIMEOUT_MS = 10_000;
/** Both descriptions applied, ICE and DTLS get this long. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Descriptions between devices: the end-to-end call signalling in production, anything in tests. */
export interface DescriptionChannel {
  send(to: { readonly user: string; readonly device: Uint8Array }, type: RtcDescriptionType, description: SignedDescription): Promise<void>;
  /** Descriptions that came, with the sender the end-to-end session proved. Returns the removal. */
  onDescription(handler: (from: Sender, type: RtcDescriptionType, description: SignedDescription) => void): () => void;
}

/** The channel on the messenger: OFFER and ANSWER call signals, live ones only (an offer that waited offline is stale). */
export function callSignalDescriptions(messenger: Pick<Messenger, 'subscribe' | 'send'>): DescriptionChannel {
  return {
    send: async (to, type, description) => {
      const kind = type === 'offer' ? CallSignalKind.OFFER : CallSignalKind.ANSWER;
      await messenger.send(to.user, [to.device], 'call', create(CallSignalSchema, { callId: description.sessionId, kind, description }));
    },
    onDescription: (handler) =>
      messenger.subscribe('call', (from, signal, arrival) => {
        if (arrival.offline || !signal.description) return;
        if (signal.kind === CallSignalKind.OFFER) handler(from, 'offer', signal.description);
        else if (signal.kind === CallSignalKind.ANSWER) handler(from, 'answer', signal.description);
      }),
  };
}

/**
 * Why a description was not taken: its checks (DescriptionErrorCode), this user's setting, a
 * bound, an answer nobody waits for or a second copy, the stack's own refusal of the SDP, or no
 * network to make a peer on (this device is not attached: no ICE servers).
 */
export type SessionRefusal = DescriptionErrorCode | 'not_accepted' | 'too_many_sessions' | 'unknown_session' | 'unexpected' | 'stack_refused' | 'no_network';

export type SessionEndReason =
  /** The other side's description failed a check (`code`); nothing of it was applied. */
  | 'refused'
  | 'no_answer'
  /** ICE or DTLS found no way through, or not in time. */
  | 'failed'
  /** This side closed it. */
  | 'closed';

export interface SessionEnd {
  readonly reason: SessionEndReason;
  readonly code?: SessionRefusal;
  readonly message: string;
}

export type SessionState = 'describing' | 'awaiting_answer' | 'connecting' | 'connected' | 'ended';

export interface WebRtcEndpointOptions {
  readonly identity: NodeIdentity;
  readonly username: string;
  readonly verifier: CertificateVerifier;
  readonly stack: RtcStack;
  readonly channel: DescriptionChannel;
  /** The STUN/TURN servers for a new session: this device's supernode, with its TURN credentials (asked afresh each time). */
  readonly iceServers: () => Promise<readonly RtcIceServer[]>;
  readonly iceTransportPolicy?: 'all' | 'relay';
  /** Whether an offer from this user is answered (default: buddies only). */
  readonly accept?: (user: string, relation: Relation) => boolean;
  readonly gatherTimeoutMs?: number;
  readonly answerTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
}

export class WebRtcSession {
  state: SessionState = 'describing';
  /** The other side's description as checked, once applied. */
  remoteDescription: VerifiedDescription | null = null;
  readonly ended: Promise<SessionEnd>;
  endedWith: SessionEnd | null = null;
  private endResolve!: (end: SessionEnd) => void;
  private timer: Timer | null = null;
  private readonly states = new Listeners<[SessionState]>();

  constructor(
    readonly id: Uint8Array,
    readonly role: 'offerer' | 'answerer',
    readonly remote: { readonly user: string; readonly device: Uint8Array },
    readonly peer: RtcPeer,
  ) {
    this.ended = new Promise((resolve) => (this.endResolve = resolve));
    peer.onConnectionState((state) => {
      if (state === 'connected') this.setState('connected');
      else if (state === 'failed') this.end({ reason: 'failed', message: 'ICE or DTLS failed' });
    });
  }

  /** Resolves true once connected, false if the session ends first. */
  connected(): Promise<boolean> {
    if (this.state === 'connected') return Promise.resolve(true);
    if (this.state === 'ended') return Promise.resolve(false);
    return new Promise((resolve) => {
      const stop = this.states.add((state) => {
        if (state !== 'connected' && state !== 'ended') return;
        stop();
        resolve(state === 'connected');
      });
    });
  }

  /** The candidate kinds the stack's ICE chose. */
  selectedPair(): Promise<RtcSelectedPair | null> {
    return this.peer.selectedPair();
  }

  close(): void {
    this.end({ reason: 'closed', message: 'closed' });
  }

  setState(state: SessionState): void {
    if (this.state === 'ended' || this.state === state) return;
    this.state = state;
    if (state === 'connected') this.clearTimer();
    this.states.emit(state);
  }

  /** Arms the one deadline the session has at a time (the answer's, then the connection's). */
  deadline(env: Env, ms: number, end: SessionEnd): void {
    this.clearTimer();
    this.timer = env.clock.after(ms, () => {
      this.timer = null;
      this.end(end);
    });
  }

  end(end: SessionEnd): void {
    if (this.state === 'ended') return;
    this.clearTimer();
    this.state = 'ended';
    this.endedWith = end;
    this.peer.close();
    this.states.emit('ended');
    this.endResolve(end);
  }

  private clearTimer(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}

export class WebRtcEndpoint {
  private readonly sessions = new Map<string, WebRtcSession>();
  private readonly incoming = new Listeners<[WebRtcSession]>();
  /** Descriptions refused, by reason. */
  readonly refusals = new Map<SessionRefusal, number>();
  private readonly stopListening: () => void;
  /** Offers between their check and their session (creating the peer awaits the ICE servers). */
  private readonly opening = new Map<string, string>();
  private closed = false;

  constructor(
    private readonly env: Env,
    private readonly options: WebRtcEndpointOptions,
  ) {
    this.stopListening = options.channel.onDescription((from, type, description) => void this.received(from, type, description));
  }

  /**
   * Sessions other devices open here, once their offer checked out and was applied, before the
   * answer is made: add tracks and listen for channels here. Returns the removal.
   */
  onSession(listener: (session: WebRtcSession) => void): () => void {
    return this.incoming.add(listener);
  }

  /** Live sessions. */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * Opens a session to one device of `user`: `setup` adds tracks and channels to the peer before
   * the offer is made. The session ends `no_answer`, `refused` (the answer failed a check) or
   * `failed`, or connects; see `connected()` and `ended`.
   */
  async connect(user: string, device: Uint8Array, setup: (peer: RtcPeer) => void): Promise<WebRtcSession> {
    if (this.closed) throw new Error('the WebRTC endpoint is closed');
    if (this.sessions.size + this.opening.size >= MAX_SESSIONS) throw new Error(`at most ${MAX_SESSIONS} WebRTC sessions at once`);
    const peer = this.options.stack.createPeer({ iceServers: await this.options.iceServers(), ...(this.options.iceTransportPolicy ? { iceTransportPolicy: this.options.iceTransportPolicy } : {}) });
    const session = this.track(new WebRtcSession(this.env.random.bytes(SESSION_ID_BYTES), 'offerer', { user, device }, peer));
    let sdp: string;
    try {
      setup(peer);
      sdp = await peer.describe('offer', this.options.gatherTimeoutMs ?? GATHER_TIMEOUT_MS);
    } catch (error) {
      session.end({ reason: 'failed', message: `our own offer: ${String(error)}` });
      return session;
    }
    if (session.state === 'ended') return session;
    const signed = signDescription(this.options.identity, this.parties(session, 'offer', true), sdp);
    // Our own stack's SDP without a single fingerprint is a broken stack: nothing to offer.
    if (!signed.ok) {
      session.end({ reason: 'failed', code: signed.error.code, message: `our own offer: ${signed.error.message}` });
      return session;
    }
    session.setState('awaiting_answer');
    session.deadline(this.env, this.options.answerTimeoutMs ?? ANSWER_TIMEOUT_MS, { reason: 'no_answer', message: 'no answer came' });
    await this.options.channel.send({ user, device }, 'offer', signed.value).catch(() => session.end({ reason: 'failed', message: 'the offer could not be sent' }));
    return session;
  }

  close(): void {
    this.closed = true;
    this.stopListening();
    for (const session of [...this.sessions.values()]) session.close();
  }

  private track(session: WebRtcSession): WebRtcSession {
    const key = toHex(session.id);
    this.sessions.set(key, session);
    void session.ended.then(() => this.sessions.delete(key));
    return session;
  }

  /** Who signs and who checks a description of `session`: `ours` when this device sends it. */
  private parties(session: WebRtcSession, type: RtcDescriptionType, ours: boolean) {
    const me = { user: this.options.username, device: this.options.identity.dh.publicKey };
    return ours ? { sessionId: session.id, type, from: me, to: session.remote.device } : { sessionId: session.id, type, from: session.remote, to: me.device };
  }

  private refuse(code: SessionRefusal): void {
    this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
  }

  private async received(from: Sender, type: RtcDescriptionType, description: SignedDescription): Promise<void> {
    if (description.sessionId.length !== SESSION_ID_BYTES) return this.refuse('malformed');
    const session = this.sessions.get(toHex(description.sessionId));
    if (type === 'answer') {
      if (!session) return this.refuse('unknown_session');
      // An answer only from the device offered to, only while waiting for it.
      if (session.role !== 'offerer' || session.state !== 'awaiting_answer' || session.remote.user !== from.user || !equalBytes(session.remote.device, from.device)) return this.refuse('unexpected');
      return this.answered(session, description);
    }
    if (session) return this.refuse('unexpected');
    return this.offered(from, description);
  }

  private async answered(session: WebRtcSession, description: SignedDescription): Promise<void> {
    const checked = verifyDescription(this.options.verifier, this.env.clock.wallTimeMs(), this.parties(session, 'answer', false), description);
    if (!checked.ok) {
      this.refuse(checked.error.code);
      return session.end({ reason: 'refused', code: checked.error.code, message: checked.error.message });
    }
    session.setState('connecting');
    session.deadline(this.env, this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, { reason: 'failed', message: 'no connection in time' });
    try {
      await session.peer.applyRemote('answer', checked.value.sdp);
      session.remoteDescription = checked.value;
    } catch (error) {
      this.refuse('stack_refused');
      session.end({ reason: 'refused', code: 'stack_refused', message: `the stack refused the answer: ${String(error)}` });
    }
  }

  private async offered(from: Sender, description: SignedDescription): Promise<void> {
    const accept = this.options.accept ?? ((_user: string, relation: Relation) => relation === 'buddy');
    if (!accept(from.user, from.relation)) return this.refuse('not_accepted');
    const theirs = [...this.sessions.values()].filter((s) => s.remote.user === from.user).length + [...this.opening.values()].filter((user) => user === from.user).length;
    if (this.sessions.size + this.opening.size >= MAX_SESSIONS || theirs >= MAX_SESSIONS_PER_USER) return this.refuse('too_many_sessions');
    const parties = { sessionId: description.sessionId, type: 'offer' as const, from: { user: from.user, device: from.device }, to: this.options.identity.dh.publicKey };
    const checked = verifyDescription(this.options.verifier, this.env.clock.wallTimeMs(), parties, description);
    if (!checked.ok) return this.refuse(checked.error.code);
    // Held from here until the session exists, so a second copy of the offer is refused.
    const key = toHex(description.sessionId);
    if (this.opening.has(key)) return this.refuse('unexpected');
    this.opening.set(key, from.user);
    let peer: RtcPeer;
    try {
      peer = this.options.stack.createPeer({ iceServers: await this.options.iceServers(), ...(this.options.iceTransportPolicy ? { iceTransportPolicy: this.options.iceTransportPolicy } : {}) });
    } catch {
      return this.refuse('no_network');
    } finally {
      this.opening.delete(key);
    }
    if (this.closed) return peer.close();
    const session = this.track(new WebRtcSession(description.sessionId.slice(), 'answerer', { user: from.user, device: from.device }, peer));
    try {
      await peer.applyRemote('offer', checked.value.sdp);
    } catch (error) {
      this.refuse('stack_refused');
      return session.end({ reason: 'refused', code: 'stack_refused', message: `the stack refused the offer: ${String(error)}` });
    }
    session.remoteDescription = checked.value;
    let sdp: string;
    try {
      this.incoming.emit(session);
      sdp = await peer.describe('answer', this.options.gatherTimeoutMs ?? GATHER_TIMEOUT_MS);
    } catch (error) {
      return session.end({ reason: 'failed', message: `our own answer: ${String(error)}` });
    }
    if (session.state === 'ended') return;
    const signed = signDescription(this.options.identity, this.parties(session, 'answer', true), sdp);
    if (!signed.ok) return session.end({ reason: 'failed', code: signed.error.code, message: `our own answer: ${signed.error.message}` });
    session.setState('connecting');
    session.deadline(this.env, this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, { reason: 'failed', message: 'no connection in time' });
    await this.options.channel.send(from, 'answer', signed.value).catch(() => session.end({ reason: 'failed', message: 'the answer could not be sent' }));
  }
}
