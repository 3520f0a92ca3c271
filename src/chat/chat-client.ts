// Chat between users, on the end-to-end messenger (src/messenger/): each message goes to every
// online device of the recipient and to the sender's own other devices, and, sealed through the
// login server, to those that are offline. Messages are shown once each, however often they
// came; a stranger's are requests, shown within a budget. Also typing indicators, read
// receipts and presence (to buddies only).
import { create } from '@bufbuild/protobuf';
import type { Env } from '../env/types.js';
import { equalBytes, toHex } from '../crypto/bytes.js';
import { ChatMessageSchema, PresenceState, PresenceUpdateSchema, ReadReceiptSchema, TypingSchema, type ChatMessage, type PresenceUpdate, type ReadReceipt, type Typing } from '../wire/messages.js';
import { KeyedTokenBuckets, TokenBucket } from '../util/token-bucket.js';
import { Listeners } from '../util/listeners.js';
import { MAX_PEER_DEVICES, MessengerError, encodePayload, type Arrival, type Handled, type Messenger, type Sender } from '../messenger/messenger.js';
import type { ChatHistory } from './history.js';

export const MAX_MESSAGE_BYTES = 8 * 1024;
export const MAX_STATUS_TEXT_BYTES = 256;

/**
 * Messages from users who are not buddies (requests) this device shows and stores: a few per
 * stranger, then one a minute; and for all strangers together, so that many accounts cannot
 * fill the history either. A stranger's session (the messenger limits how many it may start) is
 * cheap once open, and every message in it was a row on disk and an event for the user. Beyond,
 * refused and counted (`rate_limited`, with the messenger's refusals). A stranger this user
 * wrote to is in a conversation it chose, and not counted.
 */
export const STRANGER_MESSAGE_BURST = 10;
const STRANGER_MESSAGES_PER_SECOND = 1 / 60;
export const ALL_STRANGERS_MESSAGE_BURST = 100;
const ALL_STRANGERS_MESSAGES_PER_SECOND = 1 / 10;

/** A typing indicator is shown for at most this long after it was sent. */
export const TYPING_STALE_MS = 10_000;
const MAX_READ_IDS = 256;
const REMEMBERED_MESSAGE_IDS = 100_000;

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

export class ChatError extends Error {
  constructor(
    readonly code: 'too_large' | 'offline' | 'queue_full',
    message: string,
  ) {
    super(message);
    this.name = 'ChatError';
  }
}

export interface ChatOptions {
  readonly history?: ChatHistory;
  /** Buddies, to whom presence goes. */
  readonly buddies?: () => readonly string[];
  /** The user's settings: tell others when this user types, and when it has read their messages (default on). */
  readonly typingIndicators?: boolean;
  readonly readReceipts?: boolean;
}

export class ChatClient {
  private readonly seen = new Set<string>();
  private readonly messageListeners = new Listeners<[ReceivedMessage]>();
  private readonly presenceListeners = new Listeners<[BuddyPresence]>();
  private readonly strangerPresenceListeners = new Listeners<[BuddyPresence]>();
  private readonly typingListeners = new Listeners<[TypingEvent]>();
  private readonly readListeners = new Listeners<[ReadEvent]>();
  private readonly strangerMessageBudgets = new KeyedTokenBuckets(STRANGER_MESSAGE_BURST, STRANGER_MESSAGES_PER_SECOND, MAX_PEER_DEVICES);
  private readonly allStrangersMessageBudget: TokenBucket;
  /** Users this user wrote to in this run (oldest forgotten first): their answers are not requests to limit. */
  private readonly writtenTo = new Set<string>();
  private presence = create(PresenceUpdateSchema, { state: PresenceState.ONLINE, text: '', setAtMs: 0n });
  /** The presence version last queued for each device (each goes once), oldest device first. */
  private readonly presenceSent = new Map<string, bigint>();
  /** The messenger's subscriptions, ended by `close`. */
  private readonly unsubscribe: (() => void)[];
  /**
   * Lookups of a user's online devices that failed (not attached, the overlay did not answer)
   * where a typing indicator or presence went to no device instead: what is best-effort is
   * not worth failing for, but is counted.
   */
  deviceLookupFailures = 0;

  constructor(
    private readonly env: Env,
    private readonly messenger: Messenger,
    private readonly options: ChatOptions = {},
  ) {
    this.allStrangersMessageBudget = new TokenBucket(ALL_STRANGERS_MESSAGE_BURST, ALL_STRANGERS_MESSAGES_PER_SECOND, env.clock.now());
    this.unsubscribe = [
      messenger.subscribe('message', (from, message, arrival) => this.receiveMessage(from, message, arrival)),
      messenger.subscribe('presence', (from, presence) => this.receivePresence(from, presence)),
      messenger.subscribe('typing', (from, typing) => this.receiveTyping(from, typing)),
      messenger.subscribe('read', (from, read) => this.receiveRead(from, read)),
      // A device newly in touch learns this user's presence. A peer that starts a session may
      // have restarted and forgotten it, so it hears it again.
      messenger.onSessionStarted((device, role) => {
        if (role === 'responder') this.presenceSent.delete(toHex(device.key));
        this.sendPresence(device.user, device.key);
      }),
    ];
    this.resumeQueued();
  }

  private get username(): string {
    return this.messenger.username;
  }

  /** Messages an earlier run sent and no device acknowledged: sent again (receivers show each id once). */
  private resumeQueued(): void {
    const history = this.options.history;
    if (!history) return;
    for (const queued of history.queued(Math.floor(this.env.clock.wallTimeMs()))) {
      try {
        this.messenger.sendKept(queued.user, queued.deviceKey, queued.payload, () => history.release(queued.id));
      } catch (error) {
        // A full stream: the message stays in the outbox for the next run.
        if (!(error instanceof MessengerError)) throw error;
      }
    }
  }

  /** New messages as they are shown; returns the removal of the listener. */
  onMessage(listener: (message: ReceivedMessage) => void): () => void {
    return this.messageListeners.add(listener);
  }

  /** Buddies' presence as it arrives (from buddies only). */
  onPresence(listener: (presence: BuddyPresence) => void): () => void {
    return this.presenceListeners.add(listener);
  }

  /**
   * Presence from someone this client counts as a stranger. Presence goes to buddies only, so the
   * sender counts us as a buddy: they accepted our request, and our contact list is behind. It is
   * not shown; a listener may ask the login server again.
   */
  onStrangerPresence(listener: (presence: BuddyPresence) => void): () => void {
    return this.strangerPresenceListeners.add(listener);
  }

  onTyping(listener: (typing: TypingEvent) => void): () => void {
    return this.typingListeners.add(listener);
  }

  onRead(listener: (read: ReadEvent) => void): () => void {
    return this.readListeners.add(listener);
  }

  /** Tells `to`'s devices that this user is typing to them, or stopped (unless the user turned indicators off). */
  async setTyping(to: string, active: boolean): Promise<void> {
    if (this.options.typingIndicators === false || this.messenger.relationOf(to) === 'blocked') return;
    const typing = create(TypingSchema, { to, active, atMs: BigInt(Math.floor(this.env.clock.wallTimeMs())) });
    await this.messenger.send(to, await this.onlineDevicesOrNone(to), 'typing', typing);
  }

  /** Tells the devices that sent these messages that this user has read them (unless the user turned receipts off). */
  markRead(messages: readonly ReceivedMessage[]): void {
    if (this.options.readReceipts === false) return;
    const bySender = new Map<string, { user: string; key: Uint8Array; ids: string[] }>();
    for (const m of messages) {
      if (m.from === this.username || this.messenger.relationOf(m.from) === 'blocked') continue;
      const hex = toHex(m.fromDevice);
      const entry = bySender.get(hex) ?? { user: m.from, key: m.fromDevice, ids: [] };
      entry.ids.push(m.id);
      bySender.set(hex, entry);
    }
    for (const { user, key, ids } of bySender.values()) {
      for (let i = 0; i < ids.length; i += MAX_READ_IDS) {
        const read = create(ReadReceiptSchema, { ids: ids.slice(i, i + MAX_READ_IDS), atMs: BigInt(Math.floor(this.env.clock.wallTimeMs())) });
        void this.messenger.send(user, [key], 'read', read);
      }
    }
  }

  /**
   * Sets this user's presence and pushes it to every online device of every buddy (and this
   * user's other devices). Invisible is `OFFLINE` to buddies. Devices that connect later get it
   * when their session starts.
   */
  async setPresence(state: PresenceState, text = ''): Promise<void> {
    if (new TextEncoder().encode(text).byteLength > MAX_STATUS_TEXT_BYTES) throw new ChatError('too_large', `a status text holds at most ${MAX_STATUS_TEXT_BYTES} bytes`);
    this.presence = create(PresenceUpdateSchema, { state, text, setAtMs: BigInt(Math.floor(this.env.clock.wallTimeMs())) });
    const users = [...new Set([...(this.options.buddies?.() ?? []), this.username])];
    const lists = await Promise.all(users.map(async (user) => ({ user, keys: await this.onlineDevicesOrNone(user) })));
    for (const { user, keys } of lists) {
      for (const key of keys) if (!equalBytes(key, this.messenger.deviceKey)) this.sendPresence(user, key);
    }
  }

  private onlineDevicesOrNone(user: string): Promise<Uint8Array[]> {
    return this.messenger.devicesOf(user).catch(() => {
      this.deviceLookupFailures++;
      return [];
    });
  }

  private sendPresence(user: string, key: Uint8Array): void {
    const hex = toHex(key);
    if (this.messenger.relationOf(user) !== 'buddy' || this.presence.setAtMs === 0n || this.presenceSent.get(hex) === this.presence.setAtMs) return;
    this.presenceSent.delete(hex); // re-inserted as the newest
    this.presenceSent.set(hex, this.presence.setAtMs);
    if (this.presenceSent.size > MAX_PEER_DEVICES) this.presenceSent.delete(this.presenceSent.keys().next().value!);
    void this.messenger.send(user, [key], 'presence', this.presence);
  }

  /** Messages (and other payloads) not yet acknowledged by some device. */
  get unacknowledged(): number {
    return this.messenger.unacknowledged;
  }

  /**
   * Resolves true once every device acknowledged every message sent so far; after `timeoutMs`,
   * false, once what is unacknowledged was left with the login server for its devices (so a
   * client that exits then loses nothing).
   */
  acknowledged(timeoutMs: number): Promise<boolean> {
    return this.messenger.acknowledged(timeoutMs);
  }

  /** Fetches, shows and acknowledges what was sent to this device while it was offline; returns how many messages were new. */
  fetchOffline(): Promise<number> {
    return this.messenger.fetchOffline();
  }

  /**
   * Sends `text` to `to`: to each of its online devices and this user's other devices, and,
   * sealed through the login server, to those that are offline. Resolves once queued (delivery
   * goes on in the background, with retries) with the message id and the devices it goes to.
   */
  async send(to: string, text: string): Promise<{ id: string; devices: number; recipientOnline: number; offlineDevices: number }> {
    const body = new TextEncoder().encode(text);
    if (body.byteLength > MAX_MESSAGE_BYTES) throw new ChatError('too_large', `a message holds at most ${MAX_MESSAGE_BYTES} bytes`);
    const me = this.username;
    const [theirs, mine] = await Promise.all([this.messenger.devicesOf(to), to === me ? Promise.resolve([]) : this.messenger.devicesOf(me)]);
    this.writtenTo.delete(to);
    this.writtenTo.add(to);
    if (this.writtenTo.size > MAX_PEER_DEVICES) this.writtenTo.delete(this.writtenTo.values().next().value!);
    const id = toHex(this.env.random.bytes(16));
    const payload = encodePayload('message', create(ChatMessageSchema, { id, to, sentAtMs: BigInt(Math.floor(this.env.clock.wallTimeMs())), text }));
    this.seen.add(id);
    if (theirs.length === 0 && !this.messenger.hasOfflineStore) throw new ChatError('offline', `${to} has no device online`);
    // Devices that are not online (the recipient's, and this user's others) get it at their next
    // login; a message the recipient can get nowhere goes nowhere, not even to this user's devices.
    const theirsOffline = await this.messenger.sealForOffline(to, theirs, payload);
    if (theirs.length === 0 && theirsOffline === 0) throw new ChatError('offline', `${to} has no device to deliver to`);
    const mineOffline = to === me ? 0 : await this.messenger.sealForOffline(me, mine, payload);
    const targets = [...theirs.map((key) => ({ user: to, key })), ...mine.filter((key) => !equalBytes(key, this.messenger.deviceKey)).map((key) => ({ user: me, key }))];
    const history = this.options.history;
    const nowMs = Math.floor(this.env.clock.wallTimeMs());
    for (const target of targets) {
      // Kept in the profile until the device acknowledges, so a restart of this client loses nothing.
      const kept = history?.keepUntilAcknowledged(target.user, target.key, payload, nowMs);
      const release = kept === undefined ? undefined : () => history!.release(kept);
      try {
        this.messenger.sendKept(target.user, target.key, payload, release);
      } catch (error) {
        if (!(error instanceof MessengerError)) throw error;
        release?.();
        throw new ChatError('queue_full', `too many messages waiting for a device of ${target.user}`);
      }
    }
    history?.add({ id, conversation: to, from: me, fromDevice: toHex(this.messenger.deviceKey), sentAtMs: nowMs, receivedAtMs: nowMs, text, offline: false });
    return { id, devices: targets.length, recipientOnline: theirs.length, offlineDevices: theirsOffline + mineOffline };
  }

  /** Shows a message once, however often it came. */
  private receiveMessage(from: Sender, message: ChatMessage, arrival: Arrival): Handled {
    const { user, device, relation } = from;
    if (this.seen.has(message.id)) return;
    if (relation === 'stranger' && !this.strangerMayWrite(user)) return { refused: 'rate_limited' };
    this.seen.add(message.id);
    if (this.seen.size > REMEMBERED_MESSAGE_IDS) this.seen.delete(this.seen.values().next().value!);
    const conversation = user === this.username ? message.to : user;
    const received: ReceivedMessage = { id: message.id, conversation, from: user, fromDevice: device, sentAtMs: Number(message.sentAtMs), text: message.text, offline: arrival.offline, request: relation === 'stranger' };
    // The history also knows what was shown before a restart.
    const stored = this.options.history?.add({ id: received.id, conversation, from: user, fromDevice: toHex(device), sentAtMs: received.sentAtMs, receivedAtMs: Math.floor(this.env.clock.wallTimeMs()), text: received.text, offline: arrival.offline });
    if (stored === false) return;
    this.messageListeners.emit(received);
    return 'new';
  }

  /** Presence counts from buddies only (and is not shown for this user's own devices). */
  private receivePresence(from: Sender, p: PresenceUpdate): Handled {
    if (from.user === this.username) return;
    const presence = { user: from.user, device: from.device, state: p.state, text: p.text, setAtMs: Number(p.setAtMs) };
    (from.relation === 'buddy' ? this.presenceListeners : this.strangerPresenceListeners).emit(presence);
  }

  private receiveTyping(from: Sender, t: Typing): Handled {
    const fresh = this.env.clock.wallTimeMs() - Number(t.atMs) <= TYPING_STALE_MS;
    if (fresh && from.user !== this.username) this.typingListeners.emit({ user: from.user, conversation: from.user, active: t.active });
  }

  private receiveRead(from: Sender, read: ReadReceipt): Handled {
    this.readListeners.emit({ user: from.user, device: from.device, ids: read.ids.slice(0, MAX_READ_IDS) });
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

  /** Ends the chat's subscriptions (the messenger is its owner's to close). */
  close(): void {
    for (const stop of this.unsubscribe.splice(0)) stop();
  }
}
