// The login server's metrics and logs after real requests: each counter equals what the clients
// were answered; the ops endpoint serves them in a format a strict reader accepts and says 503
// when the database is gone; /metrics is not on the public port; logs are JSON lines without
// query strings, and the level threshold holds.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { serveLoginServerOps } from '../../src/login-server/ops.js';
import type { OpsServer } from '../../src/ops/ops-server.js';
import { freshDatabase } from '../support/databases.js';
import { call, testServer, TestDevice } from '../support/login-server.js';
import { httpRequest, scrape } from '../support/prometheus.js';

describe('login server metrics', () => {
  let server: Awaited<ReturnType<typeof testServer>>;
  let drop: () => Promise<void>;
  let ops: OpsServer;

  before(async () => {
    const fresh = await freshDatabase('sqlite');
    drop = fresh.drop;
    // A lock after the second failure, so the test meets a throttle quickly.
    server = await testServer(await fresh.open(), { config: { loginThrottle: { freeFailures: 1, baseLockMs: 60_000, maxLockMs: 60_000, forgetAfterMs: 3_600_000 } } });
    ops = await serveLoginServerOps(server.context, { port: 0 });
  });
  after(async () => {
    await ops.close();
    await server.close().catch(() => {}); // the last test closed the store already
    await drop();
  });

  test('logins, registrations, certificates, throttles and offline messages are counted as answered', async () => {
    const alice = new TestDevice(server.app, server.ca, 'alice');
    const bob = new TestDevice(server.app, server.ca, 'bob');
    const mallory = new TestDevice(server.app, server.ca, 'mallory');
    const start = await scrape(ops.port);
    assert.equal(start.value('parley_login_registrations_total', { result: 'ok' }), undefined);

    assert.equal((await alice.register()).status, 201);
    assert.equal((await bob.register()).status, 201);
    assert.equal((await mallory.register()).status, 201);
    assert.equal((await alice.register()).status, 409);
    assert.equal((await call(server.app, 'POST', '/v1/accounts', '{"username": ', undefined, '10.3.0.1')).status, 400);
    assert.equal((await alice.passwordLogin()).status, 200);
    assert.equal((await bob.passwordLogin()).status, 200);
    assert.equal((await alice.deviceLogin()).status, 200);
    // Offline: bob leaves alice one message; she fetches and acknowledges it.
    assert.equal((await bob.send('POST', `/v1/offline/${alice.deviceId}`, { ciphertext: 'AAEC' })).status, 202);
    const messages = (await alice.get('/v1/offline')).body.messages as { id: number }[];
    assert.equal((await alice.send('POST', '/v1/offline/ack', { ids: messages.map((m) => m.id) })).body.deleted, 1);
    // mallory guesses from one address until the lock.
    const codes: string[] = [];
    for (let i = 0; i < 10 && codes.at(-1) !== 'throttled'; i++) codes.push((await mallory.passwordLogin('guess number ' + i, '10.6.6.6')).body.error!.code);
    assert.equal(codes.at(-1), 'throttled');
    assert.equal((await call(server.app, 'GET', '/v1/nothing')).status, 404);

    const end = await scrape(ops.port);
    const m = (name: string, labels?: Record<string, string>) => end.value(name, labels) ?? 0;
    assert.equal(m('parley_login_registrations_total', { result: 'ok' }), 3);
    assert.equal(m('parley_login_registrations_total', { result: 'username_taken' }), 1);
    assert.equal(m('parley_login_registrations_total', { result: 'malformed_json' }), 1);
    assert.equal(m('parley_login_logins_total', { kind: 'password', result: 'ok' }), 2);
    assert.equal(m('parley_login_logins_total', { kind: 'device', result: 'ok' }), 1);
    assert.equal(m('parley_login_logins_total', { kind: 'password', result: 'bad_credentials' }), codes.filter((c) => c === 'bad_credentials').length);
    assert.equal(m('parley_login_logins_total', { kind: 'password', result: 'throttled' }), 1);
    assert.equal(m('parley_login_throttle_refusals_total', { scope: 'login-account-ip' }), 1);
    assert.equal(m('parley_login_certificates_issued_total', { role: 'device' }), 3);
    assert.equal(m('parley_login_offline_messages_stored_total'), 1);
    assert.equal(m('parley_login_offline_messages_delivered_total'), 1);
    // Requests by route pattern and status; a path with an id is one route.
    assert.equal(m('parley_login_http_requests_total', { route: '/v1/accounts', method: 'POST', status: '201' }), 3);
    assert.equal(m('parley_login_http_requests_total', { route: '/v1/accounts', method: 'POST', status: '409' }), 1);
    assert.equal(m('parley_login_http_requests_total', { route: '/v1/offline/:id', method: 'POST', status: '202' }), 1);
    assert.equal(m('parley_login_http_requests_total', { route: 'no_route', method: 'GET', status: '404' }), 1);
    assert.equal(m('parley_login_http_request_duration_seconds_count', { route: '/v1/login/password' }), 2 + codes.length);
    assert.equal(end.types.get('nodejs_eventloop_lag_seconds'), 'gauge', 'process metrics too');
  });

  test('/metrics is not on the public port; /healthz and /readyz are, and /readyz follows the database', async () => {
    assert.equal((await call(server.app, 'GET', '/metrics')).status, 404);
    assert.equal((await call(server.app, 'GET', '/healthz')).status, 200);
    assert.deepEqual((await call(server.app, 'GET', '/readyz')).body, { ready: true });
    assert.equal((await httpRequest(ops.port, '/readyz')).status, 200);
    await server.context.store.close();
    const down = await httpRequest(ops.port, '/readyz');
    assert.equal(down.status, 503);
    assert.match(down.body, /^not ready: database does not answer/);
    const publicDown = await call(server.app, 'GET', '/readyz');
    assert.equal(publicDown.status, 503);
    assert.equal(publicDown.body.ready, false);
    assert.equal((await httpRequest(ops.port, '/healthz')).status, 200);
  });
});

test('the login server logs JSON lines in the common shape, without query strings, above its level', async () => {
  for (const level of ['info', 'warn'] as const) {
    const fresh = await freshDatabase('sqlite');
    const lines: string[] = [];
    const server = await testServer(await fresh.open(), { server: { log: { level, stream: { write: (line: string) => lines.push(line) } } } });
    try {
      const carol = new TestDevice(server.app, server.ca, 'carol');
      await carol.register({ discoverable: true });
      await carol.passwordLogin();
      assert.equal((await carol.get('/v1/directory/search?q=secretprefix')).status, 200);
      const records = lines.map((line) => JSON.parse(line) as { time: string; level: string; msg: string; req?: { route: string } });
      if (level === 'warn') {
        assert.deepEqual(records, [], 'requests are info');
        continue;
      }
      assert.ok(records.length >= 6, 'two lines a request');
      for (const record of records) {
        assert.equal(record.time, new Date(server.clock.wallMs).toISOString());
        assert.equal(record.level, 'info');
        assert.equal(typeof record.msg, 'string');
      }
      assert.ok(records.some((r) => r.req?.route === '/v1/directory/search'));
      assert.ok(!lines.join('').includes('secretprefix'), 'no query strings in the logs');
      assert.ok(!lines.join('').includes(carol.token), 'no tokens in the logs');
    } finally {
      await server.close();
      await fresh.drop();
    }
  }
});
