// Group chats on the end-to-end messenger: the driver of each group's session (group-session.ts).
// It carries what a session makes to every device of every member (each online device in its
// pairwise stream, kept until acknowledged; each offline one sealed through the login server's
// store, as 1:1 chat does), hands what arrives to the right session, holds what comes before the
// group or the member it needs is known (bounded, for GAP_WAIT_MS), keeps history and sessions
// in the store, and counts every refusal by reason. The admin device signs membership changes;
// a leave by another member is made final by it with a REMOVE.
import { create } from '@bufbuild/protobuf';
import type { Env, Timer } from '../env/types.js';
import type { CertificateVerifier } from '../crypto/certificate.js';
import type { NodeIdentity } from '../crypto/identity.js';
import { equalBytes, toHex } from '../crypto/bytes.js';
import { KeyedTokenBuckets } from '../util/token-bucket.js';
import { Listeners } from '../util/listeners.js';
import { MessengerError, encodePayload, type Arrival, type Handled, type Messenger, type Sender } from '../messenger/messenger.js';
import { GroupContentSchema, GroupPayloadSchema, GroupReadMarkSchema, GroupTextSchema, type GroupDelivery, type GroupPayload, type GroupWelcome } from '../wire/messages.js';
import { GROUP_ID_BYTES, checkGroupName, createGroup, currentMembers, isMember, makeLeave, makeWelcome, openWelcome, signOp, type Change, type GroupState } from './membership.js';
import { GroupSession, type GroupDelivered, type MembershipChange } from './group-session.js';
import { MemoryGroupStore, type GroupStore, type StoredGroupMessage } from './group-history.js';
import { GAP_WAIT_MS, MAX_GROUP_MEMBERS, MAX_GROUP_TEXT_BYTES, MAX_GROUPS, MAX_MENTIONS, WELCOME_BURST, WELCOMES_PER_SECOND } from './limits.js';

/** Deliveries held because their group, or their sender's membership, is not known yet. */
export const MAX_HELD_UNKNOWN = 256;
/** Sessions are written to the store at most this often (and at close). */
const SAVE_DELAY_MS = 1_000;

export type GroupErrorCode = 'unknown_group' | 'not_admin' | 'not_member' | 'too_large' | 'too_many_members' | 'too_many_groups' | 'invalid_name' | 'invalid_user' | 'already_member' | 'queue_full';

export class GroupError extends Error {
  constructor(
    readonly code: GroupErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GroupError';
  }
}

/** A group message as shown. */
export interface GroupMessage {
  readonly groupId: string;
  readonly id: string;
  readonly from: string;
  readonly fromDevice: Uint8Array;
  readonly seq: bigint;
  readonly lamport: bigint;
  readonly sentAtMs: number;
  readonly text: string;
  readonly mentions: readonly string[];
  /** This user is among the members mentioned. */
  readonly mentionsMe: boolean;
  readonly offline: boolean;
}

export type GroupEvent =
  | { readonly kind: 'joined'; readonly groupId: string; readonly name: string; readonly admin: string }
  | { readonly kind: 'membership'; readonly groupId: string; readonly added: readonly string[]; readonly removed: readonly string[]; readonly renamed: boolean }
  | { readonly kind: 'read'; readonly groupId: string; readonly user: string; readonly lamport: bigint };

export interface GroupView {
  readonly groupId: string;
  readonly name: string;
  readonly admin: string;
  readonly members: readonly string[];
  readonly version: number;
  /** This user is still a member (false: it left or was removed; the history stays). */
  readonly active: boolean;
  /** This device signs the group's changes. */
  readonly isAdmin: boolean;
  /** Each member's read mark (a lamport of the display order). */
  readonly readMarks: Readonly<Record<string, string>>;
}

export interface GroupClientOptions {
  readonly identity: NodeIdentity;
  readonly verifier: CertificateVerifier;
  readonly store?: GroupStore;
}

interface HeldDelivery {
  readonly groupId: string;
  readonly from: Sender;
  readonly payload: GroupPayload;
  readonly arrival: Arrival;
  readonly atMs: number;
}

export class GroupClient {
  private readonly sessions = new Map<string, GroupSession>();
  private readonly store: GroupStore;
  private readonly messageListeners = new Listeners<[GroupMessage]>();
  private readonly eventListeners = new Listeners<[GroupEvent]>();
  private readonly welcomeBudgets = new KeyedTokenBuckets(WELCOME_BURST, WELCOMES_PER_SECOND, 4096);
  private readonly held: HeldDelivery[] = [];
  private readonly dirty = new Set<string>();
  private saveTimer: Timer | null = null;
  private tickTimer: Timer | null = null;
  private tickAtMs = Infinity;
  private readonly unsubscribe: () => void;
  /** What was refused, by reason (bad input is counted, never thrown). */
  readonly refused = new Map<string, number>();
  /** Failures met sending (a device lookup, the offline store, a full stream), by kind. */
  readonly failures = new Map<string, number>();
  /** Deliveries held because their group or member was not known yet, by reason (tried again when it is). */
  readonly waited = new Map<string, number>();
  /** Copies that came again (another path, a retry) and were not shown twice. */
  duplicates = 0;
  private closed = false;

  constructor(
    private readonly env: Env,
    private readonly messenger: Messenger,
    private readonly options: GroupClientOptions,
  ) {
    this.store = options.store ?? new MemoryGroupStore();
    const self = this.self;
    for (const { id, json } of this.store.loadSessions()) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(json);
      } catch {
        parsed = null;
      }
      const session = parsed ? GroupSession.fromJSON(parsed as never, self) : null;
      if (session && session.id === id) this.sessions.set(id, session);
      else this.count(this.refused, 'stored_session_unreadable');
    }
    this.unsubscribe = messenger.subscribe('group', (from, payload, arrival) => this.receive(from, payload, arrival));
  }

  private get self(): { user: string; device: Uint8Array } {
    return { user: this.messenger.username, device: this.messenger.deviceKey };
  }

  onMessage(listener: (message: GroupMessage) => void): () => void {
    return this.messageListeners.add(listener);
  }

  onEvent(listener: (event: GroupEvent) => void): () => void {
    return this.eventListeners.add(listener);
  }

  /** Whether `user` is in a group with this user (their devices' handshakes are not a stranger's). */
  sharesGroupWith(user: string): boolean {
    for (const s of this.sessions.values()) if (s.active && isMember(s.state, user)) return true;
    return false;
  }

  list(): GroupView[] {
    return [...this.sessions.values()].map((s) => this.view(s));
  }

  group(groupId: string): GroupView {
    return this.view(this.session(groupId));
  }

  /** The last `limit` messages of a group, in the display order. */
  history(groupId: string, limit = 50): StoredGroupMessage[] {
    this.session(groupId);
    return this.store.messages(groupId, limit);
  }

  /** Makes a group with this device as its admin, and adds `members` (each gets a welcome). Resolves with its id. */
  async create(name: string, members: readonly string[] = []): Promise<string> {
    if (this.sessions.size >= MAX_GROUPS) throw new GroupError('too_many_groups', `this device is in ${MAX_GROUPS} groups, the most it keeps`);
    const unique = [...new Set(members)].filter((m) => m !== this.self.user);
    if (unique.length + 1 > MAX_GROUP_MEMBERS) throw new GroupError('too_many_members', `a group has at most ${MAX_GROUP_MEMBERS} members`);
    const created = createGroup(this.options.identity, this.self.user, this.env.random.bytes(GROUP_ID_BYTES), name);
    if (!created.ok) throw new GroupError(created.error.code === 'invalid_name' ? 'invalid_name' : 'invalid_user', created.error.message);
    const session = new GroupSession(created.value, this.self);
    this.sessions.set(session.id, session);
    this.markDirty(session.id);
    // This user's other devices are members too: they learn the group from a welcome.
    const welcome = this.groupPayload(session, { case: 'welcome', value: makeWelcome(this.options.identity, session.state, this.nowMs()) });
    await this.broadcast([this.self.user], () => welcome);
    for (const member of unique) await this.invite(session.id, member);
    return session.id;
  }

  /** Adds `user` (admin device only): the op goes to the members, a welcome to the new member's devices. */
  async invite(groupId: string, user: string): Promise<void> {
    const session = this.session(groupId);
    await this.change(session, { kind: 'add', user });
    const welcome = this.groupPayload(session, { case: 'welcome', value: makeWelcome(this.options.identity, session.state, this.nowMs()) });
    await this.broadcast([user], () => welcome);
  }

  /** Removes `user` (admin device only); every other member device makes a fresh sender key before its next message. */
  async remove(groupId: string, user: string): Promise<void> {
    await this.change(this.session(groupId), { kind: 'remove', user });
  }

  async rename(groupId: string, name: string): Promise<void> {
    const checked = checkGroupName(name);
    if (!checked.ok) throw new GroupError('invalid_name', checked.error.message);
    await this.change(this.session(groupId), { kind: 'rename', name });
  }

  /** Leaves: every member device (this user's others too) stops counting this user; the admin makes it final. */
  async leave(groupId: string): Promise<void> {
    const session = this.session(groupId);
    if (!session.active) throw new GroupError('not_member', 'this user is not a member of the group');
    const leave = makeLeave(this.options.identity, this.self.user, session.state.groupId, this.nowMs());
    const recipients = currentMembers(session.state);
    const applied = session.applyLeave(this.options.verifier, leave, this.nowMs());
    if (!applied.ok) throw new GroupError('not_member', applied.error.message);
    this.changed(session, applied.value);
    await this.broadcast(recipients, () => this.groupPayload(session, { case: 'leave', value: leave }));
  }

  /**
   * Sends `text` to every device of every member (`mentions`: members named). Resolves once
   * queued, with the message's id and how many devices it goes to (online, and sealed for
   * offline ones).
   */
  async send(groupId: string, text: string, mentions: readonly string[] = []): Promise<{ id: string; seq: bigint; devices: number }> {
    const session = this.session(groupId);
    if (!session.active) throw new GroupError('not_member', 'this user is not a member of the group');
    if (new TextEncoder().encode(text).byteLength > MAX_GROUP_TEXT_BYTES) throw new GroupError('too_large', `a group message holds at most ${MAX_GROUP_TEXT_BYTES} bytes`);
    const named = [...new Set(mentions)].filter((m) => isMember(session.state, m));
    if (named.length > MAX_MENTIONS) throw new GroupError('too_large', `a message mentions at most ${MAX_MENTIONS} members`);
    const id = toHex(this.env.random.bytes(16));
    const sentAtMs = this.nowMs();
    const content = create(GroupContentSchema, { body: { case: 'text', value: create(GroupTextSchema, { id, text, mentions: named, sentAtMs: BigInt(sentAtMs) }) } });
    const sealed = session.seal(this.env.random, content);
    // Written before it goes: a restart must not number a new message as one already sent
    // (receivers would drop it as a repeat).
    this.saveSession(session);
    this.store.addMessage({ groupId, id, from: this.self.user, fromDevice: toHex(this.self.device), seq: sealed.seq, lamport: sealed.lamport, sentAtMs, receivedAtMs: sentAtMs, text, mentions: named });
    const devices = await this.broadcast(currentMembers(session.state), (user, device, offline) => {
      const { delivery, confirm } = sealed.deliveryFor(user, device, offline);
      return { payload: this.groupPayload(session, { case: 'message', value: delivery }), confirm };
    });
    return { id, seq: sealed.seq, devices };
  }

  /** Tells every member device that this user read everything shown so far in the group. */
  async markRead(groupId: string): Promise<void> {
    const session = this.session(groupId);
    if (!session.active) return;
    const lamport = session.seenLamport;
    if ((session.readMarks.get(this.self.user) ?? 0n) >= lamport) return;
    const content = create(GroupContentSchema, { body: { case: 'read', value: create(GroupReadMarkSchema, { lamport }) } });
    const sealed = session.seal(this.env.random, content);
    this.saveSession(session);
    await this.broadcast(currentMembers(session.state), (user, device, offline) => {
      const { delivery, confirm } = sealed.deliveryFor(user, device, offline);
      return { payload: this.groupPayload(session, { case: 'message', value: delivery }), confirm };
    });
  }

  /** Ends the subscription and timers, and writes what changed (the messenger is its owner's to close). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.saveTimer?.cancel();
    this.tickTimer?.cancel();
    this.saveNow();
  }

  // --- sending --------------------------------------------------------------------------

  private groupPayload(session: GroupSession, body: GroupPayload['body']): Uint8Array {
    return encodePayload('group', create(GroupPayloadSchema, { groupId: session.state.groupId, body }));
  }

  /**
   * Sends to every device of each user: online ones in their streams (kept until acknowledged,
   * then `confirm`), the others sealed through the login server. Resolves with how many devices.
   */
  private async broadcast(users: readonly string[], payloadFor: (user: string, device: Uint8Array, offline: boolean) => Uint8Array | { payload: Uint8Array; confirm?: () => void }): Promise<number> {
    let devices = 0;
    const as = (v: Uint8Array | { payload: Uint8Array; confirm?: () => void }) => (v instanceof Uint8Array ? { payload: v } : v);
    for (const user of users) {
      const online = await this.messenger.devicesOf(user).catch(() => {
        this.count(this.failures, 'device_lookup');
        return [] as Uint8Array[];
      });
      for (const key of online) {
        if (equalBytes(key, this.self.device)) continue;
        const { payload, confirm } = as(payloadFor(user, key, false));
        try {
          this.messenger.sendKept(user, key, payload, confirm);
          devices++;
        } catch (error) {
          if (!(error instanceof MessengerError)) throw error;
          this.count(this.failures, 'queue_full');
        }
      }
      devices += await this.messenger.sealForOffline(user, online, (key) => as(payloadFor(user, key, true)).payload).catch(() => {
        this.count(this.failures, 'offline_store');
        return 0;
      });
    }
    return devices;
  }

  /** Signs the admin's change, applies it here, and sends the op to every member device (and to a removed member's). */
  private async change(session: GroupSession, change: Change): Promise<void> {
    const signed = signOp(this.options.identity, session.state, change, this.nowMs());
    if (!signed.ok) {
      const code = signed.error.code;
      const mapped: GroupErrorCode = code === 'not_admin' || code === 'too_many_members' || code === 'already_member' || code === 'not_member' || code === 'invalid_name' ? code : 'invalid_user';
      throw new GroupError(mapped, signed.error.message);
    }
    const recipients = new Set(currentMembers(session.state));
    const applied = session.adopt(signed.value.state);
    for (const u of applied.removed) recipients.add(u);
    // A new member starts from its welcome, not from this op.
    for (const u of applied.added) recipients.delete(u);
    this.changed(session, applied);
    await this.broadcast([...recipients], () => this.groupPayload(session, { case: 'op', value: signed.value.op }));
  }

  // --- receiving ------------------------------------------------------------------------

  private receive(from: Sender, payload: GroupPayload, arrival: Arrival): Handled {
    if (this.closed) return;
    if (payload.groupId.byteLength !== GROUP_ID_BYTES) return this.refuse('malformed');
    const groupId = toHex(payload.groupId);
    const body = payload.body;
    if (body.case === 'welcome') return this.receiveWelcome(from, groupId, body.value);
    const session = this.sessions.get(groupId);
    if (!session) return this.hold({ groupId, from, payload, arrival, atMs: this.env.clock.now() }, 'unknown_group');
    switch (body.case) {
      case 'op': {
        const applied = session.applyOp(body.value);
        if (applied.ok) {
          this.changed(session, applied.value);
          return 'new';
        }
        if (applied.error.code === 'stale') this.duplicates++;
        else this.refuse(applied.error.code);
        return;
      }
      case 'leave': {
        const applied = session.applyLeave(this.options.verifier, body.value, this.nowMs());
        if (!applied.ok) return applied.error.code === 'not_member' ? void this.duplicates++ : this.refuse(applied.error.code);
        this.changed(session, applied.value);
        return 'new';
      }
      case 'message':
        return this.receiveMessage(session, from, body.value, arrival);
      default:
        return this.refuse('malformed');
    }
  }

  private receiveWelcome(from: Sender, groupId: string, welcome: GroupWelcome): Handled {
    const opened = openWelcome(this.options.verifier, welcome, this.self.user, this.nowMs());
    if (!opened.ok) return this.refuse(opened.error.code);
    const state = opened.value;
    if (toHex(state.groupId) !== groupId) return this.refuse('wrong_group');
    // Welcomes come from the admin's own devices (its other devices forward none).
    if (from.user !== state.admin) return this.refuse('not_admin');
    const known = this.sessions.get(groupId);
    if (known) {
      const adopted = known.adoptWelcome(state);
      if (!adopted.ok) return adopted.error.code === 'stale' ? void this.duplicates++ : this.refuse(adopted.error.code);
      this.changed(known, adopted.value);
      return 'new';
    }
    if (this.sessions.size >= MAX_GROUPS) return this.refuse('too_many_groups');
    if (from.user !== this.self.user && !this.welcomeBudgets.take(from.user, this.env.clock.now())) return this.refuse('rate_limited');
    const session = new GroupSession(state, this.self);
    this.sessions.set(groupId, session);
    this.markDirty(groupId);
    this.eventListeners.emit({ kind: 'joined', groupId, name: state.name, admin: state.admin });
    this.retryHeld(groupId);
    return 'new';
  }

  private receiveMessage(session: GroupSession, from: Sender, delivery: GroupDelivery, arrival: Arrival): Handled {
    const received = session.receive({ user: from.user, device: from.device }, delivery, this.env.clock.now());
    if (!received.ok) {
      const code = received.error.code;
      if (code === 'duplicate' || code === 'replayed') {
        this.duplicates++;
        return;
      }
      // A member this device does not know yet (its ADD is on the way): held a while.
      if (code === 'not_member') return this.hold({ groupId: session.id, from, payload: create(GroupPayloadSchema, { groupId: session.state.groupId, body: { case: 'message', value: delivery } }), arrival, atMs: this.env.clock.now() }, code);
      return this.refuse(code);
    }
    this.markDirty(session.id);
    this.armTick();
    return this.show(session, received.value, arrival.offline) ? 'new' : undefined;
  }

  /** Stores and tells what a session handed on; true when something was new. */
  private show(session: GroupSession, delivered: readonly GroupDelivered[], offline: boolean): boolean {
    let shown = false;
    for (const d of delivered) {
      const body = d.content.body;
      if (body.case === 'read') {
        this.eventListeners.emit({ kind: 'read', groupId: session.id, user: d.sender, lamport: body.value.lamport });
        continue;
      }
      if (body.case !== 'text') continue;
      const t = body.value;
      const message: GroupMessage = {
        groupId: session.id,
        id: t.id,
        from: d.sender,
        fromDevice: d.senderDevice,
        seq: d.seq,
        lamport: d.lamport,
        sentAtMs: Number(t.sentAtMs),
        text: t.text,
        mentions: t.mentions,
        mentionsMe: t.mentions.includes(this.self.user),
        offline,
      };
      const fresh = this.store.addMessage({ groupId: session.id, id: t.id, from: d.sender, fromDevice: toHex(d.senderDevice), seq: d.seq, lamport: d.lamport, sentAtMs: message.sentAtMs, receivedAtMs: this.nowMs(), text: t.text, mentions: t.mentions });
      if (!fresh) {
        this.duplicates++;
        continue;
      }
      shown = true;
      this.messageListeners.emit(message);
    }
    return shown;
  }

  /** After a change of membership: saved, told, held deliveries tried again; the admin makes a leave final. */
  private changed(session: GroupSession, change: MembershipChange): void {
    this.markDirty(session.id);
    if (change.added.length > 0 || change.removed.length > 0 || change.renamed) this.eventListeners.emit({ kind: 'membership', groupId: session.id, ...change });
    const state = session.state;
    if (equalBytes(state.adminKey, this.options.identity.signing.publicKey) && isMember(state, this.self.user)) {
      // Each REMOVE applies at once (its signing is synchronous), so a user is removed once.
      for (const user of [...state.left]) if (session.state.left.includes(user)) void this.change(session, { kind: 'remove', user }).catch(() => this.count(this.failures, 'finalise_leave'));
    }
    if (change.added.length > 0) this.retryHeld(session.id);
  }

  private hold(held: HeldDelivery, reason: string): Handled {
    if (this.held.length >= MAX_HELD_UNKNOWN) return this.refuse('held_full');
    this.held.push(held);
    this.count(this.waited, reason);
    this.armTick();
  }

  private retryHeld(groupId: string): void {
    const mine = this.held.filter((h) => h.groupId === groupId);
    if (mine.length === 0) return;
    this.held.splice(0, this.held.length, ...this.held.filter((h) => h.groupId !== groupId));
    for (const h of mine) this.receive(h.from, h.payload, h.arrival);
  }

  // --- time -----------------------------------------------------------------------------

  /** One timer for all groups: gaps passed over, held deliveries expired. */
  private armTick(): void {
    if (this.closed) return;
    let next = Infinity;
    for (const s of this.sessions.values()) next = Math.min(next, s.nextDeadlineMs() ?? Infinity);
    for (const h of this.held) next = Math.min(next, h.atMs + GAP_WAIT_MS);
    if (next === Infinity || next >= this.tickAtMs) return;
    this.tickTimer?.cancel();
    this.tickAtMs = next;
    this.tickTimer = this.env.clock.after(Math.max(0, next - this.env.clock.now()), () => {
      this.tickTimer = null;
      this.tickAtMs = Infinity;
      this.tick();
    });
  }

  private tick(): void {
    const now = this.env.clock.now();
    for (const s of this.sessions.values()) {
      const { delivered, skipped } = s.tick(now);
      for (let i = 0; i < skipped; i++) this.refuse('gap_skipped');
      if (delivered.length > 0) {
        this.markDirty(s.id);
        this.show(s, delivered, false);
      }
    }
    const expired = this.held.filter((h) => now - h.atMs >= GAP_WAIT_MS);
    if (expired.length > 0) {
      this.held.splice(0, this.held.length, ...this.held.filter((h) => now - h.atMs < GAP_WAIT_MS));
      for (let i = 0; i < expired.length; i++) this.refuse('held_expired');
    }
    this.armTick();
  }

  private markDirty(groupId: string): void {
    this.dirty.add(groupId);
    if (this.saveTimer || this.closed) return;
    this.saveTimer = this.env.clock.after(SAVE_DELAY_MS, () => {
      this.saveTimer = null;
      this.saveNow();
    });
  }

  private saveSession(session: GroupSession): void {
    this.dirty.delete(session.id);
    this.store.saveSession(session.id, JSON.stringify(session.toJSON()));
  }

  private saveNow(): void {
    for (const id of this.dirty) {
      const session = this.sessions.get(id);
      if (session) this.store.saveSession(id, JSON.stringify(session.toJSON()));
    }
    this.dirty.clear();
  }

  // --- small helpers ----------------------------------------------------------------------

  private session(groupId: string): GroupSession {
    const session = this.sessions.get(groupId);
    if (!session) throw new GroupError('unknown_group', `no group ${groupId} on this device`);
    return session;
  }

  private view(s: GroupSession): GroupView {
    const state: GroupState = s.state;
    return {
      groupId: s.id,
      name: state.name,
      admin: state.admin,
      members: currentMembers(state),
      version: state.version,
      active: s.active,
      isAdmin: equalBytes(state.adminKey, this.options.identity.signing.publicKey),
      readMarks: Object.fromEntries([...s.readMarks].map(([u, l]) => [u, l.toString()])),
    };
  }

  private nowMs(): number {
    return Math.floor(this.env.clock.wallTimeMs());
  }

  /** Counted here, by the group's own reasons (the messenger's counters are not told again). */
  private refuse(code: string): Handled {
    this.count(this.refused, code);
  }

  private count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }
}
