// Hostile use of TURN's TCP relays (RFC 6062): a permitted peer that opens connection after
// connection to a client's relayed address, and a user whose clients Connect again and again,
// each to a new peer and never bind. Each peer connection is a socket (two once bound): at
// most `connectionsPerAllocation` per allocation and `connectionsPerUser` per user are held;
// beyond, a peer's connection is closed at once and a Connect gets 508, both counted; and an
// unbound one is closed after the 30 s ConnectionBind timer, so the slots come back. Virtual
// time: the waits are exact.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import type { Endpoint, TcpConnection } from '../../src/env/types.js';
import { startStunService } from '../../src/supernode/stun-service.js';
import { TurnClient } from '../../src/turn/turn-client.js';
import { streamSocket } from '../../src/turn/turn-tcp.js';
import { DEFAULT_TCP_RELAY_LIMITS } from '../../src/turn/turn-server.js';
import { testSeed, withSeed } from '../support/seed.js';

const PORT = 3478;
const LIMITS = { connectionsPerAllocation: 4, connectionsPerUser: 6 };

test('a flood of peer connections and of Connects holds at most the bounds, is counted, and unbound connections end after 30 s', () =>
  withSeed(testSeed(), async (seed) => {
    const network = new VirtualNetwork(seed);
    const drive = <T>(work: Promise<T>) => network.scheduler.drive(work);
    const elapse = (ms: number) => drive(new Promise<void>((resolve) => network.scheduler.after(ms, resolve)));
    const sn = network.addHost({ link: { latencyMs: 5 } });
    const server: Endpoint = { host: sn.addressText, port: PORT };
    const service = await drive(startStunService(sn.env(), { port: PORT, advertisedHost: sn.addressText, tcpPorts: [PORT], tcpRelayLimits: LIMITS }));
    const opened: TcpConnection[] = [];
    try {
      const tcp = service.turn.tcpRelays!;
      const client = async () => {
        const host = network.addHost({ link: { latencyMs: 5 } });
        const control = await drive(host.env().net.connectTcp(server));
        opened.push(control);
        const turn = new TurnClient(streamSocket(control, server), host.env().clock, host.env().random, server, service.credentials('mallory', 'dev'));
        const attempts: Uint8Array[] = [];
        turn.onConnectionAttempt((_peer, id) => attempts.push(id));
        const allocated = await drive(turn.allocate(600, 'ipv4', 'tcp'));
        assert.ok(allocated.ok);
        return { turn, attempts, relayed: allocated.value.relayed };
      };
      const first = await client();
      // A permitted peer opens 50 connections to the relayed address.
      const peer = network.addHost({ link: { latencyMs: 5 } });
      assert.ok((await drive(first.turn.permit([{ host: peer.addressText, port: 1 }]))).ok);
      let peerClosed = 0;
      for (let i = 0; i < 50; i++) {
        const connection = await drive(peer.env().net.connectTcp(first.relayed));
        opened.push(connection);
        connection.onClose(() => peerClosed++);
      }
      await elapse(200);
      assert.equal(tcp.connectionCount, LIMITS.connectionsPerAllocation, 'the allocation holds its bound');
      assert.equal(first.attempts.length, LIMITS.connectionsPerAllocation, 'one ConnectionAttempt per connection held');
      assert.equal(peerClosed, 50 - LIMITS.connectionsPerAllocation, 'the rest closed at once');
      assert.equal(service.turn.refused.get('connection_quota'), 50 - LIMITS.connectionsPerAllocation);
      // The same user's second allocation Connects to new peers: the user's bound stops it.
      const second = await client();
      const outcomes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const target = network.addHost({ link: { latencyMs: 5 } });
        await drive(target.env().net.listenTcp({ port: 80, onConnection: () => {} }));
        const id = await drive(second.turn.connect({ host: target.addressText, port: 80 }));
        outcomes.push(id.ok ? 200 : (id.error.status ?? 0));
      }
      const room = LIMITS.connectionsPerUser - LIMITS.connectionsPerAllocation;
      assert.deepEqual(outcomes, [...Array<number>(room).fill(200), ...Array<number>(5 - room).fill(508)]);
      assert.equal(tcp.connectionCount, LIMITS.connectionsPerUser);
      // Nobody binds: after the 30 s ConnectionBind timer every slot is free again.
      await elapse(DEFAULT_TCP_RELAY_LIMITS.bindTimeoutMs + 1_000);
      assert.equal(tcp.connectionCount, 0);
      assert.equal(service.turn.refused.get('bind_timeout'), LIMITS.connectionsPerUser);
      assert.equal(peerClosed, 50, 'every peer connection closed');
      const again = await drive(second.turn.connect({ host: peer.addressText, port: 1 }).then((r) => (r.ok ? 200 : (r.error.status ?? 0))));
      assert.equal(again, 447, 'a slot again (the peer does not listen on that port: 447, not 508)');
    } finally {
      for (const c of opened) c.close();
      service.close();
    }
  }));
