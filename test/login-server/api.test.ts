// The login server's HTTP API, the same tests on SQLite and on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CertificateVerifier, Role } from '../../src/crypto/certificate.js';
import { fromBase64Url, toBase64Url } from '../../src/crypto/bytes.js';
import { issueIdentity, type NodeIdentity } from '../../src/crypto/identity.js';
import { cryptoRandom } from '../../src/env/real.js';
import { createAttestation } from '../../src/overlay/reachability.js';
import { DIALECTS, freshDatabase } from '../support/databases.js';
import { call, testServer, TestDevice } from '../support/login-server.js';

for (const dialect of DIALECTS) {
  describe(`login server API on ${dialect}`, () => {
    let server: Awaited<ReturnType<typeof testServer>>;
    let drop: () => Promise<void>;
    let alice: TestDevice;
    let bob: TestDevice;

    before(async () => {
      const fresh = await freshDatabase(dialect);
      drop = fresh.drop;
      server = await testServer(await fresh.open());
      alice = new TestDevice(server.app, server.ca, 'Alice');
      bob = new TestDevice(server.app, server.ca, 'bob');
      assert.equal((await alice.register({ discoverable: true, showLastSeen: true })).status, 201);
      assert.equal((await bob.register({ discoverable: true })).status, 201);
      assert.equal((await alice.passwordLogin()).status, 200);
      assert.equal((await bob.passwordLogin()).status, 200);
    });
    after(async () => {
      await server.close();
      await drop();
    });

    test('bad requests get a 4xx with a machine-readable code, and write nothing', async () => {
      const cases: [string, unknown, number, string][] = [
        ['malformed JSON', '{"username": "x",', 400, 'malformed_json'],
        ['unknown field', { username: 'carol', password: 'long enough pw', admin: true }, 400, 'invalid_request'],
        ['wrong type', { username: 'carol', password: 12345678 }, 400, 'invalid_request'],
        ['SQL-looking username', { username: "bob'; drop table users;--", password: 'long enough pw' }, 400, 'invalid_username'],
        ['too short name', { username: 'ab', password: 'long enough pw' }, 400, 'invalid_username'],
        ['short password', { username: 'carol', password: 'short' }, 400, 'invalid_request'],
        ['taken name, other case', { username: 'ALICE', password: 'long enough pw' }, 409, 'username_taken'],
        ['oversize body', { username: 'carol', password: 'x'.repeat(200_000) }, 413, 'body_too_large'],
      ];
      for (const [name, body, status, code] of cases) {
        const response = await call(server.app, 'POST', '/v1/accounts', body, undefined, `10.9.0.${cases.findIndex((c) => c[0] === name)}`);
        assert.equal(response.status, status, name);
        assert.equal(response.body.error?.code, code, name);
        assert.ok(response.body.error?.message, name);
      }
      assert.equal(await server.context.store.findUser('carol'), null, 'nothing was written');
      assert.equal((await server.context.store.findUser('alice'))?.displayName, 'Alice');
      const noRoute = await call(server.app, 'GET', '/v1/nothing');
      assert.equal(noRoute.body.error?.code, 'no_such_route');
    });

    test('first login issues a certificate for the device keys, signed by the network CA', async () => {
      const verifier = new CertificateVerifier(server.ca.keyPair.publicKey);
      const verified = verifier.verify(alice.certificate, server.clock.wallMs);
      assert.ok(verified.ok);
      assert.equal(verified.value.username, 'alice');
      assert.deepEqual(verified.value.dhKey, alice.keys.dh.publicKey);
      assert.deepEqual(verified.value.signingKey, alice.keys.signing.publicKey);
      assert.equal(verified.value.expiresAtMs - verified.value.issuedAtMs, 24 * 3_600_000);
    });

    test('a wrong password or a device that cannot prove its key is refused', async () => {
      const wrong = await alice.passwordLogin('not the password', '10.2.0.1');
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error?.code, 'bad_credentials');
      const stranger = new TestDevice(server.app, server.ca, 'nobody-here');
      const unknown = await stranger.passwordLogin(undefined, '10.2.0.2');
      assert.equal(unknown.body.error?.code, 'bad_credentials', 'unknown users look like wrong passwords');
      // Right password, but a device key the caller cannot sign with: the proof is refused.
      const proof = await call(server.app, 'POST', '/v1/login/password', {
        username: 'alice',
        password: alice.password,
        device: { signingKey: toBase64Url(alice.keys.signing.publicKey), dhKey: toBase64Url(alice.keys.dh.publicKey), name: 'x', proof: toBase64Url(new Uint8Array(64)) },
      }, undefined, '10.2.0.3');
      assert.equal(proof.body.error?.code, 'bad_device_proof');
    });

    test('re-login signs a single-use challenge: no password, fresh certificate; a replay fails', async () => {
      const challenge = await alice.challenge();
      const first = await alice.deviceLogin(challenge);
      assert.equal(first.status, 200);
      assert.equal(first.body.deviceId, alice.deviceId);
      const replay = await alice.deviceLogin(challenge);
      assert.equal(replay.status, 401);
      assert.equal(replay.body.error?.code, 'bad_challenge');
      // Someone else's signature over a valid challenge fails too.
      const forged = await call(server.app, 'POST', '/v1/login/device', { signingKey: toBase64Url(alice.keys.signing.publicKey), challenge: await alice.challenge(), signature: toBase64Url(new Uint8Array(64).fill(1)) });
      assert.equal(forged.body.error?.code, 'bad_signature');
    });

    test('an expired challenge fails', async () => {
      const challenge = await bob.challenge();
      server.clock.wallMs += 61_000;
      const late = await bob.deviceLogin(challenge);
      assert.equal(late.body.error?.code, 'bad_challenge');
      assert.equal((await bob.deviceLogin()).status, 200);
    });

    test('brute force is throttled per account and address (a lock), per account from many addresses (a short lock), and per address', async () => {
      const target = new TestDevice(server.app, server.ca, 'target');
      assert.equal((await target.register()).status, 201);
      const fromOne: string[] = [];
      for (let i = 0; i < 7; i++) fromOne.push((await target.passwordLogin('wrong guess ' + i, '10.3.0.1')).body.error?.code ?? 'ok');
      assert.deepEqual(fromOne, ['bad_credentials', 'bad_credentials', 'bad_credentials', 'bad_credentials', 'bad_credentials', 'bad_credentials', 'throttled']);
      const locked = await target.passwordLogin(undefined, '10.3.0.1');
      assert.equal(locked.status, 429, 'from the guessing address even the right password waits out the lock');
      assert.ok(Number(locked.headers['retry-after']) >= 1);
      // Many addresses: account-wide, 20 failures are free, then short locks (at most 30 s).
      const fromMany: string[] = [];
      for (let i = 0; i < 16; i++) fromMany.push((await target.passwordLogin('wrong guess ' + i, `10.3.1.${i}`)).body.error?.code ?? 'ok');
      assert.deepEqual(fromMany.slice(0, 15), Array(15).fill('bad_credentials'));
      assert.equal(fromMany[15], 'throttled', 'the 22nd failure on the account, from a fresh address, meets the account-wide lock');
      const slowed = await target.passwordLogin(undefined, '10.3.2.1');
      assert.equal(slowed.status, 429);
      assert.ok(Number(slowed.headers['retry-after']) <= 30, 'the account-wide lock is short');
      server.clock.wallMs += 31_000;
      assert.equal((await target.passwordLogin(undefined, '10.3.2.1')).status, 200, 'after the short lock the right password works');
      server.clock.wallMs += 15 * 60_000;
    });

    test('contacts sync by version: get since, put with the expected version, conflicts on a stale one', async () => {
      const empty = await alice.get('/v1/contacts');
      assert.deepEqual(empty.body, { version: 0, entries: [] });
      const put = await alice.send('PUT', '/v1/contacts', { expectedVersion: 0, entries: [{ username: 'Bob', kind: 'buddy' }] });
      assert.equal(put.status, 200);
      assert.equal(put.body.version, 1);
      assert.deepEqual((await alice.get('/v1/contacts?since=1')).body, { version: 1, unchanged: true });
      const stale = await alice.send('PUT', '/v1/contacts', { expectedVersion: 0, entries: [] });
      assert.equal(stale.status, 409);
      assert.equal(stale.body.error?.code, 'version_conflict');
      const unknown = await alice.send('PUT', '/v1/contacts', { expectedVersion: 1, entries: [{ username: 'ghost', kind: 'buddy' }] });
      assert.equal(unknown.status, 404);
      assert.equal((await call(server.app, 'GET', '/v1/contacts')).body.error?.code, 'unauthenticated');
      assert.equal((await call(server.app, 'GET', '/v1/contacts', undefined, 'forged.token')).body.error?.code, 'invalid_token');
    });

    test('buddy requests: bob asks, alice accepts, both lists say buddy', async () => {
      const carol = new TestDevice(server.app, server.ca, 'carol');
      assert.equal((await carol.register()).status, 201);
      assert.equal((await carol.passwordLogin()).status, 200);
      assert.equal((await carol.send('POST', '/v1/buddy-requests', { to: 'alice', message: 'hi, carol here' })).status, 202);
      const incoming = (await alice.get('/v1/buddy-requests')).body.incoming as { id: number; from: string; message: string }[];
      assert.equal(incoming.length, 1);
      assert.equal(incoming[0]!.message, 'hi, carol here');
      assert.equal((await alice.send('POST', `/v1/buddy-requests/${incoming[0]!.id}/accept`)).status, 200);
      const carolList = (await carol.get('/v1/contacts')).body.entries as { username: string; kind: string }[];
      assert.deepEqual(carolList, [{ username: 'alice', kind: 'buddy' }]);
      assert.ok(((await alice.get('/v1/contacts')).body.entries as { username: string }[]).some((e) => e.username === 'carol'));
      assert.equal((await alice.send('POST', `/v1/buddy-requests/${incoming[0]!.id}/accept`)).status, 404, 'answered once');
    });

    test('directory: exact lookup with last seen for those who allow it; prefix search with sal* among the discoverable', async () => {
      const lookup = await bob.get('/v1/directory/users/ALICE');
      assert.equal(lookup.body.exists, true);
      assert.equal(typeof lookup.body.lastSeenMs, 'number');
      assert.equal((await alice.get('/v1/directory/users/bob')).body.lastSeenMs, null);
      assert.equal((await alice.get('/v1/directory/users/nobody1')).status, 404);
      const found = await bob.get('/v1/directory/search?q=al*');
      assert.deepEqual((found.body.users as { username: string }[]).map((u) => u.username), ['alice']);
      const none = await bob.get('/v1/directory/search?q=car'); // carol is not discoverable
      assert.deepEqual(none.body.users, []);
      assert.equal((await bob.get('/v1/directory/search?q=a*b')).body.error?.code, 'invalid_query');
      assert.equal((await bob.get('/v1/directory/search?q=al&limit=0')).status, 400);
    });

    test('offline messages: opaque ciphertext to a device, fetched and acknowledged by that device only', async () => {
      const devices = (await bob.get('/v1/users/alice/devices')).body.devices as { id: number }[];
      assert.ok(devices.some((d) => d.id === alice.deviceId));
      const ciphertext = toBase64Url(new Uint8Array([1, 2, 3, 250]));
      assert.equal((await bob.send('POST', `/v1/offline/${alice.deviceId}`, { ciphertext })).status, 202);
      assert.deepEqual((await bob.get('/v1/offline')).body.messages, [], 'not for bob');
      const messages = (await alice.get('/v1/offline')).body.messages as { id: number; sender: string; ciphertext: string }[];
      assert.equal(messages.length, 1);
      assert.equal(messages[0]!.sender, 'bob');
      assert.equal(messages[0]!.ciphertext, ciphertext);
      assert.equal((await alice.send('POST', '/v1/offline/ack', { ids: [messages[0]!.id] })).body.deleted, 1);
      assert.deepEqual((await alice.get('/v1/offline')).body.messages, []);
    });

    test('revoking a device ends its token and its re-login at once', async () => {
      const phone = new TestDevice(server.app, server.ca, 'bob');
      assert.equal((await phone.passwordLogin()).status, 200);
      const list = (await bob.get('/v1/devices')).body.devices as { id: number; current: boolean }[];
      assert.equal(list.length, 2);
      assert.equal((await bob.send('DELETE', `/v1/devices/${phone.deviceId}`)).status, 200);
      assert.equal((await phone.get('/v1/contacts')).body.error?.code, 'device_revoked');
      await assert.rejects(phone.challenge(), /unknown_device/);
    });

    test('the version endpoint tells whether an update exists, and info names the network', async () => {
      const version = await call(server.app, 'GET', '/v1/version?current=0.0.9');
      assert.deepEqual(version.body, { latest: '0.1.0', updateAvailable: true });
      const info = await call(server.app, 'GET', '/v1/info');
      assert.equal(info.body.networkId, toBase64Url(server.ca.networkId));
    });

    test('a device a supernode dialled back gets a supernode certificate for its own keys; other evidence is refused', async () => {
      const now = server.clock.wallMs;
      const checker = issueIdentity(server.ca, cryptoRandom, { role: Role.SUPERNODE, serial: 9_000, issuedAtMs: now - 1000 });
      const attest = (by: NodeIdentity, subject: Uint8Array, checkedAtMs = now) =>
        toBase64Url(createAttestation(by, server.ca.networkId, { subjectDhKey: subject, host: '203.0.113.7', port: 40000, uploadKbps: 5000, checkedAtMs }));
      const path = '/v1/devices/current/supernode-certificate';
      const granted = await call(server.app, 'POST', path, { attestation: attest(checker, alice.keys.dh.publicKey) }, alice.token);
      assert.equal(granted.status, 200);
      const verified = new CertificateVerifier(server.ca.keyPair.publicKey).verify(fromBase64Url(granted.body.certificate as string)!, now);
      assert.ok(verified.ok);
      assert.equal(verified.value.role, Role.SUPERNODE);
      assert.equal(verified.value.username, 'alice', 'the certificate says whose machine serves');
      assert.deepEqual(verified.value.dhKey, alice.keys.dh.publicKey);
      assert.deepEqual(verified.value.signingKey, alice.keys.signing.publicKey);

      const aliceAsChecker = { ...alice.keys, certificate: alice.certificate };
      const refused: [string, unknown, string | undefined, number, string][] = [
        ['someone else\'s key', { attestation: attest(checker, bob.keys.dh.publicKey) }, alice.token, 403, 'not_your_key'],
        ['a stale check', { attestation: attest(checker, alice.keys.dh.publicKey, now - 6 * 60_000) }, alice.token, 400, 'stale'],
        ['a device vouching for itself', { attestation: attest(aliceAsChecker, alice.keys.dh.publicKey) }, alice.token, 400, 'bad_checker'],
        ['garbage', { attestation: 'AAAAAAAA' }, alice.token, 400, 'malformed'],
        ['no token', { attestation: attest(checker, alice.keys.dh.publicKey) }, undefined, 401, 'unauthenticated'],
      ];
      for (const [name, body, token, status, code] of refused) {
        const response = await call(server.app, 'POST', path, body, token);
        assert.equal(response.status, status, name);
        assert.equal(response.body.error?.code, code, name);
      }
    });

    test('changing the password and deleting the account', async () => {
      const dave = new TestDevice(server.app, server.ca, 'dave');
      assert.equal((await dave.register()).status, 201);
      assert.equal((await dave.passwordLogin()).status, 200);
      assert.equal((await dave.send('POST', '/v1/account/password', { oldPassword: 'wrong password', newPassword: 'new password 1' })).status, 401);
      assert.equal((await dave.send('POST', '/v1/account/password', { oldPassword: dave.password, newPassword: 'new password 1' })).status, 200);
      assert.equal((await dave.passwordLogin('new password 1', '10.4.0.1')).status, 200);
      assert.equal((await dave.send('DELETE', '/v1/account', { password: 'new password 1' })).status, 200);
      assert.equal(await server.context.store.findUser('dave'), null);
      assert.equal((await dave.get('/v1/contacts')).status, 401);
    });
  });
}
