// The login client when there is no HTTP answer: a stopped server, a silent one, one with the
// wrong certificate. Each is a LoginError with a stable code and the server's URL in its words,
// not a raw socket error ("connect ECONNREFUSED 127.0.0.1:9").
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import { test } from 'node:test';
import type { NetworkDescriptor } from '../../src/crypto/descriptor.js';
import { BUSY_RETRIES, LoginClient, LoginError, loginServerFailure } from '../../src/client/login-client.js';
import { createSelfSignedCertificate } from '../../src/login-server/self-signed.js';

const descriptor = (url: string, pin?: { certPem: string; sha256: string }) =>
  ({ loginServerUrl: url, ...(pin ? { loginServerCertificate: pin.certPem, loginServerCertSha256: pin.sha256 } : {}) }) as unknown as NetworkDescriptor;

/** `work`'s rejection, which must be a LoginError. */
async function failure(work: Promise<unknown>): Promise<LoginError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(error instanceof LoginError, `a LoginError, not ${String(error)}`);
  return error;
}

/** A TCP server on loopback (its port), closed with every connection it took. */
async function listen(onConnection: (socket: net.Socket) => void): Promise<{ port: number; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

test('a stopped login server is "unreachable", named by its URL, not a raw ECONNREFUSED', async () => {
  const gone = await listen(() => {});
  gone.close(); // its port is free now: nobody listens there
  const client = new LoginClient(descriptor(`https://127.0.0.1:${gone.port}`));
  try {
    const error = await failure(client.request('GET', '/v1/version'));
    assert.equal(error.code, 'unreachable');
    assert.equal(error.status, 0, 'no HTTP status: there was no answer');
    assert.equal(error.message, `unreachable: the login server at https://127.0.0.1:${gone.port} does not answer: connection refused (is it running?)`);
  } finally {
    client.close();
  }
});

test('a login server that takes the connection and never answers is "unreachable" after the request timeout', async () => {
  const silent = await listen(() => {});
  const client = new LoginClient(descriptor(`https://127.0.0.1:${silent.port}`), 200);
  try {
    const error = await failure(client.request('GET', '/v1/version'));
    assert.equal(error.code, 'unreachable');
    assert.match(error.message, new RegExp(`the login server at https://127\\.0\\.0\\.1:${silent.port} does not answer: no answer within 200 ms`));
  } finally {
    client.close();
    silent.close();
  }
});

test('a server whose certificate is not the pinned one is "untrusted_certificate", not unreachable', async () => {
  const theirs = createSelfSignedCertificate({ commonName: 'someone else', hosts: ['127.0.0.1'], lifetimeDays: 30, now: new Date() });
  const pinned = createSelfSignedCertificate({ commonName: 'parley login', hosts: ['127.0.0.1'], lifetimeDays: 30, now: new Date() });
  const server = https.createServer({ key: theirs.keyPem, cert: theirs.certPem }, (_request, response) => response.end('{}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const client = new LoginClient(descriptor(`https://127.0.0.1:${port}`, pinned));
  try {
    const error = await failure(client.request('GET', '/v1/version'));
    assert.equal(error.code, 'untrusted_certificate', error.message);
    assert.match(error.message, new RegExp(`the login server at https://127\\.0\\.0\\.1:${port} is not the one this network names`));
  } finally {
    client.close();
    server.closeAllConnections();
    server.close();
  }
});

test('every kind of connection failure becomes "unreachable" with the URL and a reason in words', () => {
  for (const [code, words] of [
    ['ENOTFOUND', 'its name does not resolve'],
    ['EAI_AGAIN', 'its name does not resolve'],
    ['EHOSTUNREACH', 'its host cannot be reached'],
    ['ENETUNREACH', 'its network cannot be reached'],
    ['ECONNRESET', 'the connection was reset'],
    ['ETIMEDOUT', 'no answer in time'],
  ] as const) {
    const error = loginServerFailure(Object.assign(new Error(`connect ${code} 10.0.0.9:443`), { code }), 'https://login.example');
    assert.equal(error.code, 'unreachable', code);
    assert.ok(error.message.startsWith(`unreachable: the login server at https://login.example does not answer: ${words}`), error.message);
    assert.doesNotMatch(error.message, new RegExp(code), 'the raw code is not what the user reads');
  }
  const unknown = loginServerFailure(new Error('something new'), 'https://login.example');
  assert.equal(unknown.code, 'unreachable');
  assert.match(unknown.message, /does not answer: something new$/, 'an unknown failure keeps its own words');
  const answered = new LoginError(409, 'username_taken', 'taken');
  assert.equal(loginServerFailure(answered, 'https://login.example'), answered, "the server's own refusals pass unchanged");
});

test('a server shedding load (503 with a Retry-After) is asked again after the pause, a few times; other refusals are final', async () => {
  const certificate = createSelfSignedCertificate({ commonName: 'parley login', hosts: ['127.0.0.1'], lifetimeDays: 30, now: new Date() });
  const answers: Record<string, number[]> = { '/busy-twice': [503, 503, 200], '/always-busy': [503, 503, 503, 503, 503, 503], '/throttled': [429, 200] };
  const asked: Record<string, number> = {};
  const server = https.createServer({ key: certificate.keyPem, cert: certificate.certPem }, (request, response) => {
    const path = request.url!;
    const status = answers[path]![asked[path] ?? 0]!;
    asked[path] = (asked[path] ?? 0) + 1;
    response.writeHead(status, { 'content-type': 'application/json', ...(status >= 400 ? { 'retry-after': '1' } : {}) });
    response.end(JSON.stringify(status === 200 ? { ok: true } : { error: { code: status === 503 ? 'overloaded' : 'throttled', message: 'not now', retryAfterMs: 20 } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const client = new LoginClient(descriptor(`https://127.0.0.1:${port}`, { certPem: certificate.certPem, sha256: certificate.sha256 }));
  try {
    assert.deepEqual(await client.request('GET', '/busy-twice'), { ok: true });
    assert.equal(asked['/busy-twice'], 3);
    const busy = await failure(client.request('GET', '/always-busy'));
    assert.equal(busy.status, 503);
    assert.equal(asked['/always-busy'], 1 + BUSY_RETRIES, 'given up after its retries');
    const throttled = await failure(client.request('GET', '/throttled'));
    assert.equal(throttled.status, 429);
    assert.equal(asked['/throttled'], 1, 'a throttle is the caller\'s to respect, not to retry');
  } finally {
    client.close();
    server.closeAllConnections();
    server.close();
  }
});
