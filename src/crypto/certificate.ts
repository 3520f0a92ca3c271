// Device certificates: the network CA binds a username (or a node role) to a device's Ed25519
// signing key and X25519 Noise static key, for a period. Verifiable offline with the CA's
// public key from the network descriptor.
import type { Random } from '../env/types.js';
import { err, ok, type CodedError, type Result } from '../result.js';
import {
  Role,
  decodeCertificate,
  decodeCertificateBody,
  encodeCertificate,
  encodeCertificateBody,
} from '../wire/messages.js';
import { concatBytes, equalBytes } from './bytes.js';
import { ED25519_KEY_BYTES, generateSigningKeyPair, signBytes, verifySignature, type SigningKeyPair } from './ed25519.js';
import { sha256 } from './noise/symmetric-state.js';

export { Role };

export const CERTIFICATE_VERSION = 1;
const SIGNATURE_CONTEXT = new TextEncoder().encode('parley-certificate-v1\0');
/** Clocks of two honest machines differ; a certificate is accepted this much early or late. */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60_000;
export const DEFAULT_CERTIFICATE_LIFETIME_MS = 24 * 3_600_000;

export interface NetworkCa {
  readonly keyPair: SigningKeyPair;
  readonly networkId: Uint8Array;
}

/** A network is named by the hash of its CA key: two networks never share an id by accident. */
export function networkIdOf(caPublicKey: Uint8Array): Uint8Array {
  return sha256(caPublicKey);
}

export function networkCaFromKeyPair(keyPair: SigningKeyPair): NetworkCa {
  return { keyPair, networkId: networkIdOf(keyPair.publicKey) };
}

export function createNetworkCa(random: Random): NetworkCa {
  return networkCaFromKeyPair(generateSigningKeyPair(random));
}

/** What a certificate says about its holder. */
export interface CertifiedFields {
  readonly username: string;
  readonly role: Role;
  readonly signingKey: Uint8Array;
  readonly dhKey: Uint8Array;
  readonly serial: number;
  readonly issuedAtMs: number;
}

export interface CertificateRequest extends CertifiedFields {
  readonly lifetimeMs?: number;
}

export function issueCertificate(ca: NetworkCa, request: CertificateRequest): Uint8Array {
  const body = encodeCertificateBody({
    version: CERTIFICATE_VERSION,
    networkId: ca.networkId,
    username: request.username,
    role: request.role,
    signingKey: request.signingKey,
    dhKey: request.dhKey,
    // Clocks may give fractions of a millisecond (the virtual one does); the wire holds integers.
    serial: BigInt(Math.floor(request.serial)),
    issuedAtMs: BigInt(Math.floor(request.issuedAtMs)),
    expiresAtMs: BigInt(Math.floor(request.issuedAtMs + (request.lifetimeMs ?? DEFAULT_CERTIFICATE_LIFETIME_MS))),
  });
  return encodeCertificate({ body, signature: signBytes(ca.keyPair, concatBytes(SIGNATURE_CONTEXT, body)) });
}

export interface VerifiedCertificate extends CertifiedFields {
  readonly expiresAtMs: number;
  readonly encoded: Uint8Array;
}

export type CertificateErrorCode = 'malformed' | 'unsupported_version' | 'wrong_network' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'revoked';
export type CertificateError = CodedError<CertificateErrorCode>;

function certificateError(code: CertificateErrorCode, message: string): Result<never, CertificateError> {
  return err({ code, message });
}

/**
 * How many certificates whose CA signature checked out a verifier remembers. The same few
 * certificates come back all the time (every handshake, every presence record a supernode
 * stores), and an Ed25519 verification is most of what a handshake costs; only certificates the
 * CA really signed get in, so strangers cannot fill it with garbage, and the oldest go first.
 */
export const VERIFIED_CERTIFICATE_CACHE_SIZE = 4096;

/** How many revoked Noise keys a verifier remembers (the login server lists those whose certificates may still be valid). */
export const MAX_REVOKED_KEYS = 4096;

type SignedBody = Omit<VerifiedCertificate, 'encoded'>;

export class CertificateVerifier {
  private readonly caKey: Uint8Array;
  readonly networkId: Uint8Array;
  /** Signature-checked certificates by their bytes; least recently used first. */
  private readonly verified = new Map<string, SignedBody>();
  /** Noise keys the operator revoked (hex), oldest first: their certificates are refused although signed and in date. */
  private readonly revokedKeys = new Set<string>();

  constructor(
    caPublicKey: Uint8Array,
    private readonly clockSkewMs: number = DEFAULT_CLOCK_SKEW_MS,
  ) {
    if (caPublicKey.byteLength !== ED25519_KEY_BYTES) throw new RangeError('CA public key must be a 32-byte Ed25519 key');
    this.caKey = caPublicKey.slice();
    this.networkId = networkIdOf(caPublicKey);
  }

  /**
   * Refuses from now on every certificate for these Noise keys (a supernode the operator
   * revoked: its certificate stays in date for up to its lifetime, so the CA's word is not enough).
   * Returns the keys that were new here.
   */
  revoke(dhKeys: Iterable<Uint8Array>): Uint8Array[] {
    const fresh: Uint8Array[] = [];
    for (const dhKey of dhKeys) {
      const key = Buffer.from(dhKey).toString('hex');
      if (this.revokedKeys.has(key)) continue;
      if (this.revokedKeys.size >= MAX_REVOKED_KEYS) this.revokedKeys.delete(this.revokedKeys.values().next().value!);
      this.revokedKeys.add(key);
      fresh.push(dhKey);
    }
    return fresh;
  }

  isRevoked(dhKey: Uint8Array): boolean {
    return this.revokedKeys.size > 0 && this.revokedKeys.has(Buffer.from(dhKey).toString('hex'));
  }

  /** How many signature-checked certificates it remembers (at most VERIFIED_CERTIFICATE_CACHE_SIZE). */
  get remembered(): number {
    return this.verified.size;
  }

  /** Checks format, network, CA signature and validity period at `nowMs` (Unix epoch ms). */
  verify(encoded: Uint8Array, nowMs: number): Result<VerifiedCertificate, CertificateError> {
    const key = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength).toString('base64');
    let signed = this.verified.get(key);
    if (signed) {
      this.verified.delete(key);
    } else {
      const checked = this.checkSigned(encoded);
      if (!checked.ok) return checked;
      signed = checked.value;
      if (this.verified.size >= VERIFIED_CERTIFICATE_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    }
    this.verified.set(key, signed);
    if (this.isRevoked(signed.dhKey)) return certificateError('revoked', 'the operator revoked this key');
    // The validity period is checked at every use: a cached certificate still expires.
    if (nowMs + this.clockSkewMs < signed.issuedAtMs) return certificateError('not_yet_valid', `certificate valid from ${new Date(signed.issuedAtMs).toISOString()}`);
    if (nowMs - this.clockSkewMs >= signed.expiresAtMs) return certificateError('expired', `certificate expired at ${new Date(signed.expiresAtMs).toISOString()}`);
    return ok({ ...signed, encoded });
  }

  /** Format, network and the CA's signature: what does not change with time. */
  private checkSigned(encoded: Uint8Array): Result<SignedBody, CertificateError> {
    const certificate = decodeCertificate(encoded);
    if (!certificate.ok) return certificateError('malformed', certificate.error.message);
    const body = decodeCertificateBody(certificate.value.body);
    if (!body.ok) return certificateError('malformed', body.error.message);
    const b = body.value;
    if (b.version !== CERTIFICATE_VERSION) return certificateError('unsupported_version', `certificate version ${b.version}`);
    if (!equalBytes(b.networkId, this.networkId)) return certificateError('wrong_network', 'certificate is for another network');
    if (!verifySignature(this.caKey, concatBytes(SIGNATURE_CONTEXT, certificate.value.body), certificate.value.signature)) {
      return certificateError('bad_signature', 'certificate is not signed by this network\'s CA');
    }
    return ok({
      username: b.username,
      role: b.role,
      signingKey: b.signingKey,
      dhKey: b.dhKey,
      serial: Number(b.serial),
      issuedAtMs: Number(b.issuedAtMs),
      expiresAtMs: Number(b.expiresAtMs),
    });
  }
}
