// Digest authentication: the RFC 2617 and RFC 7616 worked examples, the UAC answering a 401 and
// a 407 (strongest algorithm first), and the UAS refusing each kind of bad credentials, stale
// and replayed nonces, with its nonce table bounded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestResponse, parseAuthParams, parseChallenge } from '../../src/sip/digest.js';
import { answerChallenge } from '../../src/sip/digest-client.js';
import { DigestAuthority } from '../../src/sip/digest-server.js';
import { SeededRandom } from '../../src/env/prng.js';
import type { SipResponse } from '../../src/sip/message.js';

test('RFC 2617 section 3.5 and RFC 7616 section 3.9.1 examples', () => {
  assert.equal(digestResponse({ algorithm: 'MD5', username: 'Mufasa', realm: 'testrealm@host.com', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', qop: { cnonce: '0a4f113b', nc: '00000001' } }), '6629fae49393a05397450978507c4ef1');
  const rfc7616 = { username: 'Mufasa', realm: 'http-auth@example.org', password: 'Circle of Life', method: 'GET', uri: '/dir/index.html', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', qop: { cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ', nc: '00000001' } };
  assert.equal(digestResponse({ ...rfc7616, algorithm: 'MD5' }), '8ca523f5e9506fed4657c9700eebdbec');
  assert.equal(digestResponse({ ...rfc7616, algorithm: 'SHA-256' }), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
});

test('auth params: quoted commas and escapes, duplicates and unsupported choices refused', () => {
  const p = parseAuthParams('Digest realm="a, \\"b\\"", nonce=xyz , qop="auth,auth-int"');
  assert.ok(p.ok);
  assert.equal(p.value.params.get('realm'), 'a, "b"');
  assert.equal(p.value.params.get('nonce'), 'xyz');
  assert.equal((parseAuthParams('Digest realm="a", realm="b"') as { error: { code: string } }).error.code, 'malformed');
  assert.equal((parseChallenge('Basic realm="x"') as { error: { code: string } }).error.code, 'not_digest');
  assert.equal((parseChallenge('Digest realm="x", nonce="y", algorithm=SHA-512-256') as { error: { code: string } }).error.code, 'unsupported');
  assert.equal((parseChallenge('Digest realm="x", nonce="y", qop="auth-int"') as { error: { code: string } }).error.code, 'unsupported');
  assert.equal((parseChallenge('Digest realm="x"') as { error: { code: string } }).error.code, 'malformed');
});

const SECRET = new Uint8Array(32).fill(7);
const users: Record<string, string> = { alice: 'wonderland' };

function authority(options: { maxTrackedNonces?: number; algorithms?: ('MD5' | 'SHA-256')[] } = {}) {
  return new DigestAuthority({ realm: 'gw.example', secret: SECRET, passwordFor: (u) => users[u] ?? null, nonceLifetimeMs: 60_000, ...options });
}

function challengeResponse(values: string[], status: 401 | 407 = 401): SipResponse {
  return { kind: 'response', status, reason: 'Unauthorized', headers: values.map((value) => ({ name: status === 401 ? 'www-authenticate' : 'proxy-authenticate', value })), body: new Uint8Array(0) };
}

function answer(challenge: string[], password = 'wonderland', nonceCount = 1, status: 401 | 407 = 401, uri = 'sip:gw.example') {
  const a = answerChallenge(challengeResponse(challenge, status), { username: 'alice', password, method: 'REGISTER', uri, cnonce: 'c0ffee', nonceCount });
  assert.ok(a.ok, JSON.stringify(!a.ok && a.error));
  return a.value;
}

test('a UAC answers the strongest challenge and the UAS accepts it once per nonce count', () => {
  const random = new SeededRandom(5);
  const uas = authority();
  const challenge = uas.challenge(1_000, random);
  assert.equal(challenge.length, 2);
  const first = answer(challenge);
  assert.equal(first.headerName, 'authorization');
  assert.equal(first.challenge.algorithm, 'SHA-256');
  assert.deepEqual(uas.verify('REGISTER', 'sip:gw.example', first.headerValue, 2_000), { ok: true, username: 'alice' });
  assert.deepEqual(uas.verify('REGISTER', 'sip:gw.example', first.headerValue, 2_000), { ok: false, why: 'replayed' });
  assert.deepEqual(uas.verify('REGISTER', 'sip:gw.example', answer(challenge, 'wonderland', 2).headerValue, 2_500), { ok: true, username: 'alice' });
  const md5Only = answer(authority({ algorithms: ['MD5'] }).challenge(1_000, random));
  assert.equal(md5Only.challenge.algorithm, 'MD5');
  assert.deepEqual(uas.verify('REGISTER', 'sip:gw.example', md5Only.headerValue, 2_000), { ok: true, username: 'alice' }, 'the nonces of one secret are interchangeable between algorithms');
  assert.equal(answer(challenge, 'wonderland', 1, 407).headerName, 'proxy-authorization');
});

test('the UAS refuses wrong passwords, other users, forged and expired nonces, other URIs, other realms, no qop', () => {
  const random = new SeededRandom(6);
  const uas = authority();
  const challenge = uas.challenge(1_000, random);
  const verify = (value: string | null, nowMs = 2_000, method = 'REGISTER', uri = 'sip:gw.example') => {
    const v = uas.verify(method, uri, value, nowMs);
    return v.ok ? 'ok' : v.why;
  };
  assert.equal(verify(null), 'no_credentials');
  assert.equal(verify('Digest nonsense'), 'malformed');
  assert.equal(verify(answer(challenge, 'wrong').headerValue), 'wrong_credentials');
  assert.equal(verify(answer(challenge).headerValue, 2_000, 'INVITE'), 'wrong_credentials');
  assert.equal(verify(answer(challenge).headerValue, 62_000), 'stale_nonce');
  assert.equal(verify(answer(challenge).headerValue, 2_000, 'REGISTER', 'sip:other.example'), 'uri_mismatch');
  const forged = challenge.map((c) => c.replace(/nonce="([^"]*)"/, (_m, n: string) => `nonce="${n.slice(0, -1)}${n.endsWith('A') ? 'B' : 'A'}"`));
  assert.equal(verify(answer(forged).headerValue), 'stale_nonce');
  assert.equal(verify(answer(challenge.map((c) => c.replace('gw.example', 'other'))).headerValue), 'wrong_realm');
  assert.equal(verify(answer(challenge.map((c) => c.replace(', qop="auth"', ''))).headerValue), 'malformed');
  assert.equal(verify(answer(challenge).headerValue), 'ok');
  assert.equal(uas.refused.get('stale_nonce'), 2);
});

test('the nonce table is bounded; an evicted nonce is stale, never replayable', () => {
  const random = new SeededRandom(7);
  const uas = authority({ maxTrackedNonces: 3 });
  const challenges = [0, 1, 2, 3, 4].map((i) => uas.challenge(1_000 + i, random));
  const answers = challenges.map((c) => answer(c).headerValue);
  for (const a of answers) assert.deepEqual(uas.verify('REGISTER', 'sip:gw.example', a, 5_000), { ok: true, username: 'alice' });
  assert.equal(uas.trackedNonces, 3);
  assert.deepEqual(uas.verify('REGISTER', 'sip:gw.example', answers[0]!, 5_000), { ok: false, why: 'stale_nonce' });
  assert.deepEqual(uas.verify('REGISTER', 'sip:gw.example', answers[4]!, 5_000), { ok: false, why: 'replayed' });
  assert.deepEqual(uas.verify('REGISTER', 'sip:gw.example', answer(uas.challenge(6_000, random)).headerValue, 6_000), { ok: true, username: 'alice' }, 'fresh nonces still work');
});
