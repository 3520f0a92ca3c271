// Noise handshakes and encrypted frames, on one core (one thread runs both ends).
import { randomBytes } from 'node:crypto';
import { cryptoRandom } from '../src/env/real.js';
import { CipherState, aeadEncrypt, type CipherName } from '../src/crypto/noise/cipher-state.js';
import { HandshakeState } from '../src/crypto/noise/handshake-state.js';
import { SecureChannel, type ChannelOutput } from '../src/crypto/secure-channel.js';
import { generateX25519KeyPair, x25519 } from '../src/crypto/x25519.js';
import { generateSigningKeyPair, signBytes, verifySignature } from '../src/crypto/ed25519.js';
import { DataSchema } from '../src/wire/messages.js';
import { create } from '@bufbuild/protobuf';
import { measure, opsPerSecond, type Measurement } from './measure.js';
import { testNetwork } from '../test/support/identities.js';

export interface CryptoResults {
  dhPerSecond: Measurement;
  /** Ed25519 over a 100-byte message (a certificate body is about that size). */
  signPerSecond: Measurement;
  verifyPerSecond: Measurement;
  noiseXX: Measurement;
  noiseIK: Measurement;
  noiseXXResponder: Measurement;
  noiseIKResponder: Measurement;
  channelXX: Measurement;
  channelIK: Measurement;
  /** XX with certificates the verifier has not seen: two Ed25519 verifications each. */
  channelXXFreshCertificates: Measurement;
  seal: Record<CipherName, Measurement>;
  open: Record<CipherName, Measurement>;
  rawSeal: Record<CipherName, Measurement>;
  channelFrames: Measurement;
}

const ROUNDS = 5;

/** Handshakes per second for both ends in one thread, and for the responder's share alone. */
function noiseHandshakes(pattern: 'XX' | 'IK', count: number): { both: number; responder: number } {
  const initiatorKey = generateX25519KeyPair(cryptoRandom);
  const responderKey = generateX25519KeyPair(cryptoRandom);
  const payload = new Uint8Array(0);
  let responderMs = 0;
  const both = opsPerSecond(count, () => {
    const common = { pattern, cipher: 'ChaChaPoly' as const, prologue: payload, random: cryptoRandom };
    const i = new HandshakeState({ ...common, initiator: true, staticKeyPair: initiatorKey, ...(pattern === 'IK' ? { remoteStaticKey: responderKey.publicKey } : {}) });
    const r = new HandshakeState({ ...common, initiator: false, staticKeyPair: responderKey });
    let [writer, reader] = [i, r];
    while (!i.isFinished() || !r.isFinished()) {
      let start = performance.now();
      const message = writer.writeMessage(payload);
      if (writer === r) responderMs += performance.now() - start;
      start = performance.now();
      const read = message.ok && reader.readMessage(message.value).ok;
      if (reader === r) responderMs += performance.now() - start;
      if (!read) throw new Error('handshake failed');
      [writer, reader] = [reader, writer];
    }
  });
  return { both, responder: (count * 1000) / responderMs };
}

/**
 * Channel handshakes between the same two identities (the verifier's cache answers the
 * certificate checks after the first), or with `freshCertificates` a new pair each time, so both
 * certificates are signature-checked: what a supernode pays for a client it has not seen.
 */
function channelHandshakes(ik: boolean, count: number, freshCertificates = false): number {
  const net = testNetwork(cryptoRandom);
  const identities = Array.from({ length: freshCertificates ? count : 1 }, (_, i) => ({
    a: net.identity(`alice${i}`, { issuedAtMs: Date.now() - 1000 }),
    b: net.identity('', { role: 2, issuedAtMs: Date.now() - 1000 }),
  }));
  const now = () => Date.now();
  return opsPerSecond(count, (n) => {
    const { a, b } = identities[freshCertificates ? n : 0]!;
    const initiator = new SecureChannel('initiator', { ...net.config(a, ik ? { remoteStaticKey: b.dh.publicKey } : {}), random: cryptoRandom, wallTimeMs: now });
    const responder = new SecureChannel('responder', { ...net.config(b), random: cryptoRandom, wallTimeMs: now });
    let outputs: ChannelOutput[] = initiator.start();
    let to = responder;
    while (outputs.length > 0) {
      const next: ChannelOutput[] = [];
      for (const o of outputs) if (o.kind === 'write') next.push(...to.receiveBytes(o.bytes));
      outputs = next.filter((o) => o.kind === 'write');
      to = to === responder ? initiator : responder;
    }
    if (!initiator.isEstablished || !responder.isEstablished) throw new Error('channel handshake failed');
  });
}

export function benchCrypto(): CryptoResults {
  const key = generateX25519KeyPair(cryptoRandom);
  const peer = generateX25519KeyPair(cryptoRandom).publicKey;
  const dhPerSecond = measure(ROUNDS, () => opsPerSecond(3000, () => x25519(key.privateKey, peer)));
  const signer = generateSigningKeyPair(cryptoRandom);
  const message = randomBytes(100);
  const signature = signBytes(signer, message);
  const signPerSecond = measure(ROUNDS, () => opsPerSecond(3000, () => signBytes(signer, message)));
  const verifyPerSecond = measure(ROUNDS, () =>
    opsPerSecond(3000, () => {
      if (!verifySignature(signer.publicKey, message, signature)) throw new Error('verification failed');
    }),
  );
  const frame = randomBytes(100);
  const ad = new Uint8Array(0);
  const seal = {} as Record<CipherName, Measurement>;
  const open = {} as Record<CipherName, Measurement>;
  const rawSeal = {} as Record<CipherName, Measurement>;
  for (const cipher of ['ChaChaPoly', 'AESGCM'] as const) {
    const k = randomBytes(32);
    rawSeal[cipher] = measure(ROUNDS, () => opsPerSecond(100_000, (i) => aeadEncrypt(cipher, k, i, ad, frame)));
    seal[cipher] = measure(ROUNDS, () => {
      const state = new CipherState(cipher, k);
      return opsPerSecond(100_000, () => state.encryptWithAd(ad, frame));
    });
    open[cipher] = measure(ROUNDS, () => {
      const sender = new CipherState(cipher, k);
      const sealed = Array.from({ length: 100_000 }, () => sender.encryptWithAd(ad, frame));
      const receiver = new CipherState(cipher, k);
      return opsPerSecond(sealed.length, (i) => {
        if (!receiver.decryptWithAd(ad, sealed[i]!)) throw new Error('open failed');
      });
    });
  }
  // A whole channel: envelope encoding, AEAD, framing, frame decoding, AEAD open, decoding.
  const channelFrames = measure(ROUNDS, () => {
    const net = testNetwork(cryptoRandom);
    const a = net.identity('a', { issuedAtMs: Date.now() - 1000 });
    const b = net.identity('b', { issuedAtMs: Date.now() - 1000 });
    const i = new SecureChannel('initiator', { ...net.config(a, { remoteStaticKey: b.dh.publicKey }), random: cryptoRandom, wallTimeMs: Date.now });
    const r = new SecureChannel('responder', { ...net.config(b), random: cryptoRandom, wallTimeMs: Date.now });
    const reply = r.receiveBytes((i.start()[0] as { bytes: Uint8Array }).bytes);
    i.receiveBytes((reply[0] as { bytes: Uint8Array }).bytes);
    const body = { case: 'data' as const, value: create(DataSchema, { channel: 1, payload: frame }) };
    return opsPerSecond(50_000, () => {
      const out = i.sendMessage(body)[0] as { bytes: Uint8Array };
      if (r.receiveBytes(out.bytes)[0]?.kind !== 'message') throw new Error('frame lost');
    });
  });
  return {
    dhPerSecond,
    signPerSecond,
    verifyPerSecond,
    ...(() => {
      const xx = Array.from({ length: ROUNDS }, () => noiseHandshakes('XX', 800));
      const ik = Array.from({ length: ROUNDS }, () => noiseHandshakes('IK', 800));
      const stat = (values: number[]) => {
        const sorted = [...values].sort((a, b) => a - b);
        return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted[sorted.length - 1]! };
      };
      return {
        noiseXX: stat(xx.map((r) => r.both)),
        noiseIK: stat(ik.map((r) => r.both)),
        noiseXXResponder: stat(xx.map((r) => r.responder)),
        noiseIKResponder: stat(ik.map((r) => r.responder)),
      };
    })(),
    channelXX: measure(ROUNDS, () => channelHandshakes(false, 500)),
    channelIK: measure(ROUNDS, () => channelHandshakes(true, 500)),
    channelXXFreshCertificates: measure(ROUNDS, () => channelHandshakes(false, 500, true)),
    seal,
    open,
    rawSeal,
    channelFrames,
  };
}
