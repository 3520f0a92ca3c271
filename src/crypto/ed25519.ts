// Ed25519 signatures (RFC 8032) on node:crypto, with raw 32-byte keys at the edges.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { Random } from '../env/types.js';
import { toBase64Url } from './bytes.js';

export const ED25519_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

export interface SigningKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: Uint8Array;
  /** The 32-byte seed, to persist the key. */
  readonly seed: Uint8Array;
}

export function signingKeyPairFromSeed(seed: Uint8Array): SigningKeyPair {
  if (seed.byteLength !== ED25519_KEY_BYTES) throw new RangeError('Ed25519 seed must be 32 bytes');
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: toBase64Url(seed), x: toBase64Url(new Uint8Array(32)) }, format: 'jwk' });
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x!;
  return { privateKey, publicKey: new Uint8Array(Buffer.from(x, 'base64url')), seed: seed.slice() };
}

export function generateSigningKeyPair(random: Random): SigningKeyPair {
  return signingKeyPairFromSeed(random.bytes(ED25519_KEY_BYTES));
}

export function signBytes(keyPair: SigningKeyPair, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, keyPair.privateKey));
}

/** A verifier for one public key; import the key once, verify many times. */
export function publicKeyObject(publicKey: Uint8Array): KeyObject | null {
  if (publicKey.byteLength !== ED25519_KEY_BYTES) return null;
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(publicKey) }, format: 'jwk' });
  } catch {
    return null; // not a point on the curve: bad input, the caller's null
  }
}

export function verifySignature(publicKey: KeyObject | Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.byteLength !== ED25519_SIGNATURE_BYTES) return false;
  const key = publicKey instanceof Uint8Array ? publicKeyObject(publicKey) : publicKey;
  if (!key) return false;
  try {
    return verify(null, message, key, signature);
  } catch {
    return false; // a malformed key or signature is a failed verification
  }
}
