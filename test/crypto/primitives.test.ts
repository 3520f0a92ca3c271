// The primitives under Noise (libsodium) against node:crypto and RFC 7748: byte-for-byte equal
// output is what keeps the wire format and interoperability with peers that run the older code.
import assert from 'node:assert/strict';
import { createCipheriv, createHash, createHmac, createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { cryptoRandom } from '../../src/env/real.js';
import { fromHex, toHex } from '../../src/crypto/bytes.js';
import { aeadDecrypt, aeadEncrypt } from '../../src/crypto/noise/cipher-state.js';
import { HandshakeState } from '../../src/crypto/noise/handshake-state.js';
import { hmacSha256, sha256 } from '../../src/crypto/noise/symmetric-state.js';
import { x25519, x25519KeyPairFromPrivate } from '../../src/crypto/x25519.js';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

test('SHA-256 and HMAC-SHA256 match node:crypto for keys shorter and longer than a block', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 150 }), fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 3 }), (key, parts) => {
      const expectedHash = createHash('sha256');
      const expectedMac = createHmac('sha256', key);
      for (const part of parts) {
        expectedHash.update(part);
        expectedMac.update(part);
      }
      assert.equal(toHex(sha256(...parts)), expectedHash.digest('hex'));
      assert.equal(toHex(hmacSha256(key, ...parts)), expectedMac.digest('hex'));
    }),
  );
});

test('ChaChaPoly seals byte for byte as node:crypto does, and each opens the other', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 300 }), (key, n, ad, plaintext) => {
      const nonce = Buffer.alloc(12);
      nonce.writeUInt32LE(n >>> 0, 4);
      const node = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
      if (ad.byteLength > 0) node.setAAD(ad, { plaintextLength: plaintext.byteLength });
      const expected = Buffer.concat([node.update(plaintext), node.final(), node.getAuthTag()]);
      const sealed = aeadEncrypt('ChaChaPoly', key, n, ad, plaintext);
      assert.equal(toHex(sealed), expected.toString('hex'));
      assert.equal(toHex(aeadDecrypt('ChaChaPoly', key, n, ad, expected)!), toHex(plaintext));
      const forged = sealed.slice();
      forged[forged.byteLength - 1]! ^= 1;
      assert.equal(aeadDecrypt('ChaChaPoly', key, n, ad, forged), null);
      assert.equal(aeadDecrypt('ChaChaPoly', key, n + 1, ad, sealed), null);
    }),
  );
});

test('X25519 gives RFC 7748 section 6.1 keys and secret', () => {
  const alice = x25519KeyPairFromPrivate(fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'));
  const bob = x25519KeyPairFromPrivate(fromHex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'));
  assert.equal(toHex(alice.publicKey), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  assert.equal(toHex(bob.publicKey), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  const secret = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
  assert.equal(toHex(x25519(alice.privateKey, bob.publicKey)!), secret);
  assert.equal(toHex(x25519(bob.privateKey, alice.publicKey)!), secret);
});

test('X25519 keys and secrets match node:crypto for random keys', () => {
  for (let i = 0; i < 50; i++) {
    const a = x25519KeyPairFromPrivate(cryptoRandom.bytes(32));
    const b = x25519KeyPairFromPrivate(cryptoRandom.bytes(32));
    const nodePrivate = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64(a.privateKey), x: b64(new Uint8Array(32)) }, format: 'jwk' });
    assert.equal(createPublicKey(nodePrivate).export({ format: 'jwk' }).x, b64(a.publicKey));
    const nodePeer = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64(b.publicKey) }, format: 'jwk' });
    assert.equal(toHex(x25519(a.privateKey, b.publicKey)!), toHex(new Uint8Array(diffieHellman({ privateKey: nodePrivate, publicKey: nodePeer }))));
  }
});

// Points of small order: the all-zero point, the point 1, and a point of order 8.
const LOW_ORDER = ['0000000000000000000000000000000000000000000000000000000000000000', '0100000000000000000000000000000000000000000000000000000000000000', 'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'];

test('X25519 refuses low-order peer keys and wrong lengths', () => {
  const key = x25519KeyPairFromPrivate(cryptoRandom.bytes(32));
  for (const point of LOW_ORDER) assert.equal(x25519(key.privateKey, fromHex(point)), null, point);
  assert.equal(x25519(key.privateKey, new Uint8Array(31)), null);
  assert.throws(() => x25519KeyPairFromPrivate(new Uint8Array(33)), RangeError);
});

test('a handshake with a low-order ephemeral key fails with invalid_key', () => {
  for (const point of LOW_ORDER) {
    const options = { pattern: 'XX' as const, cipher: 'ChaChaPoly' as const, prologue: new Uint8Array(0), random: cryptoRandom };
    const responder = new HandshakeState({ ...options, initiator: false, staticKeyPair: x25519KeyPairFromPrivate(cryptoRandom.bytes(32)) });
    assert.ok(responder.readMessage(fromHex(point)).ok);
    const reply = responder.writeMessage(new Uint8Array(0));
    assert.ok(!reply.ok && reply.error.code === 'invalid_key', point);
  }
});
