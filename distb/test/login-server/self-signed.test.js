import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import { test } from 'node:test';
import { createSelfSignedCertificate } from '../../src/login-server/self-signed.js';
test('the self-signed certificate parses, verifies, names its hosts, and carries a TLS connection for a client that pins it', async () => {
    const now = new Date(Date.UTC(2026, 5, 1));
    const made = createSelfSignedCertificate({ commonName: 'parley login', hosts: ['127.0.0.1', 'localhost'], lifetimeDays: 825, now });
    const cert = new X509Certificate(made.certPem);
    assert.ok(cert.verify(cert.publicKey), 'self-signed signature verifies');
    assert.equal(cert.subject, 'CN=parley login');
    assert.match(cert.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.match(cert.subjectAltName ?? '', /DNS:localhost/);
    assert.equal(cert.fingerprint256.replace(/:/g, '').toLowerCase(), made.sha256);
    assert.equal(new Date(cert.validTo).getTime(), now.getTime() + 825 * 86_400_000);
    assert.equal(cert.ca, false);
    const server = https.createServer({ key: made.keyPem, cert: made.certPem }, (_req, res) => res.end('pinned'));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = server.address().port;
    const get = (options) => new Promise((resolve, reject) => {
        https.get({ host: '127.0.0.1', port, path: '/', ...options }, (res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve(body));
        }).on('error', reject);
    });
    try {
        assert.equal(await get({ ca: made.certPem }), 'pinned');
        await assert.rejects(get({}), /self-signed|self signed/i, 'without the pin the certificate is refused');
    }
    finally {
        server.close();
    }
});
test('every generated certificate is valid DER, whatever its random serial (a leading zero byte was illegal padding)', () => {
    // Each serial byte pattern that broke DER came up about once in 256 certificates.
    for (let i = 0; i < 600; i++) {
        const generated = createSelfSignedCertificate({ commonName: 'parley', hosts: ['127.0.0.1'], lifetimeDays: 1, now: new Date() });
        const parsed = new X509Certificate(generated.certPem);
        assert.ok(parseInt(parsed.serialNumber, 16) > 0);
    }
});
//# sourceMappingURL=self-signed.test.js.map