// Chat between users, end to end: each message goes to every online device of the recipient
// and to the sender's own other devices, over an end-to-end session per device pair (the
// supernodes carry only sealed frames) and a reliable stream per device pair (retries,
// de-duplication, order). Messages are shown once each, however often they were sent.
import { create, toBinary } from '@bufbuild/protobuf';
import type { Env, Timer } from '../env/types.js';
import type { CertificateVerifier } from '../crypto/certificate.js';
import type { NodeIdentity } from '../crypto/identity.js';
import { equalBytes, toHex } from '../crypto/bytes.js';
import { decodeProto } from '../wire/messages.js';
import { ChatMessageSchema, ChatPayloadSchema, type CallSignal, type ConnectivityOffer, E2eFrameSchema, E2eStreamFrameSchema, PresenceState, PresenceUpdateSchema, ReadReceiptSchema, TypingSchema, type ChatPayload, type E2eFrame, type E2eHandshake } from '../wire/messages.js';
import { KeyedTokenBuckets, TokenBucket } from '../util/token-bucket.js';
import { E2eSession, type E2eConfig, type E2eErrorCode } from './e2e-session.js';
import { DeviceStream } from './device-stream.js';
import { openOffline, sealOffline } from './offline.js';
import type { ChatHistory } from './history.js';

/**
 * What became of one routed payload, when the transport knows: `absent` — the overlay says the
 * device is not online (no record, or its supernode says it is not attached); `unreachable` —
 * its supernode did not answer, or the device did not acknowledge the delivery.
 */
export type SendOutcome = 'delivered' | 'absent' | 'unreachable';

/** What the chat needs from the overlay: route to one device of a user, list a user's devices, hear routed payloads. */
export interface SignallingTransport {
  send(toUser: string, deviceKey: Uint8Array, payload: Uint8Array): Promise<SendOutcome | void>;
  devices(username: string): Promise<Uint8Array[]>;
  onReceive(handler: (fromUser: string, payload: Uint8Array) => void): void;
}

/** The login server's offline store, for users with no device online. */
export interface OfflineStore {
  /** The user's devices (online or not) with the ids the store addresses them by. */
  devicesOf(username: string): Promise<{ id: number; dhKey: Uint8Array }[]>;
  store(deviceId: number, ciphertext: Uint8Array): Promise<void>;
  /** Messages waiting for this device, oldest first, a page at a time. */
  fetch(): Promise<{ id: number; sender: string; ciphertext: Uint8Array; storedAtMs: number }[]>;
  ack(ids: number[]): Promise<void>;
}

export const MAX_MESSAGE_BYTES = 8 * 1024;
export const MAX_STATUS_TEXT_BYTES = 256;

/** How this user stands to another, from its contact list. */
export type Relation = 'buddy' | 'blocked' | 'stranger';

/** Sessions a user who is not a buddy may start with this device: a few, then one a minute. */
const STRANGER_HANDSHAKE_BURST = 3;
const STRANGER_HANDSHAKES_PER_SECOND = 1 / 60;

/**
 * Messages from users who are not buddies (requests) this device shows and stores: a few per
 * stranger, then one a minute; and for all strangers together, so that many accounts cannot
 * fill the history either. A stranger's session (above) is cheap once open, and every message
 * in it was a row on disk and an event for the user. Beyond, refused and counted (`rate_limited`).
 * A stranger this user wrote to is in a conversation it chose, and not counted.
 */
export const STRANGER_MESSAGE_BURST = 10;
const STRANGER_MESSAGES_PER_SECOND = 1 / 60;
export const ALL_STRANGERS_MESSAGE_BURST = 100;
const ALL_STRANGERS_MESSAGES_PER_SECOND = 1 / 10;

/** A typing indicator is shown for at most this long after it was sent. */
export const TYPING_STALE_MS = 10_000;
const MAX_READ_IDS = 256;

export interface TypingEvent {
  readonly user: string;
  /** The conversation, from this device's side. */
  readonly conversation: string;
  readonly active: boolean;
}

export interface ReadEvent {
  readonly user: string;
  readonly device: Uint8Array;
  readonly ids: readonly string[];
}

export interface BuddyPresence {
  readonly user: string;
  readonly device: Uint8Array;
  readonly state: PresenceState;
  readonly text: string;
  readonly setAtMs: number;
}
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
const REMEMBERED_MESSAGE_IDS = 100_000;
const MAX_FRAME_BYTES = 16 * 1024;
/** A user's online devices are looked up again after this (a new device joins the conversation then). */
export const DEVICE_LIST_TTL_MS = 30_000;
/** The login server's list of a user's devices (online or not) is asked again after this. */
export const REGISTERED_DEVICES_TTL_MS = 5 * 60_000;
/**
 * A message a device has not acknowledged after this is also sealed for that device and left
 * with the login server (once): the device may have gone offline while its presence record
 * still stood. Sooner when the overlay says the device is not there. Inside the 10 s the CLI
 * waits for acknowledgements, so a one-shot `parley chat` leaves it before it exits.
 */
export const OFFLINE_FALLBACK_MS = 8_000;

/** Lists looked up by user, kept for `ttlMs`; an empty or failed answer is not kept (the user may come online any moment). */
class ListCache<T> {
  private readonly entries = new Map<string, { list: Promise<T[]>; atMs: number }>();

  constructor(private readonly ttlMs: number) {}

  get(user: string, nowMs: number, lookUp: () => Promise<T[]>): Promise<T[]> {
    const cached = this.entries.get(user);
    if (cached && nowMs - cached.atMs < this.ttlMs) return cached.list;
    const list = lookUp();
    this.entries.set(user, { list, atMs: nowMs });
    list.then(
      (found) => found.length === 0 && this.entries.delete(user),
      () => this.entries.delete(user),
    );
    return list;
  }

  /** Forgets what is known of `user` (it is known to be out of date). */
  forget(user: string): void {
    this.entries.delete(user);
  }
}

export interface ReceivedMessage {
  readonly id: string;
  /** The other user of the conversation, from this device's side. */
  readonly conversation: string;
  readonly from: string;
  readonly fromDevice: Uint8Array;
  readonly sentAtMs: number;
  readonly text: string;
  /** Sent while this device was offline, kept by the login server. */
  readonly offline: boolean;
  /** From a user who is not a buddy: a request, to accept or ignore. */
  readonly request: boolean;
}

export type RefusalCode = E2eErrorCode | 'unknown_session' | 'malformed' | 'too_many_peers' | 'blocked' | 'rate_limited';

export class ChatError extends Error {
  constructor(
    readonly code: 'too_large' | 'offline' | 'queue_full',
    message: string,
  ) {
    super(message);
    this.name = 'ChatError';
  }
}

interface Peer {
  readonly user: string;
  readonly key: Uint8Array;
  readonly stream: DeviceStream;
  session: E2eSession | null;
  handshake: { session: E2eSession; startedMs: number } | null;
  timer: Timer | null;
  timerAtMs: number;
  /** The presence version last queued for this device (each goes once). */
  presenceSent: bigint;
  /** The oldest item's send count when the current session began. */
  attemptsAtSession: number;
  /** Messages this device has not acknowledged yet, oldest first (each also in the stream). */
  readonly awaiting: Set<AwaitingMessage>;
}

interface AwaitingMessage {
  readonly payload: Uint8Array;
  readonly sinceMs: number;
  /** Sealed and left with the login server for the device (or being so). */
  sealed: boolean;
}

export class ChatClient {
  private readonly config: E2eConfig;
  private readonly peers = new Map<string, Peer>();
  private readonly sessions = new Map<string, E2eSession>();
  private readonly seen = new Set<string>();
  private readonly onlineDevices = new ListCache<Uint8Array>(DEVICE_LIST_TTL_MS);
  private readonly registeredDevices = new ListCache<{ id: number; dhKey: Uint8Array }>(REGISTERED_DEVICES_TTL_MS);
  private readonly listeners: ((message: ReceivedMessage) => void)[] = [];
  /** Frames refused, by reason: bad input is counted, never thrown. */
  readonly refused = new Map<RefusalCode, number>();
  private closed = false;
  private readonly idleWaiters: (() => void)[] = [];
  /** Messages being left with the login server for devices that did not acknowledge them. */
  private readonly storing = new Set<Promise<void>>();
  private readonly presenceListeners: ((presence: BuddyPresence) => void)[] = [];
  private readonly strangerPresenceListeners: ((presence: BuddyPresence) => void)[] = [];
  private readonly typingListeners: ((typing: TypingEvent) => void)[] = [];
  private readonly readListeners: ((read: ReadEvent) => void)[] = [];
  private readonly connectivityListeners: ((from: { user: string; device: Uint8Array; relation: Relation }, offer: ConnectivityOffer) => void)[] = [];
  private readonly callListeners: ((from: { user: string; device: Uint8Array; relation: Relation }, signal: CallSignal) => void)[] = [];
  private readonly strangerBudgets = new KeyedTokenBuckets(STRANGER_HANDSHAKE_BURST, STRANGER_HANDSHAKES_PER_SECOND, MAX_PEER_DEVICES);
  private readonly strangerMessageBudgets = new KeyedTokenBuckets(STRANGER_MESSAGE_BURST, STRANGER_MESSAGES_PER_SECOND, MAX_PEER_DEVICES);
  private readonly allStrangersMessageBudget: TokenBucket;
  /** Users this user wrote to in this run (oldest forgotten first): their answers are not requests to limit. */
  private readonly writtenTo = new Set<string>();
  /** This run's stream epoch: the start time, with random low bits (two runs in one millisecond). */
  private readonly streamEpoch: bigint;
  private presence = create(PresenceUpdateSchema, { state: PresenceState.ONLINE, text: '', setAtMs: 0n });

  constructor(
    private readonly env: Env,
    private readonly options: {
      identity: NodeIdentity;
      verifier: CertificateVerifier;
      username: string;
      transport: SignallingTransport;
      offline?: OfflineStore;
      history?: ChatHistory;
      /** The contact list: blocked users are refused early and silently; strangers' messages are requests. Default: everyone is a buddy. */
      relationOf?: (user: string) => Relation;
      /** Buddies, to whom presence goes. */
      buddies?: () => readonly string[];
      /** The user's settings: tell others when this user types, and when it has read their messages (default on). */
      typingIndicators?: boolean;
      readReceipts?: boolean;
    },
  ) {
    this.config = { identity: options.identity, verifier: options.verifier, random: env.random, wallTimeMs: () => env.clock.wallTimeMs() };
    this.allStrangersMessageBudget = new TokenBucket(ALL_STRANGERS_MESSAGE_BURST, ALL_STRANGERS_MESSAGES_PER_SECOND, env.clock.now());
    this.streamEpoch = (BigInt(Math.floor(env.clock.wallTimeMs())) << 16n) | BigInt(env.random.int(1 << 16));
    options.transport.onReceive((from, payload) => this.receive(from, payload));
    this.resumeQueued();
  }

  /** Messages an earlier run sent and no device acknowledged: sent again (receivers show each id once). */
  private resumeQueued(): void {
    const history = this.options.history;
    if (!history) return;
    for (const queued of history.queued(Math.floor(this.env.clock.wallTimeMs()))) {
      const peer = this.peer(queued.user, queued.deviceKey);
      if (this.enqueueMessage(peer, queued.payload, () => history.release(queued.id))) this.schedule(peer, this.env.clock.now());
    }
  }

  /** Queues a message for a device and keeps it until acknowledged, to leave with the login server should the device not answer. */
  private enqueueMessage(peer: Peer, payload: Uint8Array, release?: () => void): boolean {
    const waiting: AwaitingMessage = { payload, sinceMs: this.env.clock.now(), sealed: false };
    const queued = peer.stream.enqueue(payload, () => {
      peer.awaiting.delete(waiting);
      release?.();
    });
    if (queued) peer.awaiting.add(waiting);
    return queued;
  }

  /**
   * Seals the messages `peer` has not acknowledged (and that were not sealed yet) for that
   * device and leaves them with the login server: it gets them at its next login. They stay
   * in the stream too; should the live copy arrive after all, the device shows the message
   * once (by its id).
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
        for (const w of due) w.sealed = false; // tried again at the next occasion
      })
      .finally(() => this.storing.delete(job));
    this.storing.add(job);
  }

  onMessage(listener: (message: ReceivedMessage) => void): void {
    this.listeners.push(listener);
  }

  /** Buddies' presence as it arrives (from buddies only). */
  onPresence(listener: (presence: BuddyPresence) => void): void {
    this.presenceListeners.push(listener);
  }

  /**
   * Presence from someone this client counts as a stranger. Presence goes to buddies only, so the
   * sender counts us as a buddy: they accepted our request, and our contact list is behind. It is
   * not shown; a listener may ask the login server again.
   */
  onStrangerPresence(listener: (presence: BuddyPresence) => void): void {
    this.strangerPresenceListeners.push(listener);
  }

  onTyping(listener: (typing: TypingEvent) => void): void {
    this.typingListeners.push(listener);
  }

  onRead(listener: (read: ReadEvent) => void): void {
    this.readListeners.push(listener);
  }

  /** Connectivity offers and answers from other devices (blocked users' never arrive). */
  onConnectivity(listener: (from: { user: string; device: Uint8Array; relation: Relation }, offer: ConnectivityOffer) => void): void {
    this.connectivityListeners.push(listener);
  }

  /** Sends a connectivity offer or answer to one device of a user, in their end-to-end stream. */
  sendConnectivity(user: string, deviceKey: Uint8Array, offer: ConnectivityOffer): void {
    this.sendTo(user, [deviceKey], this.payload({ case: 'connectivity', value: offer }));
  }

  /** Call signals from other devices (blocked users' never arrive; stale ones from the offline store are dropped). */
  onCallSignal(listener: (from: { user: string; device: Uint8Array; relation: Relation }, signal: CallSignal) => void): void {
    this.callListeners.push(listener);
  }

  /** Sends a call signal to the given devices of `user`, or to every online one; resolves with the devices it went to. */
  async sendCallSignal(user: string, devices: readonly Uint8Array[] | 'all', signal: CallSignal): Promise<Uint8Array[]> {
    const keys = (devices === 'all' ? await this.devicesOf(user) : devices).filter((k) => !equalBytes(k, this.options.identity.dh.publicKey));
    this.sendTo(user, keys, this.payload({ case: 'call', value: signal }));
    return keys;
  }

  private payload(body: ChatPayload['body']): Uint8Array {
    return toBinary(ChatPayloadSchema, create(ChatPayloadSchema, { body }));
  }

  /** Queues `payload` for each device in `keys` of `user` (not this one). */
  private sendTo(user: string, keys: readonly Uint8Array[], payload: Uint8Array): void {
    for (const key of keys) {
      if (equalBytes(key, this.options.identity.dh.publicKey)) continue;
      const peer = this.peer(user, key);
      if (peer.stream.enqueue(payload)) this.schedule(peer, this.env.clock.now());
    }
  }

  /** Tells `to`'s devices that this user is typing to them, or stopped (unless the user turned indicators off). */
  async setTyping(to: string, active: boolean): Promise<void> {
    if (this.options.typingIndicators === false || this.relationOf(to) === 'blocked') return;
    const payload = this.payload({ case: 'typing', value: create(TypingSchema, { to, active, atMs: BigInt(Math.floor(this.env.clock.wallTimeMs())) }) });
    this.sendTo(to, await this.devicesOf(to).catch(() => []), payload);
  }

  /** Tells the devices that sent these messages that this user has read them (unless the user turned receipts off). */
  markRead(messages: readonly ReceivedMessage[]): void {
    if (this.options.readReceipts === false) return;
    const bySender = new Map<string, { user: string; key: Uint8Array; ids: string[] }>();
    for (const m of messages) {
      if (m.from === this.options.username || this.relationOf(m.from) === 'blocked') continue;
      const hex = toHex(m.fromDevice);
      const entry = bySender.get(hex) ?? { user: m.from, key: m.fromDevice, ids: [] };
      entry.ids.push(m.id);
      bySender.set(hex, entry);
    }
    for (const { user, key, ids } of bySender.values()) {
      for (let i = 0; i < ids.length; i += MAX_READ_IDS) {
        const payload = this.payload({ case: 'read', value: create(ReadReceiptSchema, { ids: ids.slice(i, i + MAX_READ_IDS), atMs: BigInt(Math.floor(this.env.clock.wallTimeMs())) }) });
        this.sendTo(user, [key], payload);
      }
    }
  }

  private relationOf(user: string): Relation {
    if (user === this.options.username) return 'buddy';
    return this.options.relationOf?.(user) ?? 'buddy';
  }

  /**
   * Sets this user's presence and pushes it to every online device of every buddy (and this
   * user's other devices). Invisible is `OFFLINE` to buddies. Devices that connect later get it
   * when their session starts.
   */
  async setPresence(state: PresenceState, text = ''): Promise<void> {
    if (new TextEncoder().encode(text).byteLength > MAX_STATUS_TEXT_BYTES) throw new ChatError('too_large', `a status text holds at most ${MAX_STATUS_TEXT_BYTES} bytes`);
    this.presence = create(PresenceUpdateSchema, { state, text, setAtMs: BigInt(Math.floor(this.env.clock.wallTimeMs())) });
    const users = [...new Set([...(this.options.buddies?.() ?? []), this.options.username])];
    const lists = await Promise.all(users.map(async (user) => ({ user, keys: await this.devicesOf(user).catch(() => []) })));
    for (const { user, keys } of lists) {
      for (const key of keys) if (!equalBytes(key, this.options.identity.dh.publicKey)) this.sendPresence(this.peer(user, key));
    }
  }

  private sendPresence(peer: Peer): void {
    if (this.relationOf(peer.user) !== 'buddy' || this.presence.setAtMs === 0n || peer.presenceSent === this.presence.setAtMs) return;
    peer.presenceSent = this.presence.setAtMs;
    if (peer.stream.enqueue(this.payload({ case: 'presence', value: this.presence }))) this.schedule(peer, this.env.clock.now());
  }

  /** Messages not yet acknowledged by some device. */
  get unacknowledged(): number {
    let total = 0;
    for (const peer of this.peers.values()) total += peer.stream.pending;
    return total;
  }

  /**
   * Resolves true once every device acknowledged every message sent so far; after `timeoutMs`,
   * false, once what is unacknowledged was left with the login server for its devices (so a
   * client that exits then loses nothing).
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

  /**
   * Sends `text` to `to`: to each of its online devices and this user's other devices, and,
   * sealed through the login server, to those that are offline. Resolves once queued (delivery
   * goes on in the background, with retries) with the message id and the devices it goes to.
   */
  async send(to: string, text: string): Promise<{ id: string; devices: number; recipientOnline: number; offlineDevices: number }> {
    const body = new TextEncoder().encode(text);
    if (body.byteLength > MAX_MESSAGE_BYTES) throw new ChatError('too_large', `a message holds at most ${MAX_MESSAGE_BYTES} bytes`);
    const [theirs, mine] = await Promise.all([this.devicesOf(to), to === this.options.username ? Promise.resolve([]) : this.devicesOf(this.options.username)]);
    this.writtenTo.delete(to);
    this.writtenTo.add(to);
    if (this.writtenTo.size > MAX_PEER_DEVICES) this.writtenTo.delete(this.writtenTo.values().next().value!);
    const id = toHex(this.env.random.bytes(16));
    const payload = toBinary(ChatPayloadSchema, create(ChatPayloadSchema, { body: { case: 'message', value: create(ChatMessageSchema, { id, to, sentAtMs: BigInt(Math.floor(this.env.clock.wallTimeMs())), text }) } }));
    this.seen.add(id);
    if (theirs.length === 0 && !this.options.offline) throw new ChatError('offline', `${to} has no device online`);
    // Devices that are not online (the recipient's, and this user's others) get it at their next
    // login; a message the recipient can get nowhere goes nowhere, not even to this user's devices.
    const theirsOffline = await this.sendOffline(to, theirs, payload);
    if (theirs.length === 0 && theirsOffline === 0) throw new ChatError('offline', `${to} has no device to deliver to`);
    const mineOffline = to === this.options.username ? 0 : await this.sendOffline(this.options.username, mine, payload);
    const targets = [...theirs.map((key) => ({ user: to, key })), ...mine.filter((key) => !equalBytes(key, this.options.identity.dh.publicKey)).map((key) => ({ user: this.options.username, key }))];
    const history = this.options.history;
    const nowMs = Math.floor(this.env.clock.wallTimeMs());
    for (const target of targets) {
      const peer = this.peer(target.user, target.key);
      // Kept in the profile until the device acknowledges, so a restart of this client loses nothing.
      const kept = history?.keepUntilAcknowledged(target.user, target.key, payload, nowMs);
      const release = kept === undefined ? undefined : () => history!.release(kept);
      if (!this.enqueueMessage(peer, payload, release)) {
        release?.();
        throw new ChatError('queue_full', `too many messages waiting for a device of ${target.user}`);
      }
      // Sent from a timer at once: messages queued in the same turn share frames.
      this.schedule(peer, this.env.clock.now());
    }
    history?.add({ id, conversation: to, from: this.options.username, fromDevice: toHex(this.options.identity.dh.publicKey), sentAtMs: nowMs, receivedAtMs: nowMs, text, offline: false });
    return { id, devices: targets.length, recipientOnline: theirs.length, offlineDevices: theirsOffline + mineOffline };
  }

  /** A user's devices as the login server knows them, looked up at most every 5 minutes. */
  private allDevicesOf(user: string): Promise<{ id: number; dhKey: Uint8Array }[]> {
    const offline = this.options.offline;
    return offline ? this.registeredDevices.get(user, this.env.clock.now(), () => offline.devicesOf(user)) : Promise.resolve([]);
  }

  /** Seals the payload for each of the user's devices that is not online and leaves it with the login server. */
  private async sendOffline(user: string, online: readonly Uint8Array[], payload: Uint8Array): Promise<number> {
    const offline = this.options.offline;
    if (!offline) return 0;
    const missing = (await this.allDevicesOf(user)).filter((d) => !equalBytes(d.dhKey, this.options.identity.dh.publicKey) && !online.some((key) => equalBytes(key, d.dhKey)));
    await Promise.all(missing.map((d) => offline.store(d.id, sealOffline(this.config, d.dhKey, payload))));
    return missing.length;
  }

  /** Fetches, shows and acknowledges what was sent to this device while it was offline; returns how many were new. */
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

  /** A user's online devices, looked up at most every 30 s (a lookup per message would be rate-limited). */
  private devicesOf(user: string): Promise<Uint8Array[]> {
    return this.onlineDevices.get(user, this.env.clock.now(), () => this.options.transport.devices(user));
  }

  private peer(user: string, key: Uint8Array): Peer {
    const hex = toHex(key);
    let peer = this.peers.get(hex);
    if (!peer) {
      peer = { user, key, stream: new DeviceStream(this.streamEpoch), session: null, handshake: null, timer: null, timerAtMs: Infinity, presenceSent: 0n, attemptsAtSession: 0, awaiting: new Set() };
      this.peers.set(hex, peer);
    }
    return peer;
  }

  private sendFrame(peer: Peer, body: E2eFrame['body']): void {
    const bytes = toBinary(E2eFrameSchema, create(E2eFrameSchema, { body }));
    this.options.transport.send(peer.user, peer.key, bytes).then(
      (outcome) => {
        if (outcome !== 'absent' && outcome !== 'unreachable') return;
        // The overlay's list of the user's devices is out of date: ask again at the next message.
        if (outcome === 'absent') this.onlineDevices.forget(peer.user);
        this.fallBack(peer);
      },
      () => {},
    );
  }

  /** Sends what is due to `peer` (starting a session first if there is none) and sets its timer. */
  private flush(peer: Peer): void {
    if (this.closed) return;
    const now = this.env.clock.now();
    // Messages unacknowledged too long are left with the login server as well.
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

  private refuse(code: RefusalCode): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1);
  }



  private adopt(peer: Peer, session: E2eSession): void {
    this.sessions.set(toHex(session.id), session);
    peer.session = session;
    peer.attemptsAtSession = peer.stream.oldestAttempts;
    // A device newly in touch learns this user's presence. A peer that starts a session may have
    // restarted and forgotten it, so it hears it again.
    if (session.role === 'responder') peer.presenceSent = 0n;
    this.sendPresence(peer);
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
      if (relation === 'stranger' && !this.strangerBudgets.take(from, this.env.clock.now())) return this.refuse('rate_limited');
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

  /** Shows a message once, however often it came; true when it was new. */
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
    if (decoded.value.body.case === 'presence') {
      const p = decoded.value.body.value;
      // Presence counts from buddies only (and this user's own devices).
      if (user !== this.options.username) {
        const presence = { user, device: key, state: p.state, text: p.text, setAtMs: Number(p.setAtMs) };
        for (const listener of relation === 'buddy' ? this.presenceListeners : this.strangerPresenceListeners) listener(presence);
      }
      return false;
    }
    if (decoded.value.body.case === 'typing') {
      const t = decoded.value.body.value;
      const fresh = this.env.clock.wallTimeMs() - Number(t.atMs) <= TYPING_STALE_MS;
      if (fresh && user !== this.options.username) for (const listener of this.typingListeners) listener({ user, conversation: user, active: t.active });
      return false;
    }
    if (decoded.value.body.case === 'read') {
      const ids = decoded.value.body.value.ids.slice(0, MAX_READ_IDS);
      for (const listener of this.readListeners) listener({ user, device: key, ids });
      return false;
    }
    if (decoded.value.body.case === 'connectivity') {
      const offer = decoded.value.body.value;
      for (const listener of this.connectivityListeners) listener({ user, device: key, relation }, offer);
      return false;
    }
    if (decoded.value.body.case === 'call') {
      // A call signal that waited in the offline store is about a call long over.
      if (!offline) for (const listener of this.callListeners) listener({ user, device: key, relation }, decoded.value.body.value);
      return false;
    }
    if (decoded.value.body.case !== 'message') {
      this.refuse('malformed');
      return false;
    }
    const message = decoded.value.body.value;
    if (this.seen.has(message.id)) return false;
    if (relation === 'stranger' && !this.strangerMayWrite(user)) {
      this.refuse('rate_limited');
      return false;
    }
    this.seen.add(message.id);
    if (this.seen.size > REMEMBERED_MESSAGE_IDS) this.seen.delete(this.seen.values().next().value!);
    const conversation = user === this.options.username ? message.to : user;
    const received: ReceivedMessage = { id: message.id, conversation, from: user, fromDevice: key, sentAtMs: Number(message.sentAtMs), text: message.text, offline, request: relation === 'stranger' };
    // The history also knows what was shown before a restart.
    const stored = this.options.history?.add({ id: received.id, conversation, from: user, fromDevice: toHex(key), sentAtMs: received.sentAtMs, receivedAtMs: Math.floor(this.env.clock.wallTimeMs()), text: received.text, offline });
    if (stored === false) return false;
    for (const listener of this.listeners) listener(received);
    return true;
  }

  /**
   * Takes a stranger's message from its own budget, then from all strangers' (in that order: a
   * stranger over its own budget spends nothing of the others'). Buddies are never counted.
   */
  private strangerMayWrite(user: string): boolean {
    if (this.writtenTo.has(user)) return true;
    const now = this.env.clock.now();
    return this.strangerMessageBudgets.take(user, now) && this.allStrangersMessageBudget.take(now);
  }

  close(): void {
    this.closed = true;
    for (const peer of this.peers.values()) peer.timer?.cancel();
  }
}
