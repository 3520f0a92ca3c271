// Supernode enrolment at the login server, on SQLite and PostgreSQL: a single-use operator token
// certifies a supernode's own keys (the CA key stays here), renewals signed with its key keep it
// certified and on the live bootstrap list, and every wrong request is refused with a code.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CertificateVerifier, Role } from '../../src/crypto/certificate.js';
import { fromBase64Url, toBase64Url } from '../../src/crypto/bytes.js';
import { signBytes } from '../../src/crypto/ed25519.js';
import { enrolmentProofMessage, newEnrolmentToken, renewalMessage, RENEWAL_WINDOW_MS, type AdvertisedAddress } from '../../src/crypto/enrolment.js';
import { generateDeviceKeys, type DeviceKeys } from '../../src/crypto/identity.js';
import { cryptoRandom } from '../../src/env/real.js';
import { DIALECTS, freshDatabase } from '../support/databases.js';
import { call, testServer } from '../support/login-server.js';
import { LIVE_BOOTSTRAP_CACHE_MS } from '../../src/login-server/routes/supernodes.js';

interface Grant {
  id: number;
  certificate: string;
  certificateExpiresAtMs: number;
  bootstrap: { host: string; port: number; dhKey: string; webPort?: number }[];
}

for (const dialect of DIALECTS) {
  describe(`supernode enrolment on ${dialect}`, () => {
    let server: Awaited<ReturnType<typeof testServer>>;
    let drop: () => Promise<void>;
    const LIVE_WINDOW_MS = 15 * 60_000;

    before(async () => {
      const fresh = await freshDatabase(dialect);
      drop = fresh.drop;
      server = await testServer(await fresh.open(), { config: { supernodeLiveWindowMs: LIVE_WINDOW_MS } });
    });
    after(async () => {
      await server.close();
      await drop();
    });

    const token = async (label = '') => {
      const t = newEnrolmentToken(cryptoRandom);
      const added = await server.context.supernodes.addToken(t, label, server.clock.wallMs, 3_600_000);
      assert.ok(added.ok);
      return t;
    };
    const enrolBody = (keys: DeviceKeys, t: string, address: AdvertisedAddress) => ({
      token: t,
      signingKey: toBase64Url(keys.signing.publicKey),
      dhKey: toBase64Url(keys.dh.publicKey),
      host: address.host,
      port: address.port,
      ...(address.webPort ? { webPort: address.webPort } : {}),
      proof: toBase64Url(signBytes(keys.signing, enrolmentProofMessage(server.ca.networkId, t, keys.dh.publicKey, address))),
    });
    const renewBody = (keys: DeviceKeys, address: AdvertisedAddress, timeMs = server.clock.wallMs, signer = keys) => ({
      signingKey: toBase64Url(keys.signing.publicKey),
      host: address.host,
      port: address.port,
      timeMs,
      signature: toBase64Url(signBytes(signer.signing, renewalMessage(server.ca.networkId, keys.dh.publicKey, address, timeMs))),
    });
    const liveList = async () => ((await call(server.app, 'GET', '/v1/info')).body.bootstrap as Grant['bootstrap']).map((b) => `${b.host}:${b.port}`);

    test('a token enrols a supernode\'s own keys once; the certificate is a supernode\'s for exactly those keys', async () => {
      const keys = generateDeviceKeys(cryptoRandom);
      const address = { host: '203.0.113.12', port: 33033, webPort: 443 };
      const t = await token('sn-a');
      const enrolled = await call(server.app, 'POST', '/v1/supernodes/enrol', enrolBody(keys, t, address));
      assert.equal(enrolled.status, 200, JSON.stringify(enrolled.body));
      const grant = enrolled.body as unknown as Grant;
      const verified = new CertificateVerifier(server.ca.keyPair.publicKey).verify(fromBase64Url(grant.certificate)!, server.clock.wallMs);
      assert.ok(verified.ok);
      assert.equal(verified.value.role, Role.SUPERNODE);
      assert.deepEqual(verified.value.dhKey, keys.dh.publicKey);
      assert.deepEqual(verified.value.signingKey, keys.signing.publicKey);
      assert.equal(grant.certificateExpiresAtMs, verified.value.expiresAtMs);
      assert.ok(!grant.bootstrap.some((b) => b.dhKey === toBase64Url(keys.dh.publicKey)), 'its own entry is not in its bootstrap list');
      assert.ok((await liveList()).includes('203.0.113.12:33033'));

      const again = await call(server.app, 'POST', '/v1/supernodes/enrol', enrolBody(generateDeviceKeys(cryptoRandom), t, { host: '203.0.113.13', port: 33033, webPort: null }), undefined, '10.2.0.1');
      assert.equal(again.status, 409);
      assert.equal(again.body.error?.code, 'token_used');
      assert.ok(!(await liveList()).includes('203.0.113.13:33033'));
    });

    test('wrong enrolments are refused with a code: unknown token, a proof by another key, an expired token, malformed fields', async () => {
      const keys = generateDeviceKeys(cryptoRandom);
      const address = { host: 'sn.example.net', port: 4000, webPort: null };
      const unknown = await call(server.app, 'POST', '/v1/supernodes/enrol', enrolBody(keys, newEnrolmentToken(cryptoRandom), address), undefined, '10.3.0.1');
      assert.equal(unknown.status, 401);
      assert.equal(unknown.body.error?.code, 'bad_token');

      const t = await token();
      const forged = { ...enrolBody(keys, t, address), proof: enrolBody(generateDeviceKeys(cryptoRandom), t, address).proof };
      const badProof = await call(server.app, 'POST', '/v1/supernodes/enrol', forged, undefined, '10.3.0.2');
      assert.equal(badProof.status, 401);
      assert.equal(badProof.body.error?.code, 'bad_proof');
      // The forged proof did not use the token up.
      const otherAddress = await call(server.app, 'POST', '/v1/supernodes/enrol', { ...enrolBody(keys, t, address), port: 4001 }, undefined, '10.3.0.3');
      assert.equal(otherAddress.body.error?.code, 'bad_proof', 'the address is signed too');
      assert.equal((await call(server.app, 'POST', '/v1/supernodes/enrol', enrolBody(keys, t, address), undefined, '10.3.0.4')).status, 200);

      const late = await token();
      server.clock.wallMs += 2 * 3_600_000;
      const expired = await call(server.app, 'POST', '/v1/supernodes/enrol', enrolBody(generateDeviceKeys(cryptoRandom), late, address), undefined, '10.3.0.5');
      assert.equal(expired.status, 410);
      assert.equal(expired.body.error?.code, 'token_expired');

      for (const bad of [{ host: 'bad host!' }, { port: 0 }, { token: 'parley-sn1-short' }, { dhKey: 'AAAA' }]) {
        const response = await call(server.app, 'POST', '/v1/supernodes/enrol', { ...enrolBody(keys, t, address), ...bad }, undefined, '10.3.0.6');
        assert.equal(response.status, 400, JSON.stringify(bad));
        assert.equal(response.body.error?.code, 'invalid_request');
      }
    });

    test('renewals signed with the enrolled key renew and keep it live; a silent supernode leaves the list; skew, forgery and revocation are refused', async () => {
      const keys = generateDeviceKeys(cryptoRandom);
      const address = { host: '203.0.113.14', port: 33033, webPort: null };
      assert.equal((await call(server.app, 'POST', '/v1/supernodes/enrol', enrolBody(keys, await token(), address))).status, 200);
      server.clock.wallMs += LIVE_WINDOW_MS - 1000;
      const moved = { ...address, port: 33034 };
      const renewed = await call(server.app, 'POST', '/v1/supernodes/renew', renewBody(keys, moved));
      assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
      const verified = new CertificateVerifier(server.ca.keyPair.publicKey).verify(fromBase64Url((renewed.body as unknown as Grant).certificate)!, server.clock.wallMs);
      assert.ok(verified.ok && verified.value.role === Role.SUPERNODE);
      const live = await liveList();
      assert.ok(live.includes('203.0.113.14:33034') && !live.includes('203.0.113.14:33033'), `the renewal moved it: ${live.join(' ')}`);

      const stranger = generateDeviceKeys(cryptoRandom);
      const notEnrolled = await call(server.app, 'POST', '/v1/supernodes/renew', renewBody(stranger, address), undefined, '10.4.0.1');
      assert.equal(notEnrolled.status, 404);
      assert.equal(notEnrolled.body.error?.code, 'not_enrolled');
      const forged = await call(server.app, 'POST', '/v1/supernodes/renew', renewBody(keys, address, server.clock.wallMs, stranger), undefined, '10.4.0.2');
      assert.equal(forged.status, 401);
      assert.equal(forged.body.error?.code, 'bad_signature');
      const skewed = await call(server.app, 'POST', '/v1/supernodes/renew', renewBody(keys, moved, server.clock.wallMs - RENEWAL_WINDOW_MS - 1000), undefined, '10.4.0.3');
      assert.equal(skewed.status, 400);
      assert.equal(skewed.body.error?.code, 'clock_skew');

      server.clock.wallMs += LIVE_WINDOW_MS + 1000;
      assert.ok(!(await liveList()).includes('203.0.113.14:33034'), 'silent for longer than the window: not served');
      assert.equal((await call(server.app, 'POST', '/v1/supernodes/renew', renewBody(keys, moved))).status, 200);
      assert.ok((await liveList()).includes('203.0.113.14:33034'), 'back after renewing');

      const id = (await server.context.supernodes.find(keys.signing.publicKey))!.id;
      assert.ok(await server.context.supernodes.revoke(id, server.clock.wallMs));
      const revoked = await call(server.app, 'POST', '/v1/supernodes/renew', renewBody(keys, moved));
      assert.equal(revoked.status, 403);
      assert.equal(revoked.body.error?.code, 'revoked');
      // `parley admin revoke-supernode` writes the database from another process: the list
      // served from memory catches up within LIVE_BOOTSTRAP_CACHE_MS.
      server.clock.wallMs += LIVE_BOOTSTRAP_CACHE_MS;
      assert.ok(!(await liveList()).includes('203.0.113.14:33034'), 'a revoked supernode is not served');
    });

    test('revoked supernodes are listed to every node while their certificates may be in date, then no longer', async () => {
      const revokedKeys = generateDeviceKeys(cryptoRandom);
      const stayingKeys = generateDeviceKeys(cryptoRandom);
      assert.equal((await call(server.app, 'POST', '/v1/supernodes/enrol', enrolBody(revokedKeys, await token(), { host: '203.0.113.21', port: 33033, webPort: null }), undefined, '10.6.0.1')).status, 200);
      assert.equal((await call(server.app, 'POST', '/v1/supernodes/enrol', enrolBody(stayingKeys, await token(), { host: '203.0.113.22', port: 33033, webPort: null }), undefined, '10.6.0.2')).status, 200);
      const revokedKey = toBase64Url(revokedKeys.dh.publicKey);
      const listedInInfo = async () => ((await call(server.app, 'GET', '/v1/info')).body.revokedSupernodes as string[]).includes(revokedKey);
      assert.equal(await listedInInfo(), false, 'not revoked yet');
      const id = (await server.context.supernodes.find(revokedKeys.signing.publicKey))!.id;
      assert.ok(await server.context.supernodes.revoke(id, server.clock.wallMs));
      server.clock.wallMs += LIVE_BOOTSTRAP_CACHE_MS;
      assert.equal(await listedInInfo(), true, 'clients learn it from /v1/info');
      const renewal = await call(server.app, 'POST', '/v1/supernodes/renew', renewBody(stayingKeys, { host: '203.0.113.22', port: 33033, webPort: null }), undefined, '10.6.0.3');
      assert.ok((renewal.body.revoked as string[]).includes(revokedKey), 'supernodes learn it at their next renewal');
      assert.ok(!(renewal.body.revoked as string[]).includes(toBase64Url(stayingKeys.dh.publicKey)));
      // Once every certificate it could hold has expired, the list need not carry it.
      server.clock.wallMs += 3 * 24 * 3_600_000 + 10 * 60_000;
      assert.equal(await listedInInfo(), false, 'dropped after a certificate lifetime');
    });

    test('bad tokens cost the caller\'s address: after the free failures it is throttled, others are not', async () => {
      const keys = generateDeviceKeys(cryptoRandom);
      const address = { host: '203.0.113.15', port: 33033, webPort: null };
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await call(server.app, 'POST', '/v1/supernodes/enrol', enrolBody(keys, newEnrolmentToken(cryptoRandom), address), undefined, '10.5.0.1')).status);
      assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401), 'ten free failures');
      assert.equal(statuses.at(-1), 429, statuses.join(' '));
      const good = await call(server.app, 'POST', '/v1/supernodes/enrol', enrolBody(keys, await token(), address), undefined, '10.5.0.2');
      assert.equal(good.status, 200);
    });
  });
}
