// Random and mutated requests to every route of the login server: each answer is a 2xx or a
// 4xx with an error code — never a 500, never a crash. And the token verifier on any text.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { verifyToken } from '../../src/login-server/tokens.js';
import { freshDatabase } from '../support/databases.js';
import { call, testServer, TestDevice } from '../support/login-server.js';

let server: Awaited<ReturnType<typeof testServer>>;
let drop: () => Promise<void>;
let device: TestDevice;

before(async () => {
  const fresh = await freshDatabase('sqlite');
  drop = fresh.drop;
  server = await testServer(await fresh.open(), { config: { registrationThrottle: { freeFailures: 1e9, baseLockMs: 1, maxLockMs: 1, forgetAfterMs: 1 } } });
  device = new TestDevice(server.app, server.ca, 'fuzzer');
  await device.register();
  await device.passwordLogin();
});
after(async () => {
  await server.close();
  await drop();
});

const ROUTES: ['GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', string][] = [
  ['POST', '/v1/accounts'],
  ['POST', '/v1/login/password'],
  ['POST', '/v1/login/challenge'],
  ['POST', '/v1/login/device'],
  ['POST', '/v1/account/password'],
  ['PATCH', '/v1/account/privacy'],
  ['PUT', '/v1/contacts'],
  ['POST', '/v1/buddy-requests'],
  ['POST', '/v1/buddy-requests/1/accept'],
  ['POST', '/v1/offline/1'],
  ['POST', '/v1/offline/ack'],
  ['GET', '/v1/directory/search?q=%00%ff*'],
  ['GET', '/v1/contacts?since=-1'],
  ['DELETE', '/v1/devices/abc'],
];

const body = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({ username: fc.string(), password: fc.string(), device: fc.anything() }, { requiredKeys: [] }),
  fc.record({ expectedVersion: fc.oneof(fc.integer(), fc.double(), fc.string()), entries: fc.array(fc.record({ username: fc.string(), kind: fc.string() })) }, { requiredKeys: [] }),
  fc.record({ signingKey: fc.base64String(), challenge: fc.base64String(), signature: fc.base64String(), ids: fc.array(fc.integer()) }, { requiredKeys: [] }),
);

test('fuzz: no request to any route makes the server fail (no 5xx)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...ROUTES), body, fc.boolean(), fc.boolean(), async ([method, url], payload, asText, authenticated) => {
      const raw = asText ? JSON.stringify(payload).slice(0, -1) : payload; // a cut JSON text too
      const response = await call(server.app, method, url, method === 'GET' || method === 'DELETE' ? undefined : raw ?? null, authenticated ? device.token : undefined);
      assert.ok(response.status < 500, `${method} ${url} → ${response.status} ${JSON.stringify(response.body)}`);
      if (response.status >= 400) assert.equal(typeof response.body.error?.code, 'string');
    }),
    { numRuns: 300 },
  );
});

test('fuzz: the access token verifier returns a typed result for any text', () => {
  const key = server.ca.keyPair.publicKey;
  const mutated = fc.tuple(fc.nat(), fc.string({ maxLength: 3 })).map(([at, insert]) => {
    const t = device.token;
    const i = at % t.length;
    return t.slice(0, i) + insert + t.slice(i + 1);
  });
  fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 600 }), mutated), (text) => typeof verifyToken(key, text, Date.now()).ok === 'boolean'), { numRuns: 500 });
  assert.ok(verifyToken(key, device.token, server.clock.wallMs).ok);
});
