// TURN over TLS ("turns:", RFC 8656 section 3.1) on a supernode's TCP ports: a ClientHello is
// told apart from Noise and STUN; the gate bounds handshakes (in all, per source, in time) and
// counts each refusal; on real loopback sockets our own TurnClient and coturn's turnutils_uclient
// (-S: TLS) allocate through the web port and get their packets relayed; garbage and a stalled
// handshake are closed within the bound and counted, and Noise links still share the port, also
// inside TLS (a device behind a firewall that passes only TLS).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Scheduler } from '../../src/env/virtual/scheduler.js';
import { SeededRandom } from '../../src/env/prng.js';
import { realEnv } from '../../src/env/real.js';
import { connectTlsUnverified, realTlsServer } from '../../src/env/tls.js';
import { NetError, type Endpoint, type TcpConnection, type TlsServer, type UdpSocket } from '../../src/env/types.js';
import { attachTo } from '../../src/client/attachment.js';
import { IceAgent } from '../../src/ice/ice-agent.js';
import { createSelfSignedCertificate } from '../../src/login-server/self-signed.js';
import { LOGIN_SERVER_TLS } from '../../src/login-server/tls-policy.js';
import { LOOPBACK_PEERS } from '../../src/turn/peer-policy.js';
import { encodeStun, StunClass, StunMethod } from '../../src/stun/stun.js';
import { TurnClient } from '../../src/turn/turn-client.js';
import { looksLikeStunStream, streamSocket } from '../../src/turn/turn-tcp.js';
import { looksLikeTlsClientHello, TurnTlsGate } from '../../src/turn/turn-tls.js';
import { startSupernode, type RunningSupernode } from '../../src/supernode/supernode.js';
import { Role } from '../../src/wire/messages.js';
import { testNetwork } from '../support/identities.js';
import { testSeed, withSeed } from '../support/seed.js';

const run = promisify(execFile);

/** The first 8 bytes of a TLS 1.2/1.3 ClientHello record as browsers and OpenSSL send it. */
const CLIENT_HELLO_START = Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01);

test('a ClientHello is told apart from a Noise preamble and from STUN', () => {
  assert.ok(looksLikeTlsClientHello(CLIENT_HELLO_START));
  assert.equal(looksLikeStunStream(CLIENT_HELLO_START), false);
  const noise = Uint8Array.of(0x50, 0x52, 0x4c, 0x01, 0x01, 0, 0, 0);
  assert.equal(looksLikeTlsClientHello(noise), false);
  const stun = encodeStun({ method: StunMethod.ALLOCATE, cls: StunClass.REQUEST, transactionId: new Uint8Array(12).fill(0x16), attributes: [], classic: false });
  assert.equal(looksLikeTlsClientHello(stun), false);
  assert.equal(looksLikeTlsClientHello(Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00, 0x02, 0, 0)), false, 'a ServerHello is not something a client opens with');
  assert.equal(looksLikeTlsClientHello(Uint8Array.of(0x16, 0x03, 0x01)), false, 'too short to tell');
});

/** A connection that records whether it was closed (the gate never reads it: the TLS server does). */
function fakeConnection(host: string): TcpConnection & { closed: boolean } {
  return {
    local: { host: '192.0.2.1', port: 443 },
    remote: { host, port: 40_000 },
    closed: false,
    write() {},
    onData() {},
    onClose() {},
    close() {
      this.closed = true;
    },
    pendingWriteBytes: 0,
    onDrain() {},
    pauseReading() {},
    resumeReading() {},
  };
}

test('the TLS gate bounds handshakes in all, per source and in time, and counts each refusal', () => {
  const clock = new Scheduler();
  const handshakes: { connection: TcpConnection; finish: (ok: boolean) => void }[] = [];
  const tls: TlsServer = {
    accept: (connection) =>
      new Promise((resolve, reject) => handshakes.push({ connection, finish: (ok) => (ok ? resolve(connection) : reject(new NetError('reset', 'bad handshake'))) })),
  };
  const secured: TcpConnection[] = [];
  const gate = new TurnTlsGate(clock, tls, (plaintext) => secured.push(plaintext), { handshakes: 4, perSource: 2, timeoutMs: 1_000 });
  const a = [fakeConnection('203.0.113.1'), fakeConnection('203.0.113.1'), fakeConnection('203.0.113.1')];
  for (const c of a) gate.accept(c, CLIENT_HELLO_START);
  assert.equal(gate.inProgress, 2);
  assert.ok(a[2]!.closed, 'a third handshake from one address is closed at once');
  assert.equal(gate.refused.get('per_source'), 1);
  const others = [fakeConnection('203.0.113.2'), fakeConnection('203.0.113.3'), fakeConnection('203.0.113.4')];
  for (const c of others) gate.accept(c, CLIENT_HELLO_START);
  assert.equal(gate.inProgress, 4);
  assert.ok(others[2]!.closed && !others[1]!.closed);
  assert.equal(gate.refused.get('capacity'), 1);
  clock.runFor(999);
  assert.equal(gate.inProgress, 4, 'nothing given up before the timeout');
  clock.runFor(1);
  assert.equal(gate.inProgress, 0);
  assert.equal(gate.refused.get('timeout'), 4);
  assert.ok([...a.slice(0, 2), ...others.slice(0, 2)].every((c) => c.closed), 'every stalled handshake is closed at the bound');
  assert.equal(clock.pending, 0, 'no timer left behind');
});

test('the TLS gate hands finished handshakes on, counts failed ones, and ends those in progress on close', async () => {
  const clock = new Scheduler();
  const handshakes: { finish: (ok: boolean) => void }[] = [];
  const tls: TlsServer = {
    accept: (connection) => new Promise((resolve, reject) => handshakes.push({ finish: (ok) => (ok ? resolve(connection) : reject(new NetError('reset', 'bad handshake'))) })),
  };
  const secured: TcpConnection[] = [];
  const gate = new TurnTlsGate(clock, tls, (plaintext) => secured.push(plaintext));
  const [good, bad, late] = [fakeConnection('203.0.113.1'), fakeConnection('203.0.113.2'), fakeConnection('203.0.113.3')];
  gate.accept(good, CLIENT_HELLO_START);
  gate.accept(bad, CLIENT_HELLO_START);
  gate.accept(late, CLIENT_HELLO_START);
  handshakes[0]!.finish(true);
  handshakes[1]!.finish(false);
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.deepEqual(secured, [good]);
  assert.equal(gate.handshakes, 1);
  assert.equal(gate.refused.get('handshake_failed'), 1);
  gate.close();
  assert.ok(late.closed);
  assert.equal(gate.inProgress, 0);
  handshakes[2]!.finish(true);
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.deepEqual(secured, [good], 'a handshake that finishes after close is not handed on');
  const after = fakeConnection('203.0.113.4');
  gate.accept(after, CLIENT_HELLO_START);
  assert.ok(after.closed, 'no connections taken once closed');
  clock.runFor(60_000);
  assert.equal(gate.refused.get('timeout'), undefined, 'the timers of finished handshakes were cancelled');
});

/** A supernode on loopback with a web port that serves TURN over TLS with a fresh self-signed certificate. */
async function tlsSupernode(seed: number, timeoutMs?: number): Promise<{ supernode: RunningSupernode; net: ReturnType<typeof testNetwork>; identity: ReturnType<ReturnType<typeof testNetwork>['identity']> }> {
  const net = testNetwork(new SeededRandom(seed));
  const identity = net.identity('', { role: Role.SUPERNODE, issuedAtMs: Date.now() - 1000 });
  const certificate = createSelfSignedCertificate({ commonName: 'parley supernode', hosts: ['127.0.0.1'], lifetimeDays: 1, now: new Date() });
  const tls = realTlsServer({ cert: certificate.certPem, key: certificate.keyPem, policy: LOGIN_SERVER_TLS });
  const supernode = await startSupernode(realEnv, {
    identity,
    verifier: net.verifier,
    host: '127.0.0.1',
    port: 0,
    webPort: 0,
    stun: { allowPeers: LOOPBACK_PEERS, tls, ...(timeoutMs !== undefined ? { tlsLimits: { timeoutMs } } : {}) },
  });
  return { supernode, net, identity };
}

test('our TurnClient allocates over TLS on the web port and relays both ways; Noise links still share the port', { timeout: 30_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const { supernode, net, identity } = await tlsSupernode(seed);
    let turn: TurnClient | null = null;
    let peer: UdpSocket | null = null;
    let link: { close(): void } | null = null;
    try {
      const server: Endpoint = { host: '127.0.0.1', port: supernode.webPort! };
      const plaintext = await connectTlsUnverified(await realEnv.net.connectTcp(server));
      const credentials = supernode.stun!.credentials('alice', 'd3v1ce');
      turn = new TurnClient(streamSocket(plaintext, server), realEnv.clock, realEnv.random, server, credentials);
      const allocated = await turn.allocate();
      assert.ok(allocated.ok, JSON.stringify(allocated));
      assert.equal(supernode.stun!.tls!.handshakes, 1);
      peer = await realEnv.net.bindUdp({ host: '127.0.0.1', port: 0 });
      const permitted = await turn.permit([peer.local]);
      assert.ok(permitted.ok, JSON.stringify(permitted));
      const atPeer = new Promise<{ bytes: Uint8Array; from: Endpoint }>((resolve) => peer!.onMessage((bytes, from) => resolve({ bytes, from })));
      turn.send(peer.local, new TextEncoder().encode('over tls'));
      const arrived = await atPeer;
      assert.equal(new TextDecoder().decode(arrived.bytes), 'over tls');
      assert.deepEqual(arrived.from, allocated.value.relayed);
      const back = new Promise<string>((resolve) => turn!.onData((_from, data) => resolve(new TextDecoder().decode(data))));
      peer.send(new TextEncoder().encode('and back'), allocated.value.relayed);
      assert.equal(await back, 'and back');
      // A device link (Noise) on the same port is still a device link.
      const alice = await attachTo(realEnv, { host: '127.0.0.1', port: supernode.webPort!, dhKey: identity.dh.publicKey }, { identity: net.identity('alice', { issuedAtMs: Date.now() - 1000 }), verifier: net.verifier, username: 'alice' });
      link = alice.link;
      assert.equal(supernode.attachments.size, 1);
      assert.equal(supernode.stun!.tls!.refused.size, 0);
    } finally {
      link?.close();
      await turn?.close();
      peer?.close();
      supernode.close();
    }
  }),
);

test('a device link inside TLS on the web port attaches (the wire carries only TLS records); TLS then silence is closed at the bound', { timeout: 30_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const timeoutMs = 800;
    const { supernode, net, identity } = await tlsSupernode(seed, timeoutMs);
    let link: { close(): void } | null = null;
    try {
      // What the device puts on the wire under TLS: the first byte of every write.
      const recordTypes: number[] = [];
      const spiedTls = (connection: TcpConnection) =>
        connectTlsUnverified({
          local: connection.local,
          remote: connection.remote,
          write: (bytes) => {
            recordTypes.push(bytes[0]!);
            connection.write(bytes);
          },
          onData: (handler) => connection.onData(handler),
          onClose: (handler) => connection.onClose(handler),
          close: () => connection.close(),
          get pendingWriteBytes() {
            return connection.pendingWriteBytes;
          },
          onDrain: (handler) => connection.onDrain(handler),
          pauseReading: () => connection.pauseReading(),
          resumeReading: () => connection.resumeReading(),
        });
      // The supernode's own port refuses (port 1: nothing listens), so the device goes to the web port at once.
      const alice = await attachTo(
        realEnv,
        { host: '127.0.0.1', port: 1, webPort: supernode.webPort!, dhKey: identity.dh.publicKey },
        { identity: net.identity('alice', { issuedAtMs: Date.now() - 1000 }), verifier: net.verifier, username: 'alice', webTls: spiedTls },
      );
      link = alice.link;
      assert.equal(supernode.attachments.size, 1);
      assert.equal(supernode.stun!.tls!.handshakes, 1, 'the link came through the TLS gate');
      assert.ok(recordTypes.length >= 2, `writes: ${recordTypes.length}`);
      assert.ok(
        recordTypes.every((t) => t === 0x16 || t === 0x17 || t === 0x14),
        `only TLS handshake, change-cipher-spec and application-data records: ${recordTypes.map((t) => t.toString(16)).join(' ')}`,
      );
      // A TLS handshake, then nothing inside it: neither TURN nor a link; closed at the gate's bound.
      const plaintext = await connectTlsUnverified(await realEnv.net.connectTcp({ host: '127.0.0.1', port: supernode.webPort! }));
      const started = performance.now();
      const closedMs = await new Promise<number>((resolve) => plaintext.onClose(() => resolve(performance.now() - started)));
      assert.ok(closedMs < timeoutMs + 3_000, `an idle TLS connection closed after ${closedMs} ms`);
      assert.equal(supernode.stun!.tls!.refused.get('timeout'), 1);
      assert.equal(supernode.stun!.tls!.inProgress, 0);
    } finally {
      link?.close();
      supernode.close();
    }
  }),
);

test("a web-only device's relayed candidate comes through TLS too: TURN over TLS on the web port (IceAgent turnTls)", { timeout: 30_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const { supernode } = await tlsSupernode(seed);
    let agent: IceAgent | null = null;
    try {
      const credentials = supernode.stun!.credentials('alice', 'd3v1ce');
      agent = await IceAgent.gather(realEnv, {
        controlling: true,
        server: supernode.stun!.primary,
        turnCredentials: { username: credentials.username, password: credentials.password },
        turnTransport: 'tcp',
        turnTcp: { host: '127.0.0.1', port: supernode.webPort! },
        turnTls: connectTlsUnverified,
      });
      const relays = agent.parameters.candidates.filter((c) => c.type === 'relay');
      assert.equal(relays.length, 1, JSON.stringify(agent.parameters.candidates));
      assert.equal(relays[0]!.relayTcp, true);
      assert.equal(supernode.stun!.tls!.handshakes, 1, 'the allocation came through the TLS gate');
      assert.equal(supernode.stun!.turn.allocationsCreated, 1);
    } finally {
      await agent?.close();
      supernode.close();
    }
  }),
);

/** Opens a raw TCP connection, sends `bytes`, and resolves how long it took the server to close it. */
async function closedAfterMs(port: number, bytes: Uint8Array): Promise<number> {
  const connection = await realEnv.net.connectTcp({ host: '127.0.0.1', port });
  const started = performance.now();
  const closed = new Promise<number>((resolve) => connection.onClose(() => resolve(performance.now() - started)));
  connection.onData(() => {});
  connection.write(bytes);
  try {
    return await closed;
  } finally {
    connection.close();
  }
}

test('garbage after a ClientHello header and a stalled handshake are closed within the bound and counted', { timeout: 30_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const timeoutMs = 400;
    const { supernode } = await tlsSupernode(seed, timeoutMs);
    try {
      const port = supernode.webPort!;
      // A whole handshake record (59 bytes, as its header says) whose ClientHello is nonsense.
      const garbage = new Uint8Array(64).fill(0xee);
      garbage.set([0x16, 0x03, 0x01, 0x00, 59, 0x01]);
      const garbageMs = await closedAfterMs(port, garbage);
      assert.ok(garbageMs < timeoutMs, `garbage closed after ${garbageMs} ms, before the timeout`);
      assert.equal(supernode.stun!.tls!.refused.get('handshake_failed'), 1);
      // Only the start of a ClientHello, then silence: closed at the handshake timeout.
      const stalledMs = await closedAfterMs(port, CLIENT_HELLO_START);
      assert.ok(stalledMs >= timeoutMs - 50 && stalledMs < timeoutMs + 3_000, `stalled handshake closed after ${stalledMs} ms`);
      assert.equal(supernode.stun!.tls!.refused.get('timeout'), 1);
      assert.equal(supernode.stun!.tls!.inProgress, 0);
      assert.equal(supernode.stun!.tls!.handshakes, 0);
    } finally {
      supernode.close();
    }
  }),
);

test("coturn's turnutils_uclient allocates over TLS (-S) on a supernode's web port and gets every packet relayed; wrong credentials get nothing", { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const { supernode } = await tlsSupernode(seed);
    const tool = async (args: string[]) => {
      try {
        const { stdout, stderr } = await run('turnutils_uclient', args, { timeout: 20_000 });
        return stdout + stderr;
      } catch (error) {
        const e = error as { code?: string; stdout?: string; stderr?: string };
        if (e.code === 'ENOENT') throw new Error('turnutils_uclient is not installed: run scripts/setup (it installs Debian\'s coturn)', { cause: error });
        return `${e.stdout ?? ''}${e.stderr ?? ''}\n(exit: ${String(e.code)})`;
      }
    };
    try {
      const port = String(supernode.webPort);
      const { username, password } = supernode.stun!.credentials('alice', 'd3v1ce');
      const before = { ...supernode.stun!.turn.relayed };
      // -t -S: TURN over TLS over TCP; -y: the two allocations relay to each other; -c: no RTCP relays.
      const out = await tool(['-t', '-S', '-y', '-c', '-n', '50', '-l', '100', '-u', username, '-w', password, '-p', port, '127.0.0.1']);
      const totals = /start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\b/.exec(out);
      assert.ok(totals, out);
      assert.equal(Number(totals[1]), 100, out);
      // Every packet went through the relay both ways (our counters). The tool counts a packet that
      // comes after its own window as lost: on a busy machine a few do, so it must see most, not all.
      const relayed = supernode.stun!.turn.relayed;
      assert.ok(relayed.toPeers - before.toPeers >= 100, `to peers: ${relayed.toPeers - before.toPeers}`);
      assert.ok(relayed.toClients - before.toClients >= 100, `to clients: ${relayed.toClients - before.toClients}`);
      assert.ok(Number(totals[2]) >= 90, out);
      assert.ok(supernode.stun!.tls!.handshakes >= 2, `${supernode.stun!.tls!.handshakes} TLS handshakes`);
      const refused = await tool(['-t', '-S', '-y', '-c', '-n', '5', '-u', username, '-w', 'not-the-password', '-p', port, '127.0.0.1']);
      assert.match(refused, /Cannot complete Allocation/, refused);
      assert.ok((supernode.stun!.turn.refused.get('wrong_credentials') ?? 0) > 0);
    } finally {
      supernode.close();
    }
  }),
);
