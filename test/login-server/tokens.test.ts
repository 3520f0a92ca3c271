import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cryptoRandom } from '../../src/env/real.js';
import { createNetworkCa } from '../../src/crypto/certificate.js';
import { issueToken, verifyToken } from '../../src/login-server/tokens.js';

test('an access token verifies until it expires, and only under the CA that signed it', () => {
  const ca = createNetworkCa(cryptoRandom);
  const other = createNetworkCa(cryptoRandom);
  const token = issueToken(ca.keyPair, { userId: 7, deviceId: 9, expiresAtMs: 1_000 });
  const valid = verifyToken(ca.keyPair.publicKey, token, 999);
  assert.deepEqual(valid, { ok: true, value: { userId: 7, deviceId: 9, expiresAtMs: 1_000 } });
  const expired = verifyToken(ca.keyPair.publicKey, token, 1_000);
  assert.ok(!expired.ok && expired.error.code === 'expired_token');
  const foreign = verifyToken(other.keyPair.publicKey, token, 0);
  assert.ok(!foreign.ok && foreign.error.code === 'invalid_token');
  const [payload, signature] = token.split('.');
  const tampered = `${Buffer.from(JSON.stringify({ u: 1, d: 9, e: 1_000 })).toString('base64url')}.${signature}`;
  assert.ok(payload !== undefined && !verifyToken(ca.keyPair.publicKey, tampered, 0).ok, 'another user in the payload breaks the signature');
});
