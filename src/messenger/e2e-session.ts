// An end-to-end session between two devices, carried over routed signalling that may lose,
// repeat or reorder what it carries. A Noise IK handshake (the initiator knows the responder's
// key from its presence record) proves both device keys and carries both CA certificates; then
// each direction derives one key per frame from a hash chain and forgets it after use, so a key
// stolen today opens neither yesterday's frames nor frames already received. Pure: it is given
// randomness and the time.
import { createHmac } from 'node:crypto';
import { create, toBinary } from '@bufbuild/protobuf';
import { err, ok, type CodedError, type Result } from '../result.js';
import type { Random } from '../env/types.js';
import { concatBytes, equalBytes } from '../crypto/bytes.js';
import { Role, type CertificateVerifier, type VerifiedCertificate } from '../crypto/certificate.js';
import type { NodeIdentity } from '../crypto/identity.js';
import { HandshakeState } from '../crypto/noise/handshake-state.js';
import { aeadDecrypt, aeadEncrypt } from '../crypto/noise/cipher-state.js';
import { E2eHandshakeSchema, E2eHelloSchema, E2eSealedSchema, decodeProto, type E2eHandshake, type E2eSealed } from '../wire/messages.js';

export const SESSION_ID_BYTES = 16;
/** Frames a receiver will skip ahead over (keeping their keys for late arrivals). */
export const MAX_SKIPPED_KEYS = 1024;
const PROLOGUE = new TextEncoder().encode('parley-e2e-v1');
const MESSAGE_KEY = Uint8Array.of(1);
const CHAIN_KEY = Uint8Array.of(2);
const NO_NONCE = 0; // every key seals exactly one frame

export type E2eErrorCode = 'malformed' | 'handshake_failed' | 'bad_certificate' | 'wrong_peer' | 'replayed' | 'too_far_ahead' | 'decrypt_failed' | 'not_established';
export type E2eError = CodedError<E2eErrorCode>;

function fail(code: E2eErrorCode, message: string): Result<never, E2eError> {
  return err({ code, message });
}

function hmac(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(data).digest());
}

/** One direction's hash chain: key n seals frame n; the chain key moves on and the old one is gone. */
class Chain {
  private next = 0;
  private readonly skipped = new Map<number, Uint8Array>();

  constructor(private chainKey: Uint8Array) {}

  /** The next key for sealing, with its counter. */
  take(): { counter: number; key: Uint8Array } {
    const counter = this.next++;
    const key = hmac(this.chainKey, MESSAGE_KEY);
    this.chainKey = hmac(this.chainKey, CHAIN_KEY);
    return { counter, key };
  }

  /**
   * The key for a received counter, and `commit` to call once it opened the frame: a forged
   * frame must neither use up a key nor move the chain. Each key opens one frame.
   */
  keyFor(counter: number): Result<{ key: Uint8Array; commit: () => void }, E2eError> {
    if (counter < this.next) {
      const key = this.skipped.get(counter);
      if (!key) return fail('replayed', `frame ${counter} was already opened (or is too old)`);
      return ok({ key, commit: () => this.skipped.delete(counter) });
    }
    if (counter - this.next > MAX_SKIPPED_KEYS) return fail('too_far_ahead', `frame ${counter} is more than ${MAX_SKIPPED_KEYS} ahead of ${this.next}`);
    let chainKey = this.chainKey;
    const passed: Uint8Array[] = [];
    for (let n = this.next; n < counter; n++) {
      passed.push(hmac(chainKey, MESSAGE_KEY));
      chainKey = hmac(chainKey, CHAIN_KEY);
    }
    const key = hmac(chainKey, MESSAGE_KEY);
    return ok({
      key,
      commit: () => {
        for (const [i, skippedKey] of passed.entries()) this.skipped.set(this.next + i, skippedKey);
        // Bounded: the oldest skipped keys go (those frames count as lost).
        while (this.skipped.size > MAX_SKIPPED_KEYS) this.skipped.delete(this.skipped.keys().next().value!);
        this.chainKey = hmac(chainKey, CHAIN_KEY);
        this.next = counter + 1;
      },
    });
  }
}

export interface E2eConfig {
  readonly identity: NodeIdentity;
  readonly verifier: CertificateVerifier;
  readonly random: Random;
  readonly wallTimeMs: () => number;
}

/** Noise IK between device keys, bound to this network and to `prologue` (what the exchange is for). */
export function deviceHandshake(config: E2eConfig, prologue: Uint8Array, initiator: boolean, remoteStaticKey?: Uint8Array): HandshakeState {
  return new HandshakeState({
    pattern: 'IK',
    cipher: 'ChaChaPoly',
    initiator,
    prologue: concatBytes(prologue, config.verifier.networkId),
    staticKeyPair: config.identity.dh,
    ...(remoteStaticKey ? { remoteStaticKey } : {}),
    random: config.random,
  });
}

function handshakeState(config: E2eConfig, initiator: boolean, remoteStaticKey?: Uint8Array): HandshakeState {
  return deviceHandshake(config, PROLOGUE, initiator, remoteStaticKey);
}

function hello(config: E2eConfig): Uint8Array {
  return toBinary(E2eHelloSchema, create(E2eHelloSchema, { certificate: config.identity.certificate }));
}

/** Checks the peer's hello: a device certificate of this network for the key the handshake proved. */
function checkHello(config: E2eConfig, payload: Uint8Array, provenKey: Uint8Array | null): Result<VerifiedCertificate, E2eError> {
  const decoded = decodeProto(E2eHelloSchema, payload, 2048);
  if (!decoded.ok) return fail('malformed', decoded.error.message);
  const certificate = config.verifier.verify(decoded.value.certificate, config.wallTimeMs());
  if (!certificate.ok) return fail('bad_certificate', `${certificate.error.code}: ${certificate.error.message}`);
  if (certificate.value.role !== Role.DEVICE) return fail('bad_certificate', 'not a device certificate');
  if (!provenKey || !equalBytes(certificate.value.dhKey, provenKey)) return fail('wrong_peer', 'the certificate is for another key than the handshake proved');
  return ok(certificate.value);
}

export class E2eSession {
  private sendChain: Chain | null = null;
  private receiveChain: Chain | null = null;
  private peerCertificate: VerifiedCertificate | null = null;
  /** The responder's answer, kept to send again when the first message comes again (a retry or a copy). */
  answer: E2eHandshake | null = null;

  private constructor(
    readonly id: Uint8Array,
    readonly role: 'initiator' | 'responder',
    /** The peer device's Noise key (known from the start for an initiator). */
    readonly peerKey: Uint8Array,
    private handshake: HandshakeState | null,
  ) {}

  get established(): boolean {
    return this.sendChain !== null;
  }

  /** The peer device's certificate, once established: its user and keys. */
  get peer(): VerifiedCertificate | null {
    return this.peerCertificate;
  }

  /** Starts a session with the device whose Noise key is `peerKey`; send `first` to it. */
  static initiate(config: E2eConfig, peerKey: Uint8Array): { session: E2eSession; first: E2eHandshake } {
    const id = config.random.bytes(SESSION_ID_BYTES);
    const handshake = handshakeState(config, true, peerKey);
    const message = handshake.writeMessage(hello(config));
    if (!message.ok) throw new Error(`IK first message: ${message.error.message}`); // cannot fail with a valid key
    return { session: new E2eSession(id, 'initiator', peerKey, handshake), first: create(E2eHandshakeSchema, { sessionId: id, step: 1, noise: message.value }) };
  }

  /**
   * Answers a first handshake message. `fromUser` is the sender's user as the overlay
   * authenticated it; the certificate must agree.
   */
  static respond(config: E2eConfig, first: E2eHandshake, fromUser: string): Result<{ session: E2eSession; reply: E2eHandshake }, E2eError> {
    if (first.step !== 1 || first.sessionId.byteLength !== SESSION_ID_BYTES) return fail('malformed', 'not a first handshake message');
    const handshake = handshakeState(config, false);
    const payload = handshake.readMessage(first.noise);
    if (!payload.ok) return fail('handshake_failed', payload.error.message);
    const peer = checkHello(config, payload.value, handshake.remoteStaticKey);
    if (!peer.ok) return peer;
    if (peer.value.username !== fromUser) return fail('wrong_peer', `a certificate for ${peer.value.username} sent by ${fromUser}`);
    const message = handshake.writeMessage(hello(config));
    if (!message.ok) return fail('handshake_failed', message.error.message);
    const session = new E2eSession(first.sessionId, 'responder', peer.value.dhKey, handshake);
    session.finish(peer.value);
    session.answer = create(E2eHandshakeSchema, { sessionId: first.sessionId, step: 2, noise: message.value });
    return ok({ session, reply: session.answer });
  }

  /** The initiator reads the responder's answer. */
  complete(config: E2eConfig, reply: E2eHandshake): Result<VerifiedCertificate, E2eError> {
    if (this.role !== 'initiator' || !this.handshake || reply.step !== 2) return fail('malformed', 'not an answer this session waits for');
    const payload = this.handshake.readMessage(reply.noise);
    if (!payload.ok) return fail('handshake_failed', payload.error.message);
    const peer = checkHello(config, payload.value, this.peerKey);
    if (!peer.ok) return peer;
    this.finish(peer.value);
    return ok(peer.value);
  }

  private finish(peer: VerifiedCertificate): void {
    const keys = this.handshake!.result!;
    this.sendChain = new Chain(keys.sendKey);
    this.receiveChain = new Chain(keys.receiveKey);
    this.peerCertificate = peer;
    this.handshake = null;
  }

  seal(plaintext: Uint8Array): E2eSealed {
    if (!this.sendChain) throw new Error('seal before the session is established');
    const { counter, key } = this.sendChain.take();
    return create(E2eSealedSchema, { sessionId: this.id, counter: BigInt(counter), ciphertext: aeadEncrypt('ChaChaPoly', key, NO_NONCE, this.id, plaintext) });
  }

  open(sealed: E2eSealed): Result<Uint8Array, E2eError> {
    if (!this.receiveChain) return fail('not_established', 'no keys yet');
    if (sealed.counter > BigInt(Number.MAX_SAFE_INTEGER)) return fail('too_far_ahead', 'counter out of range');
    const key = this.receiveChain.keyFor(Number(sealed.counter));
    if (!key.ok) return key;
    const plaintext = aeadDecrypt('ChaChaPoly', key.value.key, NO_NONCE, this.id, sealed.ciphertext);
    if (!plaintext) return fail('decrypt_failed', 'the frame failed authentication');
    key.value.commit();
    return ok(plaintext);
  }
}

export function decodeE2eSealed(bytes: Uint8Array): Result<E2eSealed, E2eError> {
  const decoded = decodeProto(E2eSealedSchema, bytes, 64 * 1024);
  return decoded.ok ? ok(decoded.value) : fail('malformed', decoded.error.message);
}
