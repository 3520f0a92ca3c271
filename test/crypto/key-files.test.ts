// Key files written before issue 22 (node:crypto Ed25519) load unchanged: both hold the 32-byte
// seeds as base64url JSON, and the keys derived from them are the same.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromHex, toHex } from '../../src/crypto/bytes.js';
import { signBytes, verifySignature } from '../../src/crypto/ed25519.js';
import { loadOrCreateCa, loadOrCreateKeys } from '../../src/crypto/key-files.js';
import { SeededRandom } from '../../src/env/prng.js';

// RFC 8032 section 7.1, test 1: the seed and the public key that node:crypto derived from it.
const SEED_HEX = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const PUBLIC_KEY_HEX = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
// The same test's empty-message signature, as node:crypto made it.
const SIGNATURE_HEX = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
const seedText = Buffer.from(SEED_HEX, 'hex').toString('base64url');

function withDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'parley-key-files-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a CA key file written by the node:crypto code loads as the same key', () => {
  withDir((dir) => {
    const path = join(dir, 'ca.key.json');
    const written = `{"seed":"${seedText}"}\n`; // what the older loadOrCreateCa wrote
    writeFileSync(path, written, { mode: 0o600 });
    const ca = loadOrCreateCa(dir, new SeededRandom(1));
    assert.equal(toHex(ca.keyPair.publicKey), PUBLIC_KEY_HEX);
    assert.equal(toHex(signBytes(ca.keyPair, new Uint8Array(0))), SIGNATURE_HEX);
    assert.equal(readFileSync(path, 'utf8'), written, 'loading does not rewrite the file');
  });
});

test('a device key file written by the node:crypto code loads as the same keys', () => {
  withDir((dir) => {
    const path = join(dir, 'device.key.json');
    const dhPrivate = Buffer.alloc(32, 7).toString('base64url');
    writeFileSync(path, `{"signingSeed":"${seedText}","dhPrivate":"${dhPrivate}"}\n`, { mode: 0o600 });
    const keys = loadOrCreateKeys(path, new SeededRandom(1));
    assert.equal(toHex(keys.signing.publicKey), PUBLIC_KEY_HEX);
    assert.ok(verifySignature(keys.signing.publicKey, new Uint8Array(0), fromHex(SIGNATURE_HEX)));
    assert.equal(toHex(keys.dh.privateKey), '07'.repeat(32));
  });
});

test('a new key file round-trips: written, then loaded as the same keys', () => {
  withDir((dir) => {
    const first = loadOrCreateCa(dir, new SeededRandom(1));
    const again = loadOrCreateCa(dir, new SeededRandom(2));
    assert.equal(toHex(again.keyPair.publicKey), toHex(first.keyPair.publicKey));
    const path = join(dir, 'device.key.json');
    const keys = loadOrCreateKeys(path, new SeededRandom(1));
    const loaded = loadOrCreateKeys(path, new SeededRandom(2));
    assert.equal(toHex(loaded.signing.publicKey), toHex(keys.signing.publicKey));
    assert.equal(toHex(loaded.dh.publicKey), toHex(keys.dh.publicKey));
  });
});
