// Noise SymmetricState (Noise spec section 5.2) with SHA-256.
// SHA-256 is libsodium's, one native call on bytes laid out once; HMAC is built on it (RFC 2104),
// since sodium-native has no HMAC-SHA256 and node's createHmac costs an object per call.
import { sodium } from '../sodium.js';
import { CipherState, type CipherName } from './cipher-state.js';

export const HASH_BYTES = 32;
const BLOCK_BYTES = 64;
const EMPTY = new Uint8Array(0);
const BYTE_1 = Uint8Array.of(1);
const BYTE_2 = Uint8Array.of(2);
const BYTE_3 = Uint8Array.of(3);

// Scratch space for the padded HMAC blocks and hash inputs: calls are synchronous, so one buffer
// per thread serves every call (allocating them measured as half the cost of an HMAC). Inputs
// larger than the scratch (a handshake message with a large payload) get a buffer of their own.
const SCRATCH_BYTES = 2048;
const scratch = new Uint8Array(SCRATCH_BYTES);
const outerBlock = new Uint8Array(BLOCK_BYTES + HASH_BYTES);

function scratchOf(bytes: number): Uint8Array {
  return bytes <= SCRATCH_BYTES ? scratch : new Uint8Array(bytes);
}

function sha256Of(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(HASH_BYTES);
  sodium.crypto_hash_sha256(out, input);
  return out;
}

/** SHA-256 of the parts, one after the other. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return sha256Of(parts[0]!);
  let length = 0;
  for (const part of parts) length += part.byteLength;
  const input = scratchOf(length);
  let offset = 0;
  for (const part of parts) {
    input.set(part, offset);
    offset += part.byteLength;
  }
  return sha256Of(input.subarray(0, length));
}

/** HMAC-SHA256 (RFC 2104) of the parts: H((K ^ opad) || H((K ^ ipad) || message)). */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const k = key.byteLength > BLOCK_BYTES ? sha256Of(key) : key;
  let length = BLOCK_BYTES;
  for (const part of parts) length += part.byteLength;
  const inner = scratchOf(length);
  for (let i = 0; i < BLOCK_BYTES; i++) {
    const byte = i < k.byteLength ? k[i]! : 0;
    inner[i] = byte ^ 0x36;
    outerBlock[i] = byte ^ 0x5c;
  }
  let offset = BLOCK_BYTES;
  for (const part of parts) {
    inner.set(part, offset);
    offset += part.byteLength;
  }
  sodium.crypto_hash_sha256(outerBlock.subarray(BLOCK_BYTES), inner.subarray(0, length));
  return sha256Of(outerBlock);
}

/** HKDF as Noise defines it (section 4.3), returning two or three outputs. */
export function hkdf(chainingKey: Uint8Array, inputKeyMaterial: Uint8Array, outputs: 2 | 3): Uint8Array[] {
  const temp = hmacSha256(chainingKey, inputKeyMaterial);
  const out1 = hmacSha256(temp, BYTE_1);
  const out2 = hmacSha256(temp, out1, BYTE_2);
  if (outputs === 2) return [out1, out2];
  return [out1, out2, hmacSha256(temp, out2, BYTE_3)];
}

// h and ck start from the protocol name alone: computed once per name (there are four).
const initialHashes = new Map<string, Uint8Array>();

function initialHash(protocolName: string): Uint8Array {
  let h = initialHashes.get(protocolName);
  if (!h) {
    const name = new TextEncoder().encode(protocolName);
    if (name.byteLength <= HASH_BYTES) {
      h = new Uint8Array(HASH_BYTES);
      h.set(name);
    } else {
      h = sha256(name);
    }
    initialHashes.set(protocolName, h);
  }
  return h;
}

export class SymmetricState {
  private ck: Uint8Array;
  private h: Uint8Array;
  private readonly cipherState: CipherState;

  constructor(
    readonly protocolName: string,
    private readonly cipher: CipherName,
  ) {
    this.h = initialHash(protocolName).slice();
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
