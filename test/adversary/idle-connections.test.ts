// Hostile peers (issue 19): connections that say nothing and never close their side. Each one
// takes a handshake slot; before, the slot came back only when the peer closed, and the socket
// stayed until then, so 256 idle connections shut a supernode to every new client for good.
// Real sockets (the descriptors are what runs out), the supernode's own listener set-up (secure
// links sharing the port with TURN over TCP).
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { cryptoRandom, realEnv } from '../../src/env/real.js';
import { connectSecure, listenSecure, type SecureLink } from '../../src/crypto/secure-link.js';
import type { TcpListener } from '../../src/env/types.js';
import { Role } from '../../src/wire/messages.js';
import { looksLikeStunStream } from '../../src/turn/turn-tcp.js';
import { testNetwork } from '../support/identities.js';

const MAX_PENDING = 16;
const HANDSHAKE_TIMEOUT_MS = 300;
const IDLE = 40;

test('idle connections that never close are given up on: their slots come back, their sockets are closed, and a real client gets in', { timeout: 60_000 }, async () => {
  const net = testNetwork(cryptoRandom);
  const issuedAtMs = Date.now() - 60_000;
  const server = net.identity('', { role: Role.SUPERNODE, issuedAtMs });
  const links: SecureLink[] = [];
  const attackers: Socket[] = [];
  let listener: TcpListener | null = null;
  try {
    listener = await listenSecure(realEnv, {
      host: '127.0.0.1',
      port: 0,
      config: net.config(server),
      maxPendingHandshakes: MAX_PENDING,
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
      otherProtocol: { claims: looksLikeStunStream, take: (connection) => connection.close() },
      onLink: (link) => links.push(link),
    });
    const port = listener.local.port;
    // Peers that connect, send nothing, and ignore the server's FIN (half-open: they never close).
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      Promise.all(
      Array.from({ length: IDLE }, () => {
        const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
        socket.on('error', () => {});
        attackers.push(socket);
        // The server's FIN: it gave up on the connection (and destroys it after a linger).
        return new Promise<void>((resolve) => socket.on('end', () => resolve()));
      }),
      ),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the idle connections were not given up on')), 20_000))),
    ]).finally(() => clearTimeout(timer));
    assert.equal(closed.length, IDLE, 'the server closed every idle connection, although none closed its side');
    // Every slot is free again: a real client's handshake goes through.
    const client = await connectSecure(realEnv, { host: '127.0.0.1', port, config: net.config(net.identity('alice', { issuedAtMs }), { remoteStaticKey: server.dh.publicKey }), handshakeTimeoutMs: 5_000 });
    links.push(client);
    assert.equal(client.peer.role, Role.SUPERNODE);
  } finally {
    for (const socket of attackers) socket.destroy();
    for (const link of links) link.close();
    listener?.close();
  }
});
