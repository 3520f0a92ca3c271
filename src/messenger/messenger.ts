// The end-to-end messenger: payloads between devices, sealed so that the supernodes carry only
// ciphertext. It keeps an end-to-end session per device pair (Noise IK, e2e-session.ts) and a
// reliable stream per device pair (retries, de-duplication, order: device-stream.ts), starts and
// answers handshakes (blocked users get no answer, strangers a few sessions, then one a minute),
// seals what a device cannot take now for the login server's offline store (offline-seal.ts),
// and hands each payload that arrives to the subscribers of its kind (`subscribe`): chat
// (messages, typing, read receipts, presence), calls' signals and the connector's offers each
// sit on top of it. Bad input is refused and counted by reason (`refused`), never thrown.
import { create, toBinary } from '@bufbuild/protobuf';
import type { Env, Timer } from '../env/types.js';
import type { CertificateVerifier } from '../crypto/certificate.js';
import type { NodeIdentity } from '../crypto/identity.js';
import { equalBytes, toHex } from '../crypto/bytes.js';
import { ChatPayloadSchema, E2eFrameSchema, E2eStreamFrameSchema, decodeProto, type ChatPayload, type E2eFrame, type E2eHandshake } from '../wire/messages.js';
import { KeyedTokenBuckets } from '../util/token-bucket.js';
import { E2eSession, type E2eConfig, type E2eErrorCode } from './e2e-session.js';
import { DeviceStream } from './device-stream.js';
import { openOffline, sealOffline } from './offline-seal.js';
import { ListCache } from './list-cache.js';
import type { OfflineStore, Relation, SignallingTransport } from './transport.js';

/** The kinds of payload devices exchange (the cases of the wire's `ChatPayload`). */
export type PayloadKind = NonNullable<ChatPayload['body']['case']>;
/** The value a payload of kind `K` carries. */
export type PayloadOf<K extends PayloadKind> = Extract<ChatPayload['body'], { case: K }>['value'];

/** Who a payload came from: the user, its device, and how this user stands to it. */
export interface Sender {
  readonly user: string;
  readonly device: Uint8Array;
  readonly relation: Relation;
}

/** How a payload came: `offline` when it waited in the login server's store while this device was offline. */
export interface Arrival {
  readonly offline: boolean;
}

/** What a subscriber can refuse a payload for (counted with the messenger's own refusals). */
export type SubscriberRefusal = 'rate_limited' | 'malformed';

/**
 * What a subscriber made of a payload: `new` — shown to the user as something new (what
 * `fetchOffline` counts); a refusal, counted; or nothing to say (undefined).
 */
export type Handled = void | 'new' | { readonly refused: SubscriberRefusal };

export type PayloadHandler<K extends PayloadKind> = (from: Sender, value: PayloadOf<K>, arrival: Arrival) => Handled;

export type RefusalCode = E2eErrorCode | 'unknown_session' | 'malformed' | 'too_many_peers' | 'blocked' | 'unknown_kind' | SubscriberRefusal;

/** What failed on this side, with nobody to tell (counted in `failures`): the transport's send, leaving a payload with the offline store. */
export type MessengerFailure = 'transport_send' | 'offline_store';

export class MessengerError extends Error {
  constructor(
    readonly code: 'queue_full',
    message: string,
  ) {
    super(message);
    this.name = 'MessengerError';
  }
}

export interface MessengerOptions {
  readonly identity: NodeIdentity;
  readonly verifier: CertificateVerifier;
  readonly username: string;
  readonly transport: SignallingTransport;
  /** Where payloads for devices that are offline wait (none: they go only to devices online). */
  readonly offline?: OfflineStore;
  /** The contact list: blocked users are refused early and silently; strangers' handshakes are limited. Default: everyone is a buddy. */
  readonly relationOf?: (user: string) => Relation;
  /**
   * Users this user shares a group with: their handshakes are not limited as a stranger's (every
   * device of every member talks to every other). Their relation stays what the contact list says.
   */
  readonly fellowMember?: (user: string) => boolean;
}

/** Sessions a user who is not a buddy may start with this device: a few, then one a minute. */
const STRANGER_HANDSHAKE_BURST = 3;
const STRANGER_HANDSHAKES_PER_SECOND = 1 / 60;
/** An unanswered handshake is started again after this. */
export const HANDSHAKE_RETRY_MS = 5_000;
/**
 * Sends of one item without an acknowledgement before the session is given up and a new one
 * started: the peer may have restarted and forgotten the session.
 */
const RESESSION_AFTER_ATTEMPTS = 3;
/** Acknowledgements wait this long for a frame to ride on. */
const ACK_DELAY_MS = 5;
const MAX_SESSIONS_PER_PEER = 4;
/** Devices this device keeps state for; a handshake from one more is refused (a flood of fresh keys costs a bounded amount). */
export const MAX_PEER_DEVICES = 4096;
const MAX_FRAME_BYTES = 16 * 1024;
/** A user's online devices are looked up again after this (a new device joins the conversation then). */
export const DEVICE_LIST_TTL_MS = 30_000;
/** The login server's list of a user's devices (online or not) is asked again after this. */
export const REGISTERED_DEVICES_TTL_MS = 5 * 60_000;
/**
 * A kept payload (`sendKept`) a device has not acknowledged after this is also sealed for that
 * device and left with the login server (once): the device may have gone offline while its
 * presence record still stood. Sooner when the overlay says the device is not there. Inside the
 * 10 s the CLI waits for acknowledgements, so a one-shot `parley chat` leaves it before it exits.
 */
export const OFFLINE_FALLBACK_MS = 8_000;

interface Peer {
  readonly user: string;
  readonly key: Uint8Array;
  readonly stream: DeviceStream;
  session: E2eSession | null;
  handshake: { session: E2eSession; startedMs: number } | null;
  timer: Timer | null;
  timerAtMs: number;
  /** The oldest item's send count when the current session began. */
  attemptsAtSession: number;
  /** Kept payloads this device has not acknowledged yet, oldest first (each also in the stream). */
  readonly awaiting: Set<AwaitingPayload>;
}

interface AwaitingPayload {
  readonly payload: Uint8Array;
  readonly sinceMs: number;
  /** Sealed and left with the login server for the device (or being so). */
  sealed: boolean;
}

/** Encodes a payload of one kind as it travels (and as the history's outbox keeps it). */
export function encodePayload<K extends PayloadKind>(kind: K, value: PayloadOf<K>): Uint8Array {
  return toBinary(ChatPayloadSchema, create(ChatPayloadSchema, { body: { case: kind, value } as ChatPayload['body'] }));
}

export class Messenger {
  readonly username: string;
  /** This device's Noise key, by which other devices address it. */
  readonly deviceKey: Uint8Array;
  private readonly config: E2eConfig;
  private readonly peers = new Map<string, Peer>();
  private readonly sessions = new Map<string, E2eSession>();
  private readonly onlineDevices = new ListCache<Uint8Array>(DEVICE_LIST_TTL_MS);
  private readonly registeredDevices = new ListCache<{ id: number; dhKey: Uint8Array }>(REGISTERED_DEVICES_TTL_MS);
  private readonly handlers = new Map<PayloadKind, Set<{ readonly handle: PayloadHandler<PayloadKind> }>>();
  private readonly sessionListeners = new Set<{ readonly listener: (device: { user: string; key: Uint8Array }, role: 'initiator' | 'responder') => void }>();
  /** Payloads refused, by reason: bad input is counted, never thrown. */
  readonly refused = new Map<RefusalCode, number>();
  /** Failures met sending, by kind (each is retried as its place says, but none goes uncounted). */
  readonly failures = new Map<MessengerFailure, number>();
  private closed = false;
  private readonly idleWaiters: (() => void)[] = [];
  /** Payloads being left with the login server for devices that did not acknowledge them. */
  private readonly storing = new Set<Promise<void>>();
  private readonly strangerBudgets = new KeyedTokenBuckets(STRANGER_HANDSHAKE_BURST, STRANGER_HANDSHAKES_PER_SECOND, MAX_PEER_DEVICES);
  /** This run's stream epoch: the start time, with random low bits (two runs in one millisecond). */
  private readonly streamEpoch: bigint;

  constructor(
    private readonly env: Env,
    private readonly options: MessengerOptions,
  ) {
    this.username = options.username;
    this.deviceKey = options.identity.dh.publicKey;
    this.config = { identity: options.identity, verifier: options.verifier, random: env.random, wallTimeMs: () => env.clock.wallTimeMs() };
    this.streamEpoch = (BigInt(Math.floor(env.clock.wallTimeMs())) << 16n) | BigInt(env.random.int(1 << 16));
    options.transport.onReceive((from, payload) => this.receive(from, payload));
  }

  /**
   * Hands every payload of `kind` that arrives (from users who are not blocked) to `handler`,
   * with its sender and whether it waited in the offline store. A kind nobody subscribed to is
   * refused and counted (`unknown_kind`). Returns the unsubscribe.
   */
  subscribe<K extends PayloadKind>(kind: K, handler: PayloadHandler<K>): () => void {
    const entry = { handle: handler as unknown as PayloadHandler<PayloadKind> };
    let set = this.handlers.get(kind);
    if (!set) this.handlers.set(kind, (set = new Set()));
    set.add(entry);
    return () => void set.delete(entry);
  }

  /**
   * Called when a session with a device starts, either way (`responder`: the other device
   * started it, and may have restarted and forgotten what it was told). Returns the removal.
   */
  onSessionStarted(listener: (device: { user: string; key: Uint8Array }, role: 'initiator' | 'responder') => void): () => void {
    const entry = { listener };
    this.sessionListeners.add(entry);
    return () => void this.sessionListeners.delete(entry);
  }

  relationOf(user: string): Relation {
    if (user === this.options.username) return 'buddy';
    return this.options.relationOf?.(user) ?? 'buddy';
  }

  /** Whether payloads for offline devices can be left with the login server. */
  get hasOfflineStore(): boolean {
    return this.options.offline !== undefined;
  }

  /**
   * Sends a payload of `kind` to the given devices of `user`, or to every online one, in their
   * end-to-end streams (retried while this run lives; never this device). Resolves with the
   * devices it went to. With devices given, it is queued before this returns.
   */
  async send<K extends PayloadKind>(user: string, devices: readonly Uint8Array[] | 'all', kind: K, value: PayloadOf<K>): Promise<Uint8Array[]> {
    const keys = (devices === 'all' ? await this.devicesOf(user) : devices).filter((k) => !equalBytes(k, this.deviceKey));
    const payload = encodePayload(kind, value);
    for (const key of keys) {
      const peer = this.peer(user, key);
      if (peer.stream.enqueue(payload)) this.schedule(peer, this.env.clock.now());
    }
    return keys;
  }

  /**
   * Queues an encoded payload for one device and keeps it until that device acknowledges it
   * (then `acknowledged` is called): should the device not answer within OFFLINE_FALLBACK_MS,
   * or the overlay say it is gone, it is also sealed for the device and left with the login
   * server. Sent from a timer at once, so payloads queued in the same turn share frames.
   * Throws a MessengerError (`queue_full`) when the device's stream holds all it may.
   */
  sendKept(user: string, deviceKey: Uint8Array, payload: Uint8Array, acknowledged?: () => void): void {
    const peer = this.peer(user, deviceKey);
    const waiting: AwaitingPayload = { payload, sinceMs: this.env.clock.now(), sealed: false };
    const queued = peer.stream.enqueue(payload, () => {
      peer.awaiting.delete(waiting);
      acknowledged?.();
    });
    if (!queued) throw new MessengerError('queue_full', `too many payloads waiting for a device of ${user}`);
    peer.awaiting.add(waiting);
    this.schedule(peer, this.env.clock.now());
  }

  /**
   * Seals the payload for each of the user's devices that is not in `online` (nor this one) and
   * leaves it with the login server; resolves with how many. The payload may differ per device
   * (a group message carries a device's own copy of the sender key).
   */
  async sealForOffline(user: string, online: readonly Uint8Array[], payload: Uint8Array | ((deviceKey: Uint8Array) => Uint8Array)): Promise<number> {
    const offline = this.options.offline;
    if (!offline) return 0;
    const missing = (await this.allDevicesOf(user)).filter((d) => !equalBytes(d.dhKey, this.deviceKey) && !online.some((key) => equalBytes(key, d.dhKey)));
    const payloadFor = typeof payload === 'function' ? payload : () => payload;
    await Promise.all(missing.map((d) => offline.store(d.id, sealOffline(this.config, d.dhKey, payloadFor(d.dhKey)))));
    return missing.length;
  }

  /** A user's online devices, looked up at most every 30 s (a lookup per message would be rate-limited). */
  devicesOf(user: string): Promise<Uint8Array[]> {
    return this.onlineDevices.get(user, this.env.clock.now(), () => this.options.transport.devices(user));
  }

  /** Fetches, hands on and acknowledges what was sent to this device while it was offline; returns how many its subscribers took as new. */
  async fetchOffline(): Promise<number> {
    const offline = this.options.offline;
    if (!offline) return 0;
    let shown = 0;
    for (let page = await offline.fetch(); page.length > 0; page = await offline.fetch()) {
      for (const waiting of page) {
        const opened = openOffline(this.config, waiting.ciphertext, waiting.sender, waiting.storedAtMs);
        if (!opened.ok) this.refuse(opened.error.code);
        else if (this.deliver(waiting.sender, opened.value.senderKey, opened.value.payload, true)) shown++;
      }
      // Acknowledged whether shown, repeated or refused: each is handled once.
      await offline.ack(page.map((m) => m.id));
    }
    return shown;
  }

  /** Payloads not yet acknowledged by some device. */
  get unacknowledged(): number {
    let total = 0;
    for (const peer of this.peers.values()) total += peer.stream.pending;
    return total;
  }

  /**
   * Resolves true once every device acknowledged every payload sent so far; after `timeoutMs`,
   * false, once the kept payloads that are unacknowledged were left with the login server for
   * their devices (so a client that exits then loses nothing).
   */
  acknowledged(timeoutMs: number): Promise<boolean> {
    if (this.unacknowledged === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = this.env.clock.after(timeoutMs, () => {
        for (const peer of this.peers.values()) this.fallBack(peer);
        void Promise.allSettled([...this.storing]).then(() => resolve(false));
      });
      this.idleWaiters.push(() => {
        timer.cancel();
        resolve(true);
      });
    });
  }

  close(): void {
    this.closed = true;
    for (const peer of this.peers.values()) peer.timer?.cancel();
  }

  /**
   * Seals the kept payloads `peer` has not acknowledged (and that were not sealed yet) for that
   * device and leaves them with the login server: it gets them at its next login. They stay in
   * the stream too; should the live copy arrive after all, the device's subscribers see the
   * same payload twice (chat shows a message once, by its id).
   */
  private fallBack(peer: Peer): void {
    const offline = this.options.offline;
    if (!offline || this.closed) return;
    const due = [...peer.awaiting].filter((w) => !w.sealed);
    if (due.length === 0) return;
    for (const w of due) w.sealed = true;
    const job = this.allDevicesOf(peer.user)
      .then(async (devices) => {
        const device = devices.find((d) => equalBytes(d.dhKey, peer.key));
        if (!device) return; // not a device the login server knows: nowhere to leave it
        // One at a time, oldest first: the device fetches them in this order.
        for (const w of due) if (peer.awaiting.has(w)) await offline.store(device.id, sealOffline(this.config, peer.key, w.payload));
      })
      .catch(() => {
        this.failed('offline_store');
        for (const w of due) w.sealed = false; // tried again at the next occasion
      })
      .finally(() => this.storing.delete(job));
    this.storing.add(job);
  }

  /** A user's devices as the login server knows them, looked up at most every 5 minutes. */
  private allDevicesOf(user: string): Promise<{ id: number; dhKey: Uint8Array }[]> {
    const offline = this.options.offline;
    return offline ? this.registeredDevices.get(user, this.env.clock.now(), () => offline.devicesOf(user)) : Promise.resolve([]);
  }

  private peer(user: string, key: Uint8Array): Peer {
    const hex = toHex(key);
    let peer = this.peers.get(hex);
    if (!peer) {
      peer = { user, key, stream: new DeviceStream(this.streamEpoch), session: null, handshake: null, timer: null, timerAtMs: Infinity, attemptsAtSession: 0, awaiting: new Set() };
      this.peers.set(hex, peer);
    }
    return peer;
  }

  private sendFrame(peer: Peer, body: E2eFrame['body']): void {
    const bytes = toBinary(E2eFrameSchema, create(E2eFrameSchema, { body }));
    this.options.transport.send(peer.user, peer.key, bytes).then(
      (outcome) => {
        if (outcome !== 'absent' && outcome !== 'unreachable') return;
        // The overlay's list of the user's devices is out of date: ask again at the next payload.
        if (outcome === 'absent') this.onlineDevices.forget(peer.user);
        this.fallBack(peer);
      },
      // Not attached, or the supernode did not answer: the stream sends the frame again.
      () => this.failed('transport_send'),
    );
  }

  /** Sends what is due to `peer` (starting a session first if there is none) and sets its timer. */
  private flush(peer: Peer): void {
    if (this.closed) return;
    const now = this.env.clock.now();
    // Kept payloads unacknowledged too long are left with the login server as well.
    if (this.options.offline) {
      const oldest = [...peer.awaiting].find((w) => !w.sealed);
      if (oldest && now - oldest.sinceMs >= OFFLINE_FALLBACK_MS) this.fallBack(peer);
      else if (oldest) this.schedule(peer, oldest.sinceMs + OFFLINE_FALLBACK_MS);
    }
    if (peer.session && peer.stream.oldestAttempts - peer.attemptsAtSession >= RESESSION_AFTER_ATTEMPTS) peer.session = null;
    if (!peer.session) {
      if (!peer.handshake || now - peer.handshake.startedMs >= HANDSHAKE_RETRY_MS) {
        const { session, first } = E2eSession.initiate(this.config, peer.key);
        peer.handshake = { session, startedMs: now };
        this.sendFrame(peer, { case: 'handshake', value: first });
      }
      this.schedule(peer, peer.handshake!.startedMs + HANDSHAKE_RETRY_MS);
      return;
    }
    for (let frame = peer.stream.nextFrame(now); frame; frame = peer.stream.nextFrame(now)) {
      this.sendFrame(peer, { case: 'sealed', value: peer.session.seal(toBinary(E2eStreamFrameSchema, frame)) });
    }
    const due = peer.stream.nextDueMs();
    if (due !== null) this.schedule(peer, due);
  }

  private schedule(peer: Peer, atMs: number): void {
    if (peer.timer && peer.timerAtMs <= atMs) return;
    peer.timer?.cancel();
    peer.timerAtMs = atMs;
    peer.timer = this.env.clock.after(Math.max(0, atMs - this.env.clock.now()), () => {
      peer.timer = null;
      peer.timerAtMs = Infinity;
      this.flush(peer);
    });
  }

  private failed(what: MessengerFailure): void {
    this.failures.set(what, (this.failures.get(what) ?? 0) + 1);
  }

  private refuse(code: RefusalCode): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1);
  }

  private adopt(peer: Peer, session: E2eSession): void {
    this.sessions.set(toHex(session.id), session);
    peer.session = session;
    peer.attemptsAtSession = peer.stream.oldestAttempts;
    // A device newly in touch may be owed something (chat: this user's presence).
    for (const { listener } of [...this.sessionListeners]) listener({ user: peer.user, key: peer.key }, session.role);
    // Older sessions stay openable for frames in flight, a few per peer.
    const mine = [...this.sessions.entries()].filter(([, s]) => equalBytes(s.peerKey, peer.key));
    for (const [hex] of mine.slice(0, Math.max(0, mine.length - MAX_SESSIONS_PER_PEER))) this.sessions.delete(hex);
  }

  private receive(from: string, bytes: Uint8Array): void {
    if (this.closed) return;
    const frame = decodeProto(E2eFrameSchema, bytes, MAX_FRAME_BYTES);
    if (!frame.ok) return this.refuse('malformed');
    const body = frame.value.body;
    if (body.case === 'handshake') this.receiveHandshake(from, body.value);
    else if (body.case === 'sealed') {
      const session = this.sessions.get(toHex(body.value.sessionId));
      if (!session) return this.refuse('unknown_session');
      const opened = session.open(body.value);
      if (!opened.ok) return this.refuse(opened.error.code);
      const streamFrame = decodeProto(E2eStreamFrameSchema, opened.value, MAX_FRAME_BYTES);
      if (!streamFrame.ok) return this.refuse('malformed');
      if (this.relationOf(session.peer!.username) === 'blocked') return this.refuse('blocked');
      const peer = this.peer(session.peer!.username, session.peerKey);
      for (const payload of peer.stream.receive(streamFrame.value)) this.deliver(peer.user, peer.key, payload, false);
      if (this.idleWaiters.length > 0 && this.unacknowledged === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      // Acknowledge soon, on a frame of our own if one goes out first.
      if (peer.stream.owesAck) this.schedule(peer, this.env.clock.now() + ACK_DELAY_MS);
      else this.flush(peer); // acknowledgements may have opened the window
    } else this.refuse('malformed');
  }

  private receiveHandshake(from: string, handshake: E2eHandshake): void {
    if (handshake.step === 1) {
      // The same first message again (a retry, or a copy the network made): the same answer,
      // not a second session under the same id with other keys.
      const known = this.sessions.get(toHex(handshake.sessionId));
      if (known?.answer) {
        if (known.peer?.username === from) this.sendFrame(this.peer(from, known.peerKey), { case: 'handshake', value: known.answer });
        return;
      }
      if (this.peers.size >= MAX_PEER_DEVICES) return this.refuse('too_many_peers');
      // Blocked users get no answer at all; strangers a few sessions, then one a minute.
      const relation = this.relationOf(from);
      if (relation === 'blocked') return this.refuse('blocked');
      if (relation === 'stranger' && !this.options.fellowMember?.(from) && !this.strangerBudgets.take(from, this.env.clock.now())) return this.refuse('rate_limited');
      const answered = E2eSession.respond(this.config, handshake, from);
      if (!answered.ok) return this.refuse(answered.error.code);
      const { session, reply } = answered.value;
      const peer = this.peer(from, session.peerKey);
      this.sendFrame(peer, { case: 'handshake', value: reply });
      this.adopt(peer, session);
      this.flush(peer);
      return;
    }
    for (const peer of this.peers.values()) {
      const pending = peer.handshake;
      if (!pending || !equalBytes(pending.session.id, handshake.sessionId)) continue;
      const done = pending.session.complete(this.config, handshake);
      if (!done.ok) return this.refuse(done.error.code);
      peer.handshake = null;
      this.adopt(peer, pending.session);
      this.flush(peer);
      return;
    }
    this.refuse('unknown_session');
  }

  /** Hands a payload to the subscribers of its kind; true when one took it as new. */
  private deliver(user: string, key: Uint8Array, payload: Uint8Array, offline: boolean): boolean {
    const decoded = decodeProto(ChatPayloadSchema, payload, MAX_FRAME_BYTES);
    if (!decoded.ok) {
      this.refuse('malformed');
      return false;
    }
    const relation = this.relationOf(user);
    if (relation === 'blocked') {
      this.refuse('blocked');
      return false;
    }
    const body = decoded.value.body;
    const handlers = body.case === undefined ? undefined : this.handlers.get(body.case);
    if (!handlers || handlers.size === 0) {
      // A kind this build does not know (a newer peer's), or one nothing here listens for.
      this.refuse('unknown_kind');
      return false;
    }
    const from: Sender = { user, device: key, relation };
    let shown = false;
    for (const { handle } of [...handlers]) {
      const handled = handle(from, body.value!, { offline });
      if (handled === 'new') shown = true;
      else if (handled) this.refuse(handled.refused);
    }
    return shown;
  }
}
