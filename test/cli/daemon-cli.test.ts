// Two `parley daemon` processes on a `parley local` network, driven through their local APIs
// only: alice sees bob come online, sends him a message that reaches his event socket, calls
// him; he answers through his API, each page's microphone (the audio socket) reaches the other
// page's speaker, and her hang-up ends his call. Then she hosts a conference, he joins it, both
// see the roster, and when she leaves he is alone and it ends.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import WebSocket from 'ws';
import { localNetworkWithUsers, startParley, stopParley, type RunningParley } from '../support/processes.js';
import type { BuddyRequestsView, BuddyView, CallView, ConferenceView, DaemonEvent, FoundUser } from '../../src/daemon/api-types.js';
import { SOCKET_FRAME_MS, SOCKET_FRAME_SAMPLES } from '../../src/daemon/socket-audio.js';
import { tones, toneStrength } from '../../src/media/audio-compare.js';

/** A request to a daemon that hangs fails the test instead of holding it. */
const REQUEST_TIMEOUT_MS = 20_000;

/** What a test opened (event sockets, pages, their timers): closed in its finally, also when it fails. */
type ToClose = { close(): void }[];

/** Resolves when `socket` is open; rejects on its error or after `withinMs`, so a test never waits for good. */
function untilOpen(socket: WebSocket, what: string, withinMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not open within ${withinMs} ms`)), withinMs);
    socket.once('open', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** A daemon's API: requests with its token, and its events as they come. Its socket and timers go on `toClose` for the test's finally. */
async function api(profile: string, daemon: RunningParley, user: string, toClose: ToClose) {
  const port = Number(/API on http:\/\/127\.0\.0\.1:(\d+)\/v1/.exec(daemon.output)?.[1]);
  const token = readFileSync(join(profile, 'api-token'), 'utf8').trim();
  const base = `http://127.0.0.1:${port}/v1`;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${await response.clone().text()}`);
    return (response.status === 204 ? undefined : await response.json()) as T;
  };
  const events: DaemonEvent[] = [];
  const waiters: (() => void)[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/events?token=${token}`);
  const close = () => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    waiters.length = 0;
    socket.terminate();
  };
  toClose.push({ close });
  socket.on('message', (data: Buffer) => {
    events.push(JSON.parse(data.toString()) as DaemonEvent);
    for (const w of waiters.splice(0)) w();
  });
  await untilOpen(socket, `${user}'s event socket`);
  /** The first event (seen since `after`, a count of events, or to come) that `match` accepts. */
  const event = (match: (e: DaemonEvent) => boolean, what: string, withinMs = 20_000, after = 0) =>
    new Promise<DaemonEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        reject(new Error(`${user} saw no ${what}: ${JSON.stringify(events)}`));
      }, withinMs);
      timers.add(timer);
      const check = () => {
        const found = events.slice(after).find(match);
        if (!found) return void waiters.push(check);
        clearTimeout(timer);
        timers.delete(timer);
        resolve(found);
      };
      check();
    });
  /** The status and error code of a request that is meant to be refused. */
  const refused = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    return [response.status, ((await response.json()) as { error?: { code: string } }).error?.code];
  };
  return { call, refused, event, seen: () => events.length, port, token };
}

/**
 * What a page does with the audio socket: sends `hz` as its microphone, 10 ms frames paced by the
 * clock, and keeps what the call plays.
 */
async function pageAudio(port: number, token: string, hz: number, toClose: ToClose) {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/audio?token=${token}`);
  let pace: NodeJS.Timeout | undefined;
  const hearing = new Set<NodeJS.Timeout>();
  const close = () => {
    clearInterval(pace);
    for (const timer of hearing) clearTimeout(timer);
    socket.terminate();
  };
  toClose.push({ close });
  await untilOpen(socket, 'the audio socket');
  const heard: Int16Array[] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (data: Buffer) => {
    heard.push(new Int16Array(new Uint8Array(data).buffer));
    for (const w of waiters.splice(0)) w();
  });
  const microphone = tones([hz], 60, 3000);
  const started = Date.now();
  let sent = 0;
  pace = setInterval(() => {
    const due = Math.floor((Date.now() - started) / SOCKET_FRAME_MS);
    for (; sent < due; sent++) socket.send(microphone.subarray(sent * SOCKET_FRAME_SAMPLES, (sent + 1) * SOCKET_FRAME_SAMPLES));
  }, 5);
  return {
    /** Resolves once `ms` more of the call's audio has come; rejects if it has not within `withinMs`. */
    hearMore: (ms: number, withinMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        const until = heard.length + ms / SOCKET_FRAME_MS;
        const timer = setTimeout(() => {
          hearing.delete(timer);
          reject(new Error(`the page heard ${heard.length} frames, not ${until}, within ${withinMs} ms`));
        }, withinMs);
        hearing.add(timer);
        const check = () => {
          if (heard.length < until) return void waiters.push(check);
          clearTimeout(timer);
          hearing.delete(timer);
          resolve();
        };
        check();
      }),
    /** What it heard in the last `ms`. */
    heardLast: (ms: number) => {
      const all = Int16Array.from(heard.flatMap((f) => [...f]));
      return all.subarray(Math.max(0, all.length - ms * 48));
    },
    close,
  };
}

test('two daemons: presence, a message and a call, all through the local API', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-daemon-'));
  const { local, common, parley } = await localNetworkWithUsers(dir, ['alice', 'bob'], [['alice', 'bob']]);
  const daemons: RunningParley[] = [];
  const toClose: ToClose = [];
  try {
    daemons.push(await startParley(['daemon', '--user', 'alice', ...common], /API on http/));
    const alice = await api(join(dir, 'profile'), daemons[0]!, 'alice', toClose);
    daemons.push(await startParley(['daemon', '--user', 'bob', ...common], /API on http/));
    const bob = await api(join(dir, 'profile'), daemons[1]!, 'bob', toClose);
    await alice.event((e) => e.type === 'presence' && e.user === 'bob' && e.state === 'online', "bob's presence");
    assert.deepEqual((await alice.call<{ buddies: BuddyView[] }>('GET', '/buddies')).buddies, [{ user: 'bob', state: 'online', text: '' }]);

    const sent = await alice.call<{ id: string }>('POST', '/messages', { to: 'bob', text: 'hello from the API' });
    const message = await bob.event((e) => e.type === 'message' && e.message.id === sent.id, 'the message');
    assert.equal(message.type === 'message' && message.message.text, 'hello from the API');
    const history = await bob.call<{ messages: { text: string }[] }>('GET', '/messages?with=alice');
    assert.deepEqual(history.messages.map((m) => m.text), ['hello from the API']);
    // While alice's daemon runs, her CLI goes through it (her device is not brought online twice).
    const viaCli = parley(['chat', 'bob', 'through the daemon', '--user', 'alice']);
    assert.equal(viaCli.status, 0, viaCli.out);
    assert.match(viaCli.out, /through alice's daemon/);
    await bob.event((e) => e.type === 'message' && e.message.text === 'through the daemon', 'the message from her CLI');
    const listed = parley(['buddies', 'list', '--user', 'alice']);
    assert.match(listed.out, /buddy {3}bob {2}online/, listed.out);
    const away = parley(['status', 'away', 'in a meeting', '--user', 'alice']);
    assert.match(away.out, /told to buddies by alice's daemon/, away.out);
    await bob.event((e) => e.type === 'presence' && e.user === 'alice' && e.state === 'away' && e.text === 'in a meeting', "alice's status from her CLI");
    parley(['status', 'online', '--user', 'alice']);
    const refusedCall = parley(['call', 'bob', '--user', 'alice']);
    assert.notEqual(refusedCall.status, 0);
    assert.match(refusedCall.out, /alice's daemon runs .*use its app for calls/, refusedCall.out);
    // Bob has seen it: alice learns which message was read.
    const readResponse = await fetch(`http://127.0.0.1:${bob.port}/v1/messages/read`, { method: 'POST', headers: { authorization: `Bearer ${bob.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ with: 'alice' }), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    assert.equal(readResponse.status, 204);
    const read = await alice.event((e) => e.type === 'read' && e.user === 'bob', 'the read receipt');
    // Both unread messages: the API's and the CLI's.
    assert.ok(read.type === 'read' && read.ids.length === 2 && read.ids[0] === sent.id, JSON.stringify(read));

    // Each side's page: its microphone a tone of its own, its speaker recorded.
    const alicePage = await pageAudio(alice.port, alice.token, 440, toClose);
    const bobPage = await pageAudio(bob.port, bob.token, 660, toClose);
    const outgoing = await alice.call<CallView>('POST', '/calls', { to: 'bob' });
    const ringing = await bob.event((e) => e.type === 'call' && e.call.direction === 'incoming' && e.call.state === 'ringing', 'a ringing call');
    assert.ok(ringing.type === 'call');
    assert.equal(ringing.call.peer, 'alice');
    await bob.call<CallView>('POST', `/calls/${ringing.call.id}/answer`);
    await alice.event((e) => e.type === 'call' && e.call.id === outgoing.id && e.call.state === 'active', 'her call active');
    await bob.event((e) => e.type === 'call' && e.call.id === ringing.call.id && e.call.state === 'active', 'his call active');
    const calls = (await alice.call<{ calls: CallView[] }>('GET', '/calls')).calls;
    // By now her daemon has found what it is behind (on loopback: no NAT), as parley online does.
    assert.equal((await alice.call<{ nat: string | null }>('GET', '/status')).nat, 'open');
    assert.equal(calls[0]?.stats?.path, 'direct');
    // Two seconds of call audio, then what each page heard: the other's tone, not its own.
    await Promise.all([alicePage.hearMore(2_000), bobPage.hearMore(2_000)]);
    for (const [name, page, other, own] of [['bob', bobPage, 440, 660], ['alice', alicePage, 660, 440]] as const) {
      const last = page.heardLast(1_000);
      const levels = [toneStrength(last, other), toneStrength(last, own)].map(Math.round);
      assert.ok(levels[0]! > 1000 && levels[1]! < 100, `${name}'s page hears the other's ${other} Hz at ${levels[0]}, its own ${own} Hz at ${levels[1]}`);
    }
    alicePage.close();
    bobPage.close();
    await alice.call<CallView>('POST', `/calls/${outgoing.id}/hangup`);
    const ended = await bob.event((e) => e.type === 'call' && e.call.id === ringing.call.id && e.call.state === 'ended', 'his call ended');
    assert.deepEqual(ended.type === 'call' && ended.call.end, { reason: 'hung_up', by: 'remote' });

    // A conference through the APIs: alice hosts and invites bob; he joins; both see the roster.
    const hosted = await alice.call<ConferenceView>('POST', '/conferences', { users: ['bob'] });
    const invited = await bob.event((e) => e.type === 'conference' && e.conference.state === 'invited', 'a conference invitation');
    assert.ok(invited.type === 'conference' && invited.conference.id === hosted.id);
    await bob.call<ConferenceView>('POST', `/conferences/${hosted.id}/join`);
    const inIt = (e: DaemonEvent) => e.type === 'conference' && e.conference.id === hosted.id && e.conference.state === 'active' && e.conference.roster.length === 2;
    const seen = await bob.event(inIt, 'the conference with both');
    await alice.event(inIt, 'the conference with both');
    assert.ok(seen.type === 'conference');
    assert.deepEqual(seen.conference.roster.map((r) => [r.user, r.host]).sort(), [['alice', true], ['bob', false]]);
    assert.equal(seen.conference.roster.filter((r) => r.mixer).length, 1, 'one of them mixes');
    await alice.call<ConferenceView>('POST', `/conferences/${hosted.id}/leave`);
    const alone = await bob.event((e) => e.type === 'conference' && e.conference.state === 'ended', 'the conference ended');
    assert.deepEqual(alone.type === 'conference' && alone.conference.end, { reason: 'alone', by: 'remote' });
  } finally {
    for (const o of toClose) o.close();
    for (const d of daemons) await stopParley(d.child);
    await stopParley(local.child);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two daemons signed out: sign up, find each other, ask and accept, a stranger\'s call refused until allowed, log out and in', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-signup-'));
  const local = await startParley(['local', '--dir', join(dir, 'net'), '--port', '0'], 'descriptor:');
  const daemons: RunningParley[] = [];
  const toClose: ToClose = [];
  const network = ['--network', join(dir, 'net', 'network.json')];
  try {
    const pages = [];
    for (const user of ['carol', 'dave']) {
      const profile = join(dir, `${user}-profile`);
      const daemon = await startParley(['daemon', ...network, '--profile', profile], /app \(sign up or log in there\): http/);
      daemons.push(daemon);
      pages.push(await api(profile, daemon, user, toClose));
    }
    const [carol, dave] = pages as [Awaited<ReturnType<typeof api>>, Awaited<ReturnType<typeof api>>];
    assert.deepEqual(await carol.call('GET', '/account'), { user: null });
    assert.deepEqual(await carol.refused('GET', '/buddies'), [409, 'signed_out']);
    assert.deepEqual(await carol.call('POST', '/account/signup', { username: 'carol', password: 'carol password', discoverable: true }), { user: 'carol' });
    await carol.event((e) => e.type === 'account' && e.user === 'carol', 'her sign-up');
    assert.deepEqual(await dave.refused('POST', '/account/signup', { username: 'Carol', password: 'another one' }), [409, 'username_taken']);
    await dave.call('POST', '/account/signup', { username: 'dave', password: 'dave password' });

    // Carol is discoverable: a prefix finds her. Dave is not, but his exact name finds him, online in the overlay.
    const found = await dave.call<{ users: FoundUser[] }>('GET', '/search?q=car');
    assert.deepEqual(found.users, [{ user: 'carol', displayName: 'carol', online: null, buddy: false }]);
    assert.deepEqual((await carol.call<{ users: FoundUser[] }>('GET', '/search?q=dav*')).users, []);
    assert.deepEqual((await carol.call<{ users: FoundUser[] }>('GET', '/search?q=dave')).users, [{ user: 'dave', displayName: 'dave', online: true, buddy: false }]);

    // A stranger's call is refused while carol takes calls from buddies only, and rings once she takes anyone's.
    const refusedCall = await dave.call<CallView>('POST', '/calls', { to: 'carol' });
    const refusal = await dave.event((e) => e.type === 'call' && e.call.id === refusedCall.id && e.call.state === 'ended', 'the refusal');
    assert.deepEqual(refusal.type === 'call' && refusal.call.end, { reason: 'refused', by: 'remote' });
    assert.deepEqual(await carol.call('PATCH', '/settings', { callsFrom: 'anyone' }), { discoverable: true, callsFrom: 'anyone', allowSupernode: true });
    await dave.call<CallView>('POST', '/calls', { to: 'carol' });
    const ringing = await carol.event((e) => e.type === 'call' && e.call.state === 'ringing' && e.call.peer === 'dave', 'a stranger ringing');
    assert.ok(ringing.type === 'call');
    await carol.call('POST', `/calls/${ringing.call.id}/decline`);

    // Dave asks, with words that go end to end; carol's daemon looks at its requests when they arrive.
    await dave.call('POST', '/buddy-requests', { to: 'carol', message: 'hi carol, it is dave' });
    await carol.event((e) => e.type === 'requests', 'the request');
    const requests = await carol.call<BuddyRequestsView>('GET', '/buddy-requests');
    assert.deepEqual(requests.incoming.map((r) => r.from), ['dave']);
    assert.deepEqual((await dave.call<BuddyRequestsView>('GET', '/buddy-requests')).outgoing.map((r) => r.to), ['carol']);
    const words = await carol.call<{ messages: { text: string }[] }>('GET', '/messages?with=dave');
    assert.deepEqual(words.messages.map((m) => m.text), ['hi carol, it is dave']);
    const beforeAccept = dave.seen();
    await carol.call('POST', `/buddy-requests/${requests.incoming[0]!.id}/accept`);
    assert.deepEqual(await carol.refused('POST', `/buddy-requests/${requests.incoming[0]!.id}/accept`), [404, 'no_such_request']);
    // Both lists follow at once (not at the next refresh): each sees the other online.
    await dave.event((e) => e.type === 'presence' && e.user === 'carol' && e.state === 'online', "carol's presence", 10_000);
    await carol.event((e) => e.type === 'presence' && e.user === 'dave' && e.state === 'online', "dave's presence", 10_000);
    assert.deepEqual((await dave.call<{ buddies: BuddyView[] }>('GET', '/buddies')).buddies, [{ user: 'carol', state: 'online', text: '' }]);
    // His request, answered, is gone from his list, and his page is told.
    await dave.event((e) => e.type === 'requests', 'his requests changed', 10_000, beforeAccept);
    assert.deepEqual(await dave.call('GET', '/buddy-requests'), { incoming: [], outgoing: [] });

    // Carol's status reaches dave; dave removes carol, and she is off his list.
    await carol.call('PUT', '/presence', { state: 'away', text: 'at lunch' });
    await dave.event((e) => e.type === 'presence' && e.user === 'carol' && e.state === 'away' && e.text === 'at lunch', "carol's status", 10_000);
    assert.deepEqual(await carol.call('GET', '/presence'), { state: 'away', text: 'at lunch' });
    await carol.call('PUT', '/presence', { state: 'online', text: '' });

    // Logging out forgets the session: the API is closed until a login with the right password.
    const loggedOutAt = carol.seen();
    await carol.call('POST', '/account/logout');
    assert.deepEqual(await carol.refused('GET', '/buddies'), [409, 'signed_out']);
    assert.deepEqual(await carol.refused('POST', '/account/login', { username: 'carol', password: 'not her password' }), [401, 'bad_credentials']);
    assert.deepEqual(await carol.call('POST', '/account/login', { username: 'carol', password: 'carol password' }), { user: 'carol' });
    await carol.event((e) => e.type === 'presence' && e.user === 'dave' && e.state === 'online', "dave's presence in her new session", 10_000, loggedOutAt);
    assert.deepEqual((await carol.call<{ buddies: BuddyView[] }>('GET', '/buddies')).buddies, [{ user: 'dave', state: 'online', text: '' }]);
    assert.equal((await carol.call<{ callsFrom: string }>('GET', '/settings')).callsFrom, 'anyone', 'settings stay with the user on this device');
    await dave.call('POST', '/buddies/carol/remove');
    assert.deepEqual((await dave.call<{ buddies: BuddyView[] }>('GET', '/buddies')).buddies, []);
  } finally {
    for (const o of toClose) o.close();
    for (const d of daemons) await stopParley(d.child);
    await stopParley(local.child);
    rmSync(dir, { recursive: true, force: true });
  }
});
