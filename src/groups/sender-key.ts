// Sender keys (the idea of Signal's group messaging, written for Parley): each member device has,
// per group, a chain key of its own that it gives every other member device over their pairwise
// end-to-end sessions. Message n of the chain is sealed with HMAC(ck_n, 0x01) and
// ck_{n+1} = HMAC(ck_n, 0x02), so one ciphertext serves every member and each key is forgotten
// once used; each message is signed with an Ed25519 key made for this sender key alone, so a
// member, who holds the chain key too, still cannot forge another member's message. A removal
// makes every remaining device start a fresh key that the removed member never gets.
// Pure: given randomness; no I/O, no clock.
import { createHmac } from 'node:crypto';
import { create, toBinary } from '@bufbuild/protobuf';
import { err, ok, type CodedError, type Result } from '../result.js';
import type { Random } from '../env/types.js';
import { concatBytes } from '../crypto/bytes.js';
import { aeadDecrypt, aeadEncrypt } from '../crypto/noise/cipher-state.js';
import { ED25519_KEY_BYTES, generateSigningKeyPair, signBytes, signingKeyPairFromSeed, verifySignature, type SigningKeyPair } from '../crypto/ed25519.js';
import { GroupCiphertextSchema, GroupMessageHeaderSchema, SenderKeySchema, decodeProto, type GroupCiphertext, type GroupMessageHeader, type SenderKey } from '../wire/messages.js';
import { MAX_SKIPPED_MESSAGE_KEYS } from './limits.js';

const MESSAGE_KEY = Uint8Array.of(1);
const CHAIN_KEY = Uint8Array.of(2);
const NO_NONCE = 0; // every message key seals exactly one message
export const CHAIN_KEY_BYTES = 32;
const MAX_HEADER_BYTES = 512;

export type SenderKeyErrorCode = 'malformed' | 'bad_signature' | 'replayed' | 'too_far_ahead' | 'decrypt_failed';
export type SenderKeyError = CodedError<SenderKeyErrorCode>;

function fail(code: SenderKeyErrorCode, message: string): Result<never, SenderKeyError> {
  return err({ code, message });
}

function hmac(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(data).digest());
}

/** What a sender puts in every header besides the key's own fields. */
export interface HeaderFields {
  readonly groupId: Uint8Array;
  readonly senderDevice: Uint8Array;
  readonly sender: string;
  readonly seq: bigint;
  readonly lamport: bigint;
}

/** This device's sender key for one group: seals its messages. */
export class OwnSenderKey {
  private constructor(
    readonly keyId: number,
    private chainKey: Uint8Array,
    private iteration: number,
    private readonly signing: SigningKeyPair,
  ) {}

  static create(random: Random): OwnSenderKey {
    return new OwnSenderKey(random.int(0x1_0000_0000), random.bytes(CHAIN_KEY_BYTES), 0, generateSigningKeyPair(random));
  }

  /** The key as another member device gets it: the chain at the next message (earlier ones stay closed to it). */
  distribution(firstSeq: bigint): SenderKey {
    return create(SenderKeySchema, { keyId: this.keyId, iteration: this.iteration, chainKey: this.chainKey.slice(), signingKey: this.signing.publicKey, firstSeq });
  }

  /** Seals and signs one message; the chain moves on and the message key is gone. */
  seal(fields: HeaderFields, plaintext: Uint8Array): GroupCiphertext {
    const header = toBinary(GroupMessageHeaderSchema, create(GroupMessageHeaderSchema, { ...fields, keyId: this.keyId, iteration: this.iteration }));
    const key = hmac(this.chainKey, MESSAGE_KEY);
    this.chainKey = hmac(this.chainKey, CHAIN_KEY);
    this.iteration++;
    const ciphertext = aeadEncrypt('ChaChaPoly', key, NO_NONCE, header, plaintext);
    return create(GroupCiphertextSchema, { header, ciphertext, signature: signBytes(this.signing, concatBytes(header, ciphertext)) });
  }

  /** For the device's own store: the key as it stands (private: holds the signing seed). */
  toJSON(): OwnSenderKeyJson {
    return { keyId: this.keyId, chainKey: Buffer.from(this.chainKey).toString('hex'), iteration: this.iteration, seed: Buffer.from(this.signing.seed).toString('hex') };
  }

  static fromJSON(json: OwnSenderKeyJson): OwnSenderKey | null {
    if (json === null || typeof json !== 'object') return null;
    const chainKey = hexBytes(json.chainKey, CHAIN_KEY_BYTES);
    const seed = hexBytes(json.seed, ED25519_KEY_BYTES);
    if (!chainKey || !seed || !isUint32(json.keyId) || !isUint32(json.iteration)) return null;
    return new OwnSenderKey(json.keyId, chainKey, json.iteration, signingKeyPairFromSeed(seed));
  }
}

export interface OwnSenderKeyJson {
  keyId: number;
  chainKey: string;
  iteration: number;
  seed: string;
}

export interface ReceivedSenderKeyJson {
  keyId: number;
  signingKey: string;
  chainKey: string;
  next: number;
  lowest: number;
  skipped: [number, string][];
}

/** Decodes a ciphertext's header (untrusted bytes) into its fields. */
export function readHeader(ciphertext: GroupCiphertext): Result<GroupMessageHeader, SenderKeyError> {
  const header = decodeProto(GroupMessageHeaderSchema, ciphertext.header, MAX_HEADER_BYTES);
  if (!header.ok) return fail('malformed', header.error.message);
  return ok(header.value);
}

/** Checks a distribution's fields (untrusted: it came from another device). */
export function validDistribution(key: SenderKey): boolean {
  return key.chainKey.byteLength === CHAIN_KEY_BYTES && key.signingKey.byteLength === ED25519_KEY_BYTES;
}

/** Another device's sender key as this device holds it: the chain at the next expected message, and keys skipped over. */
export class ReceivedSenderKey {
  private constructor(
    readonly keyId: number,
    readonly signingKey: Uint8Array,
    private chainKey: Uint8Array,
    /** The iteration `chainKey` is for. */
    private next: number,
    /** The lowest iteration this device ever had a key for: below it, nothing can be opened. */
    private lowest: number,
    private readonly skipped: Map<number, Uint8Array>,
  ) {}

  static from(key: SenderKey): ReceivedSenderKey {
    return new ReceivedSenderKey(key.keyId, key.signingKey.slice(), key.chainKey.slice(), key.iteration, key.iteration, new Map());
  }

  /**
   * The same key given again at an earlier iteration (an earlier message's copy that came later,
   * through the offline store): the keys between become reachable, as skipped keys. A later or
   * equal iteration teaches nothing. False when the distribution is for another key or its
   * signing key differs (then nothing changes).
   */
  widen(key: SenderKey): boolean {
    if (key.keyId !== this.keyId || !Buffer.from(key.signingKey).equals(this.signingKey)) return false;
    if (key.iteration >= this.lowest) return true;
    if (this.lowest - key.iteration > MAX_SKIPPED_MESSAGE_KEYS) return true;
    let chainKey = key.chainKey;
    for (let n = key.iteration; n < this.lowest; n++) {
      if (n < this.next) this.skipped.set(n, hmac(chainKey, MESSAGE_KEY));
      chainKey = hmac(chainKey, CHAIN_KEY);
    }
    this.lowest = key.iteration;
    this.trim();
    return true;
  }

  /**
   * Checks the signature, then opens the message. A forged or damaged message uses up no key
   * and moves no chain; a message opened once is `replayed` the second time.
   */
  open(ciphertext: GroupCiphertext, iteration: number): Result<Uint8Array, SenderKeyError> {
    if (!verifySignature(this.signingKey, concatBytes(ciphertext.header, ciphertext.ciphertext), ciphertext.signature)) return fail('bad_signature', 'the message is not signed by this sender key');
    let key: Uint8Array;
    let commit: () => void;
    if (iteration < this.next) {
      const skipped = this.skipped.get(iteration);
      if (!skipped) return fail('replayed', `message ${iteration} of key ${this.keyId} was already opened, or came before this device had the key`);
      key = skipped;
      commit = () => this.skipped.delete(iteration);
    } else {
      if (iteration - this.next > MAX_SKIPPED_MESSAGE_KEYS) return fail('too_far_ahead', `message ${iteration} is more than ${MAX_SKIPPED_MESSAGE_KEYS} ahead of ${this.next}`);
      let chainKey = this.chainKey;
      const passed: Uint8Array[] = [];
      for (let n = this.next; n < iteration; n++) {
        passed.push(hmac(chainKey, MESSAGE_KEY));
        chainKey = hmac(chainKey, CHAIN_KEY);
      }
      key = hmac(chainKey, MESSAGE_KEY);
      const start = this.next;
      commit = () => {
        for (const [i, k] of passed.entries()) this.skipped.set(start + i, k);
        this.chainKey = hmac(chainKey, CHAIN_KEY);
        this.next = iteration + 1;
        this.trim();
      };
    }
    const plaintext = aeadDecrypt('ChaChaPoly', key, NO_NONCE, ciphertext.header, ciphertext.ciphertext);
    if (!plaintext) return fail('decrypt_failed', 'the message does not open with its key');
    commit();
    return ok(plaintext);
  }

  /** Bounded: the oldest skipped keys go (those messages count as lost). */
  private trim(): void {
    if (this.skipped.size <= MAX_SKIPPED_MESSAGE_KEYS) return;
    const oldest = [...this.skipped.keys()].sort((a, b) => a - b);
    for (const n of oldest.slice(0, this.skipped.size - MAX_SKIPPED_MESSAGE_KEYS)) this.skipped.delete(n);
  }

  toJSON(): ReceivedSenderKeyJson {
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    return { keyId: this.keyId, signingKey: hex(this.signingKey), chainKey: hex(this.chainKey), next: this.next, lowest: this.lowest, skipped: [...this.skipped].map(([n, k]) => [n, hex(k)]) };
  }

  static fromJSON(json: ReceivedSenderKeyJson): ReceivedSenderKey | null {
    if (json === null || typeof json !== 'object') return null;
    const signingKey = hexBytes(json.signingKey, ED25519_KEY_BYTES);
    const chainKey = hexBytes(json.chainKey, CHAIN_KEY_BYTES);
    if (!signingKey || !chainKey || !isUint32(json.keyId) || !isUint32(json.next) || !isUint32(json.lowest) || !Array.isArray(json.skipped)) return null;
    const skipped = new Map<number, Uint8Array>();
    for (const entry of json.skipped.slice(0, MAX_SKIPPED_MESSAGE_KEYS)) {
      const key = Array.isArray(entry) && isUint32(entry[0]) ? hexBytes(entry[1], CHAIN_KEY_BYTES) : null;
      if (!key) return null;
      skipped.set(entry[0], key);
    }
    return new ReceivedSenderKey(json.keyId, signingKey, chainKey, json.next, json.lowest, skipped);
  }
}

function isUint32(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < 0x1_0000_0000;
}

function hexBytes(text: unknown, length: number): Uint8Array | null {
  if (typeof text !== 'string' || text.length !== 2 * length || !/^[0-9a-f]*$/.test(text)) return null;
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** Decodes a sealed message (untrusted bytes) for tests and fuzzing. */
export function decodeGroupCiphertext(bytes: Uint8Array, maxBytes: number): Result<GroupCiphertext, SenderKeyError> {
  const decoded = decodeProto(GroupCiphertextSchema, bytes, maxBytes);
  return decoded.ok ? ok(decoded.value) : fail('malformed', decoded.error.message);
}
