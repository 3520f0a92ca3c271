// Who is in a group, as every member device checks it. The group's admin is the device that
// created it: every change (ADD, REMOVE, RENAME) is an op it signs with its device key, and the
// ops form a hash chain (version n+1 names the SHA-256 of version n), so every member applies the
// same changes in the same order and nobody else can make one. A member added later starts from a
// welcome (the group as the admin sees it, signed by it, with its certificate). A member leaves
// with a notice signed by one of its own devices: every member stops counting it at once, and the
// admin makes it final with a REMOVE. One admin device means no two changes race for a version.
// Pure: no I/O, no clock (times are given).
import { create, toBinary } from '@bufbuild/protobuf';
import { err, ok, type CodedError, type Result } from '../result.js';
import { concatBytes, equalBytes } from '../crypto/bytes.js';
import { Role, type CertificateVerifier } from '../crypto/certificate.js';
import { signBytes, verifySignature } from '../crypto/ed25519.js';
import type { NodeIdentity } from '../crypto/identity.js';
import { sha256 } from '../crypto/noise/symmetric-state.js';
import { normaliseUsername } from '../wire/usernames.js';
import { checkUserText } from '../wire/user-text.js';
import {
  GroupLeaveBodySchema,
  GroupLeaveSchema,
  GroupOpBodySchema,
  GroupOpKind,
  GroupOpSchema,
  GroupWelcomeBodySchema,
  GroupWelcomeSchema,
  decodeProto,
  type GroupLeave,
  type GroupOp,
  type GroupOpBody,
  type GroupWelcome,
} from '../wire/messages.js';
import { MAX_GROUP_MEMBERS, MAX_GROUP_NAME_BYTES } from './limits.js';

export const GROUP_ID_BYTES = 16;
const MAX_OP_BYTES = 1024;
const MAX_WELCOME_BODY_BYTES = 8 * 1024;
const MAX_LEAVE_BODY_BYTES = 256;
// What each signature is for: a device key signs presence records and login challenges too.
const OP_CONTEXT = new TextEncoder().encode('parley-group-op-v1');
const WELCOME_CONTEXT = new TextEncoder().encode('parley-group-welcome-v1');
const LEAVE_CONTEXT = new TextEncoder().encode('parley-group-leave-v1');

/** A group as one device knows it. Immutable: each change makes a new one. */
export interface GroupState {
  readonly groupId: Uint8Array;
  readonly version: number;
  /** SHA-256 of the op at `version` (of the welcome's body for a state that began with one: see `head`). */
  readonly head: Uint8Array;
  readonly name: string;
  readonly admin: string;
  /** The admin device's Ed25519 key: every op is signed by it. */
  readonly adminKey: Uint8Array;
  /** Members by the chain, sorted (including those in `left`). */
  readonly members: readonly string[];
  /** Members who said they leave, not yet removed by the admin: counted as gone. */
  readonly left: readonly string[];
  /** The highest logical clock seen in the chain. */
  readonly lamport: bigint;
}

export type MembershipErrorCode =
  | 'malformed'
  | 'wrong_group'
  | 'bad_signature'
  | 'bad_certificate'
  | 'stale' // a version this device already has (a repeat, or a replay)
  | 'ahead' // a later version than the next: an op between is missing
  | 'fork' // the next version, but not after this device's head
  | 'not_admin'
  | 'invalid_name'
  | 'invalid_user'
  | 'already_member'
  | 'not_member'
  | 'too_many_members';
export type MembershipError = CodedError<MembershipErrorCode>;

function fail(code: MembershipErrorCode, message: string): Result<never, MembershipError> {
  return err({ code, message });
}

/** The members who count: in the chain and not leaving. */
export function currentMembers(state: GroupState): string[] {
  return state.members.filter((m) => !state.left.includes(m));
}

export function isMember(state: GroupState, user: string): boolean {
  return state.members.includes(user) && !state.left.includes(user);
}

/** A group name: user text of at most MAX_GROUP_NAME_BYTES. */
export function checkGroupName(name: string): Result<string, MembershipError> {
  if (new TextEncoder().encode(name).byteLength > MAX_GROUP_NAME_BYTES) return fail('invalid_name', `a group name holds at most ${MAX_GROUP_NAME_BYTES} bytes`);
  const checked = checkUserText(name, 'name');
  return checked.ok ? ok(name) : fail('invalid_name', checked.error.message);
}

function validUser(user: string): boolean {
  const normal = normaliseUsername(user);
  return normal.ok && normal.value === user;
}

/** Starts a group: this device becomes its admin and `creator` its first member. */
export function createGroup(identity: NodeIdentity, creator: string, groupId: Uint8Array, name: string): Result<GroupState, MembershipError> {
  const checked = checkGroupName(name);
  if (!checked.ok) return checked;
  if (groupId.byteLength !== GROUP_ID_BYTES) return fail('wrong_group', `a group id is ${GROUP_ID_BYTES} bytes`);
  const body = toBinary(GroupOpBodySchema, create(GroupOpBodySchema, { groupId, version: 1, kind: GroupOpKind.CREATE, user: creator, name, lamport: 1n }));
  return ok({ groupId, version: 1, head: sha256(body), name, admin: creator, adminKey: identity.signing.publicKey, members: [creator], left: [], lamport: 1n });
}

/** What the admin device may change. */
export type Change = { readonly kind: 'add' | 'remove'; readonly user: string } | { readonly kind: 'rename'; readonly name: string };

/**
 * The admin's next op for `change`, and the state after it. Refused when this device is not the
 * admin or the change does not apply (the same checks every member makes in `applyOp`).
 */
export function signOp(identity: NodeIdentity, state: GroupState, change: Change, atMs: number): Result<{ op: GroupOp; state: GroupState }, MembershipError> {
  if (!equalBytes(identity.signing.publicKey, state.adminKey)) return fail('not_admin', `only the device that created the group (one of ${state.admin}'s) changes its members`);
  const body = toBinary(
    GroupOpBodySchema,
    create(GroupOpBodySchema, {
      groupId: state.groupId,
      version: state.version + 1,
      prev: state.head,
      kind: change.kind === 'add' ? GroupOpKind.ADD : change.kind === 'remove' ? GroupOpKind.REMOVE : GroupOpKind.RENAME,
      user: change.kind === 'rename' ? '' : change.user,
      name: change.kind === 'rename' ? change.name : '',
      atMs: BigInt(Math.floor(atMs)),
      lamport: state.lamport + 1n,
    }),
  );
  const op = create(GroupOpSchema, { body, signature: signBytes(identity.signing, concatBytes(OP_CONTEXT, body)) });
  const applied = applyOp(state, op);
  return applied.ok ? ok({ op, state: applied.value.state }) : applied;
}

/** Decodes an op's body without checking it (to read its version). */
export function readOp(op: GroupOp): Result<GroupOpBody, MembershipError> {
  const body = decodeProto(GroupOpBodySchema, op.body, MAX_OP_BYTES);
  return body.ok ? ok(body.value) : fail('malformed', body.error.message);
}

/**
 * Applies the next op of the chain: signed by the admin device, the next version, after this
 * device's head, and a change that applies. Anything else is refused with its reason and
 * changes nothing (`ahead`: hold it until the ops between arrive).
 */
export function applyOp(state: GroupState, op: GroupOp): Result<{ state: GroupState; body: GroupOpBody }, MembershipError> {
  const read = readOp(op);
  if (!read.ok) return read;
  const body = read.value;
  if (!equalBytes(body.groupId, state.groupId)) return fail('wrong_group', 'an op of another group');
  if (!verifySignature(state.adminKey, concatBytes(OP_CONTEXT, op.body), op.signature)) return fail('bad_signature', 'the op is not signed by the group\'s admin device');
  if (body.version <= state.version) return fail('stale', `version ${body.version} is not after ${state.version}`);
  if (body.version > state.version + 1) return fail('ahead', `version ${body.version} comes after ${state.version + 1}, still missing`);
  if (!equalBytes(body.prev, state.head)) return fail('fork', `version ${body.version} does not follow this device's version ${state.version}`);
  // An admin who left froze the membership: its device no longer speaks for the group.
  if (!isMember(state, state.admin)) return fail('not_admin', `${state.admin}, the admin, left: the members are fixed`);
  const next = { ...state, version: body.version, head: sha256(op.body), lamport: body.lamport > state.lamport ? body.lamport : state.lamport };
  switch (body.kind) {
    case GroupOpKind.ADD: {
      if (!validUser(body.user)) return fail('invalid_user', 'not a username');
      if (isMember(state, body.user)) return fail('already_member', `${body.user} is a member already`);
      const members = state.members.includes(body.user) ? state.members : [...state.members, body.user].sort();
      if (members.filter((m) => m !== body.user && !state.left.includes(m)).length + 1 > MAX_GROUP_MEMBERS) return fail('too_many_members', `a group has at most ${MAX_GROUP_MEMBERS} members`);
      return ok({ state: { ...next, members, left: state.left.filter((m) => m !== body.user) }, body });
    }
    case GroupOpKind.REMOVE:
      if (!state.members.includes(body.user)) return fail('not_member', `${body.user} is not a member`);
      if (body.user === state.admin) return fail('invalid_user', 'the admin is not removed (it leaves)');
      return ok({ state: { ...next, members: state.members.filter((m) => m !== body.user), left: state.left.filter((m) => m !== body.user) }, body });
    case GroupOpKind.RENAME: {
      const name = checkGroupName(body.name);
      if (!name.ok) return name;
      return ok({ state: { ...next, name: body.name }, body });
    }
    default:
      return fail('malformed', `op kind ${body.kind} is not a change`);
  }
}

/** The admin's welcome for a new member: the group as it stands, signed. */
export function makeWelcome(identity: NodeIdentity, state: GroupState, atMs: number): GroupWelcome {
  const body = toBinary(
    GroupWelcomeBodySchema,
    create(GroupWelcomeBodySchema, { groupId: state.groupId, version: state.version, head: state.head, name: state.name, members: [...state.members], lamport: state.lamport, left: [...state.left], atMs: BigInt(Math.floor(atMs)) }),
  );
  return create(GroupWelcomeSchema, { body, signature: signBytes(identity.signing, concatBytes(WELCOME_CONTEXT, body)), adminCertificate: identity.certificate });
}

/**
 * Opens a welcome: the admin's certificate is a device of this network (as of when the welcome
 * says it was made, which may not be later than `nowMs` plus the clock skew the verifier allows),
 * it signed the body, and the body is a group that could be: members valid, unique and within
 * the limit, the admin among them, `member` too.
 */
export function openWelcome(verifier: CertificateVerifier, welcome: GroupWelcome, member: string, nowMs: number): Result<GroupState, MembershipError> {
  const decoded = decodeProto(GroupWelcomeBodySchema, welcome.body, MAX_WELCOME_BODY_BYTES);
  if (!decoded.ok) return fail('malformed', decoded.error.message);
  const body = decoded.value;
  const atMs = Number(body.atMs);
  const certificate = verifier.verify(welcome.adminCertificate, Math.min(atMs, nowMs));
  if (!certificate.ok) return fail('bad_certificate', `${certificate.error.code}: ${certificate.error.message}`);
  const cert = certificate.value;
  if (cert.role !== Role.DEVICE) return fail('bad_certificate', 'not a device certificate');
  if (!verifySignature(cert.signingKey, concatBytes(WELCOME_CONTEXT, welcome.body), welcome.signature)) return fail('bad_signature', 'the welcome is not signed by its admin device');
  if (body.groupId.byteLength !== GROUP_ID_BYTES) return fail('wrong_group', 'not a group id');
  if (body.version < 1 || body.head.byteLength !== 32) return fail('malformed', 'no version or head');
  const name = checkGroupName(body.name);
  if (!name.ok) return name;
  const members = [...body.members].sort();
  if (new Set(members).size !== members.length || !members.every(validUser)) return fail('invalid_user', 'members are not distinct usernames');
  if (!body.left.every((u) => members.includes(u)) || new Set(body.left).size !== body.left.length) return fail('invalid_user', 'a leaving user who is not a member');
  if (members.length - body.left.length > MAX_GROUP_MEMBERS) return fail('too_many_members', `a group has at most ${MAX_GROUP_MEMBERS} members`);
  if (!members.includes(cert.username)) return fail('not_admin', 'the admin is not a member');
  if (!members.includes(member) || body.left.includes(member)) return fail('not_member', `the welcome does not make ${member} a member`);
  return ok({ groupId: body.groupId, version: body.version, head: body.head, name: body.name, admin: cert.username, adminKey: cert.signingKey, members, left: [...body.left].sort(), lamport: body.lamport });
}

/** A member's leave, signed by this device. */
export function makeLeave(identity: NodeIdentity, user: string, groupId: Uint8Array, atMs: number): GroupLeave {
  const body = toBinary(GroupLeaveBodySchema, create(GroupLeaveBodySchema, { groupId, user, atMs: BigInt(Math.floor(atMs)) }));
  return create(GroupLeaveSchema, { body, signature: signBytes(identity.signing, concatBytes(LEAVE_CONTEXT, body)), certificate: identity.certificate });
}

/** Checks a leave (signed by a device of the user it names) and applies it: that member counts as gone. */
export function applyLeave(verifier: CertificateVerifier, state: GroupState, leave: GroupLeave, nowMs: number): Result<GroupState, MembershipError> {
  const decoded = decodeProto(GroupLeaveBodySchema, leave.body, MAX_LEAVE_BODY_BYTES);
  if (!decoded.ok) return fail('malformed', decoded.error.message);
  const body = decoded.value;
  if (!equalBytes(body.groupId, state.groupId)) return fail('wrong_group', 'a leave of another group');
  const certificate = verifier.verify(leave.certificate, Math.min(Number(body.atMs), nowMs));
  if (!certificate.ok) return fail('bad_certificate', `${certificate.error.code}: ${certificate.error.message}`);
  if (certificate.value.role !== Role.DEVICE || certificate.value.username !== body.user) return fail('bad_certificate', 'the leave is not signed by a device of the member it names');
  if (!verifySignature(certificate.value.signingKey, concatBytes(LEAVE_CONTEXT, leave.body), leave.signature)) return fail('bad_signature', 'the leave is not signed by its certificate\'s key');
  if (!isMember(state, body.user)) return fail('not_member', `${body.user} is not a member`);
  return ok({ ...state, left: [...state.left, body.user].sort() });
}

/** For the device's own store. */
export interface GroupStateJson {
  groupId: string;
  version: number;
  head: string;
  name: string;
  admin: string;
  adminKey: string;
  members: string[];
  left: string[];
  lamport: string;
}

export function groupStateToJson(state: GroupState): GroupStateJson {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  return { groupId: hex(state.groupId), version: state.version, head: hex(state.head), name: state.name, admin: state.admin, adminKey: hex(state.adminKey), members: [...state.members], left: [...state.left], lamport: state.lamport.toString() };
}

export function groupStateFromJson(json: GroupStateJson): GroupState | null {
  if (json === null || typeof json !== 'object') return null;
  const bytes = (text: unknown, length: number) => (typeof text === 'string' && text.length === 2 * length && /^[0-9a-f]*$/.test(text) ? new Uint8Array(Buffer.from(text, 'hex')) : null);
  const groupId = bytes(json.groupId, GROUP_ID_BYTES);
  const head = bytes(json.head, 32);
  const adminKey = bytes(json.adminKey, 32);
  const strings = (a: unknown): a is string[] => Array.isArray(a) && a.every((s) => typeof s === 'string');
  if (!groupId || !head || !adminKey || !Number.isInteger(json.version) || typeof json.name !== 'string' || typeof json.admin !== 'string' || !strings(json.members) || !strings(json.left) || typeof json.lamport !== 'string' || !/^\d+$/.test(json.lamport)) return null;
  return { groupId, version: json.version, head, name: json.name, admin: json.admin, adminKey, members: json.members, left: json.left, lamport: BigInt(json.lamport) };
}
