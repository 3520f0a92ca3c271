// Hostile TCP peers (issue 19, item 8, TURN's part): connections to TURN over TCP that send
// nothing, half a message, or a message a byte at a time. Before, each was kept for good (a
// socket, a buffer, a slot of MAX_STREAMS). Now a connection that completes no message for
// STREAM_STALL_MS is closed — unless it holds an allocation and nothing half-sent (a quiet
// client, bounded by its allocation's lifetime) — and one source address holds at most
// MAX_STREAMS_PER_SOURCE connections. Virtual time: the waits are bounded and exact.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import type { TcpConnection } from '../../src/env/types.js';
import { StunClass, StunMethod, encodeStun } from '../../src/stun/stun.js';
import { TurnClient } from '../../src/turn/turn-client.js';
import { streamSocket } from '../../src/turn/turn-tcp.js';
import { MAX_STREAMS_PER_SOURCE, STREAM_STALL_MS } from '../../src/turn/turn-server.js';
import { startStunService } from '../../src/supernode/stun-service.js';
import { testSeed, withSeed } from '../support/seed.js';

const PORT = 3478;
const TCP_PORT = 443;

test('stalled TURN-over-TCP connections are closed; a quiet client with an allocation is not; connections per source are bounded', () =>
  withSeed(testSeed(), async (seed) => {
    const network = new VirtualNetwork(seed);
    const drive = <T>(work: Promise<T>) => network.scheduler.drive(work);
    const elapse = (ms: number) => drive(new Promise<void>((resolve) => network.scheduler.after(ms, resolve)));
    const sn = network.addHost({ link: { latencyMs: 5 } });
    const server = { host: sn.addressText, port: TCP_PORT };
    const service = await drive(startStunService(sn.env(), { port: PORT, advertisedHost: sn.addressText, tcpPorts: [TCP_PORT] }));
    const opened: TcpConnection[] = [];
    try {
      const connectFrom = async (host: ReturnType<typeof network.addHost>) => {
        const connection = await drive(host.env().net.connectTcp(server));
        opened.push(connection);
        let closed = false;
        connection.onClose(() => (closed = true));
        return { connection, closed: () => closed };
      };
      const attacker = network.addHost({ link: { latencyMs: 5 } });
      const silent = await connectFrom(attacker);
      const partial = await connectFrom(attacker);
      const trickle = await connectFrom(attacker);
      const message = encodeStun({ method: StunMethod.ALLOCATE, cls: StunClass.REQUEST, transactionId: new Uint8Array(12), attributes: [], classic: false });
      partial.connection.write(message.slice(0, 10));
      // A byte every half stall: each arrival is progress of a sort, but no message ever completes.
      let sentBytes = 0;
      const drip = () => {
        if (trickle.closed() || sentBytes >= message.byteLength - 1) return;
        trickle.connection.write(message.slice(sentBytes, sentBytes + 1));
        sentBytes++;
        network.scheduler.after(STREAM_STALL_MS / 2, drip);
      };
      drip();

      // A client over TCP that allocates and then says nothing for longer than the stall bound.
      const honest = network.addHost({ link: { latencyMs: 5 } });
      const link = await connectFrom(honest);
      const alice = new TurnClient(streamSocket(link.connection, server), honest.env().clock, honest.env().random, server, service.credentials('alice', 'dev'));
      assert.ok((await drive(alice.allocate())).ok);

      await elapse(STREAM_STALL_MS + 1_000);
      assert.ok(silent.closed(), 'a connection that sent nothing is closed');
      assert.ok(partial.closed(), 'a connection with half a message is closed');
      assert.ok(trickle.closed(), 'a connection that trickles a message is closed');
      assert.ok(sentBytes < message.byteLength - 1, 'closed before the trickled message could complete');
      assert.equal(service.turn.refused.get('stalled_stream'), 3);
      assert.equal(link.closed(), false, 'the quiet client with an allocation keeps its connection');
      assert.equal(service.turn.allocationCount, 1);

      // Connections per source: the one past the bound is closed at once, another source still gets in.
      const flood = [];
      for (let i = 0; i < MAX_STREAMS_PER_SOURCE + 1; i++) flood.push(await connectFrom(attacker));
      await elapse(100);
      assert.equal(flood.filter((c) => c.closed()).length, 1, 'only the one past the bound');
      assert.equal(service.turn.refused.get('streams_per_source'), 1);
      const elsewhere = await connectFrom(network.addHost({ link: { latencyMs: 5 } }));
      await elapse(100);
      assert.equal(elsewhere.closed(), false, 'another source is not refused');

      await drive(alice.close());
      // Released (Refresh with lifetime 0): the connection is an idle one now, and goes too.
      await elapse(STREAM_STALL_MS + 1_000);
      assert.ok(link.closed(), 'without its allocation the quiet connection is closed');
    } finally {
      for (const c of opened) c.close();
      service.close();
    }
  }));
