// Noise CipherState (Noise spec section 5.1) over ChaChaPoly or AESGCM from node:crypto.
import { createCipheriv, createDecipheriv } from 'node:crypto';

export type CipherName = 'ChaChaPoly' | 'AESGCM';
export const TAG_BYTES = 16;
/** 2^64 - 1 is reserved by the spec; a JS number counts exactly to 2^53, far beyond any session. */
const MAX_NONCE = Number.MAX_SAFE_INTEGER;

// One nonce buffer for every call: createCipheriv copies the IV, so reuse is safe (and saves
// an allocation per frame on the hot path).
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
  const c = createCipheriv(ALGORITHM[cipher] as 'chacha20-poly1305', key, nonceBytes(cipher, n), { authTagLength: TAG_BYTES });
  if (ad.byteLength > 0) c.setAAD(ad, { plaintextLength: plaintext.byteLength });
  const body = c.update(plaintext);
  c.final();
  const out = Buffer.allocUnsafe(body.byteLength + TAG_BYTES);
  body.copy(out);
  c.getAuthTag().copy(out, body.byteLength);
  return out;
}

/** The plaintext, or null when authentication fails. */
export function aeadDecrypt(cipher: CipherName, key: Uint8Array, n: number, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null {
  if (ciphertext.byteLength < TAG_BYTES) return null;
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
