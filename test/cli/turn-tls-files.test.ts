// The supernode's TURN over TLS certificate: made once in its folder and kept across starts,
// made again near its end, the operator's own files used as given, and unusable ones refused
// with a clear error at start (not on the first connection).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CommandError } from '../../src/cli/command-error.js';
import { loadTurnTls } from '../../src/cli/turn-tls-files.js';
import { createSelfSignedCertificate } from '../../src/login-server/self-signed.js';

const DAY_MS = 86_400_000;

test('a self-signed TURN certificate is made once, kept across starts, and made again near its end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-turn-tls-'));
  try {
    const nowMs = Date.now();
    const first = loadTurnTls(dir, { hosts: ['127.0.0.1'], nowMs });
    assert.ok(first.selfSigned);
    assert.match(first.sha256, /^[0-9a-f]{64}$/);
    const again = loadTurnTls(dir, { hosts: ['127.0.0.1'], nowMs: nowMs + DAY_MS });
    assert.equal(again.sha256, first.sha256, 'the same certificate on the next start');
    const nearEnd = loadTurnTls(dir, { hosts: ['127.0.0.1'], nowMs: nowMs + 800 * DAY_MS });
    assert.notEqual(nearEnd.sha256, first.sha256, 'a new certificate 25 days before the old one ends');
    assert.match(readFileSync(join(dir, 'turn-tls.key.pem'), 'utf8'), /BEGIN PRIVATE KEY/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the operator's certificate is used as given; half of a pair or an unusable one is refused at start", () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-turn-tls-'));
  try {
    const made = createSelfSignedCertificate({ commonName: 'turn.example.net', hosts: ['turn.example.net'], lifetimeDays: 90, now: new Date() });
    const certFile = join(dir, 'fullchain.pem');
    const keyFile = join(dir, 'privkey.pem');
    writeFileSync(certFile, made.certPem);
    writeFileSync(keyFile, made.keyPem);
    const given = loadTurnTls(dir, { certFile, keyFile, hosts: [], nowMs: Date.now() });
    assert.equal(given.selfSigned, false);
    assert.equal(given.sha256, made.sha256);
    assert.throws(() => loadTurnTls(dir, { certFile, hosts: [], nowMs: Date.now() }), (e: unknown) => e instanceof CommandError && /both --tls-cert and --tls-key/.test(e.message));
    const other = createSelfSignedCertificate({ commonName: 'other', hosts: ['other.example.net'], lifetimeDays: 90, now: new Date() });
    writeFileSync(keyFile, other.keyPem);
    assert.throws(() => loadTurnTls(dir, { certFile, keyFile, hosts: [], nowMs: Date.now() }), (e: unknown) => e instanceof CommandError && /not usable/.test(e.message), 'a key that does not match the certificate');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
