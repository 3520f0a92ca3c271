// Ed25519 signatures (RFC 8032) on libsodium, with raw keys: a 32-byte public key, and a 64-byte
// libsodium secret key derived once from the 32-byte seed. node:crypto needed a KeyObject per key
// (a JWK import per verification, or a cache of them); libsodium verifies from the bytes in about
// half the time (docs/protocol.md, "Primitives").
//
// Signatures are byte for byte those of node:crypto (Ed25519 is deterministic), so certificates
// and access tokens signed by the older code verify, and the key files, which hold the seed, load
// as before. Verification is libsodium's, stricter than OpenSSL's in one way: it refuses a public
// key or a signature's R of small order (weak keys under which one signature can verify for many
// messages); test/crypto/ed25519.test.ts pins down where the two agree and where they do not.
import type { Random } from '../env/types.js';
import { sodium } from './sodium.js';

export const ED25519_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
const ED25519_SECRET_KEY_BYTES = 64;

export interface SigningKeyPair {
  /** libsodium's 64-byte secret key: the seed, then the public key. Never leaves the process. */
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  /** The 32-byte seed, to persist the key. */
  readonly seed: Uint8Array;
}

export function signingKeyPairFromSeed(seed: Uint8Array): SigningKeyPair {
  if (seed.byteLength !== ED25519_KEY_BYTES) throw new RangeError('Ed25519 seed must be 32 bytes');
  const publicKey = new Uint8Array(ED25519_KEY_BYTES);
  const secretKey = new Uint8Array(ED25519_SECRET_KEY_BYTES);
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed);
  return { secretKey, publicKey, seed: seed.slice() };
}

export function generateSigningKeyPair(random: Random): SigningKeyPair {
  return signingKeyPairFromSeed(random.bytes(ED25519_KEY_BYTES));
}

export function signBytes(keyPair: SigningKeyPair, message: Uint8Array): Uint8Array {
  const signature = new Uint8Array(ED25519_SIGNATURE_BYTES);
  sodium.crypto_sign_detached(signature, message, keyPair.secretKey);
  return signature;
}

/**
 * Whether `signature` is `publicKey`'s over `message`. False, never a throw, for bad input: a
 * key or signature of the wrong length, a key that is not a point on the curve or is of small
 * order, a signature whose S is not below the group order (no malleable twin of a valid one).
 */
export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.byteLength !== ED25519_KEY_BYTES || signature.byteLength !== ED25519_SIGNATURE_BYTES) return false;
  return sodium.crypto_sign_verify_detached(signature, message, publicKey);
}
