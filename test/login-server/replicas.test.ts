// Two login server replicas over one PostgreSQL (sharing the CA key, as replicas do) serve the
// same users: whatever one writes, the other sees, and single-use things stay single-use.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cryptoRandom } from '../../src/env/real.js';
import { createNetworkCa } from '../../src/crypto/certificate.js';
import { freshDatabase } from '../support/databases.js';
import { call, ManualClock, testServer, TestDevice } from '../support/login-server.js';

test('two replicas over one PostgreSQL agree on accounts, challenges, lists and throttles', async () => {
  const fresh = await freshDatabase('postgres');
  const ca = createNetworkCa(cryptoRandom);
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const a = await testServer(await fresh.open(), { ca, clock });
  const b = await testServer(await fresh.open(), { ca, clock });
  try {
    const onA = new TestDevice(a.app, ca, 'erin');
    assert.equal((await onA.register({ discoverable: true })).status, 201);
    const onB = new TestDevice(b.app, ca, 'erin');
    Object.assign(onB, { keys: onA.keys });
    assert.equal((await onB.passwordLogin()).status, 200, 'registered on A, logs in on B');
    // A challenge from A, answered on B; the replay on A fails.
    const challenge = await onA.challenge();
    assert.equal((await onB.deviceLogin(challenge)).status, 200);
    assert.equal((await onA.deviceLogin(challenge)).body.error?.code, 'bad_challenge');
    // A token from B works on A; a list written on A is seen on B; a stale write on B conflicts.
    onA.token = onB.token;
    assert.equal((await onA.send('PUT', '/v1/contacts', { expectedVersion: 0, entries: [] })).status, 200);
    assert.equal((await onB.get('/v1/contacts')).body.version, 1);
    assert.equal((await onB.send('PUT', '/v1/contacts', { expectedVersion: 0, entries: [] })).status, 409);
    // Concurrent writes with the same expected version: exactly one wins.
    const racing = await Promise.all([onA.send('PUT', '/v1/contacts', { expectedVersion: 1, entries: [] }), onB.send('PUT', '/v1/contacts', { expectedVersion: 1, entries: [] })]);
    assert.deepEqual(racing.map((r) => r.status).sort(), [200, 409]);
    // Failed logins on A count on B: the (account, address) lock holds on both.
    for (let i = 0; i < 6; i++) await (i % 2 === 0 ? onA : onB).passwordLogin(`wrong password ${i}`, '10.5.0.1');
    assert.equal((await onB.passwordLogin(undefined, '10.5.0.1')).status, 429);
    assert.equal((await onA.passwordLogin(undefined, '10.5.0.1')).status, 429);
    assert.equal((await onA.passwordLogin(undefined, '10.5.1.2')).status, 200, 'the owner, from another address, is not locked out');
  } finally {
    await a.close();
    await b.close();
    await fresh.drop();
  }
});

test('docs/openapi.json is the document the server serves (regenerate with npm run openapi)', async () => {
  const fresh = await freshDatabase('sqlite');
  const server = await testServer(await fresh.open());
  try {
    const served = await call(server.app, 'GET', '/openapi.json');
    assert.equal(served.status, 200);
    const paths = Object.keys(served.body.paths as object);
    for (const path of ['/v1/accounts', '/v1/login/password', '/v1/login/device', '/v1/contacts', '/v1/directory/search', '/v1/offline']) assert.ok(paths.includes(path), path);
    const written = JSON.parse(readFileSync(new URL('../../../docs/openapi.json', import.meta.url), 'utf8')) as unknown;
    assert.deepEqual(served.body, written, 'docs/openapi.json is stale: run npm run openapi');
  } finally {
    await server.close();
    await fresh.drop();
  }
});
