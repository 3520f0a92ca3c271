// A WebRTC session description bound to a Parley device. DTLS-SRTP (RFC 5763) keys a call from
// the DTLS handshake, and the only thing that says whose DTLS endpoint is at the other end is
// the certificate fingerprint in the SDP (`a=fingerprint:`). Whoever can change that line can put
// its own endpoint in the middle. So each side signs its fingerprint with its device key, and the
// other side checks, before it applies the description:
//   1. the certificate that comes with it is a device certificate of this network, for the user
//      and the device key the end-to-end session proved (the messenger's sender);
//   2. the signature is that certificate's signing key's, over the binding below: this session,
//      offer or answer, from this device to that one, this fingerprint;
//   3. every fingerprint line in the SDP is that fingerprint (one certificate, one value).
// The signalling is end to end already (Noise between device keys); the signature makes the
// description hold on its own, so it stays authentic on hops the end-to-end session does not
// cover (the daemon handing it to its page) and is checked the same way by any verifier that
// knows the network's CA key. Pure: no clock (the caller passes the time), no I/O.
import { concatBytes, equalBytes } from '../crypto/bytes.js';
import { Role, type CertificateVerifier, type VerifiedCertificate } from '../crypto/certificate.js';
import { signBytes, verifySignature, ED25519_SIGNATURE_BYTES } from '../crypto/ed25519.js';
import type { NodeIdentity } from '../crypto/identity.js';
import { create } from '@bufbuild/protobuf';
import { SignedDescriptionSchema, type SignedDescription } from '../wire/messages.js';
import { err, ok, type CodedError, type Result } from '../result.js';
import type { RtcDescriptionType } from '../media/rtc-peer.js';

/** An SDP with every candidate of a few interfaces is 2-6 KiB; the messenger's frame holds 16 KiB. */
export const MAX_SDP_BYTES = 12 * 1024;
export const SESSION_ID_BYTES = 16;
/** Fingerprint lines one SDP may hold (one per media section, and one at session level). */
const MAX_FINGERPRINT_LINES = 16;

const BINDING_LABEL = new TextEncoder().encode('parley webrtc dtls fingerprint v1');
/** RFC 8122's hash functions whose digests are long enough to bind a certificate, with their lengths. */
const DIGEST_BYTES: Readonly<Record<string, number>> = { 'sha-256': 32, 'sha-384': 48, 'sha-512': 64 };

export type DescriptionErrorCode =
  /** Not a description: a session id or signature of the wrong length, no certificate, an SDP too long. */
  | 'malformed'
  /** The SDP has no usable fingerprint line (none, an unknown hash, bad hex). */
  | 'no_fingerprint'
  /** The SDP names more than one fingerprint: which certificate the DTLS handshake would accept is unclear. */
  | 'mixed_fingerprints'
  /** The certificate is not a valid device certificate of this network (its verifier's code in the message). */
  | 'bad_certificate'
  /** A valid certificate, but of another user or device than the one the end-to-end session proved. */
  | 'wrong_device'
  /** The signature does not cover this fingerprint for this session, direction and pair of devices: the SDP was changed on the way, or the signature belongs elsewhere. */
  | 'fingerprint_not_signed';

export type DescriptionError = CodedError<DescriptionErrorCode>;

export interface Fingerprint {
  /** RFC 8122 hash function name, lower case ('sha-256'). */
  readonly algorithm: string;
  readonly digest: Uint8Array;
}

/** Who sends and who receives a description: users and device keys (the X25519 keys the messenger names devices by). */
export interface DescriptionParties {
  readonly sessionId: Uint8Array;
  readonly type: RtcDescriptionType;
  readonly from: { readonly user: string; readonly device: Uint8Array };
  readonly to: Uint8Array;
}

export interface VerifiedDescription {
  readonly sdp: string;
  readonly fingerprint: Fingerprint;
  readonly certificate: VerifiedCertificate;
}

function fail(code: DescriptionErrorCode, message: string): { ok: false; error: DescriptionError } {
  return err({ code, message });
}

/** The one fingerprint every `a=fingerprint:` line of `sdp` names. */
export function sdpFingerprint(sdp: string): Result<Fingerprint, DescriptionError> {
  const lines = sdp.split(/\r?\n/).filter((line) => line.startsWith('a=fingerprint:'));
  if (lines.length === 0) return fail('no_fingerprint', 'the SDP has no a=fingerprint line');
  if (lines.length > MAX_FINGERPRINT_LINES) return fail('mixed_fingerprints', `${lines.length} fingerprint lines`);
  let found: Fingerprint | null = null;
  for (const line of lines) {
    const match = /^a=fingerprint:(\S+) ([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})*)\s*$/.exec(line);
    const algorithm = match?.[1]?.toLowerCase() ?? '';
    const length = DIGEST_BYTES[algorithm];
    if (!match || length === undefined) return fail('no_fingerprint', `an unusable fingerprint line: ${line.slice(0, 80)}`);
    const digest = Uint8Array.from(match[2]!.split(':'), (pair) => parseInt(pair, 16));
    if (digest.length !== length) return fail('no_fingerprint', `a ${algorithm} fingerprint of ${digest.length} bytes`);
    if (found && (found.algorithm !== algorithm || !equalBytes(found.digest, digest))) return fail('mixed_fingerprints', 'the SDP names two different fingerprints');
    found = { algorithm, digest };
  }
  return ok(found!);
}

/** What the device key signs: the label, offer or answer, the session, both devices, the fingerprint. */
export function fingerprintBinding(parties: DescriptionParties, fingerprint: Fingerprint): Uint8Array {
  const algorithm = new TextEncoder().encode(fingerprint.algorithm);
  return concatBytes(
    BINDING_LABEL,
    Uint8Array.of(0, parties.type === 'offer' ? 1 : 2),
    parties.sessionId,
    Uint8Array.of(parties.from.device.length),
    parties.from.device,
    Uint8Array.of(parties.to.length),
    parties.to,
    Uint8Array.of(algorithm.length),
    algorithm,
    Uint8Array.of(fingerprint.digest.length),
    fingerprint.digest,
  );
}

/** Our description, signed by our device key; a typed error when our own stack's SDP has no single fingerprint. */
export function signDescription(identity: NodeIdentity, parties: DescriptionParties, sdp: string): Result<SignedDescription, DescriptionError> {
  if (parties.sessionId.length !== SESSION_ID_BYTES) return fail('malformed', `a session id of ${parties.sessionId.length} bytes`);
  if (Buffer.byteLength(sdp) > MAX_SDP_BYTES) return fail('malformed', `an SDP of ${Buffer.byteLength(sdp)} bytes (at most ${MAX_SDP_BYTES})`);
  const fingerprint = sdpFingerprint(sdp);
  if (!fingerprint.ok) return fingerprint;
  const signature = signBytes(identity.signing, fingerprintBinding(parties, fingerprint.value));
  return ok(create(SignedDescriptionSchema, { sessionId: parties.sessionId, sdp, certificate: identity.certificate, signature }));
}

/**
 * Checks a description the end-to-end session says came from `parties.from` for this device
 * (`parties.to`), at `nowMs` (wall time, for the certificate). Cheapest checks first; the
 * Ed25519 verifications (the certificate's, then the signature) come last.
 */
export function verifyDescription(verifier: CertificateVerifier, nowMs: number, parties: DescriptionParties, description: SignedDescription): Result<VerifiedDescription, DescriptionError> {
  if (description.sessionId.length !== SESSION_ID_BYTES || !equalBytes(description.sessionId, parties.sessionId)) return fail('malformed', 'the session id is not this session');
  if (description.signature.length !== ED25519_SIGNATURE_BYTES) return fail('malformed', `a signature of ${description.signature.length} bytes`);
  if (description.certificate.length === 0) return fail('malformed', 'no certificate');
  if (Buffer.byteLength(description.sdp) > MAX_SDP_BYTES) return fail('malformed', `an SDP over ${MAX_SDP_BYTES} bytes`);
  const fingerprint = sdpFingerprint(description.sdp);
  if (!fingerprint.ok) return fingerprint;
  const certificate = verifier.verify(description.certificate, nowMs);
  if (!certificate.ok) return fail('bad_certificate', `${certificate.error.code}: ${certificate.error.message}`);
  const cert = certificate.value;
  if (cert.role !== Role.DEVICE) return fail('bad_certificate', 'not a device certificate');
  if (cert.username !== parties.from.user || !equalBytes(cert.dhKey, parties.from.device)) return fail('wrong_device', `a certificate of ${cert.username}'s device, in a description from another device of ${parties.from.user}`);
  if (!verifySignature(cert.signingKey, fingerprintBinding(parties, fingerprint.value), description.signature)) return fail('fingerprint_not_signed', 'the signature does not cover this fingerprint for this session and these devices');
  return ok({ sdp: description.sdp, fingerprint: fingerprint.value, certificate: cert });
}
