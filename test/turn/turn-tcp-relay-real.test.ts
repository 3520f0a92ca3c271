// TURN's TCP relays (RFC 6062) on real loopback sockets: coturn's own client (turnutils_uclient
// -T, two clients whose TCP relays Connect to each other, and -P, a peer that connects in)
// gets every message relayed; and a peer that stops reading makes the relay stop reading the client
// (backpressure): what the relay holds stays within the kernel's buffers and its own bound,
// and everything arrives intact once the peer reads again.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { realEnv } from '../../src/env/real.js';
import { startStunService, type StunService, type StunServiceOptions } from '../../src/supernode/stun-service.js';
import { LOOPBACK_PEERS } from '../../src/turn/peer-policy.js';
import { TurnClient } from '../../src/turn/turn-client.js';
import { bindDataConnection } from '../../src/turn/turn-tcp-client.js';
import { streamSocket } from '../../src/turn/turn-tcp.js';
import type { TcpConnection, TcpListener } from '../../src/env/types.js';

const run = promisify(execFile);

async function tool(command: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { timeout: 30_000 });
    return stdout + stderr;
  } catch (error) {
    const e = error as { code?: string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${command} is not installed: run scripts/setup (it installs Debian's coturn)`, { cause: error });
    return `${e.stdout ?? ''}${e.stderr ?? ''}\n(exit: ${String(e.code)})`;
  }
}

/** The service with TURN over TCP on its own port number; another port when that number is taken for TCP. */
async function service(options: Partial<StunServiceOptions> = {}): Promise<StunService> {
  for (let attempt = 1; ; attempt++) {
    const udp = await startStunService(realEnv, { host: '127.0.0.1', port: 0, advertisedHost: '127.0.0.1' });
    const port = udp.primary.port;
    udp.close();
    try {
      return await startStunService(realEnv, { host: '127.0.0.1', port, advertisedHost: '127.0.0.1', tcpPorts: [port], ...options });
    } catch (error) {
      if ((error as { code?: string }).code !== 'address_in_use' || attempt >= 5) throw error;
    }
  }
}

/** uclient's summary: as many messages received as sent (40 for each sending session), none lost. */
function assertAllRelayed(out: string): void {
  const totals = /start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/.exec(out);
  assert.ok(totals, out);
  assert.ok(Number(totals[1]) >= 40, out);
  assert.equal(totals[2], totals[1], out);
}

/** Resolves when `check` holds, polling every 20 ms; rejects after `withinMs`. */
async function until(check: () => boolean, withinMs: number, what: string): Promise<void> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > withinMs) throw new Error(`not within ${withinMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("coturn's turnutils_uclient relays over TCP relays: two clients Connect to each other (-T), and a peer connects in (-P)", { timeout: 90_000 }, async () => {
  const turn = await service();
  try {
    const port = String(turn.primary.port);
    const { username, password } = turn.credentials('alice', 'd3v1ce');
    const tcp = turn.turn.tcpRelays!;
    // -T: TCP relays; each client allocates one, permits the other's relayed address, and one Connects to the other.
    const out = await tool('turnutils_uclient', ['-T', '-n', '40', '-l', '120', '-u', username, '-w', password, '-p', port, '127.0.0.1']);
    assertAllRelayed(out);
    assert.match(out, /Total lost packets 0 \(0\.0+%\)/, out);
    assert.ok(tcp.counts.connected >= 1 && tcp.counts.accepted >= 1, `connected ${tcp.counts.connected}, accepted ${tcp.counts.accepted}`);
    assert.ok(tcp.counts.bytesToPeers >= 40 * 120, `relayed ${tcp.counts.bytesToPeers} bytes to peers`);
    await until(() => tcp.connectionCount === 0, 10_000, 'the clients\' connections end with them');
  } finally {
    turn.close();
  }
  // -P: the peer is a plain TCP client on loopback (a peer the policy admits only by the allow
  // list) that connects to the relayed address: ConnectionAttempt, then ConnectionBind.
  const open = await service({ allowPeers: LOOPBACK_PEERS });
  try {
    const { username, password } = open.credentials('alice', 'd3v1ce');
    const passive = await tool('turnutils_uclient', ['-P', '-n', '40', '-l', '120', '-u', username, '-w', password, '-p', String(open.primary.port), '127.0.0.1']);
    // uclient's plain-TCP peer reads its socket as STUN framing and so counts none of the raw
    // bytes it gets: of its two sessions' 80 messages it reports the 40 its TURN client got.
    // That the peer got its 40 too shows in the relay's own count, both ways the same.
    const totals = /start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/.exec(passive);
    assert.ok(totals, passive);
    assert.deepEqual([totals[1], totals[2]], ['80', '40'], passive);
    const tcp = open.turn.tcpRelays!.counts;
    assert.equal(tcp.accepted, 1, 'the peer connected in');
    assert.deepEqual([tcp.bytesToPeers, tcp.bytesToClients], [40 * 120, 40 * 120], 'every message relayed, both ways');
  } finally {
    open.close();
  }
});

test('a peer that stops reading stops the relay reading its client: bounded by the kernel\'s buffers, and all arrives once it reads', { timeout: 90_000 }, async () => {
  const limit = 65_536;
  const turn = await service({ allowPeers: LOOPBACK_PEERS, tcpRelayLimits: { bufferedBytesPerConnection: limit }, turnLimits: { bytesPerSecondPerAllocation: 1e12, bytesPerSecond: 1e12 } });
  const opened: (TcpConnection | TcpListener)[] = [];
  try {
    // The peer: accepts one connection and does not read it until told.
    let peerSide: TcpConnection | null = null;
    const peerGot = createHash('sha256');
    let peerBytes = 0;
    const total = 48 * 1024 * 1024;
    let allArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (allArrived = resolve));
    const listener = await realEnv.net.listenTcp({
      host: '127.0.0.1',
      port: 0,
      onConnection: (connection) => {
        peerSide = connection;
        opened.push(connection);
        connection.pauseReading();
        connection.onData((bytes) => {
          peerGot.update(bytes);
          peerBytes += bytes.byteLength;
          if (peerBytes >= total) allArrived();
        });
      },
    });
    opened.push(listener);
    const server = turn.primary;
    const control = await realEnv.net.connectTcp(server);
    opened.push(control);
    const client = new TurnClient(streamSocket(control, server), realEnv.clock, realEnv.random, server, turn.credentials('alice', 'dev'));
    assert.ok((await client.allocate(600, 'ipv4', 'tcp')).ok);
    const id = await client.connect(listener.local);
    assert.ok(id.ok, JSON.stringify(id));
    const data = await realEnv.net.connectTcp(server);
    opened.push(data);
    const bound = await bindDataConnection(data, client, id.value, realEnv.clock, realEnv.random);
    assert.ok(bound.ok, bound.ok ? '' : bound.error.message);
    bound.value.connection.resumeReading();
    // 48 MiB in 1 MiB writes: far more than loopback's socket buffers hold.
    const sentHash = createHash('sha256');
    for (let offset = 0; offset < total; offset += 1024 * 1024) {
      const chunk = new Uint8Array(1024 * 1024);
      for (let i = 0; i < chunk.byteLength; i += 4096) chunk[i] = (offset / 4096 + i) & 0xff;
      sentHash.update(chunk);
      bound.value.connection.write(chunk);
    }
    const tcp = turn.turn.tcpRelays!;
    // The relay reads until the peer's side is full, then stops: its count stops moving.
    let last = -1;
    let still = 0;
    await until(
      () => {
        still = tcp.counts.bytesToPeers === last ? still + 1 : 0;
        last = tcp.counts.bytesToPeers;
        return still >= 25;
      },
      30_000,
      'the relay to stop reading',
    );
    // What the relay could have passed on: the peer's receive buffer, its own send buffer, its bound, one read.
    const [, , rmemMax] = readFileSync('/proc/sys/net/ipv4/tcp_rmem', 'utf8').trim().split(/\s+/).map(Number);
    const [, , wmemMax] = readFileSync('/proc/sys/net/ipv4/tcp_wmem', 'utf8').trim().split(/\s+/).map(Number);
    const ceiling = rmemMax! + wmemMax! + limit + 1024 * 1024;
    assert.ok(tcp.counts.bytesToPeers <= ceiling, `the relay read ${tcp.counts.bytesToPeers} bytes of ${total} while the peer read none (at most ${ceiling} expected)`);
    assert.ok(tcp.counts.bytesToPeers < total / 2);
    assert.ok(bound.value.connection.pendingWriteBytes > 0, 'the client is held back in turn');
    // The peer reads: everything arrives, intact.
    peerSide!.resumeReading();
    await arrived;
    assert.equal(peerBytes, total);
    assert.equal(peerGot.digest('hex'), sentHash.digest('hex'));
    await client.close();
  } finally {
    for (const c of opened) c.close();
    turn.close();
  }
});
