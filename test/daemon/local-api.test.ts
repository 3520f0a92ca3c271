// The daemon's local API over a fake core: the token, the Host and the Origin guard every route
// and the event socket; bodies are validated exactly; commands reach the core and come back as
// views; events reach a connected socket as JSON.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { test } from 'node:test';
import WebSocket from 'ws';
import { buildLocalApi, type CallView, type DaemonCore, type DaemonEvent } from '../../src/daemon/local-api.js';
import { tokenMatches } from '../../src/daemon/api-token.js';

const TOKEN = 'A'.repeat(43);

function fakeCore() {
  const listeners = new Set<(event: DaemonEvent) => void>();
  const sent: { to: string; text: string }[] = [];
  const call: CallView = { id: 'ab'.repeat(16), peer: 'bob', direction: 'outgoing', state: 'calling', end: null, stats: null };
  const core: DaemonCore = {
    status: () => ({ user: 'alice', device: '00', supernode: '127.0.0.1:1' }),
    buddies: () => [{ user: 'bob', state: 'away', text: 'lunch' }],
    sendMessage: async (to, text) => (sent.push({ to, text }), { id: 'm1', recipientOnline: 1 }),
    messages: () => [],
    setTyping: async () => {},
    call: async () => call,
    calls: () => [call],
    callAction: (id, action) => (id === call.id && action === 'hangup' ? { ...call, state: 'ended' } : null),
    onEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return { core, sent, emit: (event: DaemonEvent) => listeners.forEach((l) => l(event)), listeners };
}

async function started() {
  const fake = fakeCore();
  const app = await buildLocalApi(fake.core, { token: TOKEN });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const base = `http://127.0.0.1:${port}`;
  const request = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const headers = new Headers(init.headers);
    if (init.token !== null) headers.set('authorization', `Bearer ${init.token ?? TOKEN}`);
    if (init.body) headers.set('content-type', 'application/json');
    return fetch(`${base}${path}`, { ...init, headers });
  };
  return { app, port, base, request, ...fake };
}

test('every route wants the token, this loopback Host and no foreign Origin', async () => {
  const { app, port, request } = await started();
  try {
    assert.equal((await request('/v1/status')).status, 200);
    for (const [init, status, code] of [
      [{ token: null }, 401, 'unauthorized'],
      [{ token: 'B'.repeat(43) }, 401, 'unauthorized'],
      [{ headers: { origin: 'http://evil.example' } }, 403, 'wrong_origin'],
    ] as const) {
      const response = await request('/v1/buddies', init as RequestInit & { token?: string | null });
      assert.equal(response.status, status);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, code);
    }
    // A page whose name was rebound to 127.0.0.1 sends its own name as the Host (fetch will not forge one).
    const rebound = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/v1/status', headers: { host: `rebound.example:${port}`, authorization: `Bearer ${TOKEN}` } }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(rebound.status, 421);
    assert.equal((JSON.parse(rebound.body) as { error: { code: string } }).error.code, 'wrong_host');
    // The API's own origin (the app it will serve) is welcome.
    assert.equal((await request('/v1/status', { headers: { origin: `http://127.0.0.1:${port}` } })).status, 200);
    assert.equal(tokenMatches(undefined, TOKEN), false);
  } finally {
    await app.close();
  }
});

test('commands are validated exactly and reach the core; a call that is not there is a 404', async () => {
  const { app, request, sent } = await started();
  try {
    assert.deepEqual(await (await request('/v1/buddies')).json(), { buddies: [{ user: 'bob', state: 'away', text: 'lunch' }] });
    const posted = await request('/v1/messages', { method: 'POST', body: JSON.stringify({ to: 'Bob', text: 'hi' }) });
    assert.equal(posted.status, 201);
    assert.deepEqual(sent, [{ to: 'bob', text: 'hi' }]);
    for (const body of [{ to: 'bob' }, { to: 'bob', text: 'hi', extra: 1 }, { to: '', text: 'hi' }, { to: 'bob', text: 7 }]) {
      const refused = await request('/v1/messages', { method: 'POST', body: JSON.stringify(body) });
      assert.equal(refused.status, 400, JSON.stringify(body));
    }
    assert.equal((await request('/v1/messages', { method: 'POST', body: '{not json' })).status, 400);
    const hangup = await request(`/v1/calls/${'ab'.repeat(16)}/hangup`, { method: 'POST' });
    assert.equal(((await hangup.json()) as CallView).state, 'ended');
    assert.equal((await request(`/v1/calls/${'cd'.repeat(16)}/hangup`, { method: 'POST' })).status, 404);
    assert.equal((await request(`/v1/calls/${'ab'.repeat(16)}/explode`, { method: 'POST' })).status, 400);
    assert.equal((await request('/v1/nothing')).status, 404);
  } finally {
    await app.close();
  }
});

test('events reach a socket that gave the token; one without it is refused before it opens', async () => {
  const { app, port, emit, listeners } = await started();
  try {
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/events`);
      ws.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    assert.equal(refused, 401);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/events?token=${TOKEN}`);
    await new Promise((resolve) => ws.on('open', resolve));
    const received = new Promise<DaemonEvent>((resolve) => ws.on('message', (data: Buffer) => resolve(JSON.parse(data.toString()) as DaemonEvent)));
    emit({ type: 'typing', user: 'bob', active: true });
    assert.deepEqual(await received, { type: 'typing', user: 'bob', active: true });
    const closed = new Promise((resolve) => ws.on('close', resolve));
    ws.close();
    await closed;
    // The closed socket no longer listens.
    await new Promise<void>((resolve) => {
      const check = () => (listeners.size === 0 ? resolve() : setImmediate(check));
      check();
    });
  } finally {
    await app.close();
  }
});
