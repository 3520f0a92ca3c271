import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/env/prng.js';
import { CertificateVerifier, Role, VERIFIED_CERTIFICATE_CACHE_SIZE } from '../../src/crypto/certificate.js';
import { parseNetworkDescriptor, serializeNetworkDescriptor } from '../../src/crypto/descriptor.js';
import { exportDeviceKeys, importDeviceKeys } from '../../src/crypto/identity.js';
import { toBase64Url } from '../../src/crypto/bytes.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';
import { testSeed } from '../support/seed.js';
test('a certificate verifies offline with the CA key and says who and what it certifies', () => {
    const net = testNetwork(new SeededRandom(testSeed()));
    const alice = net.identity('alice', { issuedAtMs: TEST_EPOCH_MS, lifetimeMs: 3_600_000 });
    const verifier = new CertificateVerifier(net.ca.keyPair.publicKey, 0);
    const inside = verifier.verify(alice.certificate, TEST_EPOCH_MS + 1000);
    assert.ok(inside.ok);
    assert.equal(inside.value.username, 'alice');
    assert.equal(inside.value.role, Role.DEVICE);
    assert.deepEqual(inside.value.dhKey, alice.dh.publicKey);
    assert.deepEqual(inside.value.signingKey, alice.signing.publicKey);
    assert.equal(inside.value.expiresAtMs, TEST_EPOCH_MS + 3_600_000);
    const after = verifier.verify(alice.certificate, TEST_EPOCH_MS + 3_600_000);
    assert.ok(!after.ok && after.error.code === 'expired');
    const before = verifier.verify(alice.certificate, TEST_EPOCH_MS - 1);
    assert.ok(!before.ok && before.error.code === 'not_yet_valid');
});
test('a tampered certificate fails its signature', () => {
    const net = testNetwork(new SeededRandom(testSeed()));
    const certificate = net.identity('alice').certificate.slice();
    // Flip a bit inside the signed body (after the outer tag and length).
    const tampered = certificate.slice();
    tampered[12] ^= 1;
    const result = net.verifier.verify(tampered, TEST_EPOCH_MS);
    assert.ok(!result.ok);
    assert.ok(['bad_signature', 'malformed', 'wrong_network'].includes(result.error.code));
    assert.ok(net.verifier.verify(certificate, TEST_EPOCH_MS).ok);
});
test('remembered certificates still expire, copies with one bit changed are still refused, and the memory is bounded', () => {
    const net = testNetwork(new SeededRandom(testSeed()));
    const verifier = new CertificateVerifier(net.ca.keyPair.publicKey, 0);
    const alice = net.identity('alice', { issuedAtMs: TEST_EPOCH_MS, lifetimeMs: 3_600_000 });
    assert.ok(verifier.verify(alice.certificate, TEST_EPOCH_MS).ok);
    assert.equal(verifier.remembered, 1);
    for (let i = 12; i < alice.certificate.length; i += 7) {
        const tampered = alice.certificate.slice();
        tampered[i] ^= 1;
        assert.ok(!verifier.verify(tampered, TEST_EPOCH_MS).ok, `bit flipped at ${i}`);
    }
    assert.equal(verifier.remembered, 1, 'refused certificates are not remembered');
    const expired = verifier.verify(alice.certificate, TEST_EPOCH_MS + 3_600_000);
    assert.ok(!expired.ok && expired.error.code === 'expired');
    const others = Array.from({ length: VERIFIED_CERTIFICATE_CACHE_SIZE + 10 }, (_, i) => net.identity(`u${i}`, { issuedAtMs: TEST_EPOCH_MS }).certificate);
    for (const certificate of others)
        assert.ok(verifier.verify(certificate, TEST_EPOCH_MS).ok);
    assert.equal(verifier.remembered, VERIFIED_CERTIFICATE_CACHE_SIZE);
    const again = verifier.verify(alice.certificate, TEST_EPOCH_MS + 1);
    assert.ok(again.ok && again.value.username === 'alice', 'forgotten, then checked again');
});
test('device keys survive export and import', () => {
    const net = testNetwork(new SeededRandom(testSeed()));
    const alice = net.identity('alice');
    const back = importDeviceKeys(exportDeviceKeys(alice));
    assert.ok(back);
    assert.deepEqual(back.signing.publicKey, alice.signing.publicKey);
    assert.deepEqual(back.dh.publicKey, alice.dh.publicKey);
    assert.equal(importDeviceKeys({ signingSeed: 'short', dhPrivate: '' }), null);
});
test('the network descriptor round-trips and names its network by the CA key', () => {
    const net = testNetwork(new SeededRandom(testSeed()));
    const text = serializeNetworkDescriptor({
        name: 'test',
        caPublicKey: net.ca.keyPair.publicKey,
        loginServerUrl: 'https://127.0.0.1:8443',
        loginServerCertSha256: 'ab'.repeat(32),
        bootstrap: [{ host: '127.0.0.1', port: 33033, dhKey: new Uint8Array(32).fill(7), webPort: 443 }, { host: 'sn1.example.org', port: 443 }],
    });
    const parsed = parseNetworkDescriptor(text);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value.networkId, net.ca.networkId);
    assert.equal(parsed.value.bootstrap.length, 2);
    assert.deepEqual(parsed.value.bootstrap[0].dhKey, new Uint8Array(32).fill(7));
    assert.equal(parsed.value.bootstrap[0].webPort, 443);
    assert.equal(parsed.value.bootstrap[1].webPort, undefined);
});
test('bad descriptors get typed errors naming the field', () => {
    const good = { version: 1, name: 'n', caPublicKey: toBase64Url(new Uint8Array(32)), loginServerUrl: 'https://x', bootstrap: [] };
    const cases = [
        ['not json', 'malformed'],
        [[1, 2], 'malformed'],
        [{ ...good, version: 2 }, 'unsupported_version'],
        [{ ...good, caPublicKey: 'AAAA' }, 'invalid_field'],
        [{ ...good, loginServerUrl: 'ftp://x' }, 'invalid_field'],
        [{ ...good, bootstrap: [{ host: '1.2.3.4', port: 70000 }] }, 'invalid_field'],
        [{ ...good, bootstrap: [{ host: 'bad host!', port: 1 }] }, 'invalid_field'],
        [{ ...good, bootstrap: [{ host: '1.2.3.4', port: 1, dhKey: 'xx' }] }, 'invalid_field'],
        [{ ...good, bootstrap: [{ host: '1.2.3.4', port: 1, webPort: 0 }] }, 'invalid_field'],
        [{ ...good, bootstrap: [{ host: '1.2.3.4', port: 1, webPort: '443' }] }, 'invalid_field'],
    ];
    for (const [input, code] of cases) {
        const result = parseNetworkDescriptor(typeof input === 'string' ? input : JSON.stringify(input));
        assert.ok(!result.ok, JSON.stringify(input));
        assert.equal(result.error.code, code, JSON.stringify(input));
    }
    assert.ok(parseNetworkDescriptor(JSON.stringify(good)).ok);
});
//# sourceMappingURL=certificate.test.js.map