// Noise SymmetricState (Noise spec section 5.2) with SHA-256.
// SHA-256 is libsodium's, one native call on bytes laid out once; HMAC is built on it (RFC 2104),
// since sodium-native has no HMAC-SHA256 and node's createHmac costs an object per call.
import { concatBytes } from '../bytes.js';
import { sodium } from '../sodium.js';
import { CipherState, type CipherName } from './cipher-state.js';

export const HASH_BYTES = 32;
const BLOCK_BYTES = 64;
const EMPTY = new Uint8Array(0);
const BYTE_1 = Uint8Array.of(1);
const BYTE_2 = Uint8Array.of(2);
const BYTE_3 = Uint8Array.of(3);

function sha256Of(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(HASH_BYTES);
  sodium.crypto_hash_sha256(out, input);
  return out;
}

export function sha256(...parts: Uint8Array[]): Uint8Array {
  return sha256Of(parts.length === 1 ? parts[0]! : concatBytes(...parts));
}

/** HMAC-SHA256 (RFC 2104): H((K ^ opad) || H((K ^ ipad) || message)). */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const k = key.byteLength > BLOCK_BYTES ? sha256Of(key) : key;
  let length = 0;
  for (const part of parts) length += part.byteLength;
  const inner = new Uint8Array(BLOCK_BYTES + length);
  const outer = new Uint8Array(BLOCK_BYTES + HASH_BYTES);
  inner.set(k);
  outer.set(k);
  for (let i = 0; i < BLOCK_BYTES; i++) {
    inner[i]! ^= 0x36;
    outer[i]! ^= 0x5c;
  }
  let offset = BLOCK_BYTES;
  for (const part of parts) {
    inner.set(part, offset);
    offset += part.byteLength;
  }
  outer.set(sha256Of(inner), BLOCK_BYTES);
  return sha256Of(outer);
}

/** HKDF as Noise defines it (section 4.3), returning two or three outputs. */
export function hkdf(chainingKey: Uint8Array, inputKeyMaterial: Uint8Array, outputs: 2 | 3): Uint8Array[] {
  const temp = hmacSha256(chainingKey, inputKeyMaterial);
  const out1 = hmacSha256(temp, BYTE_1);
  const out2 = hmacSha256(temp, out1, BYTE_2);
  if (outputs === 2) return [out1, out2];
  return [out1, out2, hmacSha256(temp, out2, BYTE_3)];
}

export class SymmetricState {
  private ck: Uint8Array;
  private h: Uint8Array;
  private readonly cipherState: CipherState;

  constructor(
    readonly protocolName: string,
    private readonly cipher: CipherName,
  ) {
    const name = new TextEncoder().encode(protocolName);
    if (name.byteLength <= HASH_BYTES) {
      this.h = new Uint8Array(HASH_BYTES);
      this.h.set(name);
    } else {
      this.h = sha256(name);
    }
    this.ck = this.h;
    this.cipherState = new CipherState(cipher);
  }

  get handshakeHash(): Uint8Array {
    return this.h;
  }

  hasKey(): boolean {
    return this.cipherState.hasKey();
  }

  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = hkdf(this.ck, inputKeyMaterial, 2);
    this.ck = ck!;
    this.cipherState.initializeKey(tempK!);
  }

  mixHash(data: Uint8Array): void {
    this.h = sha256(this.h, data);
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipherState.encryptWithAd(this.h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array | null {
    const plaintext = this.cipherState.decryptWithAd(this.h, ciphertext);
    if (plaintext === null) return null;
    this.mixHash(ciphertext);
    return plaintext;
  }

  /**
   * Noise's Split(): the two transport keys, and cipher states keyed with them (the keys for
   * protocols that derive further keys from them).
   */
  split(): { keys: [Uint8Array, Uint8Array]; ciphers: [CipherState, CipherState] } {
    const [k1, k2] = hkdf(this.ck, EMPTY, 2);
    return { keys: [k1!, k2!], ciphers: [new CipherState(this.cipher, k1!), new CipherState(this.cipher, k2!)] };
  }
}
