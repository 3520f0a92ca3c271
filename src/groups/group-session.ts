// One group on one device, as pure state: the membership (membership.ts), this device's sender
// key and what each other member device was given of it, the other devices' sender keys
// (sender-key.ts), and the order of what arrives: each sending device numbers its messages
// (`seq`), and a receiver hands them on in that order, once each, holding back (bounded) what
// comes before a gap, and passing over a gap that stays open GAP_WAIT_MS. The display order
// across senders is (lamport, sender, device, seq), the same on every device. No I/O: the driver
// (group-client.ts) gives it the time and carries what it returns.
import { create, toBinary } from '@bufbuild/protobuf';
import { err, ok, type CodedError, type Result } from '../result.js';
import type { Random } from '../env/types.js';
import { equalBytes, toHex } from '../crypto/bytes.js';
import { GroupContentSchema, GroupDeliverySchema, SenderKeySchema, decodeProto, type GroupContent, type GroupDelivery, type GroupLeave, type GroupOp, type SenderKey } from '../wire/messages.js';
import { applyLeave, applyOp, groupStateFromJson, groupStateToJson, isMember, readOp, type GroupState, type GroupStateJson, type MembershipErrorCode } from './membership.js';
import type { CertificateVerifier } from '../crypto/certificate.js';
import { OwnSenderKey, ReceivedSenderKey, readHeader, validDistribution, type ReceivedSenderKeyJson, type SenderKeyErrorCode } from './sender-key.js';
import { GAP_WAIT_MS, MAX_GROUP_TEXT_BYTES, MAX_HELD_OPS, MAX_HELD_PER_GROUP, MAX_HELD_PER_SENDER, MAX_MENTIONS, MAX_SENDER_DEVICES, SENDER_KEYS_PER_DEVICE } from './limits.js';

/** Why a delivery, op or leave was refused (counted by the driver). */
export type GroupRefusal =
  | MembershipErrorCode
  | SenderKeyErrorCode
  | 'wrong_sender' // the header names another device or user than the one that sent it
  | 'unknown_key' // no sender key of this id from that device (a removed member's view of later messages)
  | 'duplicate'
  | 'held_full'
  | 'too_many_senders'
  | 'bad_content'
  | 'gap_skipped'
  | 'removed'; // this device's user is no longer a member

export type GroupRefusalError = CodedError<GroupRefusal>;

function fail(code: GroupRefusal, message: string): Result<never, GroupRefusalError> {
  return err({ code, message });
}

/** A message handed on, in its sender's order. */
export interface GroupDelivered {
  readonly sender: string;
  readonly senderDevice: Uint8Array;
  readonly seq: bigint;
  readonly lamport: bigint;
  readonly content: GroupContent;
}

interface HeldMessage {
  readonly seq: bigint;
  readonly lamport: bigint;
  readonly content: GroupContent;
}

interface SendingDevice {
  readonly user: string;
  readonly key: Uint8Array;
  /** Newest last, at most SENDER_KEYS_PER_DEVICE. */
  keys: ReceivedSenderKey[];
  /** The next sequence number to hand on (null: none known yet). */
  nextSeq: bigint | null;
  readonly held: Map<bigint, HeldMessage>;
  /** Since when the oldest gap has been open. */
  gapSinceMs: number | null;
}

/** What one member device was given of this device's sender key. */
interface GivenKey {
  readonly user: string;
  keyId: number;
  /** The first sequence number sent to it (its receiver starts there). */
  readonly firstSeq: bigint;
  /** It acknowledged a delivery that carried the current key: no need to send it again. */
  confirmed: boolean;
}

export interface GroupSessionJson {
  state: GroupStateJson;
  nextSeq: string;
  lamport: string;
  readMarks: [string, string][];
  senders: { user: string; key: string; nextSeq: string | null; keys: ReceivedSenderKeyJson[] }[];
}

/** What an applied op changed, for the driver (welcomes to send, keys to forget). */
export interface MembershipChange {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly renamed: boolean;
}

export class GroupSession {
  private own: OwnSenderKey | null = null;
  private nextSeq = 1n;
  private lamport: bigint;
  private readonly given = new Map<string, GivenKey>();
  private readonly senders = new Map<string, SendingDevice>();
  private readonly heldOps = new Map<number, GroupOp>();
  private heldCount = 0;
  /** The lamport each member read up to. */
  readonly readMarks = new Map<string, bigint>();

  constructor(
    private membership: GroupState,
    private readonly self: { readonly user: string; readonly device: Uint8Array },
  ) {
    this.lamport = membership.lamport;
  }

  get state(): GroupState {
    return this.membership;
  }

  get id(): string {
    return toHex(this.membership.groupId);
  }

  /** Whether this device's user still counts as a member. */
  get active(): boolean {
    return isMember(this.membership, this.self.user);
  }

  /** Messages held back, in all. */
  get held(): number {
    return this.heldCount;
  }

  /**
   * Seals one message for every member device. Returns the ciphertext and, for each device it
   * goes to, what to put beside it (the sender key when that device may not have it yet).
   * A removal since the last message made a fresh sender key first.
   */
  seal(random: Random, content: GroupContent): { seq: bigint; lamport: bigint; deliveryFor: (user: string, device: Uint8Array, offline: boolean) => { delivery: GroupDelivery; confirm: () => void } } {
    if (!this.active) throw new Error('sealing for a group this user is not a member of');
    if (!this.own) this.own = OwnSenderKey.create(random);
    const own = this.own;
    const seq = this.nextSeq++;
    this.lamport += 1n;
    const lamport = this.lamport;
    if (content.body.case === 'read') this.noteRead(this.self.user, content.body.value.lamport);
    const keyId = own.keyId;
    // Taken before sealing: the chain as it opens this message and the ones after.
    const atThisMessage = own.distribution(seq);
    const distribution = (firstSeq: bigint): SenderKey => (firstSeq === seq ? atThisMessage : create(SenderKeySchema, { ...atThisMessage, firstSeq }));
    const ciphertext = own.seal({ groupId: this.membership.groupId, senderDevice: this.self.device, sender: this.self.user, seq, lamport }, toBinary(GroupContentSchema, content));
    return {
      seq,
      lamport,
      deliveryFor: (user, device, offline) => {
        const hex = toHex(device);
        let given = this.given.get(hex);
        if (!given) this.given.set(hex, (given = { user, keyId, firstSeq: seq, confirmed: false }));
        if (given.keyId !== keyId) {
          given.keyId = keyId;
          given.confirmed = false;
        }
        const withKey = offline || !given.confirmed;
        const delivery = create(GroupDeliverySchema, { ciphertext, ...(withKey ? { senderKey: distribution(given.firstSeq) } : {}) });
        const mark = given;
        return { delivery, confirm: () => void (withKey && mark.keyId === keyId && (mark.confirmed = true)) };
      },
    };
  }

  /**
   * A delivery from `from` (the messenger authenticated that device and its user). Returns what
   * can be handed on now, in each sender's order (possibly none: held back), or a refusal.
   */
  receive(from: { user: string; device: Uint8Array }, delivery: GroupDelivery, nowMs: number): Result<GroupDelivered[], GroupRefusalError> {
    if (!this.active) return fail('removed', 'this user is not a member of the group');
    if (!delivery.ciphertext) return fail('malformed', 'a delivery without a message');
    const header = readHeader(delivery.ciphertext);
    if (!header.ok) return header;
    const h = header.value;
    if (!equalBytes(h.groupId, this.membership.groupId)) return fail('wrong_group', 'a message of another group');
    if (!equalBytes(h.senderDevice, from.device) || h.sender !== from.user) return fail('wrong_sender', `a message that names ${h.sender} came from a device of ${from.user}`);
    if (!isMember(this.membership, from.user)) return fail('not_member', `${from.user} is not a member`);
    const hex = toHex(from.device);
    let sender = this.senders.get(hex);
    if (!sender) {
      if (this.senders.size >= MAX_SENDER_DEVICES) return fail('too_many_senders', `keys from more than ${MAX_SENDER_DEVICES} devices`);
      sender = { user: from.user, key: from.device, keys: [], nextSeq: null, held: new Map(), gapSinceMs: null };
      this.senders.set(hex, sender);
    }
    if (delivery.senderKey) {
      if (!validDistribution(delivery.senderKey)) return fail('malformed', 'a sender key of the wrong size');
      this.install(sender, delivery.senderKey);
    }
    const key = sender.keys.find((k) => k.keyId === h.keyId);
    if (!key) return fail('unknown_key', `no sender key ${h.keyId} from this device`);
    if ((sender.nextSeq !== null && h.seq < sender.nextSeq) || sender.held.has(h.seq)) return fail('duplicate', `message ${h.seq} was handed on already`);
    // Refused before opening, so that the copy that comes again can still be opened.
    const held = sender.nextSeq !== null && h.seq > sender.nextSeq;
    if (held && (sender.held.size >= MAX_HELD_PER_SENDER || this.heldCount >= MAX_HELD_PER_GROUP)) return fail('held_full', 'too many messages held back behind a gap');
    const opened = key.open(delivery.ciphertext, h.iteration);
    if (!opened.ok) return opened;
    const content = decodeProto(GroupContentSchema, opened.value, MAX_GROUP_TEXT_BYTES + 2048);
    if (!content.ok || !validContent(content.value)) return fail('bad_content', 'the message holds no content this version knows, or too much');
    if (h.lamport > this.lamport) this.lamport = h.lamport;
    if (sender.nextSeq === null) sender.nextSeq = h.seq;
    if (held) {
      sender.held.set(h.seq, { seq: h.seq, lamport: h.lamport, content: content.value });
      this.heldCount++;
      sender.gapSinceMs ??= nowMs;
      return ok([]);
    }
    const out = [this.handOn(sender, { seq: h.seq, lamport: h.lamport, content: content.value })];
    out.push(...this.drain(sender, nowMs));
    return ok(out);
  }

  /** Passes over gaps open longer than GAP_WAIT_MS; returns what that freed, and how many gaps it passed. */
  tick(nowMs: number): { delivered: GroupDelivered[]; skipped: number } {
    const delivered: GroupDelivered[] = [];
    let skipped = 0;
    for (const sender of this.senders.values()) {
      if (sender.gapSinceMs === null || nowMs - sender.gapSinceMs < GAP_WAIT_MS || sender.held.size === 0) continue;
      sender.nextSeq = [...sender.held.keys()].reduce((a, b) => (a < b ? a : b));
      skipped++;
      delivered.push(...this.drain(sender, nowMs));
    }
    return { delivered, skipped };
  }

  /** When `tick` has something to do next (null: nothing held). */
  nextDeadlineMs(): number | null {
    let next: number | null = null;
    for (const s of this.senders.values()) if (s.gapSinceMs !== null && s.held.size > 0) next = Math.min(next ?? Infinity, s.gapSinceMs + GAP_WAIT_MS);
    return next;
  }

  /**
   * Applies an op of the chain (and any held ops it lets follow). Returns what changed, or the
   * refusal; an op ahead of the next version is held (bounded) and refused as `ahead`.
   */
  applyOp(op: GroupOp): Result<MembershipChange, GroupRefusalError> {
    const applied = applyOp(this.membership, op);
    if (!applied.ok) {
      if (applied.error.code === 'ahead') {
        const body = readOp(op);
        if (body.ok && this.heldOps.size < MAX_HELD_OPS) this.heldOps.set(body.value.version, op);
      }
      return fail(applied.error.code, applied.error.message);
    }
    const before = this.membership;
    this.membership = applied.value.state;
    for (let held = this.heldOps.get(this.membership.version + 1); held; held = this.heldOps.get(this.membership.version + 1)) {
      this.heldOps.delete(this.membership.version + 1);
      const next = applyOp(this.membership, held);
      if (!next.ok) break;
      this.membership = next.value.state;
    }
    for (const v of [...this.heldOps.keys()]) if (v <= this.membership.version) this.heldOps.delete(v);
    return ok(this.changed(before));
  }

  /** Replaces the state with a newer welcome's (a member that fell behind, welcomed again by the admin). */
  adoptWelcome(state: GroupState): Result<MembershipChange, GroupRefusalError> {
    if (!equalBytes(state.adminKey, this.membership.adminKey)) return fail('not_admin', 'a welcome from another admin than the group\'s');
    if (state.version <= this.membership.version) return fail('stale', 'a welcome no newer than this device\'s state');
    const before = this.membership;
    this.membership = state;
    if (state.lamport > this.lamport) this.lamport = state.lamport;
    return ok(this.changed(before));
  }

  applyLeave(verifier: CertificateVerifier, leave: GroupLeave, nowMs: number): Result<MembershipChange, GroupRefusalError> {
    const applied = applyLeave(verifier, this.membership, leave, nowMs);
    if (!applied.ok) return fail(applied.error.code, applied.error.message);
    const before = this.membership;
    this.membership = applied.value;
    return ok(this.changed(before));
  }

  /** This device's own change, made by the admin (its op signed) or by leaving. */
  adopt(state: GroupState): MembershipChange {
    const before = this.membership;
    this.membership = state;
    return this.changed(before);
  }

  /** The lamport this device has seen: a read mark up to it says "read everything shown so far". */
  get seenLamport(): bigint {
    return this.lamport;
  }

  /**
   * Forgets what a removed member had and had been given: its devices' keys go, and this
   * device's own key is replaced before the next message, so the removed member never gets it.
   */
  private changed(before: GroupState): MembershipChange {
    const was = new Set(before.members.filter((m) => isMember(before, m)));
    const now = new Set(this.membership.members.filter((m) => isMember(this.membership, m)));
    const added = [...now].filter((m) => !was.has(m));
    const removed = [...was].filter((m) => !now.has(m));
    if (removed.includes(this.self.user)) {
      // Out of the group: nothing of its keys is kept (a re-invitation starts afresh).
      this.own = null;
      this.senders.clear();
      this.given.clear();
      this.heldCount = 0;
    } else if (removed.length > 0) {
      this.own = null; // a fresh sender key at the next message
      for (const [hex, s] of this.senders) if (removed.includes(s.user)) this.dropSender(hex, s);
      for (const [hex, g] of this.given) if (removed.includes(g.user)) this.given.delete(hex);
    }
    if (this.membership.lamport > this.lamport) this.lamport = this.membership.lamport;
    return { added, removed, renamed: before.name !== this.membership.name };
  }

  private dropSender(hex: string, sender: SendingDevice): void {
    this.heldCount -= sender.held.size;
    this.senders.delete(hex);
  }

  private install(sender: SendingDevice, key: SenderKey): void {
    const known = sender.keys.find((k) => k.keyId === key.keyId);
    if (known) {
      known.widen(key);
    } else {
      sender.keys.push(ReceivedSenderKey.from(key));
      if (sender.keys.length > SENDER_KEYS_PER_DEVICE) sender.keys.shift();
    }
    // A receiver starts at the first message its sender sent it, so one that came late is waited for.
    if (sender.nextSeq === null) sender.nextSeq = key.firstSeq;
  }

  private handOn(sender: SendingDevice, m: HeldMessage): GroupDelivered {
    sender.nextSeq = m.seq + 1n;
    if (m.content.body.case === 'read') this.noteRead(sender.user, m.content.body.value.lamport);
    return { sender: sender.user, senderDevice: sender.key, seq: m.seq, lamport: m.lamport, content: m.content };
  }

  private drain(sender: SendingDevice, nowMs: number): GroupDelivered[] {
    const out: GroupDelivered[] = [];
    for (let next = sender.held.get(sender.nextSeq!); next; next = sender.held.get(sender.nextSeq!)) {
      sender.held.delete(next.seq);
      this.heldCount--;
      out.push(this.handOn(sender, next));
    }
    sender.gapSinceMs = sender.held.size > 0 ? nowMs : null;
    return out;
  }

  private noteRead(user: string, lamport: bigint): void {
    if ((this.readMarks.get(user) ?? 0n) < lamport) this.readMarks.set(user, lamport);
  }

  toJSON(): GroupSessionJson {
    return {
      state: groupStateToJson(this.membership),
      nextSeq: this.nextSeq.toString(),
      lamport: this.lamport.toString(),
      readMarks: [...this.readMarks].map(([u, l]) => [u, l.toString()]),
      senders: [...this.senders.values()].map((s) => ({ user: s.user, key: toHex(s.key), nextSeq: s.nextSeq === null ? null : s.nextSeq.toString(), keys: s.keys.map((k) => k.toJSON()) })),
    };
  }

  /**
   * A session as the device's store kept it. What it held back is not kept (it was acknowledged
   * to its sender; a gap it leaves is passed over). This device makes a fresh sender key.
   */
  static fromJSON(json: GroupSessionJson, self: { user: string; device: Uint8Array }): GroupSession | null {
    if (json === null || typeof json !== 'object') return null;
    const state = groupStateFromJson(json.state);
    const big = (t: unknown) => (typeof t === 'string' && /^\d{1,20}$/.test(t) ? BigInt(t) : null);
    const nextSeq = big(json.nextSeq);
    const lamport = big(json.lamport);
    if (!state || nextSeq === null || lamport === null || !Array.isArray(json.senders) || !Array.isArray(json.readMarks)) return null;
    const session = new GroupSession(state, self);
    session.nextSeq = nextSeq;
    session.lamport = lamport;
    for (const entry of json.readMarks as unknown[]) {
      if (!Array.isArray(entry)) return null;
      const [u, l] = entry as unknown[];
      const mark = big(l);
      if (typeof u !== 'string' || mark === null) return null;
      session.readMarks.set(u, mark);
    }
    for (const s of json.senders.slice(0, MAX_SENDER_DEVICES) as unknown[]) {
      if (s === null || typeof s !== 'object') return null;
      const { user, key, nextSeq: next, keys } = s as Partial<GroupSessionJson['senders'][number]>;
      const loaded = Array.isArray(keys) ? keys.slice(-SENDER_KEYS_PER_DEVICE).map((k) => ReceivedSenderKey.fromJSON(k)) : [null];
      if (typeof user !== 'string' || typeof key !== 'string' || !/^[0-9a-f]{64}$/.test(key) || loaded.some((k) => k === null)) return null;
      const seq = next === null ? null : big(next);
      if (next !== null && seq === null) return null;
      session.senders.set(key, { user, key: new Uint8Array(Buffer.from(key, 'hex')), keys: loaded as ReceivedSenderKey[], nextSeq: seq, held: new Map(), gapSinceMs: null });
    }
    return session;
  }
}

/** What a member may send: text within its limit and a few mentions, or a read mark. */
export function validContent(content: GroupContent): boolean {
  const body = content.body;
  if (body.case === 'read') return true;
  if (body.case !== 'text') return false;
  return new TextEncoder().encode(body.value.text).byteLength <= MAX_GROUP_TEXT_BYTES && body.value.mentions.length <= MAX_MENTIONS && body.value.id.length > 0 && body.value.id.length <= 64;
}

/** Decodes a delivery (untrusted bytes) for fuzzing. */
export function decodeGroupDelivery(bytes: Uint8Array, maxBytes: number): Result<GroupDelivery, GroupRefusalError> {
  const decoded = decodeProto(GroupDeliverySchema, bytes, maxBytes);
  return decoded.ok ? ok(decoded.value) : fail('malformed', decoded.error.message);
}
