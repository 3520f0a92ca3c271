// Noise SymmetricState (Noise spec section 5.2) with SHA-256.
import { createHash, createHmac } from 'node:crypto';
import { CipherState, type CipherName } from './cipher-state.js';

export const HASH_BYTES = 32;
const EMPTY = new Uint8Array(0);

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

function hmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return new Uint8Array(mac.digest());
}

/** HKDF as Noise defines it (section 4.3), returning two or three outputs. */
export function hkdf(chainingKey: Uint8Array, inputKeyMaterial: Uint8Array, outputs: 2 | 3): Uint8Array[] {
  const temp = hmac(chainingKey, inputKeyMaterial);
  const out1 = hmac(temp, Uint8Array.of(1));
  const out2 = hmac(temp, out1, Uint8Array.of(2));
  if (outputs === 2) return [out1, out2];
  return [out1, out2, hmac(temp, out2, Uint8Array.of(3))];
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
