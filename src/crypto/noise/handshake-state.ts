// Noise HandshakeState (Noise spec section 5.3) for the patterns Parley uses:
//   XX  first contact: both static keys are sent, encrypted
//   IK  the initiator already knows the responder's static key (bootstrap list, host cache)
// Pure logic: randomness comes in through `Random`; bad input gives a typed error, never a throw.
import type { Random } from '../../env/types.js';
import { err, ok, type CodedError, type Result } from '../../result.js';
import { concatBytes } from '../bytes.js';
import { generateX25519KeyPair, x25519, X25519_KEY_BYTES, type DhKeyPair } from '../x25519.js';
import { TAG_BYTES, type CipherName, type CipherState } from './cipher-state.js';
import { SymmetricState } from './symmetric-state.js';

export type PatternName = 'XX' | 'IK';
type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss';

interface Pattern {
  /** Static key of the responder known to the initiator before the first message. */
  readonly responderStaticPreMessage: boolean;
  readonly messages: readonly (readonly Token[])[];
}

const PATTERNS: Record<PatternName, Pattern> = {
  XX: { responderStaticPreMessage: false, messages: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']] },
  IK: { responderStaticPreMessage: true, messages: [['e', 'es', 's', 'ss'], ['e', 'ee', 'se']] },
};

export type HandshakeErrorCode = 'out_of_turn' | 'truncated' | 'decrypt_failed' | 'invalid_key' | 'finished';
export type HandshakeError = CodedError<HandshakeErrorCode>;

export interface HandshakeOptions {
  readonly pattern: PatternName;
  readonly cipher: CipherName;
  readonly initiator: boolean;
  readonly prologue: Uint8Array;
  readonly staticKeyPair: DhKeyPair;
  /** Required for IK initiators. */
  readonly remoteStaticKey?: Uint8Array;
  readonly random: Random;
  /** For test vectors only: a fixed ephemeral key. */
  readonly ephemeralKeyPair?: DhKeyPair;
}

export interface TransportKeys {
  readonly send: CipherState;
  readonly receive: CipherState;
  /** Unique to this session and known to both sides: the channel binding value. */
  readonly handshakeHash: Uint8Array;
  /** The raw keys of `send` and `receive`, for protocols that ratchet them. */
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
}

export class HandshakeState {
  private readonly symmetric: SymmetricState;
  private readonly pattern: Pattern;
  private readonly s: DhKeyPair;
  private e: DhKeyPair | null = null;
  private rs: Uint8Array | null;
  private re: Uint8Array | null = null;
  private messageIndex = 0;
  private transport: TransportKeys | null = null;

  constructor(private readonly options: HandshakeOptions) {
    this.pattern = PATTERNS[options.pattern];
    this.symmetric = new SymmetricState(`Noise_${options.pattern}_25519_${options.cipher}_SHA256`, options.cipher);
    this.symmetric.mixHash(options.prologue);
    this.s = options.staticKeyPair;
    this.rs = options.remoteStaticKey ?? null;
    if (this.pattern.responderStaticPreMessage) {
      const responderStatic = options.initiator ? this.rs : this.s.publicKey;
      if (!responderStatic) throw new Error(`${options.pattern} initiator needs the responder's static key`);
      this.symmetric.mixHash(responderStatic);
    }
  }

  get protocolName(): string {
    return this.symmetric.protocolName;
  }

  /** The peer's static public key, once a message carrying it was read. */
  get remoteStaticKey(): Uint8Array | null {
    return this.rs;
  }

  get handshakeHash(): Uint8Array {
    return this.symmetric.handshakeHash;
  }

  isMyTurn(): boolean {
    return this.transport === null && this.messageIndex % 2 === (this.options.initiator ? 0 : 1);
  }

  isFinished(): boolean {
    return this.transport !== null;
  }

  /** The transport keys, once the last message was written or read. */
  get result(): TransportKeys | null {
    return this.transport;
  }

  private dh(token: 'ee' | 'es' | 'se' | 'ss'): Uint8Array | null {
    const initiator = this.options.initiator;
    // 'es' is DH(initiator e, responder s); from the responder's side that is DH(s, re).
    const [localKey, remoteKey] = (() => {
      switch (token) {
        case 'ee':
          return [this.e, this.re];
        case 'ss':
          return [this.s, this.rs];
        case 'es':
          return initiator ? [this.e, this.rs] : [this.s, this.re];
        case 'se':
          return initiator ? [this.s, this.re] : [this.e, this.rs];
      }
    })();
    if (!localKey || !remoteKey) return null;
    return x25519(localKey.privateKey, remoteKey);
  }

  writeMessage(payload: Uint8Array): Result<Uint8Array, HandshakeError> {
    if (this.transport) return err({ code: 'finished', message: 'handshake already finished' });
    if (!this.isMyTurn()) return err({ code: 'out_of_turn', message: 'not our turn to write' });
    const parts: Uint8Array[] = [];
    for (const token of this.pattern.messages[this.messageIndex]!) {
      if (token === 'e') {
        this.e = this.options.ephemeralKeyPair ?? generateX25519KeyPair(this.options.random);
        parts.push(this.e.publicKey);
        this.symmetric.mixHash(this.e.publicKey);
      } else if (token === 's') {
        parts.push(this.symmetric.encryptAndHash(this.s.publicKey));
      } else {
        const shared = this.dh(token);
        if (!shared) return err({ code: 'invalid_key', message: `DH ${token} failed` });
        this.symmetric.mixKey(shared);
      }
    }
    parts.push(this.symmetric.encryptAndHash(payload));
    this.advance();
    return ok(concatBytes(...parts));
  }

  readMessage(message: Uint8Array): Result<Uint8Array, HandshakeError> {
    if (this.transport) return err({ code: 'finished', message: 'handshake already finished' });
    if (this.isMyTurn()) return err({ code: 'out_of_turn', message: 'not our turn to read' });
    let offset = 0;
    for (const token of this.pattern.messages[this.messageIndex]!) {
      if (token === 'e') {
        if (message.byteLength - offset < X25519_KEY_BYTES) return err({ code: 'truncated', message: 'message too short for an ephemeral key' });
        this.re = message.slice(offset, offset + X25519_KEY_BYTES);
        offset += X25519_KEY_BYTES;
        this.symmetric.mixHash(this.re);
      } else if (token === 's') {
        const length = X25519_KEY_BYTES + (this.symmetric.hasKey() ? TAG_BYTES : 0);
        if (message.byteLength - offset < length) return err({ code: 'truncated', message: 'message too short for a static key' });
        const rs = this.symmetric.decryptAndHash(message.subarray(offset, offset + length));
        if (!rs) return err({ code: 'decrypt_failed', message: 'static key failed authentication' });
        this.rs = rs;
        offset += length;
      } else {
        const shared = this.dh(token);
        if (!shared) return err({ code: 'invalid_key', message: `DH ${token} failed: invalid peer key` });
        this.symmetric.mixKey(shared);
      }
    }
    const rest = message.subarray(offset);
    if (this.symmetric.hasKey() && rest.byteLength < TAG_BYTES) return err({ code: 'truncated', message: 'message too short for its tag' });
    const payload = this.symmetric.decryptAndHash(rest);
    if (!payload) return err({ code: 'decrypt_failed', message: 'payload failed authentication' });
    this.advance();
    return ok(payload);
  }

  private advance(): void {
    this.messageIndex++;
    if (this.messageIndex < this.pattern.messages.length) return;
    const {
      ciphers: [c1, c2],
      keys: [k1, k2],
    } = this.symmetric.split();
    const handshakeHash = this.symmetric.handshakeHash;
    this.transport = this.options.initiator
      ? { send: c1, receive: c2, handshakeHash, sendKey: k1, receiveKey: k2 }
      : { send: c2, receive: c1, handshakeHash, sendKey: k2, receiveKey: k1 };
  }
}
