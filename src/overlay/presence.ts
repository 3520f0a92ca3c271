// Presence records: where one device of a user can be reached — the supernodes it is attached
// to and its transport candidates — signed by the device itself and carried with its CA
// certificate, so any supernode can check a record offline before storing or serving it.
// A record is refused, with a typed reason, unless every check passes.
import { create, toBinary } from '@bufbuild/protobuf';
import { err, ok, type CodedError, type Result } from '../result.js';
import { concatBytes, equalBytes } from '../crypto/bytes.js';
import { Role, type CertificateErrorCode, type CertificateVerifier, type VerifiedCertificate } from '../crypto/certificate.js';
import { signBytes, verifySignature } from '../crypto/ed25519.js';
import type { NodeIdentity } from '../crypto/identity.js';
import {
  PresenceBodySchema,
  PresenceRecordSchema,
  NatType,
  decodeProto,
  type Candidate,
  type SupernodeRef,
} from '../wire/messages.js';

export const PRESENCE_VERSION = 1;
const SIGNATURE_CONTEXT = new TextEncoder().encode('parley-presence-v1\0');
/** A record says where a device is now; it must be refreshed well within this. */
export const MAX_PRESENCE_TTL_MS = 3_600_000;
export const DEFAULT_PRESENCE_TTL_MS = 15 * 60_000;
export const MAX_PRESENCE_BYTES = 4096;
export const MAX_SUPERNODES_PER_RECORD = 4;
export const MAX_CANDIDATES_PER_RECORD = 16;
/** How far in the future (by the checker's clock) a record may be stamped: clocks disagree. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Bytes of records one answer may carry: what fits in a frame with room to spare. A user may
 * hold 16 records of up to 4 KiB; answers beyond this keep the newest records that fit, so no
 * peer can make a supernode build a message too large to send.
 */
export const MAX_RECORD_BYTES_PER_ANSWER = 48 * 1024;

/** The encoded records to put in one answer, newest first, within `maxBytes`. */
export function recordsForAnswer(records: readonly VerifiedPresence[], maxBytes = MAX_RECORD_BYTES_PER_ANSWER): Uint8Array[] {
  const out: Uint8Array[] = [];
  let total = 0;
  for (const record of [...records].sort((a, b) => b.issuedAtMs - a.issuedAtMs)) {
    if (total + record.encoded.byteLength > maxBytes) continue;
    total += record.encoded.byteLength;
    out.push(record.encoded);
  }
  return out;
}

export interface PresenceInput {
  readonly supernodes: readonly { host: string; port: number; dhKey: Uint8Array }[];
  readonly candidates: readonly Omit<Candidate, '$typeName'>[];
  readonly sequence: number;
  readonly issuedAtMs: number;
  readonly ttlMs?: number;
  /** What the device found it is behind (unspecified until tested). */
  readonly natType?: NatType;
}

/** Signs a presence record for `identity` (a device certified for `username`). */
export function createPresenceRecord(identity: NodeIdentity, networkId: Uint8Array, username: string, input: PresenceInput): Uint8Array {
  const body = toBinary(
    PresenceBodySchema,
    create(PresenceBodySchema, {
      version: PRESENCE_VERSION,
      networkId,
      username,
      certificate: identity.certificate,
      supernodes: input.supernodes.map((s) => ({ host: s.host, port: s.port, dhKey: s.dhKey })),
      candidates: input.candidates.map((c) => ({ ...c })),
      // Clocks may give fractions of a millisecond (the virtual one does); the wire holds integers.
      sequence: BigInt(Math.floor(input.sequence)),
      issuedAtMs: BigInt(Math.floor(input.issuedAtMs)),
      expiresAtMs: BigInt(Math.floor(input.issuedAtMs + (input.ttlMs ?? DEFAULT_PRESENCE_TTL_MS))),
      natType: input.natType ?? NatType.UNSPECIFIED,
    }),
  );
  const signature = signBytes(identity.signing, concatBytes(SIGNATURE_CONTEXT, body));
  return toBinary(PresenceRecordSchema, create(PresenceRecordSchema, { body, signature }));
}

export interface VerifiedPresence {
  readonly username: string;
  readonly device: VerifiedCertificate;
  readonly supernodes: readonly SupernodeRef[];
  readonly candidates: readonly Candidate[];
  readonly natType: NatType;
  readonly sequence: number;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
  /** The record exactly as received, to store and pass on. */
  readonly encoded: Uint8Array;
}

export type PresenceErrorCode =
  | 'oversized'
  | 'malformed'
  | 'unsupported_version'
  | 'wrong_network'
  | 'bad_certificate' // see certificateError
  | 'not_a_device'
  | 'wrong_user' // the certificate is for another user than the record names
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'too_long_lived'
  | 'too_many_entries';

export interface PresenceError extends CodedError<PresenceErrorCode> {
  readonly certificateError?: CertificateErrorCode;
}

function refuse(code: PresenceErrorCode, message: string, extra: Partial<PresenceError> = {}): Result<never, PresenceError> {
  return err({ code, message, ...extra });
}

/**
 * Checks a record completely: size, format, network, the device's certificate (CA, validity,
 * role, and that it names the record's user), the device's signature, and its lifetime.
 * `expectedUsername`, when given, must be the record's user (a store keyed by name).
 */
export function verifyPresenceRecord(
  encoded: Uint8Array,
  verifier: CertificateVerifier,
  nowMs: number,
  expectedUsername?: string,
): Result<VerifiedPresence, PresenceError> {
  if (encoded.byteLength > MAX_PRESENCE_BYTES) return refuse('oversized', `presence record of ${encoded.byteLength} bytes exceeds ${MAX_PRESENCE_BYTES}`);
  const key = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength).toString('base64');
  const memo = signedRecordsOf(verifier);
  const signed = memo.get(key);
  if (signed) return checkInTime(signed, verifier, nowMs, expectedUsername, encoded);
  const checked = checkSigned(encoded, verifier, nowMs, expectedUsername);
  if (!checked.ok) return checked;
  if (memo.size >= SIGNED_RECORDS_KEPT) memo.delete(memo.keys().next().value!);
  // Its own copy of the bytes: `encoded` is often a view into a whole received frame.
  memo.set(key, { ...checked.value, encoded: encoded.slice() });
  return ok(checked.value);
}

/**
 * Records whose format and device signature were checked, by their bytes, per verifier (one
 * node's trust state), the oldest forgotten first. A lookup gets the same record from several
 * supernodes, and a supernode sees it again at each republish and forward: its Ed25519
 * signature was checked each time (about 10 % of a simulation's run). What depends on the time
 * (the certificate's validity and revocation, the record's own lifetime) and on the caller
 * (the expected user) is checked at every use. At most SIGNED_RECORDS_KEPT records of up to
 * MAX_PRESENCE_BYTES each (about 1 MiB per verifier at worst, a device's far less).
 */
const SIGNED_RECORDS_KEPT = 256;
const signedRecords = new WeakMap<CertificateVerifier, Map<string, VerifiedPresence>>();

function signedRecordsOf(verifier: CertificateVerifier): Map<string, VerifiedPresence> {
  let memo = signedRecords.get(verifier);
  if (!memo) signedRecords.set(verifier, (memo = new Map()));
  return memo;
}

/** The checks that depend on the time and the caller, for a record whose signature holds. */
function checkInTime(signed: VerifiedPresence, verifier: CertificateVerifier, nowMs: number, expectedUsername: string | undefined, encoded: Uint8Array): Result<VerifiedPresence, PresenceError> {
  const certificate = verifier.verify(signed.device.encoded, nowMs);
  if (!certificate.ok) {
    if (certificate.error.code === 'wrong_network') return refuse('wrong_network', certificate.error.message);
    return refuse('bad_certificate', certificate.error.message, { certificateError: certificate.error.code });
  }
  if (expectedUsername !== undefined && signed.username !== expectedUsername) return refuse('wrong_user', `a record for ${signed.username} offered as ${expectedUsername}`);
  if (signed.issuedAtMs > nowMs + CLOCK_SKEW_MS) return refuse('not_yet_valid', 'the record is from the future');
  if (signed.expiresAtMs <= nowMs) return refuse('expired', 'the record expired');
  return ok({ ...signed, encoded });
}

/** Size, format, network, certificate, role, user and the device's signature: what does not change with time (but the certificate's validity, checked here too). */
function checkSigned(encoded: Uint8Array, verifier: CertificateVerifier, nowMs: number, expectedUsername?: string): Result<VerifiedPresence, PresenceError> {
  const record = decodeProto(PresenceRecordSchema, encoded, MAX_PRESENCE_BYTES);
  if (!record.ok) return refuse('malformed', record.error.message);
  const decoded = decodeProto(PresenceBodySchema, record.value.body, MAX_PRESENCE_BYTES);
  if (!decoded.ok) return refuse('malformed', decoded.error.message);
  const body = decoded.value;
  if (body.version !== PRESENCE_VERSION) return refuse('unsupported_version', `presence version ${body.version}`);
  if (!equalBytes(body.networkId, verifier.networkId)) return refuse('wrong_network', 'the record belongs to another network');
  if (body.supernodes.length > MAX_SUPERNODES_PER_RECORD || body.candidates.length > MAX_CANDIDATES_PER_RECORD) {
    return refuse('too_many_entries', `at most ${MAX_SUPERNODES_PER_RECORD} supernodes and ${MAX_CANDIDATES_PER_RECORD} candidates`);
  }
  const certificate = verifier.verify(body.certificate, nowMs);
  if (!certificate.ok) {
    if (certificate.error.code === 'wrong_network') return refuse('wrong_network', certificate.error.message);
    return refuse('bad_certificate', certificate.error.message, { certificateError: certificate.error.code });
  }
  const device = certificate.value;
  if (device.role !== Role.DEVICE) return refuse('not_a_device', 'only a device certificate can sign presence');
  if (device.username !== body.username) return refuse('wrong_user', `the certificate is for ${device.username}, the record for ${body.username}`);
  if (expectedUsername !== undefined && body.username !== expectedUsername) return refuse('wrong_user', `a record for ${body.username} offered as ${expectedUsername}`);
  if (!verifySignature(device.signingKey, concatBytes(SIGNATURE_CONTEXT, record.value.body), record.value.signature)) {
    return refuse('bad_signature', 'the record is not signed by the certified device');
  }
  const issuedAtMs = Number(body.issuedAtMs);
  const expiresAtMs = Number(body.expiresAtMs);
  // Refused before the lifetime checks as before: a record from the future that also lives
  // too long is refused as from the future.
  if (issuedAtMs > nowMs + CLOCK_SKEW_MS) return refuse('not_yet_valid', 'the record is from the future');
  if (expiresAtMs <= nowMs) return refuse('expired', 'the record expired');
  if (expiresAtMs - issuedAtMs > MAX_PRESENCE_TTL_MS) return refuse('too_long_lived', `a record lives at most ${MAX_PRESENCE_TTL_MS / 60_000} minutes`);
  return ok({
    username: body.username,
    device,
    supernodes: body.supernodes,
    candidates: body.candidates,
    natType: body.natType,
    sequence: Number(body.sequence),
    issuedAtMs,
    expiresAtMs,
    encoded,
  });
}
