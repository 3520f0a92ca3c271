// TURN's TCP relays (RFC 6062) on a supernode, on the virtual network with Parley's own client:
// a client allocates a TCP relay over its TCP control connection, Connects to a TCP echo peer,
// binds a data connection and gets every byte back intact; a peer connects in and the client
// hears of it (ConnectionAttempt) and binds it; a peer without a permission is shut out; the
// peer policy, 446, 447, the connection bounds (508), the 30 s ConnectionBind timer, the idle
// timer and the end of the control connection all do what they say, and are counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import type { VirtualHost } from '../../src/env/virtual/network.js';
import { startStunService } from '../../src/supernode/stun-service.js';
import { TurnClient } from '../../src/turn/turn-client.js';
import { bindDataConnection } from '../../src/turn/turn-tcp-client.js';
import { StunStreamDecoder, streamSocket } from '../../src/turn/turn-tcp.js';
import { Attr, StunClass, StunMethod, decodeStun, encodeStun } from '../../src/stun/stun.js';
import type { TcpRelayLimits, TurnLimits } from '../../src/turn/turn-server.js';
import type { Endpoint, TcpConnection } from '../../src/env/types.js';
import { testSeed, withSeed } from '../support/seed.js';

const PORT = 3478;
const ECHO_PORT = 8000;

async function world(seed: number, tcpRelayLimits: Partial<TcpRelayLimits> = {}, turnLimits: Partial<TurnLimits> = {}) {
  const network = new VirtualNetwork(seed);
  const sn = network.addHost({ link: { latencyMs: 5 } });
  const server: Endpoint = { host: sn.addressText, port: PORT };
  const service = await network.scheduler.drive(startStunService(sn.env(), { port: PORT, advertisedHost: sn.addressText, tcpPorts: [PORT], tcpRelayLimits, turnLimits }));
  const drive = <T>(work: Promise<T>) => network.scheduler.drive(work);
  const elapse = (ms: number) => drive(new Promise<void>((resolve) => network.scheduler.after(ms, resolve)));
  const opened: TcpConnection[] = [];
  /** A client behind a NAT, its TURN client on a TCP control connection. */
  const client = async (user = 'alice') => {
    const host = network.addHost({ behind: network.addGateway({ nat: 'port-restricted' }), link: { latencyMs: 5 } });
    const env = host.env();
    const control = await drive(env.net.connectTcp(server));
    opened.push(control);
    const turn = new TurnClient(streamSocket(control, server), env.clock, env.random, server, service.credentials(user, 'dev'));
    const attempts: { peer: Endpoint; id: Uint8Array }[] = [];
    turn.onConnectionAttempt((peer, id) => attempts.push({ peer, id }));
    /** A new data connection bound to `id`; what arrives on it is collected. */
    const bind = async (id: Uint8Array) => {
      const data = await drive(env.net.connectTcp(server));
      opened.push(data);
      const bound = await drive(bindDataConnection(data, turn, id, env.clock, env.random));
      if (!bound.ok) return bound;
      const received: Uint8Array[] = [bound.value.pending];
      bound.value.connection.onData((bytes) => received.push(bytes));
      let closed = false;
      bound.value.connection.onClose(() => (closed = true));
      bound.value.connection.resumeReading();
      return { ok: true as const, connection: bound.value.connection, received: () => Buffer.concat(received), closed: () => closed };
    };
    return { host, control, turn, attempts, bind };
  };
  /** A host that echoes every byte on TCP ECHO_PORT, and counts its connections. */
  const echoPeer = async () => {
    const host = network.addHost({ link: { latencyMs: 5 } });
    const seen: { from: Endpoint; closed: boolean }[] = [];
    await drive(
      host.env().net.listenTcp({
        port: ECHO_PORT,
        onConnection: (connection) => {
          const entry = { from: connection.remote, closed: false };
          seen.push(entry);
          connection.onData((bytes) => connection.write(bytes.slice()));
          connection.onClose(() => (entry.closed = true));
        },
      }),
    );
    return { host, seen, endpoint: { host: host.addressText, port: ECHO_PORT } };
  };
  /** A host that connects out (a peer dialling the relayed address). */
  const dialler = (): VirtualHost => network.addHost({ link: { latencyMs: 5 } });
  const close = () => {
    for (const c of opened) c.close();
    service.close();
  };
  return { network, service, server, drive, elapse, client, echoPeer, dialler, opened, close };
}

/** Bytes that show any reordering, loss or corruption: a counter pattern, not repeating within 251 bytes. */
function pattern(bytes: number, salt: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 7 + salt) % 251;
  return out;
}

test('a client Connects its TCP relay to an echo peer, binds a data connection, and every byte comes back intact', () =>
  withSeed(testSeed(), async (seed) => {
    // A byte rate that does not slow this test (that has its own test below).
    const w = await world(seed, {}, { bytesPerSecondPerAllocation: 10_000_000 });
    try {
      const alice = await w.client();
      const echo = await w.echoPeer();
      const allocated = await w.drive(alice.turn.allocate(600, 'ipv4', 'tcp'));
      assert.ok(allocated.ok, JSON.stringify(allocated));
      assert.equal(allocated.value.relayed.host, w.server.host);
      // Connect needs no permission of its own (RFC 6062 section 5.2): the peer policy judges the peer.
      const id = await w.drive(alice.turn.connect(echo.endpoint));
      assert.ok(id.ok, JSON.stringify(id));
      assert.equal(echo.seen.length, 1, 'the relay connected to the peer');
      assert.equal(echo.seen[0]!.from.host, w.server.host, 'the peer sees the relay host');
      const data = await alice.bind(id.value);
      assert.ok(data.ok, data.ok ? '' : data.error.message);
      const sent = pattern(200_000, 3);
      // Written in uneven pieces, as an application would.
      for (let offset = 0, step = 1; offset < sent.byteLength; offset += step, step = (step * 3 + 1) % 9_000 || 1) data.connection.write(sent.slice(offset, Math.min(sent.byteLength, offset + step)));
      await w.elapse(2_000);
      assert.deepEqual(new Uint8Array(data.received()), sent, 'the echo came back byte for byte');
      const tcp = w.service.turn.tcpRelays!;
      assert.equal(tcp.counts.connected, 1);
      assert.equal(tcp.counts.bytesToPeers, sent.byteLength);
      assert.equal(tcp.counts.bytesToClients, sent.byteLength);
      assert.equal(tcp.connectionCount, 1);
      // The client's side closing closes the peer's.
      data.connection.close();
      await w.elapse(100);
      assert.equal(echo.seen[0]!.closed, true);
      assert.equal(tcp.connectionCount, 0);
    } finally {
      w.close();
    }
  }));

test('a peer connects in: with a permission the client hears a ConnectionAttempt and binds it; without one it is shut out', () =>
  withSeed(testSeed(), async (seed) => {
    const w = await world(seed);
    try {
      const alice = await w.client();
      const allocated = await w.drive(alice.turn.allocate(600, 'ipv4', 'tcp'));
      assert.ok(allocated.ok);
      const relayed = allocated.value.relayed;
      const bob = w.dialler();
      const mallory = w.dialler();
      assert.ok((await w.drive(alice.turn.permit([{ host: bob.addressText, port: 1 }]))).ok);
      // Mallory has no permission: the relay accepts and closes at once, and tells the client nothing.
      const refusedBefore = w.service.turn.refused.get('no_permission') ?? 0;
      const shut = await w.drive(mallory.env().net.connectTcp(relayed));
      let mallorysClosed = false;
      shut.onClose(() => (mallorysClosed = true));
      await w.elapse(100);
      assert.equal(mallorysClosed, true, 'a peer without permission is closed');
      assert.equal(w.service.turn.refused.get('no_permission'), refusedBefore + 1);
      assert.equal(alice.attempts.length, 0);
      // Bob is permitted: what he sends before the bind waits, and arrives first after it.
      const bobs = await w.drive(bob.env().net.connectTcp(relayed));
      w.opened.push(bobs);
      const bobGot: Uint8Array[] = [];
      bobs.onData((bytes) => bobGot.push(bytes));
      bobs.write(new TextEncoder().encode('early '));
      await w.elapse(100);
      assert.equal(alice.attempts.length, 1);
      assert.deepEqual(alice.attempts[0]!.peer, bobs.local, 'the attempt names the peer');
      const data = await alice.bind(alice.attempts[0]!.id);
      assert.ok(data.ok, data.ok ? '' : data.error.message);
      bobs.write(new TextEncoder().encode('and late'));
      data.connection.write(new TextEncoder().encode('hello bob'));
      await w.elapse(200);
      assert.equal(new TextDecoder().decode(data.received()), 'early and late');
      assert.equal(new TextDecoder().decode(Buffer.concat(bobGot)), 'hello bob');
      assert.equal(w.service.turn.tcpRelays!.counts.accepted, 1);
      // A second ConnectionBind for the same id is refused: it is bound already.
      const again = await alice.bind(alice.attempts[0]!.id);
      assert.equal(again.ok, false);
      assert.equal(!again.ok && 'status' in again.error ? again.error.status : 0, 400);
    } finally {
      w.close();
    }
  }));

test('refusals: a forbidden peer 403, a second Connect to one peer 446, a peer not listening 447, past the bound 508, TCP over UDP 400', () =>
  withSeed(testSeed(), async (seed) => {
    const w = await world(seed, { connectionsPerAllocation: 2 });
    try {
      const alice = await w.client();
      const echo = await w.echoPeer();
      assert.ok((await w.drive(alice.turn.allocate(600, 'ipv4', 'tcp'))).ok);
      const status = (outcome: { ok: boolean; error?: { status?: number } }) => (outcome.ok ? 200 : (outcome.error?.status ?? 0));
      const forbidden = await w.drive(alice.turn.connect({ host: '10.0.0.1', port: 80 }));
      assert.equal(status(forbidden), 403, 'a private address is no peer');
      assert.equal(w.service.turn.forbiddenPeers.get('private'), 1);
      const loopback = await w.drive(alice.turn.connect({ host: '127.0.0.1', port: 22 }));
      assert.equal(status(loopback), 403, 'nor the supernode\'s own loopback');
      assert.ok((await w.drive(alice.turn.connect(echo.endpoint))).ok);
      const twice = await w.drive(alice.turn.connect(echo.endpoint));
      assert.equal(status(twice), 446, 'one connection per peer address');
      assert.match(twice.ok ? '' : twice.error.message, /446 Connection Already Exists/);
      const nobody = await w.drive(alice.turn.connect({ host: echo.host.addressText, port: ECHO_PORT + 1 }));
      assert.equal(status(nobody), 447, 'nobody listens there');
      assert.equal(w.service.turn.refused.get('connect_failed'), 1);
      // The failed one gave its place back: one more fits, then the bound of 2 is reached.
      const other = await w.echoPeer();
      assert.ok((await w.drive(alice.turn.connect(other.endpoint))).ok);
      const third = await w.echoPeer();
      const over = await w.drive(alice.turn.connect(third.endpoint));
      assert.equal(status(over), 508);
      assert.match(over.ok ? '' : over.error.message, /508 Insufficient Capacity/);
      assert.equal(w.service.turn.refused.get('connection_quota'), 1);
      assert.equal(third.seen.length, 0, 'no connection was opened past the bound');
      // A UDP allocation cannot Connect; a TCP relay cannot be asked for over UDP.
      const udpHost = w.network.addHost({ link: { latencyMs: 5 } });
      const udpTurn = new TurnClient(await w.drive(udpHost.env().net.bindUdp({ port: 0 })), udpHost.env().clock, udpHost.env().random, w.server, w.service.credentials('bob', 'dev'));
      const overUdp = await w.drive(udpTurn.allocate(600, 'ipv4', 'tcp'));
      assert.equal(status(overUdp), 400);
      assert.ok((await w.drive(udpTurn.allocate(600))).ok);
      assert.equal(status(await w.drive(udpTurn.connect(echo.endpoint))), 400, 'Connect on a UDP allocation');
      assert.equal(status(await w.drive(alice.turn.bindChannel(echo.endpoint))), 400, 'ChannelBind on a TCP allocation');
      await w.drive(udpTurn.close());
    } finally {
      w.close();
    }
  }));

test('timers: an unbound connection is closed after 30 s, an idle pair after its idle time; the control connection takes everything with it', () =>
  withSeed(testSeed(), async (seed) => {
    const w = await world(seed, { idleMs: 60_000 });
    try {
      const alice = await w.client();
      const echo = await w.echoPeer();
      const allocated = await w.drive(alice.turn.allocate(600, 'ipv4', 'tcp'));
      assert.ok(allocated.ok);
      const tcp = w.service.turn.tcpRelays!;
      const unbound = await w.drive(alice.turn.connect(echo.endpoint));
      assert.ok(unbound.ok);
      await w.elapse(29_000);
      assert.equal(echo.seen[0]!.closed, false, 'still waiting for its bind');
      await w.elapse(1_500);
      assert.equal(echo.seen[0]!.closed, true, 'no ConnectionBind in 30 s');
      assert.equal(w.service.turn.refused.get('bind_timeout'), 1);
      const late = await alice.bind(unbound.value);
      assert.equal(late.ok, false, 'too late to bind');
      // A bound pair that carries nothing for the idle time is closed; traffic keeps it open.
      const id = await w.drive(alice.turn.connect(echo.endpoint));
      assert.ok(id.ok);
      const data = await alice.bind(id.value);
      assert.ok(data.ok);
      await w.elapse(40_000);
      data.connection.write(Uint8Array.of(1, 2, 3));
      await w.elapse(40_000);
      assert.equal(data.closed(), false, 'active 40 s ago');
      await w.elapse(25_000);
      assert.equal(data.closed(), true, 'idle for 60 s');
      assert.equal(w.service.turn.refused.get('idle_connection'), 1);
      // One more pair, and a listening relay: closing the control connection ends them all.
      const last = await w.drive(alice.turn.connect(echo.endpoint));
      assert.ok(last.ok);
      const lastData = await alice.bind(last.value);
      assert.ok(lastData.ok);
      assert.equal(tcp.connectionCount, 1);
      alice.control.close();
      await w.elapse(200);
      assert.equal(w.service.turn.allocationCount, 0);
      assert.equal(tcp.connectionCount, 0);
      assert.equal(lastData.closed(), true);
      assert.equal(tcp.holdsPort(allocated.value.relayed.port), false, 'the relay stopped listening');
      const refused = await w.drive(w.dialler().env().net.connectTcp(allocated.value.relayed).then(() => 'connected', (error: { code?: string }) => error.code));
      assert.equal(refused, 'refused');
    } finally {
      w.close();
    }
  }));

test('a TCP relay keeps to the allocation\'s byte rate by not reading: nothing is dropped, it only takes longer', () =>
  withSeed(testSeed(), async (seed) => {
    const w = await world(seed, {}, { bytesPerSecondPerAllocation: 20_000 });
    try {
      const alice = await w.client();
      const echo = await w.echoPeer();
      assert.ok((await w.drive(alice.turn.allocate(600, 'ipv4', 'tcp'))).ok);
      const id = await w.drive(alice.turn.connect(echo.endpoint));
      assert.ok(id.ok);
      const data = await alice.bind(id.value);
      assert.ok(data.ok);
      // 100 000 bytes each way at 20 000 bytes a second for both: about 9 s past the first second's burst.
      const sent = pattern(100_000, 11);
      data.connection.write(sent);
      await w.elapse(5_000);
      assert.ok(data.received().byteLength < sent.byteLength, `only ${data.received().byteLength} back after 5 s`);
      await w.elapse(10_000);
      assert.deepEqual(new Uint8Array(data.received()), sent, 'all of it, intact, in the end');
      assert.equal(w.service.turn.refused.get('rate_limited') ?? 0, 0, 'a stream is slowed, never dropped');
    } finally {
      w.close();
    }
  }));

test('bytes a client sends right behind its ConnectionBind, in the same write, are its first data, not TURN', () =>
  withSeed(testSeed(), async (seed) => {
    const w = await world(seed);
    try {
      const alice = await w.client();
      const echo = await w.echoPeer();
      assert.ok((await w.drive(alice.turn.allocate(600, 'ipv4', 'tcp'))).ok);
      const id = await w.drive(alice.turn.connect(echo.endpoint));
      assert.ok(id.ok);
      const credentials = alice.turn.credentialsFor()!;
      const request = encodeStun(
        { method: StunMethod.CONNECTION_BIND, cls: StunClass.REQUEST, transactionId: new Uint8Array(12).fill(5), attributes: [{ type: Attr.CONNECTION_ID, value: id.value }, ...credentials.attributes], classic: false },
        { integrityKey: credentials.key, fingerprint: true },
      );
      // 0xff first: as TURN framing this would end the stream.
      const early = Uint8Array.of(0xff, 0x00, 0x01, 0x02, 0xc0, 0x10);
      const data = await w.drive(alice.host.env().net.connectTcp(w.server));
      w.opened.push(data);
      const received: Uint8Array[] = [];
      data.onData((bytes) => received.push(bytes));
      data.write(new Uint8Array([...request, ...early]));
      await w.elapse(200);
      const stream = new Uint8Array(Buffer.concat(received));
      // The answer, then the echo of the early bytes.
      const decoder = new StunStreamDecoder();
      const [answer] = decoder.push(stream, () => true)!;
      const decoded = decodeStun(answer!);
      assert.ok(decoded.ok && decoded.value.cls === StunClass.SUCCESS && decoded.value.method === StunMethod.CONNECTION_BIND);
      assert.deepEqual(decoder.drain(), early, 'echoed as they were');
      assert.equal(w.service.turn.refused.get('malformed') ?? 0, 0);
    } finally {
      w.close();
    }
  }));
