// Noise CipherState (Noise spec section 5.1) over ChaChaPoly (libsodium: one native call per
// frame, sealed in place) or AESGCM (node:crypto: only the test vectors use it; libsodium's
// AES-GCM needs AES-NI and would need a fallback of its own).
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { sodium } from '../sodium.js';

export type CipherName = 'ChaChaPoly' | 'AESGCM';
export const TAG_BYTES = 16;
/** 2^64 - 1 is reserved by the spec; a JS number counts exactly to 2^53, far beyond any session. */
const MAX_NONCE = Number.MAX_SAFE_INTEGER;

// One nonce buffer for every call: both libraries read it during the call only, so reuse is safe
// (and saves an allocation per frame on the hot path).
const nonce = Buffer.alloc(12);

/** The 96-bit nonce: 32 zero bits, then the counter (little-endian for ChaChaPoly, big-endian for AESGCM). */
function nonceBytes(cipher: CipherName, n: number): Buffer {
  const low = n >>> 0;
  const high = Math.floor(n / 2 ** 32);
  if (cipher === 'ChaChaPoly') {
    nonce.writeUInt32LE(low, 4);
    nonce.writeUInt32LE(high, 8);
  } else {
    nonce.writeUInt32BE(high, 4);
    nonce.writeUInt32BE(low, 8);
  }
  return nonce;
}

const ALGORITHM = { ChaChaPoly: 'chacha20-poly1305', AESGCM: 'aes-256-gcm' } as const;

export function aeadEncrypt(cipher: CipherName, key: Uint8Array, n: number, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const out = new Uint8Array(plaintext.byteLength + TAG_BYTES);
  aeadEncryptInto(out, cipher, key, n, ad, plaintext);
  return out;
}

/** Seals into `out`, which is exactly the plaintext's length plus the tag (a view into a larger frame, say). */
export function aeadEncryptInto(out: Uint8Array, cipher: CipherName, key: Uint8Array, n: number, ad: Uint8Array, plaintext: Uint8Array): void {
  if (out.byteLength !== plaintext.byteLength + TAG_BYTES) throw new RangeError('AEAD output must be the plaintext length plus the tag');
  if (cipher === 'ChaChaPoly') {
    sodium.crypto_aead_chacha20poly1305_ietf_encrypt(out, plaintext, ad.byteLength > 0 ? ad : null, null, nonceBytes(cipher, n), key);
    return;
  }
  const c = createCipheriv(ALGORITHM[cipher] as 'chacha20-poly1305', key, nonceBytes(cipher, n), { authTagLength: TAG_BYTES });
  if (ad.byteLength > 0) c.setAAD(ad, { plaintextLength: plaintext.byteLength });
  out.set(c.update(plaintext));
  c.final();
  out.set(c.getAuthTag(), plaintext.byteLength);
}

/** The plaintext, or null when authentication fails. */
export function aeadDecrypt(cipher: CipherName, key: Uint8Array, n: number, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null {
  if (ciphertext.byteLength < TAG_BYTES) return null;
  if (cipher === 'ChaChaPoly') {
    const out = new Uint8Array(ciphertext.byteLength - TAG_BYTES);
    try {
      sodium.crypto_aead_chacha20poly1305_ietf_decrypt(out, null, ciphertext, ad.byteLength > 0 ? ad : null, nonceBytes(cipher, n), key);
    } catch {
      return null;
    }
    return out;
  }
  try {
    const d = createDecipheriv(ALGORITHM[cipher] as 'chacha20-poly1305', key, nonceBytes(cipher, n), { authTagLength: TAG_BYTES });
    if (ad.byteLength > 0) d.setAAD(ad, { plaintextLength: ciphertext.byteLength - TAG_BYTES });
    d.setAuthTag(ciphertext.subarray(ciphertext.byteLength - TAG_BYTES));
    const body = d.update(ciphertext.subarray(0, ciphertext.byteLength - TAG_BYTES));
    d.final();
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  } catch {
    return null; // the tag did not verify: forged or damaged, the caller's null
  }
}

export class CipherState {
  private n = 0;

  constructor(
    readonly cipher: CipherName,
    private k: Uint8Array | null = null,
  ) {}

  hasKey(): boolean {
    return this.k !== null;
  }

  initializeKey(key: Uint8Array | null): void {
    this.k = key;
    this.n = 0;
  }

  get nonce(): number {
    return this.n;
  }

  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (!this.k) return plaintext.slice();
    if (this.n >= MAX_NONCE) throw new Error('nonce exhausted: the session must be rekeyed');
    return aeadEncrypt(this.cipher, this.k, this.n++, ad, plaintext);
  }

  /** Null when authentication fails; the nonce then does not advance (Noise spec 5.1). */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null {
    if (!this.k) return ciphertext.slice();
    if (this.n >= MAX_NONCE) return null;
    const plaintext = aeadDecrypt(this.cipher, this.k, this.n, ad, ciphertext);
    if (plaintext) this.n++;
    return plaintext;
  }
}
