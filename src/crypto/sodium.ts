// libsodium through sodium-native: the X25519, SHA-256 and ChaCha20-Poly1305 primitives that a
// Noise handshake and every sealed frame run on, and the Ed25519 signatures of certificates,
// records and logins. node:crypto builds an object per operation (a
// KeyObject per key, a cipher per frame), which cost more than the primitives themselves here;
// libsodium works on raw bytes in place (docs/protocol.md, "Primitives").
//
// No fallback to node:crypto: a module that fails to load is a broken install, and a silent
// fallback would make every supernode several times slower without anyone noticing. It fails
// here, at start-up, with the reason.
import { createRequire } from 'node:module';

/** The part of sodium-native that Parley uses (its functions throw on a failed status). */
export interface Sodium {
  crypto_scalarmult(q: Uint8Array, n: Uint8Array, p: Uint8Array): void;
  crypto_scalarmult_base(q: Uint8Array, n: Uint8Array): void;
  crypto_hash_sha256(out: Uint8Array, input: Uint8Array): void;
  /** Returns the ciphertext length; `c` is `m` plus the 16-byte tag. */
  crypto_aead_chacha20poly1305_ietf_encrypt(c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number;
  /** Throws when authentication fails. */
  crypto_aead_chacha20poly1305_ietf_decrypt(m: Uint8Array, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array): number;
  /** Ed25519: `pk` 32 bytes, `sk` 64 bytes (the seed, then the public key), `seed` 32 bytes. */
  crypto_sign_seed_keypair(pk: Uint8Array, sk: Uint8Array, seed: Uint8Array): void;
  /** `sig` 64 bytes. */
  crypto_sign_detached(sig: Uint8Array, m: Uint8Array, sk: Uint8Array): void;
  /** False for a bad signature; throws (an assertion) when `pk` is not 32 bytes or `sig` is shorter than 64. */
  crypto_sign_verify_detached(sig: Uint8Array, m: Uint8Array, pk: Uint8Array): boolean;
}

function load(): Sodium {
  try {
    return createRequire(import.meta.url)('sodium-native') as Sodium;
  } catch (cause) {
    const platform = `${process.platform}-${process.arch}, Node ${process.version}`;
    throw new Error(`sodium-native (libsodium) did not load on ${platform}: run npm install; Parley's crypto needs it`, { cause });
  }
}

export const sodium: Sodium = load();
