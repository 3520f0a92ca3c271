// The conference's wire messages: typed values, their encoding into the calls' CallSignal
// (CONF_* kinds, and DECLINE / CANCEL shared with calls) and their decoding, which gives a typed
// value or a typed error and never throws. `ConferenceSignals` is the one place that sends and
// hears them: it takes only the messenger's `call` kind (subscribe and send), as the calls do, so the
// transport can change without touching the conference.
import { create } from '@bufbuild/protobuf';
import { toHex } from '../../crypto/bytes.js';
import type { Relation } from '../../messenger/transport.js';
import type { FrameMs } from '../../media/opus.js';
import { OPUS_CODEC, subscribeLiveCallSignals, type CallSignalling } from '../calls.js';
import { SRTP_MASTER_KEY_BYTES, SRTP_MASTER_SALT_BYTES } from '../../rtp/srtp.js';
import { CallSignalKind, CallSignalSchema, ConferenceMemberSchema, ConferenceRosterSchema, NatType, type CallSignal, type ConferenceMember } from '../../wire/messages.js';
import { MAX_MEMBERS, type Member } from './roster.js';
import type { ConferenceCounters } from './counters.js';

export const CALL_ID_BYTES = 16;
export const DEVICE_KEY_BYTES = 32;
export const SRTP_MASTER_BYTES = SRTP_MASTER_KEY_BYTES + SRTP_MASTER_SALT_BYTES;
export const MAX_USER_CHARS = 64;
/** A decline's or a cancel's reason (a word or two, shown to no one as is). */
export const MAX_REASON_CHARS = 64;
/** Facts beyond these are clamped: no real device has more, and the election needs no more. */
const MAX_UPLOAD_KBPS = 10_000_000;
const MAX_CPU_CORES = 1024;

export type LeaveReason = 'left' | 'kicked' | 'lost';

export type ConferenceMessage =
  /** Host → invitee: the roster so far (the host first), and what the media will be. */
  | { readonly kind: 'invite'; readonly version: number; readonly members: readonly Member[]; readonly opus: boolean; readonly frameMs: FrameMs; readonly fromCall: Uint8Array | null }
  /** Invitee → host: this device joins, with its facts for the election. */
  | { readonly kind: 'join'; readonly member: Member }
  /** Host → members: the roster, newer than the last. */
  | { readonly kind: 'roster'; readonly version: number; readonly members: readonly Member[] }
  /** A member out: `left` (the sender goes), or from the host, `kicked` / `lost` (the receiver is out). */
  | { readonly kind: 'leave'; readonly reason: LeaveReason }
  /** Member → host: `member`'s media is gone, or (degraded) arrives badly. */
  | { readonly kind: 'lost'; readonly member: Member; readonly degraded: boolean }
  /** Participant ↔ mixer: the sender's SRTP master (key and salt) for what it sends on the leg. */
  | { readonly kind: 'leg'; readonly srtpMaster: Uint8Array }
  /** Invitee → host: no. */
  | { readonly kind: 'decline'; readonly reason: string }
  /** Host → invitee: stop ringing. */
  | { readonly kind: 'cancel'; readonly reason: string };

export type ConferenceSignalError = 'not_conference' | 'bad_call_id' | 'bad_member' | 'bad_roster' | 'too_many_members' | 'bad_srtp_master' | 'bad_reason';

export type DecodedSignal = { readonly ok: true; readonly callId: Uint8Array; readonly message: ConferenceMessage } | { readonly ok: false; readonly error: ConferenceSignalError };

export const memberKey = (user: string, device: Uint8Array): string => `${user}/${toHex(device)}`;

export function memberOf(user: string, device: Uint8Array, facts: Member['facts']): Member {
  return { user, device, key: memberKey(user, device), facts };
}

function decodeMember(m: ConferenceMember | undefined): Member | null {
  if (!m || m.user.length === 0 || m.user.length > MAX_USER_CHARS || m.device.length !== DEVICE_KEY_BYTES) return null;
  const natType = m.natType in NatType ? m.natType : NatType.UNSPECIFIED;
  const facts = { natType, uploadKbps: Math.min(m.uploadKbps, MAX_UPLOAD_KBPS), cpuCores: Math.min(m.cpuCores, MAX_CPU_CORES), degraded: m.degraded };
  return memberOf(m.user, m.device.slice(), facts);
}

function encodeMember(m: Member): ConferenceMember {
  return create(ConferenceMemberSchema, { user: m.user, device: m.device, natType: m.facts.natType, uploadKbps: m.facts.uploadKbps, cpuCores: m.facts.cpuCores, degraded: m.facts.degraded === true });
}

function decodeMembers(members: readonly ConferenceMember[]): Member[] | ConferenceSignalError {
  if (members.length === 0) return 'bad_roster';
  if (members.length > MAX_MEMBERS) return 'too_many_members';
  const decoded = members.map(decodeMember);
  return decoded.some((m) => m === null) ? 'bad_member' : (decoded as Member[]);
}

export function encodeConferenceSignal(callId: Uint8Array, message: ConferenceMessage): CallSignal {
  switch (message.kind) {
    case 'invite': {
      const roster = create(ConferenceRosterSchema, { version: message.version, members: message.members.map(encodeMember) });
      return create(CallSignalSchema, { callId, kind: CallSignalKind.CONF_INVITE, roster, codecs: message.opus ? [OPUS_CODEC] : [], frameMs: message.frameMs, ...(message.fromCall ? { fromCall: message.fromCall } : {}) });
    }
    case 'join':
      return create(CallSignalSchema, { callId, kind: CallSignalKind.CONF_JOIN, member: encodeMember(message.member) });
    case 'roster':
      return create(CallSignalSchema, { callId, kind: CallSignalKind.CONF_ROSTER, roster: create(ConferenceRosterSchema, { version: message.version, members: message.members.map(encodeMember) }) });
    case 'leave':
      return create(CallSignalSchema, { callId, kind: CallSignalKind.CONF_LEAVE, reason: message.reason });
    case 'lost':
      return create(CallSignalSchema, { callId, kind: CallSignalKind.CONF_LOST, member: encodeMember(message.member), reason: message.degraded ? 'degraded' : '' });
    case 'leg':
      return create(CallSignalSchema, { callId, kind: CallSignalKind.CONF_LEG, srtpMaster: message.srtpMaster });
    case 'decline':
      return create(CallSignalSchema, { callId, kind: CallSignalKind.DECLINE, reason: message.reason });
    case 'cancel':
      return create(CallSignalSchema, { callId, kind: CallSignalKind.CANCEL, reason: message.reason });
  }
}

/** A call signal as a conference message, or why it is none. */
export function decodeConferenceSignal(signal: CallSignal): DecodedSignal {
  const fail = (error: ConferenceSignalError): DecodedSignal => ({ ok: false, error });
  if (signal.callId.length !== CALL_ID_BYTES) return fail('bad_call_id');
  const ok = (message: ConferenceMessage): DecodedSignal => ({ ok: true, callId: signal.callId, message });
  switch (signal.kind) {
    case CallSignalKind.CONF_INVITE:
    case CallSignalKind.CONF_ROSTER: {
      if (!signal.roster) return fail('bad_roster');
      const members = decodeMembers(signal.roster.members);
      if (typeof members === 'string') return fail(members);
      const version = signal.roster.version;
      if (signal.kind === CallSignalKind.CONF_ROSTER) return ok({ kind: 'roster', version, members });
      const fromCall = signal.fromCall.length === CALL_ID_BYTES ? signal.fromCall.slice() : null;
      return ok({ kind: 'invite', version, members, opus: signal.codecs.includes(OPUS_CODEC), frameMs: signal.frameMs === 10 ? 10 : 20, fromCall });
    }
    case CallSignalKind.CONF_JOIN:
    case CallSignalKind.CONF_LOST: {
      const member = decodeMember(signal.member);
      if (!member) return fail('bad_member');
      return ok(signal.kind === CallSignalKind.CONF_JOIN ? { kind: 'join', member } : { kind: 'lost', member, degraded: signal.reason === 'degraded' });
    }
    case CallSignalKind.CONF_LEAVE:
      return ok({ kind: 'leave', reason: signal.reason === 'kicked' || signal.reason === 'lost' ? signal.reason : 'left' });
    case CallSignalKind.CONF_LEG:
      if (signal.srtpMaster.length !== SRTP_MASTER_BYTES) return fail('bad_srtp_master');
      return ok({ kind: 'leg', srtpMaster: signal.srtpMaster.slice() });
    case CallSignalKind.DECLINE:
    case CallSignalKind.CANCEL:
      if (signal.reason.length > MAX_REASON_CHARS) return fail('bad_reason');
      return ok({ kind: signal.kind === CallSignalKind.DECLINE ? 'decline' : 'cancel', reason: signal.reason });
    default:
      return fail('not_conference');
  }
}

/** Who a signal came from, as the messenger vouches for it. */
export interface SignalSender {
  readonly user: string;
  readonly device: Uint8Array;
  readonly relation: Relation;
}

/**
 * What the conference needs of the messenger below it, and nothing else: the calls' own port
 * (calls.ts), so one messenger serves both.
 */
export type CallSignalPort = CallSignalling;

/** The conference's signals over the messenger: decoded on the way in, counted when they fail. */
export class ConferenceSignals {
  constructor(
    private readonly port: CallSignalPort,
    private readonly counters: ConferenceCounters,
  ) {}

  /** Conference messages as they arrive; what is none (a call's signal) or malformed is counted and dropped. */
  listen(listener: (from: SignalSender, callId: Uint8Array, message: ConferenceMessage) => void): void {
    subscribeLiveCallSignals(this.port, (from, signal) => {
      const decoded = decodeConferenceSignal(signal);
      // A call's own signals pass here too; they are the calls' business, not a refusal.
      if (!decoded.ok) return decoded.error === 'not_conference' ? undefined : this.counters.count(`signal.${decoded.error}`);
      listener(from, decoded.callId, decoded.message);
    });
  }

  /** One message, sent without waiting: the end-to-end stream retries it, and a lost one ends in a timeout. */
  send(callId: Uint8Array, to: { readonly user: string; readonly device: Uint8Array }, message: ConferenceMessage): void {
    void this.sendTo(to.user, [to.device], callId, message);
  }

  /** Resolves with the devices the message went to (none when it failed, which is counted). */
  sendTo(user: string, devices: readonly Uint8Array[] | 'all', callId: Uint8Array, message: ConferenceMessage): Promise<Uint8Array[]> {
    return this.port.send(user, devices, 'call', encodeConferenceSignal(callId, message)).catch(() => {
      this.counters.count('send_failed');
      return [];
    });
  }
}
