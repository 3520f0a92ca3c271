// A node's identity: its Ed25519 signing key (records, challenges), its X25519 Noise static
// key (secure channels) and the CA certificate that binds both to a name or a role.
import type { Random } from '../env/types.js';
import { generateSigningKeyPair, signingKeyPairFromSeed, type SigningKeyPair } from './ed25519.js';
import { generateX25519KeyPair, x25519KeyPairFromPrivate, x25519PrivateKeyBytes, type DhKeyPair } from './x25519.js';
import { issueCertificate, Role, type NetworkCa } from './certificate.js';
import { fromBase64Url, toBase64Url } from './bytes.js';

export interface DeviceKeys {
  readonly signing: SigningKeyPair;
  readonly dh: DhKeyPair;
}

export interface NodeIdentity extends DeviceKeys {
  /** The encoded CA certificate for these keys. */
  readonly certificate: Uint8Array;
}

export function generateDeviceKeys(random: Random): DeviceKeys {
  return { signing: generateSigningKeyPair(random), dh: generateX25519KeyPair(random) };
}

/** The private halves as text, for a key file with 0600 permissions. */
export function exportDeviceKeys(keys: DeviceKeys): { signingSeed: string; dhPrivate: string } {
  return { signingSeed: toBase64Url(keys.signing.seed), dhPrivate: toBase64Url(x25519PrivateKeyBytes(keys.dh)) };
}

export function importDeviceKeys(text: { signingSeed: string; dhPrivate: string }): DeviceKeys | null {
  const seed = fromBase64Url(text.signingSeed);
  const dh = fromBase64Url(text.dhPrivate);
  if (!seed || seed.byteLength !== 32 || !dh || dh.byteLength !== 32) return null;
  return { signing: signingKeyPairFromSeed(seed), dh: x25519KeyPairFromPrivate(dh) };
}

export interface CertifyOptions {
  readonly username?: string;
  readonly role: Role;
  readonly serial: number;
  readonly issuedAtMs: number;
  readonly lifetimeMs?: number;
}

/** Certifies `keys` with a CA held in this process (local networks, tests; later the login server). */
export function certifyKeys(ca: NetworkCa, keys: DeviceKeys, options: CertifyOptions): NodeIdentity {
  const certificate = issueCertificate(ca, {
    username: options.username ?? '',
    role: options.role,
    signingKey: keys.signing.publicKey,
    dhKey: keys.dh.publicKey,
    serial: options.serial,
    issuedAtMs: options.issuedAtMs,
    ...(options.lifetimeMs !== undefined ? { lifetimeMs: options.lifetimeMs } : {}),
  });
  return { ...keys, certificate };
}

/** Fresh keys and their certificate. */
export function issueIdentity(ca: NetworkCa, random: Random, options: CertifyOptions): NodeIdentity {
  return certifyKeys(ca, generateDeviceKeys(random), options);
}

/** An identity whose certificate can be replaced while links use it: a supernode renewing its certificate. */
export interface RenewableIdentity extends NodeIdentity {
  renew(certificate: Uint8Array): void;
}

export function renewableIdentity(keys: DeviceKeys, certificate: Uint8Array): RenewableIdentity {
  let current = certificate;
  return {
    signing: keys.signing,
    dh: keys.dh,
    // Read at every handshake, so a renewed certificate is presented from then on.
    get certificate() {
      return current;
    },
    renew(next: Uint8Array) {
      current = next;
    },
  };
}
