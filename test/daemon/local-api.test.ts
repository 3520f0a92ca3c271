// The daemon's local API over a fake core: the token, the Host and the Origin guard every route
// and the event socket; bodies are validated exactly; commands reach the core and come back as
// views; events reach a connected socket as JSON.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { test } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { buildLocalApi } from '../../src/daemon/local-api.js';
import type { CallView, ConferenceView, DaemonCore, DaemonEvent, DaemonGate, DaemonSettings, OwnPresence } from '../../src/daemon/api-types.js';
import { LoginError, loginServerFailure } from '../../src/client/login-client.js';
import { ChatError } from '../../src/chat/chat-client.js';
import { GroupError } from '../../src/groups/group-client.js';
import { readSettings } from '../../src/daemon/settings.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tokenMatches } from '../../src/daemon/api-token.js';
import { SOCKET_FRAME_BYTES, SOCKET_FRAME_SAMPLES, SocketAudio } from '../../src/daemon/socket-audio.js';

const TOKEN = 'A'.repeat(43);

function fakeCore() {
  const listeners = new Set<(event: DaemonEvent) => void>();
  const sent: { to: string; text: string }[] = [];
  const requested: string[] = [];
  let settings: DaemonSettings = { discoverable: false, callsFrom: 'buddies', allowSupernode: true };
  let own: OwnPresence = { state: 'online', text: '' };
  const edited: string[] = [];
  const call: CallView = { id: 'ab'.repeat(16), peer: 'bob', direction: 'outgoing', state: 'calling', end: null, answeredAtMs: null, held: false, muted: false, heldByPeer: false, mutedByPeer: false, stats: null };
  const group = { id: '12'.repeat(16), name: 'club', admin: 'alice', members: ['alice', 'bob'], active: true, isAdmin: true, readMarks: {} };
  const groupCalls: string[] = [];
  const core: DaemonCore = {
    status: () => ({ user: 'alice', device: '00', supernode: '127.0.0.1:1', nat: null, audio: { refused: 0, dropped: 0, missing: 0, trimmed: 0 } }),
    buddies: () => [{ user: 'bob', state: 'away', text: 'lunch' }],
    sendMessage: async (to, text) => (sent.push({ to, text }), { id: 'm1', recipientOnline: 1 }),
    messages: () => [],
    setTyping: async () => {},
    markRead: () => {},
    call: async () => call,
    calls: () => [call],
    callAction: (id, action) => (id === call.id && action === 'hangup' ? { ...call, state: 'ended' } : null),
    startConference: async (): Promise<ConferenceView> => ({ id: 'cd'.repeat(16), state: 'active', host: 'alice', roster: [{ user: 'alice', host: true, mixer: false, speaking: false }], end: null }),
    startGroupCall: async (groupId): Promise<ConferenceView> => {
      if (groupId !== group.id) throw new GroupError('unknown_group', `no group ${groupId}`);
      groupCalls.push('call');
      return { id: 'ef'.repeat(16), state: 'active', host: 'alice', roster: [{ user: 'alice', host: true, mixer: false, speaking: false }], end: null };
    },
    conferences: () => [],
    groups: () => [group],
    createGroup: async (name, members) => ({ ...group, name, members: ['alice', ...members] }),
    groupMessages: () => [],
    sendGroupMessage: async (id, text, mentions) => (groupCalls.push(`send ${id} ${text} ${mentions.join(',')}`), { id: 'g1', devices: 3 }),
    groupAction: async (id, action, argument) => {
      if (id !== group.id) throw new GroupError('unknown_group', `no group ${id}`);
      if (action === 'remove' && argument === 'alice') throw new GroupError('invalid_user', 'the admin is not removed');
      groupCalls.push(`${action} ${argument ?? ''}`.trim());
      return group;
    },
    conferenceAction: async (id, action, user) => (id === 'cd'.repeat(16) && (action !== 'kick' || user === 'bob') ? { id, state: action === 'leave' ? 'ended' : 'active', host: 'alice', roster: [], end: null } : null),
    onEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    buddyRequests: async () => ({ incoming: [{ id: 7, from: 'carol' }], outgoing: [] }),
    requestBuddy: async (to, message) => {
      if (to === 'nobody') throw new LoginError(404, 'not_found', 'no such user');
      if (to === 'newcomer') return 'no_device';
      // What the login client throws when the login server is down.
      if (to === 'unreachable') throw loginServerFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }), 'https://127.0.0.1:9');
      requested.push(to);
      return message ? 'sent' : 'none';
    },
    answerBuddyRequest: async (id) => id === 7,
    search: async (query) => [{ user: query.replace('*', ''), displayName: 'Dave', online: null, buddy: false }],
    settings: () => settings,
    presence: () => own,
    setPresence: async (presence) => {
      if (new TextEncoder().encode(presence.text).byteLength > 256) throw new ChatError('too_large', 'a status text holds at most 256 bytes');
      return (own = presence);
    },
    editBuddy: async (user, edit) => void edited.push(`${edit} ${user}`),
    updateSettings: async (change) => (settings = { ...settings, ...change }),
    // An echo: each microphone frame comes back as what the call plays.
    attachAudio: (speaker) => {
      const audio = new SocketAudio();
      audio.connect(speaker);
      return {
        microphone: (bytes) => {
          if (!audio.microphone(bytes)) return false;
          audio.write(0, new Int16Array(bytes.slice().buffer));
          return true;
        },
        detach: () => audio.connect(null),
      };
    },
  };
  return { core, sent, requested, edited, groupCalls, emit: (event: DaemonEvent) => listeners.forEach((l) => l(event)), listeners };
}

/** A gate over the fake core: signed in as alice, or nobody until sign-up or login (carol, password "right"). */
function fakeGate(core: DaemonCore, signedIn: boolean) {
  let user: string | null = signedIn ? 'alice' : null;
  const listeners = new Set<(event: DaemonEvent) => void>();
  const emit = (event: DaemonEvent) => listeners.forEach((l) => l(event));
  const begin = (name: string) => {
    user = name;
    emit({ type: 'account', user });
    return { user };
  };
  const gate: DaemonGate = {
    account: () => ({ user }),
    core: () => (user ? core : null),
    signUp: async (username, password) => {
      if (username === 'taken') throw new LoginError(409, 'username_taken', 'that name is taken');
      // As the login server words a schema refusal (its passwords need 8 characters; this API's need 1).
      if (password.length < 8) throw new LoginError(400, 'invalid_request', `body /password must NOT have fewer than 8 characters`);
      return begin(username);
    },
    logIn: async (username, password) => {
      if (password !== 'right') throw new LoginError(401, 'bad_credentials', 'wrong user name or password');
      return begin(username);
    },
    logOut: async () => {
      user = null;
      emit({ type: 'account', user });
    },
    onEvent: (listener) => {
      listeners.add(listener);
      const stop = core.onEvent(listener);
      return () => (listeners.delete(listener), stop());
    },
  };
  return gate;
}

async function started(signedIn = true) {
  const fake = fakeCore();
  const app = await buildLocalApi(fakeGate(fake.core, signedIn), { token: TOKEN });
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
    // The icon every browser asks for is served without the token; what is beside it is not.
    for (const path of ['/favicon.ico', '/favicon.svg']) {
      const icon = await request(path, { token: null });
      assert.deepEqual([icon.status, icon.headers.get('content-type')], [200, 'image/svg+xml'], path);
      assert.match(await icon.text(), /^<svg /);
    }
    assert.equal((await request('/favicon.ico?x=/v1/status', { token: null })).status, 401);
    assert.equal((await request('/favicon.ico', { token: null, method: 'DELETE' })).status, 401);
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
    // Conferences: a list of users to start; invite and kick name a user; an unknown id is a 404.
    assert.equal((await request('/v1/conferences', { method: 'POST', body: JSON.stringify({ users: ['Bob', 'carol'] }) })).status, 201);
    assert.equal((await request('/v1/conferences', { method: 'POST', body: JSON.stringify({ users: [] }) })).status, 400);
    assert.equal((await request('/v1/conferences', { method: 'POST', body: JSON.stringify({ users: ['bob', 'bob'] }) })).status, 400);
    assert.equal((await request(`/v1/conferences/${'cd'.repeat(16)}/kick`, { method: 'POST', body: JSON.stringify({}) })).status, 400);
    assert.equal((await request(`/v1/conferences/${'cd'.repeat(16)}/kick`, { method: 'POST', body: JSON.stringify({ user: 'bob' }) })).status, 200);
    assert.equal((await request(`/v1/conferences/${'cd'.repeat(16)}/leave`, { method: 'POST' })).status, 200);
    assert.equal((await request(`/v1/conferences/${'ef'.repeat(16)}/leave`, { method: 'POST' })).status, 404);
  } finally {
    await app.close();
  }
});

test('group routes: validated, passed to the core, its refusals typed', async () => {
  const { app, request, groupCalls } = await started();
  const id = '12'.repeat(16);
  try {
    assert.equal(((await (await request('/v1/groups')).json()) as { groups: { id: string }[] }).groups[0]!.id, id);
    const made = await request('/v1/groups', { method: 'POST', body: JSON.stringify({ name: 'club', members: ['Bob'] }) });
    assert.equal(made.status, 201);
    assert.deepEqual(((await made.json()) as { members: string[] }).members, ['alice', 'bob']);
    for (const body of [{}, { name: '' }, { name: 'x', members: ['bob', 'bob'] }, { name: 'x', extra: 1 }]) assert.equal((await request('/v1/groups', { method: 'POST', body: JSON.stringify(body) })).status, 400, JSON.stringify(body));
    assert.equal((await request(`/v1/groups/${id}/messages`, { method: 'POST', body: JSON.stringify({ text: 'hi @bob', mentions: ['Bob'] }) })).status, 201);
    assert.equal((await request(`/v1/groups/${id}/messages`, { method: 'POST', body: JSON.stringify({ text: '' }) })).status, 400);
    assert.equal((await request('/v1/groups/not-an-id/messages')).status, 400);
    assert.equal((await request(`/v1/groups/${id}/invite`, { method: 'POST', body: JSON.stringify({ user: 'Carol' }) })).status, 200);
    assert.equal((await request(`/v1/groups/${id}/invite`, { method: 'POST' })).status, 400, 'invite names a user');
    assert.equal((await request(`/v1/groups/${id}/rename`, { method: 'POST', body: JSON.stringify({ name: 'Club Two' }) })).status, 200);
    assert.equal((await request(`/v1/groups/${id}/leave`, { method: 'POST' })).status, 200);
    assert.equal((await request(`/v1/groups/${id}/explode`, { method: 'POST' })).status, 400);
    const unknown = await request(`/v1/groups/${'34'.repeat(16)}/read`, { method: 'POST' });
    assert.deepEqual([unknown.status, ((await unknown.json()) as { error: { code: string } }).error.code], [404, 'unknown_group']);
    assert.equal((await request(`/v1/groups/${id}/remove`, { method: 'POST', body: JSON.stringify({ user: 'alice' }) })).status, 400);
    // A group call is its own route, not an :action (a body is not needed, and none is checked).
    const called = await request(`/v1/groups/${id}/call`, { method: 'POST' });
    assert.deepEqual([called.status, ((await called.json()) as { id: string }).id], [201, 'ef'.repeat(16)]);
    assert.equal((await request(`/v1/groups/${'34'.repeat(16)}/call`, { method: 'POST' })).status, 404);
    assert.deepEqual(groupCalls, [`send ${id} hi @bob bob`, 'invite carol', 'rename Club Two', 'leave', 'call']);
  } finally {
    await app.close();
  }
});

test('signed out, only the account routes answer; signing up or in opens the rest; the login server\'s refusals come through typed', async () => {
  const { app, request } = await started(false);
  const errorCode = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;
  try {
    assert.deepEqual(await (await request('/v1/account')).json(), { user: null });
    const buddies = await request('/v1/buddies');
    assert.equal(buddies.status, 409);
    assert.equal(await errorCode(buddies), 'signed_out');
    for (const body of [{ username: 'carol' }, { username: 'carol', password: '' }, { username: 'carol', password: 'x', admin: true }, { username: 'carol', password: 'x', discoverable: 'yes' }]) {
      assert.equal((await request('/v1/account/signup', { method: 'POST', body: JSON.stringify(body) })).status, 400, JSON.stringify(body));
    }
    // Schema refusals of a field the user typed come in words, from this API and from the login server.
    const empty = await request('/v1/account/signup', { method: 'POST', body: JSON.stringify({ username: 'carol', password: '' }) });
    assert.deepEqual(await empty.json(), { error: { code: 'invalid_request', message: 'the password may not be empty' } });
    const short = await request('/v1/account/signup', { method: 'POST', body: JSON.stringify({ username: 'carol', password: 'short' }) });
    assert.deepEqual([short.status, await short.json()], [400, { error: { code: 'invalid_request', message: 'the password needs at least 8 characters' } }]);
    const long = await request('/v1/account/signup', { method: 'POST', body: JSON.stringify({ username: 'c'.repeat(65), password: 'long enough' }) });
    assert.equal(((await long.json()) as { error: { message: string } }).error.message, 'the user name may have at most 64 characters');
    const taken = await request('/v1/account/signup', { method: 'POST', body: JSON.stringify({ username: 'taken', password: 'secret' }) });
    assert.deepEqual([taken.status, await errorCode(taken)], [409, 'username_taken']);
    const wrong = await request('/v1/account/login', { method: 'POST', body: JSON.stringify({ username: 'carol', password: 'wrong' }) });
    assert.deepEqual([wrong.status, await errorCode(wrong)], [401, 'bad_credentials']);
    const signedUp = await request('/v1/account/signup', { method: 'POST', body: JSON.stringify({ username: 'carol', password: 'secret words', discoverable: true }) });
    assert.deepEqual([signedUp.status, await signedUp.json()], [201, { user: 'carol' }]);
    assert.equal((await request('/v1/buddies')).status, 200);
    assert.equal((await request('/v1/account/logout', { method: 'POST' })).status, 204);
    assert.equal((await request('/v1/buddies')).status, 409);
    assert.deepEqual(await (await request('/v1/account/login', { method: 'POST', body: JSON.stringify({ username: 'carol', password: 'right' }) })).json(), { user: 'carol' });
  } finally {
    await app.close();
  }
});

test('buddy requests, search and settings: validated, passed to the core, a login server away is a 503', async () => {
  const { app, request, requested, edited } = await started();
  try {
    assert.deepEqual(await (await request('/v1/buddy-requests')).json(), { incoming: [{ id: 7, from: 'carol' }], outgoing: [] });
    const asked = await request('/v1/buddy-requests', { method: 'POST', body: JSON.stringify({ to: 'Dave', message: 'hi, it is alice' }) });
    assert.equal(asked.status, 202);
    assert.deepEqual(await asked.json(), { sent: true, words: 'sent' });
    assert.deepEqual(requested, ['dave']);
    // Asked, but the words had nowhere to go: the request is made (a 202), and the page is told the words were not sent.
    const wordless = await request('/v1/buddy-requests', { method: 'POST', body: JSON.stringify({ to: 'newcomer', message: 'hi' }) });
    assert.equal(wordless.status, 202);
    assert.deepEqual(await wordless.json(), { sent: true, words: 'no_device' });
    assert.equal((await request('/v1/buddy-requests', { method: 'POST', body: JSON.stringify({ to: 'nobody' }) })).status, 404);
    const away = await request('/v1/buddy-requests', { method: 'POST', body: JSON.stringify({ to: 'unreachable' }) });
    assert.equal(away.status, 503);
    assert.deepEqual(await away.json(), { error: { code: 'login_server_unreachable', message: 'the login server at https://127.0.0.1:9 does not answer: connection refused (is it running?)' } });
    assert.equal((await request('/v1/buddy-requests', { method: 'POST', body: JSON.stringify({ to: 'dave', message: 'x'.repeat(501) }) })).status, 400);
    assert.equal((await request('/v1/buddy-requests/7/accept', { method: 'POST' })).status, 204);
    assert.equal((await request('/v1/buddy-requests/8/accept', { method: 'POST' })).status, 404);
    assert.equal((await request('/v1/buddy-requests/7/ignore', { method: 'POST' })).status, 400);
    assert.equal((await request('/v1/buddy-requests/0/accept', { method: 'POST' })).status, 400);
    assert.deepEqual(await (await request('/v1/search?q=dav*')).json(), { users: [{ user: 'dav', displayName: 'Dave', online: null, buddy: false }] });
    assert.equal((await request('/v1/search')).status, 400);
    assert.equal((await request(`/v1/search?q=${'a'.repeat(34)}`)).status, 400);
    const changed = await request('/v1/settings', { method: 'PATCH', body: JSON.stringify({ callsFrom: 'anyone', discoverable: true }) });
    assert.deepEqual(await changed.json(), { discoverable: true, callsFrom: 'anyone', allowSupernode: true });
    for (const body of [{}, { callsFrom: 'everyone' }, { allowSupernode: 1 }, { theme: 'dark' }]) {
      assert.equal((await request('/v1/settings', { method: 'PATCH', body: JSON.stringify(body) })).status, 400, JSON.stringify(body));
    }
    assert.deepEqual(await (await request('/v1/settings')).json(), { discoverable: true, callsFrom: 'anyone', allowSupernode: true });
    // Own presence and contact edits.
    assert.equal((await request('/v1/presence', { method: 'PUT', body: JSON.stringify({ state: 'away', text: 'lunch' }) })).status, 200);
    assert.deepEqual(await (await request('/v1/presence')).json(), { state: 'away', text: 'lunch' });
    for (const body of [{ state: 'busy', text: '' }, { state: 'away' }, { state: 'away', text: 'x'.repeat(201) }]) {
      assert.equal((await request('/v1/presence', { method: 'PUT', body: JSON.stringify(body) })).status, 400, JSON.stringify(body));
    }
    // 200 characters may be more bytes than a status holds: the chat's refusal is a typed 400.
    const tooLarge = await request('/v1/presence', { method: 'PUT', body: JSON.stringify({ state: 'away', text: '€'.repeat(100) }) });
    assert.deepEqual([tooLarge.status, ((await tooLarge.json()) as { error: { code: string } }).error.code], [400, 'too_large']);
    assert.equal((await request('/v1/buddies/Bob/block', { method: 'POST' })).status, 204);
    assert.equal((await request('/v1/buddies/bob/forget', { method: 'POST' })).status, 400);
    assert.deepEqual(edited, ['block bob']);
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

test('the audio socket takes 10 ms frames of 16-bit audio and gives back what the call plays; other sizes are refused', async () => {
  const { app, port } = await started();
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/audio?token=${TOKEN}`);
    await new Promise((resolve) => ws.on('open', resolve));
    const frames: Buffer[] = [];
    const got = new Promise<void>((resolve) => ws.on('message', (data: Buffer) => (frames.push(data), frames.length === 2 && resolve())));
    const frame = (value: number) => {
      const samples = new Int16Array(SOCKET_FRAME_SAMPLES).fill(value);
      return Buffer.from(samples.buffer);
    };
    ws.send(frame(1234));
    ws.send(Buffer.alloc(SOCKET_FRAME_BYTES - 2)); // not a frame: refused, nothing comes back
    ws.send('text is not audio');
    ws.send(frame(-42));
    await got;
    assert.deepEqual(frames.map((f) => [f.length, f.readInt16LE(0), f.readInt16LE(f.length - 2)]), [[SOCKET_FRAME_BYTES, 1234, 1234], [SOCKET_FRAME_BYTES, -42, -42]]);
    ws.close();
  } finally {
    await app.close();
  }
});

test('socket audio: the queue keeps at most 200 ms of microphone (older goes); after running dry it refills 40 ms before the call takes again', () => {
  const audio = new SocketAudio();
  audio.connect(() => {});
  const frame = (value: number) => new Uint8Array(new Int16Array(SOCKET_FRAME_SAMPLES).fill(value).buffer);
  for (let i = 1; i <= 25; i++) assert.ok(audio.microphone(frame(i)));
  assert.equal(audio.stats.dropped, 5 * SOCKET_FRAME_SAMPLES);
  const read = audio.read(2 * SOCKET_FRAME_SAMPLES);
  assert.deepEqual([read[0], read[read.length - 1]], [6, 7], 'the oldest kept first');
  const rest = audio.read(20 * SOCKET_FRAME_SAMPLES);
  assert.equal(rest[18 * SOCKET_FRAME_SAMPLES - 1], 25, 'all that was kept');
  assert.ok(rest.subarray(18 * SOCKET_FRAME_SAMPLES).every((v) => v === 0), 'then silence');
  assert.equal(audio.stats.missing, 2 * SOCKET_FRAME_SAMPLES);
  // Dry: 30 ms is not enough to start again, 40 ms is.
  for (let i = 0; i < 3; i++) audio.microphone(frame(9));
  assert.ok(audio.read(SOCKET_FRAME_SAMPLES).every((v) => v === 0));
  audio.microphone(frame(9));
  assert.ok(audio.read(SOCKET_FRAME_SAMPLES).every((v) => v === 9));
  assert.equal(audio.microphone(new Uint8Array(3)), false);
  // Any bytes: a frame or a refusal, never a throw, never more than 100 ms waiting.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2 * SOCKET_FRAME_BYTES }), (bytes) => {
      const taken = audio.microphone(bytes);
      assert.equal(taken, bytes.length === SOCKET_FRAME_BYTES);
      assert.ok(audio.read(0).length === 0);
    }),
    { numRuns: 300 },
  );
  assert.ok(audio.read(400 * 48).subarray(200 * 48).every((v) => v === 0), 'at most 200 ms was kept');
});

test('socket audio: delay that stands a whole second beyond 10 ms of slack is dropped once; what bursts need is kept', () => {
  const frame = (value: number) => new Uint8Array(new Int16Array(SOCKET_FRAME_SAMPLES).fill(value).buffer);
  const read20 = (audio: SocketAudio) => audio.read(2 * SOCKET_FRAME_SAMPLES);
  // Steady: 100 ms queued ahead, then 10 ms in for every 10 ms out.
  const steady = new SocketAudio();
  steady.connect(() => {});
  let next = 1;
  for (let i = 0; i < 10; i++) steady.microphone(frame(next++));
  const firstOfReads: number[] = [];
  for (let tick = 0; tick < 60; tick++) {
    steady.microphone(frame(next++));
    steady.microphone(frame(next++));
    firstOfReads.push(read20(steady)[0]!);
  }
  assert.equal(steady.stats.trimmed, 90 * 48, 'all but 10 ms of the standing 100 ms');
  // A second of reads (50), then the trim: the next read skips the 9 oldest frames waiting, once.
  const steps = firstOfReads.slice(1).map((v, i) => v - firstOfReads[i]!);
  assert.deepEqual([...new Set(steps)].sort((a, b) => a - b), [2, 11]);
  assert.equal(steps.indexOf(11), 49);
  const lagAfter = next - 1 - firstOfReads.at(-1)!;
  assert.ok(lagAfter <= 2, `read ${lagAfter} frames behind the newest after the trim`);
  assert.equal(steady.stats.missing, 0, 'never ran dry');
  // Bursty: 50 ms at once every 50 ms; the queue runs low before each burst, so nothing stands to trim.
  const bursty = new SocketAudio();
  bursty.connect(() => {});
  for (let tick = 0; tick < 150; tick++) {
    if (tick % 5 === 0) for (let i = 0; i < 5; i++) bursty.microphone(frame(1));
    bursty.read(SOCKET_FRAME_SAMPLES);
  }
  assert.equal(bursty.stats.trimmed, 0);
});

test('any JSON body on the account, request and settings routes is a 2xx or a typed 4xx, never a 500; a damaged settings file reads as defaults', async () => {
  const { app, request } = await started(false);
  try {
    const routes: [string, string][] = [
      ['POST', '/v1/account/signup'],
      ['POST', '/v1/account/login'],
      ['POST', '/v1/buddy-requests'],
      ['PATCH', '/v1/settings'],
      ['PUT', '/v1/presence'],
      ['POST', `/v1/conferences/${'cd'.repeat(16)}/invite`],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.jsonValue({ maxDepth: 3 }), async ([method, path], body) => {
        const response = await request(path, { method, body: JSON.stringify(body) });
        assert.ok(response.status < 500, `${method} ${path} ${JSON.stringify(body)}: ${response.status}`);
        if (response.status >= 400) assert.equal(typeof ((await response.json()) as { error: { code: string } }).error.code, 'string');
        else await request('/v1/account/logout', { method: 'POST' });
      }),
      { numRuns: 150 },
    );
  } finally {
    await app.close();
  }
  const dir = mkdtempSync(join(tmpdir(), 'parley-settings-'));
  try {
    const path = join(dir, 'settings.json');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
        writeFileSync(path, text);
        const settings = readSettings(path);
        assert.deepEqual(Object.keys(settings).sort(), ['allowSupernode', 'callsFrom', 'discoverable']);
        assert.ok(settings.callsFrom === 'buddies' || settings.callsFrom === 'anyone');
      }),
      { numRuns: 300 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
