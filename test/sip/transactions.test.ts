// RFC 3261 section 17's state machines on a virtual clock: what is sent when (retransmission
// schedules of timers A, E, G over UDP and none over TCP), what reaches the TU, and when each
// transaction ends (timers B, D, F, H, I, J, K, and RFC 6026's L). Also the matching keys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Scheduler } from '../../src/env/virtual/scheduler.js';
import { ClientTransaction, type ClientTransactionEvent } from '../../src/sip/client-transaction.js';
import { ServerTransaction, type ServerTransactionEvent } from '../../src/sip/server-transaction.js';
import { firstHeader, type SipMessage, type SipRequest, type SipResponse } from '../../src/sip/message.js';
import { responseTo } from '../../src/sip/responses.js';
import { TransactionTable, clientKeyOfRequest, transactionKey } from '../../src/sip/transaction-keys.js';

function request(method: string, branch = 'z9hG4bKabc'): SipRequest {
  return {
    kind: 'request',
    method,
    uri: 'sip:bob@example.com',
    headers: [
      { name: 'via', value: `SIP/2.0/UDP 192.0.2.1:5060;branch=${branch}` },
      { name: 'from', value: '<sip:alice@example.com>;tag=a1' },
      { name: 'to', value: '<sip:bob@example.com>' },
      { name: 'call-id', value: 'call-1' },
      { name: 'cseq', value: `7 ${method}` },
      { name: 'max-forwards', value: '70' },
    ],
    body: new Uint8Array(0),
  };
}

function harness(reliable: boolean) {
  const clock = new Scheduler();
  const sent: { atMs: number; message: SipMessage }[] = [];
  const io = { clock, reliable, send: (message: SipMessage) => sent.push({ atMs: clock.now(), message }) };
  return { clock, sent, io };
}

const describe = (m: SipMessage) => (m.kind === 'request' ? m.method : String(m.status));

test('non-INVITE client over UDP: E doubles to T2, F times out at 64*T1', () => {
  const { clock, sent, io } = harness(false);
  const events: ClientTransactionEvent[] = [];
  const t = new ClientTransaction(request('OPTIONS'), io, (e) => events.push(e));
  t.start();
  clock.runFor(40_000);
  assert.deepEqual(sent.map((s) => s.atMs), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.deepEqual(events.map((e) => e.kind), ['timeout', 'terminated']);
  assert.equal(t.state, 'terminated');
});

test('non-INVITE client: a provisional moves E to T2; the final is passed up once; K ends it after T4 (UDP) or at once (TCP)', () => {
  for (const reliable of [false, true]) {
    const { clock, sent, io } = harness(reliable);
    const events: ClientTransactionEvent[] = [];
    const req = request('REGISTER');
    const t = new ClientTransaction(req, io, (e) => events.push(e));
    t.start();
    clock.runFor(100);
    t.receive(responseTo(req, 100, 'Trying'));
    clock.runFor(9_000);
    assert.deepEqual(sent.map((s) => s.atMs), reliable ? [0] : [0, 500, 4500, 8500], `reliable=${reliable}`);
    t.receive(responseTo(req, 200, 'OK', { toTag: 'b' }));
    t.receive(responseTo(req, 200, 'OK', { toTag: 'b' }));
    assert.equal(t.state, reliable ? 'terminated' : 'completed');
    clock.runFor(5_000);
    assert.equal(t.state, 'terminated');
    assert.deepEqual(events.map((e) => (e.kind === 'response' ? e.response.status : e.kind)), [100, 200, 'terminated']);
  }
});

test('INVITE client over UDP: A doubles without a cap until B at 64*T1; nothing is retransmitted over TCP', () => {
  const udp = harness(false);
  const events: ClientTransactionEvent[] = [];
  new ClientTransaction(request('INVITE'), udp.io, (e) => events.push(e)).start();
  udp.clock.runFor(40_000);
  assert.deepEqual(udp.sent.map((s) => s.atMs), [0, 500, 1500, 3500, 7500, 15500, 31500]);
  assert.deepEqual(events.map((e) => e.kind), ['timeout', 'terminated']);
  const tcp = harness(true);
  new ClientTransaction(request('INVITE'), tcp.io, () => {}).start();
  tcp.clock.runFor(40_000);
  assert.deepEqual(tcp.sent.map((s) => s.atMs), [0]);
});

test('INVITE client: a non-2xx final is ACKed by the transaction (again for each retransmission) and D ends it', () => {
  const { clock, sent, io } = harness(false);
  const events: ClientTransactionEvent[] = [];
  const invite = request('INVITE');
  const t = new ClientTransaction(invite, io, (e) => events.push(e));
  t.start();
  t.receive(responseTo(invite, 180, 'Ringing', { toTag: 'b7' }));
  clock.runFor(60_000);
  assert.equal(sent.length, 1, 'no retransmission and no timeout in Proceeding');
  const busy = responseTo(invite, 486, 'Busy Here', { toTag: 'b7' });
  t.receive(busy);
  t.receive(busy);
  const acks = sent.slice(1).map((s) => s.message as SipRequest);
  assert.deepEqual(acks.map(describe), ['ACK', 'ACK']);
  assert.equal(acks[0]!.uri, invite.uri);
  assert.equal(firstHeader(acks[0]!, 'cseq'), '7 ACK');
  assert.equal(firstHeader(acks[0]!, 'to'), '<sip:bob@example.com>;tag=b7');
  assert.equal(firstHeader(acks[0]!, 'via'), firstHeader(invite, 'via'));
  assert.equal(t.state, 'completed');
  clock.runFor(31_999);
  assert.equal(t.state, 'completed');
  clock.runFor(1);
  assert.equal(t.state, 'terminated');
  assert.deepEqual(events.map((e) => (e.kind === 'response' ? e.response.status : e.kind)), [180, 486, 'terminated']);
});

test('INVITE client: a 2xx goes to the TU, which ACKs it; the transaction ends at once', () => {
  const { sent, io } = harness(false);
  const events: ClientTransactionEvent[] = [];
  const invite = request('INVITE');
  const t = new ClientTransaction(invite, io, (e) => events.push(e));
  t.start();
  t.receive(responseTo(invite, 200, 'OK', { toTag: 'x' }));
  assert.equal(t.state, 'terminated');
  assert.deepEqual(sent.map((s) => describe(s.message)), ['INVITE']);
  assert.deepEqual(events.map((e) => e.kind), ['response', 'terminated']);
});

test('INVITE server: 100 at once, retransmissions answered with the last response, G until the ACK, then I', () => {
  const { clock, sent, io } = harness(false);
  const events: ServerTransactionEvent[] = [];
  const invite = request('INVITE');
  const t = new ServerTransaction(invite, io, (e) => events.push(e));
  assert.deepEqual(sent.map((s) => describe(s.message)), ['100']);
  t.respond(responseTo(invite, 180, 'Ringing', { toTag: 's' }));
  t.receive(invite);
  assert.deepEqual(sent.map((s) => describe(s.message)), ['100', '180', '180']);
  clock.runFor(1_000);
  t.respond(responseTo(invite, 603, 'Decline', { toTag: 's' }));
  clock.runFor(10_000);
  assert.deepEqual(sent.slice(3).map((s) => s.atMs - 1_000), [0, 500, 1500, 3500, 7500]);
  const ack = { ...request('ACK'), headers: request('ACK').headers.map((h) => (h.name === 'cseq' ? { name: 'cseq', value: '7 ACK' } : h)) };
  t.receive(ack);
  assert.equal(t.state, 'confirmed');
  clock.runFor(20_000);
  assert.equal(sent.length, 8, 'G stopped at the ACK');
  assert.equal(t.state, 'terminated');
  assert.deepEqual(events.map((e) => e.kind), ['ack', 'terminated']);
});

test('INVITE server: H reports a lost ACK; 2xx goes to Accepted (RFC 6026) and L ends it', () => {
  const lost = harness(false);
  const events: ServerTransactionEvent[] = [];
  const invite = request('INVITE');
  const t = new ServerTransaction(invite, lost.io, (e) => events.push(e));
  t.respond(responseTo(invite, 486, 'Busy Here', { toTag: 's' }));
  lost.clock.runFor(32_000);
  assert.deepEqual(events.map((e) => e.kind), ['timeout', 'terminated']);
  assert.deepEqual(lost.sent.slice(1).map((s) => s.atMs), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);

  const ok = harness(false);
  const okEvents: ServerTransactionEvent[] = [];
  const u = new ServerTransaction(invite, ok.io, (e) => okEvents.push(e));
  u.respond(responseTo(invite, 200, 'OK', { toTag: 's' }));
  assert.equal(u.state, 'accepted');
  u.receive(invite);
  assert.equal(u.absorbed, 1);
  assert.deepEqual(ok.sent.map((s) => describe(s.message)), ['100', '200'], 'a retransmitted INVITE is absorbed in Accepted');
  u.respond(responseTo(invite, 200, 'OK', { toTag: 's' }));
  assert.equal(ok.sent.length, 3, "the TU's 2xx retransmission passes");
  ok.clock.runFor(32_000);
  assert.equal(u.state, 'terminated');
});

test('non-INVITE server: retransmissions get the last response; J holds 64*T1 over UDP, nothing over TCP', () => {
  for (const reliable of [false, true]) {
    const { clock, sent, io } = harness(reliable);
    const req = request('REGISTER');
    const t = new ServerTransaction(req, io, () => {});
    t.receive(req);
    assert.equal(sent.length, 0, 'nothing to repeat in Trying');
    t.respond(responseTo(req, 200, 'OK', { toTag: 'r' }));
    t.respond(responseTo(req, 500, 'Late'));
    if (!reliable) {
      t.receive(req);
      assert.deepEqual(sent.map((s) => describe(s.message)), ['200', '200']);
      clock.runFor(31_999);
      assert.equal(t.state, 'completed');
      clock.runFor(1);
    }
    assert.equal(t.state, 'terminated');
  }
});

test('matching keys: responses by branch and method, requests by branch, sent-by and method (ACK → INVITE); the table is bounded', () => {
  const invite = request('INVITE', 'z9hG4bK1');
  const serverKey = transactionKey(invite);
  const ack = { ...request('ACK', 'z9hG4bK1'), headers: request('ACK', 'z9hG4bK1').headers };
  assert.ok(serverKey.ok);
  assert.deepEqual(transactionKey(ack), serverKey);
  assert.notDeepEqual(transactionKey(request('CANCEL', 'z9hG4bK1')), serverKey);
  const response: SipResponse = responseTo(invite, 180, 'Ringing');
  assert.deepEqual(transactionKey(response), clientKeyOfRequest(invite));
  assert.equal((transactionKey(request('OPTIONS', 'old-style')) as { error: { code: string } }).error.code, 'no_rfc3261_branch');
  const table = new TransactionTable<number>(2);
  assert.ok(table.add('a', 1) && table.add('b', 2));
  assert.equal(table.add('c', 3), false);
  assert.equal(table.refusedFull, 1);
  table.delete('a');
  assert.ok(table.add('c', 3));
});

test('over TCP: no G retransmissions, and D and I are zero (the transactions end at the ACK)', () => {
  const server = harness(true);
  const serverEvents: ServerTransactionEvent[] = [];
  const invite = request('INVITE');
  const s = new ServerTransaction(invite, server.io, (e) => serverEvents.push(e));
  s.respond(responseTo(invite, 486, 'Busy Here', { toTag: 's' }));
  server.clock.runFor(10_000);
  assert.deepEqual(server.sent.map((m) => describe(m.message)), ['100', '486']);
  s.receive({ ...request('ACK'), headers: request('ACK').headers });
  assert.equal(s.state, 'terminated');
  assert.deepEqual(serverEvents.map((e) => e.kind), ['ack', 'terminated']);

  const client = harness(true);
  const c = new ClientTransaction(invite, client.io, () => {});
  c.start();
  c.receive(responseTo(invite, 486, 'Busy Here', { toTag: 's' }));
  assert.equal(c.state, 'terminated');
  assert.deepEqual(client.sent.map((m) => describe(m.message)), ['INVITE', 'ACK']);
});
