// The registrar on a fake socket and the virtual clock: OPTIONS is answered, REGISTER is
// challenged, then accepted with the UAC side's answer (digest-client.ts), bindings expire,
// "*" removes them, retransmissions are absorbed by the transaction, bad input is counted or
// gets 400, and a full transaction table gets 503 without storing anything.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Scheduler } from '../../src/env/virtual/scheduler.js';
import { SeededRandom } from '../../src/env/prng.js';
import type { Endpoint, UdpSocket } from '../../src/env/types.js';
import { decodeSipMessage, encodeSipMessage, firstHeader, headerValues, type SipHeader, type SipRequest, type SipResponse } from '../../src/sip/message.js';
import { DigestAuthority } from '../../src/sip/digest-server.js';
import { answerChallenge } from '../../src/sip/digest-client.js';
import { Registrar } from '../../src/sip/registrar.js';

const PHONE: Endpoint = { host: '192.0.2.7', port: 5062 };

function world(options: { maxTransactions?: number; maxTransactionsPerSource?: number } = {}) {
  const clock = new Scheduler();
  const random = new SeededRandom(11);
  const sent: SipResponse[] = [];
  let deliver: (bytes: Uint8Array, from: Endpoint) => void = () => {};
  const socket: UdpSocket = {
    local: { host: '192.0.2.1', port: 5060 },
    send: (bytes, to) => {
      assert.deepEqual(to, PHONE, 'answers go to the source');
      const decoded = decodeSipMessage(bytes);
      assert.ok(decoded.ok && decoded.value.kind === 'response');
      sent.push(decoded.value);
    },
    onMessage: (handler) => (deliver = handler),
    close: () => {},
  };
  const authority = new DigestAuthority({ realm: 'gw.example', secret: new Uint8Array(32).fill(3), passwordFor: (u) => (u === 'alice' ? 'wonderland' : null) });
  const registrar = new Registrar(socket, clock, random, authority, { domain: 'gw.example', ...options });
  let branch = 0;
  const request = (method: string, extra: SipHeader[] = [], cseq = 1, user = 'alice'): SipRequest => ({
    kind: 'request',
    method,
    uri: 'sip:gw.example',
    headers: [
      { name: 'via', value: `SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK${++branch};rport` },
      { name: 'from', value: `<sip:${user}@gw.example>;tag=f1` },
      { name: 'to', value: `<sip:${user}@gw.example>` },
      { name: 'call-id', value: 'reg-1@192.0.2.7' },
      { name: 'cseq', value: `${cseq} ${method}` },
      { name: 'max-forwards', value: '70' },
      ...extra,
    ],
    body: new Uint8Array(0),
  });
  const send = (message: SipRequest | Uint8Array) => {
    deliver(message instanceof Uint8Array ? message : encodeSipMessage(message), PHONE);
    return sent[sent.length - 1]!;
  };
  const authenticated = (challenge: SipResponse, extra: SipHeader[], cseq: number, password = 'wonderland', user = 'alice') => {
    const answer = answerChallenge(challenge, { username: user, password, method: 'REGISTER', uri: 'sip:gw.example', cnonce: `cn${cseq}`, nonceCount: 1 });
    assert.ok(answer.ok);
    return request('REGISTER', [...extra, { name: answer.value.headerName, value: answer.value.headerValue }], cseq, user);
  };
  return { clock, sent, registrar, request, send, authenticated };
}

test('OPTIONS gets 200 with Allow; other methods 405', () => {
  const w = world();
  const ok = w.send(w.request('OPTIONS'));
  assert.equal(ok.status, 200);
  assert.deepEqual(headerValues(ok, 'allow'), ['REGISTER', 'OPTIONS']);
  assert.match(firstHeader(ok, 'to')!, /;tag=/);
  assert.equal(w.send(w.request('SUBSCRIBE')).status, 405);
});

test('REGISTER: 401 with a challenge, then 200 with the binding; it expires, and "*" with Expires 0 removes it', () => {
  const w = world();
  const contact = { name: 'contact', value: '<sip:alice@192.0.2.7:5062>' };
  const challenge = w.send(w.request('REGISTER', [contact]));
  assert.equal(challenge.status, 401);
  assert.equal(headerValues(challenge, 'www-authenticate').length, 2);
  assert.deepEqual(w.registrar.contacts('sip:alice@gw.example'), []);
  const registered = w.send(w.authenticated(challenge, [contact, { name: 'expires', value: '60' }], 2));
  assert.equal(registered.status, 200);
  assert.deepEqual(headerValues(registered, 'contact'), ['<sip:alice@192.0.2.7:5062>;expires=60']);
  assert.deepEqual(w.registrar.contacts('sip:alice@gw.example').map((c) => c.uri), ['sip:alice@192.0.2.7:5062']);
  w.clock.runFor(60_001);
  assert.deepEqual(w.registrar.contacts('sip:alice@gw.example'), [], 'expired');
  const again = w.send(w.authenticated(w.send(w.request('REGISTER', [contact], 3)), [contact], 4));
  assert.equal(again.status, 200);
  assert.equal(w.registrar.contacts('sip:alice@gw.example').length, 1);
  const removed = w.send(w.authenticated(w.send(w.request('REGISTER', [], 5)), [{ name: 'contact', value: '*' }, { name: 'expires', value: '0' }], 6));
  assert.equal(removed.status, 200);
  assert.deepEqual(w.registrar.contacts('sip:alice@gw.example'), []);
});

test('REGISTER: a wrong password is challenged again; another user\'s record is forbidden; another domain is not found', () => {
  const w = world();
  const challenge = w.send(w.request('REGISTER'));
  assert.equal(w.send(w.authenticated(challenge, [], 2, 'guess')).status, 401);
  // Alice's own credentials on a REGISTER for Bob's address of record.
  const forBob = w.request('REGISTER', [], 3, 'bob');
  const answer = answerChallenge(challenge, { username: 'alice', password: 'wonderland', method: 'REGISTER', uri: 'sip:gw.example', cnonce: 'x', nonceCount: 2 });
  assert.ok(answer.ok);
  assert.equal(w.send({ ...forBob, headers: [...forBob.headers, { name: 'authorization', value: answer.value.headerValue }] }).status, 403);
  const elsewhere = w.request('REGISTER');
  assert.equal(w.send({ ...elsewhere, headers: elsewhere.headers.map((h) => (h.name === 'to' ? { name: 'to', value: '<sip:alice@other.example>' } : h)) }).status, 404);
});

test('a retransmitted REGISTER is answered from the transaction, not evaluated again', () => {
  const w = world();
  const register = w.request('REGISTER');
  const first = w.send(register);
  const second = w.send(register);
  assert.equal(w.sent.length, 2);
  assert.deepEqual(second, first, 'the same 401, same nonce');
  assert.equal(w.registrar.counters.challenged, 1);
});

test('bad input: undecodable bytes and responses are counted, bad core headers get 400, a full transaction table 503', () => {
  const w = world({ maxTransactions: 2 });
  w.send(new TextEncoder().encode('garbage'));
  w.send(new TextEncoder().encode('SIP/2.0 200 OK\r\n\r\n'));
  assert.equal(w.registrar.counters.undecodable, 2);
  assert.equal(w.sent.length, 0);
  const noCallId = w.request('OPTIONS');
  assert.equal(w.send({ ...noCallId, headers: noCallId.headers.filter((h) => h.name !== 'call-id') }).status, 400);
  w.send(w.request('OPTIONS'));
  assert.equal(w.send(w.request('OPTIONS')).status, 503, 'two transactions wait out Timer J');
  assert.equal(w.registrar.counters.refusedFull, 1);
  w.clock.runFor(32_000);
  assert.equal(w.send(w.request('OPTIONS')).status, 200, 'room again once they ended');
});

test('one source gets at most maxTransactionsPerSource transactions at once; the rest go unanswered', () => {
  const w = world({ maxTransactionsPerSource: 3 });
  for (let i = 0; i < 5; i++) w.send(w.request('OPTIONS'));
  assert.equal(w.sent.length, 3);
  assert.equal(w.registrar.counters.refusedFull, 2);
  w.clock.runFor(32_000);
  assert.equal(w.send(w.request('OPTIONS')).status, 200);
  assert.equal(w.sent.length, 4);
});
