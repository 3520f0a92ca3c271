// STUN and TURN over IPv6, on real sockets on ::1 (the virtual network is IPv4 only): a
// supernode's service with an IPv6 socket answers an IPv6 client with its IPv6 address; an
// Allocate with REQUESTED-ADDRESS-FAMILY IPv6 gets an IPv6 relay that carries datagrams both
// ways to an IPv6 peer, whichever family the client came over; a peer of the other family is
// 443 (not 400); a server without IPv6 answers 440. Then coturn's client over IPv6 (-x).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { realEnv } from '../../src/env/real.js';
import type { Endpoint, UdpSocket } from '../../src/env/types.js';
import { StunTransactions } from '../../src/stun/stun-client.js';
import { Attr, attribute, mappedAddress } from '../../src/stun/stun.js';
import { startStunService, type StunService, type StunServiceOptions } from '../../src/supernode/stun-service.js';
import { LOOPBACK_PEERS } from '../../src/turn/peer-policy.js';
import { TurnClient } from '../../src/turn/turn-client.js';

const run = promisify(execFile);
const text = (s: string) => new TextEncoder().encode(s);
/** How long a datagram on loopback may take here before the test fails (a bound, not a pause). */
const ARRIVAL_MS = 5_000;

/** A real UDP socket whose datagrams can be awaited one by one. */
async function inbox(host: string): Promise<{ socket: UdpSocket; next(): Promise<{ from: Endpoint; text: string }> }> {
  const socket = await realEnv.net.bindUdp({ host, port: 0 });
  const queue: { from: Endpoint; text: string }[] = [];
  let waiter: (() => void) | null = null;
  socket.onMessage((bytes, from) => {
    queue.push({ from, text: new TextDecoder().decode(bytes) });
    waiter?.();
  });
  return {
    socket,
    next: async () => {
      if (queue.length === 0) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`nothing arrived at ${host}:${socket.local.port} within ${ARRIVAL_MS} ms`)), ARRIVAL_MS);
          waiter = () => {
            clearTimeout(timer);
            waiter = null;
            resolve();
          };
        });
      }
      return queue.shift()!;
    },
  };
}

/** A data handler whose deliveries can be awaited. */
function deliveries(turn: TurnClient): () => Promise<{ peer: Endpoint; text: string }> {
  const queue: { peer: Endpoint; text: string }[] = [];
  let waiter: (() => void) | null = null;
  turn.onData((peer, data) => {
    queue.push({ peer, text: new TextDecoder().decode(data) });
    waiter?.();
  });
  return async () => {
    if (queue.length === 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`nothing relayed to the client within ${ARRIVAL_MS} ms`)), ARRIVAL_MS);
        waiter = () => {
          clearTimeout(timer);
          waiter = null;
          resolve();
        };
      });
    }
    return queue.shift()!;
  };
}

/** A service on 127.0.0.1 (and ::1 unless `ipv6` is false); its IPv6 socket takes the IPv4 one's port number, so a port taken on ::1 means another try. */
async function service(ipv6 = true, extra: Partial<StunServiceOptions> = {}): Promise<StunService> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStunService(realEnv, { host: '127.0.0.1', port: 0, advertisedHost: '127.0.0.1', allowPeers: LOOPBACK_PEERS, ...(ipv6 ? { ipv6: { host: '::1' } } : {}), ...extra });
    } catch (error) {
      if ((error as { code?: string }).code !== 'address_in_use' || attempt >= 5) throw error;
    }
  }
}

test('a Binding request over IPv6 is answered by the IPv6 socket with the client\'s IPv6 address (XOR-MAPPED-ADDRESS of family 2)', async () => {
  const stun = await service();
  const socket = await realEnv.net.bindUdp({ host: '::1', port: 0 });
  const transactions = new StunTransactions(socket, realEnv.clock, realEnv.random);
  try {
    assert.deepEqual(stun.primary6, { host: '::1', port: stun.primary.port }, 'the same port number on both families');
    const answer = await transactions.request(stun.primary6!, [], { deadlineMs: ARRIVAL_MS });
    assert.ok(answer.ok, 'answered');
    assert.deepEqual(mappedAddress(answer.value.message), { host: '::1', port: socket.local.port });
    assert.equal(attribute(answer.value.message, Attr.XOR_MAPPED_ADDRESS)![1], 0x02, 'family 2');
    assert.equal(attribute(answer.value.message, Attr.MAPPED_ADDRESS), undefined, 'no plain MAPPED-ADDRESS for IPv6 (see stun-server.ts)');
    assert.deepEqual(answer.value.from, stun.primary6, 'from the IPv6 socket');
    assert.equal(stun.server6!.answered, 1);
    assert.equal(stun.server.answered, 0, 'the IPv4 server saw nothing');
  } finally {
    transactions.close();
    socket.close();
    stun.close();
  }
});

test('TURN over IPv6: REQUESTED-ADDRESS-FAMILY IPv6 gets an IPv6 relay that carries both ways to an IPv6 peer; the other family is 443', async () => {
  const stun = await service();
  const sockets: UdpSocket[] = [];
  const clients: TurnClient[] = [];
  try {
    const credentials = stun.credentials('alice', 'd3v1ce');
    const peer = await inbox('::1');
    const peer4 = await inbox('127.0.0.1');
    sockets.push(peer.socket, peer4.socket);
    const peerEndpoint = { host: '::1', port: peer.socket.local.port };
    // Over IPv6, and over IPv4 for an IPv6 relay: the family of the relay is what is asked, not how the client came.
    for (const [clientHost, server] of [['::1', stun.primary6!], ['127.0.0.1', stun.primary]] as const) {
      const socket = await realEnv.net.bindUdp({ host: clientHost, port: 0 });
      sockets.push(socket);
      const turn = new TurnClient(socket, realEnv.clock, realEnv.random, server, credentials);
      clients.push(turn);
      const received = deliveries(turn);
      const allocated = await turn.allocate(600, 'ipv6');
      assert.ok(allocated.ok, JSON.stringify(allocated));
      const relayed = allocated.value.relayed;
      assert.equal(relayed.host, '::1', `an IPv6 relay for a client over ${clientHost}`);
      assert.deepEqual(allocated.value.mapped, { host: clientHost, port: socket.local.port });
      assert.ok((await turn.permit([peerEndpoint])).ok);
      // Peer to client: a Data indication (XOR-PEER-ADDRESS of family 2).
      peer.socket.send(text(`to ${clientHost}`), relayed);
      assert.deepEqual(await received(), { peer: peerEndpoint, text: `to ${clientHost}` });
      // Client to peer: by Send indication, then over a channel.
      turn.send(peerEndpoint, text('by indication'));
      assert.deepEqual(await peer.next(), { from: relayed, text: 'by indication' });
      assert.ok((await turn.bindChannel(peerEndpoint)).ok);
      turn.send(peerEndpoint, text('by channel'));
      assert.deepEqual(await peer.next(), { from: relayed, text: 'by channel' });
      peer.socket.send(text('back by channel'), relayed);
      assert.deepEqual(await received(), { peer: peerEndpoint, text: 'back by channel' });

      // An IPv4 peer (also in its IPv4-mapped form) for this IPv6 relay: 443, not 400.
      const before = stun.turn.refused.get('peer_family_mismatch') ?? 0;
      for (const wrong of [{ host: '127.0.0.1', port: peer4.socket.local.port }, { host: '::ffff:127.0.0.1', port: peer4.socket.local.port }]) {
        const refused = await turn.permit([wrong]);
        assert.ok(!refused.ok && refused.error.status === 443, `${wrong.host}: ${JSON.stringify(refused)}`);
      }
      assert.equal(stun.turn.refused.get('peer_family_mismatch'), before + 2);
    }

    // An IPv4 relay (no family asked) refuses an IPv6 peer with 443 too, and drops a Send to one.
    const socket = await realEnv.net.bindUdp({ host: '127.0.0.1', port: 0 });
    sockets.push(socket);
    const turn4 = new TurnClient(socket, realEnv.clock, realEnv.random, stun.primary, credentials);
    clients.push(turn4);
    const allocated4 = await turn4.allocate();
    assert.ok(allocated4.ok);
    assert.equal(allocated4.value.relayed.host, '127.0.0.1');
    const refused = await turn4.permit([peerEndpoint]);
    assert.ok(!refused.ok && refused.error.status === 443, JSON.stringify(refused));
    assert.ok((await turn4.permit([{ host: '127.0.0.1', port: peer4.socket.local.port }])).ok, 'its own family is fine');
    turn4.send({ host: '127.0.0.1', port: peer4.socket.local.port }, text('over IPv4'));
    assert.deepEqual(await peer4.next(), { from: allocated4.value.relayed, text: 'over IPv4' });
    assert.equal(stun.turn.allocationCount, 3);
  } finally {
    for (const turn of clients) await turn.close();
    for (const socket of sockets) socket.close();
    stun.close();
  }
});

test('a TURN server without an IPv6 address answers an Allocate for IPv6 with 440 and still allocates IPv4', async () => {
  const stun = await service(false);
  const socket = await realEnv.net.bindUdp({ host: '127.0.0.1', port: 0 });
  const turn = new TurnClient(socket, realEnv.clock, realEnv.random, stun.primary, stun.credentials('alice', 'd3v1ce'));
  try {
    assert.equal(stun.primary6, null);
    const refused = await turn.allocate(600, 'ipv6');
    assert.ok(!refused.ok && refused.error.status === 440, JSON.stringify(refused));
    assert.equal(stun.turn.refused.get('unsupported_family'), 1);
    assert.equal(stun.turn.allocationCount, 0);
    const allocated = await turn.allocate();
    assert.ok(allocated.ok && allocated.value.relayed.host === '127.0.0.1', JSON.stringify(allocated));
  } finally {
    await turn.close();
    socket.close();
    stun.close();
  }
});

/** Runs one of coturn's tools and returns what it printed (exit status included when it failed). */
async function tool(command: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { timeout: 20_000 });
    return stdout + stderr;
  } catch (error) {
    const e = error as { code?: string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${command} is not installed: run scripts/setup (it installs Debian's coturn)`, { cause: error });
    return `${e.stdout ?? ''}${e.stderr ?? ''}\n(exit: ${String(e.code)})`;
  }
}

/** A service with TURN over TCP on the same port number, on both families (a port free for UDP may be taken for TCP: then another). */
async function serviceWithTcp(): Promise<StunService> {
  for (let attempt = 1; ; attempt++) {
    const probe = await service();
    probe.close();
    try {
      return await service(true, { port: probe.primary.port, tcpPorts: [probe.primary.port] });
    } catch (error) {
      if ((error as { code?: string }).code !== 'address_in_use' || attempt >= 5) throw error;
    }
  }
}

test('coturn\'s clients over IPv6: turnutils_stunclient learns its IPv6 address; turnutils_uclient -x relays through IPv6 relays, over UDP and TCP', { timeout: 60_000 }, async () => {
  const stun = await serviceWithTcp();
  try {
    const port = String(stun.primary.port);
    const stunclient = await tool('turnutils_stunclient', ['-p', port, '::1']);
    assert.match(stunclient, /UDP reflexive addr: \[?::1\]?:\d+/, stunclient);
    assert.equal(stun.server6!.answered >= 1, true);
    const { username, password } = stun.credentials('alice', 'd3v1ce');
    for (const [mode, sessions] of [[['-c'], 2], [['-c', '-t'], 2], [[], 4]] as const) {
      const before = stun.turn.relayed.toPeers;
      const ipv6Before = stun.turn.ipv6AllocationsCreated;
      const allBefore = stun.turn.allocationsCreated;
      const out = await tool('turnutils_uclient', ['-x', '-y', ...mode, '-n', '30', '-l', '100', '-u', username, '-w', password, '-p', port, '::1']);
      assert.match(out, new RegExp(`tot_send_msgs=${30 * sessions}, tot_recv_msgs=${30 * sessions}\\b`), out);
      assert.match(out, /Total lost packets 0 \(0\.0+%\)/, out);
      assert.ok(stun.turn.relayed.toPeers - before >= 30 * sessions, `relayed ${stun.turn.relayed.toPeers - before} to peers`);
      const ipv6Made = stun.turn.ipv6AllocationsCreated - ipv6Before;
      assert.ok(ipv6Made >= sessions, `${ipv6Made} IPv6 relays for ${sessions} sessions`);
      assert.equal(stun.turn.allocationsCreated - allBefore, ipv6Made, 'no IPv4 relay among them');
    }
  } finally {
    stun.close();
  }
});
