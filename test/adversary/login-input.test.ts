// Hostile input to the login server (issue 19 items 5 and 7), each hole as the attack that found
// it, against a real login server: look-alike usernames, text that steers terminals and bidi
// rendering, a burst of registrations past the per-address limit, connections that never finish
// TLS or never send a request, weak TLS 1.2 suites, and 401s without a challenge.
import assert from 'node:assert/strict';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { createSelfSignedCertificate } from '../../src/login-server/self-signed.js';
import type { ConnectionLimits } from '../../src/login-server/connection-limits.js';
import { openDatabase } from '../../src/login-server/store/database.js';
import { DIALECTS, freshDatabase } from '../support/databases.js';
import { call, FAST_HASH, testServer, TestDevice } from '../support/login-server.js';

/** Resolves when `count` events came, rejects after `withinMs` (a bound on a wait, not a sleep). */
function counter(count: number, withinMs: number, what: string) {
  let seen = 0;
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  const timer = setTimeout(() => reject(new Error(`${what}: ${seen} of ${count} within ${withinMs} ms`)), withinMs);
  return {
    done: done.finally(() => clearTimeout(timer)),
    tick: () => {
      seen++;
      if (seen === count) resolve();
    },
    get seen() {
      return seen;
    },
  };
}

async function httpsServer(limits: Partial<ConnectionLimits>) {
  const fresh = await freshDatabase('sqlite');
  const tls = createSelfSignedCertificate({ commonName: 'login test', hosts: ['127.0.0.1'], lifetimeDays: 1, now: new Date() });
  const server = await testServer(await fresh.open(), { server: { https: { key: tls.keyPem, cert: tls.certPem }, connectionLimits: limits } });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (server.app.server.address() as { port: number }).port;
  return {
    ...server,
    port,
    cert: tls.certPem,
    close: async () => {
      await server.close();
      await fresh.drop();
    },
  };
}

function tlsConnect(port: number, options: { ca: string; maxVersion?: 'TLSv1.2'; ciphers?: string }): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: '127.0.0.1', port, servername: undefined, ca: options.ca, ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}), ...(options.ciphers ? { ciphers: options.ciphers } : {}) });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', (error) => {
      socket.destroy();
      reject(error);
    });
  });
}

describe('usernames and user text (item 5)', () => {
  let server: Awaited<ReturnType<typeof testServer>>;
  let drop: () => Promise<void>;
  let ip = 0;
  const register = (body: Record<string, unknown>) => call(server.app, 'POST', '/v1/accounts', { password: 'long enough pw', ...body }, undefined, `10.50.0.${++ip}`);

  before(async () => {
    const fresh = await freshDatabase('sqlite');
    drop = fresh.drop;
    server = await testServer(await fresh.open());
    for (const username of ['alice', 'apple', 'mary', 'bill']) assert.equal((await register({ username })).status, 201, username);
  });
  after(async () => {
    await server.close();
    await drop();
  });

  test('a name that passes for a taken one is refused: mixed scripts, small capitals, whole-script and digit look-alikes', async () => {
    const cases: [string, number, string][] = [
      ['\u0430lice', 400, 'invalid_username'], // Cyrillic а in a Latin name
      ['ali\u0441e', 400, 'invalid_username'], // Cyrillic с
      ['\u03b1lice', 400, 'invalid_username'], // Greek α
      ['\u1d00lice', 400, 'invalid_username'], // small capital A
      ['\u0430\u0440\u0440\u04cf\u0435', 409, 'username_taken'], // "аррӏе", all Cyrillic, reads "apple"
      ['a1ice', 409, 'username_taken'], // digit one for l
      ['rnary', 409, 'username_taken'], // rn for m
      ['bi11', 409, 'username_taken'],
      ['ALICE', 409, 'username_taken'],
    ];
    const users = async () => (await server.context.store.db.selectFrom('users').select('username').execute()).length;
    const before = await users();
    for (const [username, status, code] of cases) {
      const response = await register({ username });
      assert.equal(response.status, status, JSON.stringify(username));
      assert.equal(response.body.error?.code, code, JSON.stringify(username));
      assert.ok(response.body.error?.message);
    }
    assert.equal(await users(), before, 'none was stored');
    // Names in one other script, and Japanese (Han with kana), are names like any other.
    for (const username of ['\u0438\u0432\u0430\u043d', '\u03bd\u03af\u03ba\u03bf\u03c2', '\u3055\u304f\u3089\u82b1', 'alice.b']) assert.equal((await register({ username })).status, 201, username);
  });

  test('display names, device names and buddy-request messages with escapes, bidi overrides or invisible characters are refused with invalid_text', async () => {
    const bad = ['\x1b[31mroot\x1b[0m', 'ring\x07', 'x\rroot', '\u202egpj.exe', 'a\u2066b\u2069', 'in\u200bvisible', 'tag\u{e0041}', 'two\nlines', '\u3164', ' padded', 'c1\u009bcontrol', `zalgo${'\u0301'.repeat(8)}`];
    for (const [i, displayName] of bad.entries()) {
      const response = await register({ username: `carol${i}`, displayName });
      assert.equal(response.status, 400, JSON.stringify(displayName));
      assert.equal(response.body.error?.code, 'invalid_text', JSON.stringify(displayName));
      assert.equal(await server.context.store.findUser(`carol${i}`), null);
    }
    const dave = new TestDevice(server.app, server.ca, 'dave');
    assert.equal((await dave.register({ displayName: 'Dave \u{1f468}\u200d\u{1f469}\u200d\u{1f467} Müller' })).status, 201, 'emoji joined by ZWJ and accents are fine');
    const device = await call(server.app, 'POST', '/v1/login/password', { username: 'dave', password: dave.password, device: { signingKey: 'A'.repeat(43), dhKey: 'A'.repeat(43), name: 'phone\x1b]0;owned\x07', proof: 'A'.repeat(86) } });
    assert.equal(device.status, 400);
    assert.equal(device.body.error?.code, 'invalid_text');
    assert.equal((await dave.passwordLogin()).status, 200);
    const escaped = await dave.send('POST', '/v1/buddy-requests', { to: 'alice', message: 'hi\x1b[2J\x07' });
    assert.equal(escaped.body.error?.code, 'invalid_text');
    assert.equal((await dave.send('POST', '/v1/buddy-requests', { to: 'alice', message: 'hi,\nit is Dave' })).status, 202, 'a line feed in a message is fine');
  });

  test('a 401 carries a bearer challenge: the realm without a token, invalid_token with a bad one', async () => {
    const none = await call(server.app, 'GET', '/v1/devices');
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="parley"');
    const forged = await call(server.app, 'GET', '/v1/devices', undefined, 'not.a-token');
    assert.equal(forged.status, 401);
    assert.match(String(forged.headers['www-authenticate']), /^Bearer realm="parley", error="invalid_token", error_description="[^"]+"$/);
    const wrongPassword = await new TestDevice(server.app, server.ca, 'alice', 'wrong password!').passwordLogin();
    assert.equal(wrongPassword.status, 401);
    assert.equal(wrongPassword.headers['www-authenticate'], 'Bearer realm="parley"');
  });
});

for (const dialect of DIALECTS) test(`accounts that already look alike from before the rule keep logging in; the oldest holds the name (${dialect})`, async () => {
  const fresh = await freshDatabase(dialect);
  try {
    // A database as it was before migration 005: two accounts that read the same.
    let database = await openDatabase(fresh.location);
    const raw = database.db as unknown as import('kysely').Kysely<Record<string, Record<string, unknown>>>;
    const { sql } = await import('kysely');
    await sql`drop index users_by_skeleton`.execute(raw);
    await sql`alter table users drop column username_skeleton`.execute(raw);
    await sql`delete from kysely_migration where name = '005-username-skeletons'`.execute(raw);
    const hash = await FAST_HASH.hash('correct horse battery');
    for (const name of ['paypal', 'p\u0430yp\u0430l']) await sql`insert into users (username, display_name, password_hash, created_at_ms) values (${name}, ${name}, ${hash}, 0)`.execute(raw);
    await database.close();
    database = await openDatabase(fresh.location); // migrates
    const server = await testServer(database);
    try {
      for (const name of ['paypal', 'p\u0430yp\u0430l']) assert.equal((await server.context.store.findUser(name))?.username, name, 'both still found by their names');
      const again = await call(server.app, 'POST', '/v1/accounts', { username: 'paypa1', password: 'long enough pw' });
      assert.equal(again.status, 409, 'a third look-alike is refused');
      assert.equal(again.body.error?.code, 'username_taken');
      // The later look-alike, made before the rule, logs in as before.
      assert.equal((await new TestDevice(server.app, server.ca, 'p\u0430yp\u0430l').passwordLogin()).status, 200);
      assert.equal((await new TestDevice(server.app, server.ca, 'paypal').passwordLogin()).status, 200);
    } finally {
      await server.close();
    }
  } finally {
    await fresh.drop();
  }
});

test('25 registrations at once from one address: exactly the 10 the limit allows get through', async () => {
  const fresh = await freshDatabase('sqlite');
  const server = await testServer(await fresh.open());
  try {
    const responses = await Promise.all(Array.from({ length: 25 }, (_, i) => call(server.app, 'POST', '/v1/accounts', { username: `burst${i}`, password: 'long enough pw' }, undefined, '10.66.6.6')));
    const statuses = responses.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 10, statuses.join(' '));
    assert.equal(statuses.filter((s) => s === 429).length, 15, statuses.join(' '));
    assert.equal((await call(server.app, 'POST', '/v1/accounts', { username: 'other', password: 'long enough pw' }, undefined, '10.66.6.7')).status, 201, 'another address is not limited');
  } finally {
    await server.close();
    await fresh.drop();
  }
});

test('1 000 connections that never send a ClientHello are closed at the handshake deadline, and a real client still gets in', { timeout: 60_000 }, async () => {
  const HANDSHAKE_TIMEOUT_MS = 1_000;
  const server = await httpsServer({ handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS, maxConnectionsPerIp: 2_000 });
  const sockets: Socket[] = [];
  try {
    // The deadline plus time to open 1 000 sockets on a busy machine; before, none closed in 20 s.
    const closed = counter(1_000, HANDSHAKE_TIMEOUT_MS + 14_000, 'idle pre-TLS connections closed');
    const opened = counter(1_000, 10_000, 'connections opened');
    for (let i = 0; i < 1_000; i++) {
      const socket = connectTcp({ host: '127.0.0.1', port: server.port });
      socket.on('error', () => {});
      socket.once('connect', opened.tick);
      socket.once('close', closed.tick);
      sockets.push(socket);
    }
    await opened.done;
    await closed.done;
    const client = await tlsConnect(server.port, { ca: server.cert });
    client.destroy();
  } finally {
    for (const socket of sockets) socket.destroy();
    await server.close();
  }
});

test('a connection that finishes TLS but never sends a request, or sends headers slowly, is closed', { timeout: 30_000 }, async () => {
  const server = await httpsServer({ firstRequestTimeoutMs: 500, headersTimeoutMs: 800, checkIntervalMs: 100 });
  const sockets: TLSSocket[] = [];
  try {
    const closed = counter(2, 10_000, 'idle TLS connections closed');
    const silent = await tlsConnect(server.port, { ca: server.cert });
    sockets.push(silent);
    silent.once('close', closed.tick);
    const slow = await tlsConnect(server.port, { ca: server.cert });
    sockets.push(slow);
    slow.on('error', () => {});
    slow.once('close', closed.tick);
    slow.write('GET /v1/info HTTP/1.1\r\nHost: x\r\n'); // and never the blank line
    await closed.done;
  } finally {
    for (const socket of sockets) socket.destroy();
    await server.close();
  }
});

test('connections past the cap for one address are closed at once; the others stay', { timeout: 30_000 }, async () => {
  const server = await httpsServer({ maxConnectionsPerIp: 5, handshakeTimeoutMs: 60_000 });
  const sockets: Socket[] = [];
  try {
    const closed = counter(3, 10_000, 'connections over the cap closed');
    const closedIndexes: number[] = [];
    for (let i = 0; i < 8; i++) {
      const socket = connectTcp({ host: '127.0.0.1', port: server.port });
      socket.on('error', () => {});
      socket.once('close', () => {
        closedIndexes.push(i);
        closed.tick();
      });
      sockets.push(socket);
      await new Promise((resolve) => socket.once('connect', resolve));
    }
    await closed.done;
    assert.deepEqual(closedIndexes.sort(), [5, 6, 7]);
  } finally {
    for (const socket of sockets) socket.destroy();
    await server.close();
  }
});

test('TLS 1.2 with CBC or SHA-1 suites is refused; TLS 1.2 with ECDHE and AES-GCM, and TLS 1.3, are taken', { timeout: 30_000 }, async () => {
  const server = await httpsServer({});
  try {
    for (const ciphers of ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE-ECDSA-AES128-SHA256', 'AES128-GCM-SHA256']) {
      const refused = await tlsConnect(server.port, { ca: server.cert, maxVersion: 'TLSv1.2', ciphers }).then(
        (socket) => {
          const taken = `taken with ${socket.getCipher().name}`;
          socket.destroy();
          return taken;
        },
        (error: Error) => error.message,
      );
      assert.match(refused, /handshake failure|no ciphers|alert/i, ciphers);
    }
    const modern = await tlsConnect(server.port, { ca: server.cert, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    assert.equal(modern.getProtocol(), 'TLSv1.2');
    assert.equal(modern.getCipher().name, 'ECDHE-ECDSA-AES128-GCM-SHA256');
    modern.destroy();
    const current = await tlsConnect(server.port, { ca: server.cert });
    assert.equal(current.getProtocol(), 'TLSv1.3');
    current.destroy();
  } finally {
    await server.close();
  }
});
