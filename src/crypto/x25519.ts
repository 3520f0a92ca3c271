// X25519 (RFC 7748) on libsodium, with raw 32-byte keys: no key object to import per operation
// (with node:crypto, importing a key cost about as much as the DH itself; docs/protocol.md).
import type { Random } from '../env/types.js';
import { sodium } from './sodium.js';

export const X25519_KEY_BYTES = 32;

export interface DhKeyPair {
  /** The 32 private bytes as given (X25519 clamps them at each use). */
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** A key pair from a 32-byte private key. */
export function x25519KeyPairFromPrivate(privateKeyBytes: Uint8Array): DhKeyPair {
  if (privateKeyBytes.byteLength !== X25519_KEY_BYTES) throw new RangeError('X25519 private key must be 32 bytes');
  const privateKey = privateKeyBytes.slice();
  const publicKey = new Uint8Array(X25519_KEY_BYTES);
  // The fixed-base multiplication: about twice as fast as a DH with the base point.
  sodium.crypto_scalarmult_base(publicKey, privateKey);
  return { privateKey, publicKey };
}

export function generateX25519KeyPair(random: Random): DhKeyPair {
  return x25519KeyPairFromPrivate(random.bytes(X25519_KEY_BYTES));
}

export function x25519PrivateKeyBytes(keyPair: DhKeyPair): Uint8Array {
  return keyPair.privateKey.slice();
}

/**
 * The shared secret, or null when the peer's key is not a valid public key: wrong length, or a
 * low-order point, whose output would be all zeros (libsodium refuses it, as OpenSSL did).
 */
export function x25519(privateKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array | null {
  if (peerPublicKey.byteLength !== X25519_KEY_BYTES || privateKey.byteLength !== X25519_KEY_BYTES) return null;
  const shared = new Uint8Array(X25519_KEY_BYTES);
  try {
    sodium.crypto_scalarmult(shared, privateKey, peerPublicKey);
  } catch {
    return null; // a low-order point (see above): refused, the caller's null
  }
  return shared;
}
