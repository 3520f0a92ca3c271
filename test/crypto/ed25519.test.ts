// Ed25519 on libsodium against RFC 8032 and node:crypto (OpenSSL), which signed and verified
// before issue 22: the same signatures byte for byte (old certificates and tokens still verify),
// the same verdict on valid and damaged signatures, and the one class where libsodium is stricter.
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/crypto/bytes.js';
import { signBytes, signingKeyPairFromSeed, verifySignature } from '../../src/crypto/ed25519.js';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/** The order of the prime-order subgroup (RFC 8032, section 5.1). */
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
/** The neutral element's encoding (y = 1): a point of order 1. */
const IDENTITY = fromHex('0100000000000000000000000000000000000000000000000000000000000000');

function nodeSign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64(seed), x: b64(new Uint8Array(32)) }, format: 'jwk' });
  return new Uint8Array(sign(null, message, key));
}

/** What the code before issue 22 answered: an import failure or a throw is a failed verification. */
function nodeVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64(publicKey) }, format: 'jwk' });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

const littleEndian = (bytes: Uint8Array) => bytes.reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n);
function scalarBytes(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

test('Ed25519 gives the RFC 8032 section 7.1 keys and signatures', () => {
  const vectors = [
    {
      seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
      publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      message: '',
      signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    },
    {
      seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
      publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
      message: '72',
      signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    },
  ];
  for (const v of vectors) {
    const keyPair = signingKeyPairFromSeed(fromHex(v.seed));
    assert.equal(toHex(keyPair.publicKey), v.publicKey);
    assert.equal(toHex(keyPair.seed), v.seed);
    assert.equal(toHex(signBytes(keyPair, fromHex(v.message))), v.signature);
    assert.ok(verifySignature(keyPair.publicKey, fromHex(v.message), fromHex(v.signature)));
  }
});

test('signatures are node:crypto\'s byte for byte, so what the older code signed still verifies', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (seed, message) => {
      const ours = signBytes(signingKeyPairFromSeed(seed), message);
      assert.equal(toHex(ours), toHex(nodeSign(seed, message)));
    }),
  );
});

/** A signature and what may have happened to it on the way. */
const damage = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('signature bit' as const), bit: fc.nat(511) }),
  fc.record({ kind: fc.constant('key bit' as const), bit: fc.nat(255) }),
  fc.record({ kind: fc.constant('message bit' as const), bit: fc.nat(8 * 40 - 1) }),
  fc.record({ kind: fc.constant('S plus L' as const) }),
  fc.record({ kind: fc.constant('random R' as const), bytes: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
  fc.record({ kind: fc.constant('random key' as const), bytes: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
  fc.record({ kind: fc.constant('random signature' as const), bytes: fc.uint8Array({ minLength: 64, maxLength: 64 }) }),
  fc.record({ kind: fc.constant('signature length' as const), length: fc.integer({ min: 0, max: 100 }).filter((n) => n !== 64) }),
  fc.record({ kind: fc.constant('key length' as const), length: fc.integer({ min: 0, max: 64 }).filter((n) => n !== 32) }),
);

test('libsodium and node:crypto agree on valid and damaged signatures', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 40, maxLength: 40 }), damage, (seed, original, change) => {
      const keyPair = signingKeyPairFromSeed(seed);
      let publicKey: Uint8Array = keyPair.publicKey.slice();
      let signature: Uint8Array = signBytes(keyPair, original);
      const message = original.slice();
      switch (change.kind) {
        case 'none':
          break;
        case 'signature bit':
          signature[change.bit >> 3]! ^= 1 << (change.bit & 7);
          break;
        case 'key bit':
          publicKey[change.bit >> 3]! ^= 1 << (change.bit & 7);
          break;
        case 'message bit':
          message[change.bit >> 3]! ^= 1 << (change.bit & 7);
          break;
        case 'S plus L': // the same signature with a non-canonical S: a malleable twin
          signature.set(scalarBytes(littleEndian(signature.subarray(32)) + L), 32);
          break;
        case 'random R':
          signature.set(change.bytes, 0);
          break;
        case 'random key':
          publicKey = change.bytes;
          break;
        case 'random signature':
          signature = change.bytes;
          break;
        case 'signature length':
          signature = Uint8Array.from({ length: change.length }, (_, i) => signature[i % 64]!);
          break;
        case 'key length':
          publicKey = Uint8Array.from({ length: change.length }, (_, i) => publicKey[i % 32]!);
          break;
      }
      const ours = verifySignature(publicKey, message, signature);
      assert.equal(ours, nodeVerify(publicKey, message, signature), `${change.kind}: libsodium says ${ours}`);
      assert.equal(ours, change.kind === 'none', `only the undamaged signature verifies (${change.kind})`);
    }),
    { numRuns: 2000 },
  );
});

// Where the two differ: RFC 8032 decodes a small-order point like any other, so a key or an R of
// small order passes its check (and OpenSSL's); libsodium refuses both. No honest signer makes
// either, and under such a key one signature verifies for every message, so refusing is what we
// want: a device cannot register, and nobody can be certified for, a key anyone can sign for.
test('a public key of small order is refused, although its signature holds by the RFC 8032 equation', () => {
  // A = identity, R = identity, S = 0: [0]B = R + [k]A for every message.
  const signature = new Uint8Array(64);
  signature.set(IDENTITY, 0);
  for (const message of [new Uint8Array(0), new TextEncoder().encode('any message at all')]) {
    assert.equal(verifySignature(IDENTITY, message, signature), false);
  }
});

test('a signature whose R is of small order is refused, although it holds by the RFC 8032 equation', () => {
  // With R = identity and S = k·a mod L (a the signer's secret scalar), [S]B = [k]A = R + [k]A:
  // a signature only someone with the key can make, but not one an honest signer ever makes.
  const seed = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
  const keyPair = signingKeyPairFromSeed(seed);
  const message = new TextEncoder().encode('parley');
  const expanded = createHash('sha512').update(seed).digest();
  const scalar = expanded.subarray(0, 32);
  scalar[0]! &= 248;
  scalar[31]! &= 127;
  scalar[31]! |= 64;
  const k = littleEndian(createHash('sha512').update(IDENTITY).update(keyPair.publicKey).update(message).digest()) % L;
  const signature = new Uint8Array(64);
  signature.set(IDENTITY, 0);
  signature.set(scalarBytes((k * littleEndian(scalar)) % L), 32);
  assert.equal(verifySignature(keyPair.publicKey, message, signature), false);
  // The same construction with a real R (r = 1, R = B) verifies: the arithmetic above is right.
  const base = fromHex('5866666666666666666666666666666666666666666666666666666666666666');
  const k1 = littleEndian(createHash('sha512').update(base).update(keyPair.publicKey).update(message).digest()) % L;
  const withBase = new Uint8Array(64);
  withBase.set(base, 0);
  withBase.set(scalarBytes((1n + k1 * littleEndian(scalar)) % L), 32);
  assert.equal(verifySignature(keyPair.publicKey, message, withBase), true);
});
