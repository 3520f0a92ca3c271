// Hostile senders (issue 19, item 10): requests nobody signed, from one source address (which
// over UDP may be a spoofed victim's). Before, every unauthenticated TURN request got its 401 —
// 84 bytes for a 20-byte Refresh, 4.2 times — without any limit: a reflector. Now what such
// answers add beyond their requests comes out of a per-source budget (shared with Binding
// answers), so over a flood the source gets back fewer bytes than it sent, for every kind of
// request; a client at another address still gets its Binding answer and its allocation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { Attr, StunClass, StunMethod, decodeStun, encodeStun, type StunAttribute } from '../../src/stun/stun.js';
import { StunTransactions } from '../../src/stun/stun-client.js';
import { TurnClient } from '../../src/turn/turn-client.js';
import { startStunService } from '../../src/supernode/stun-service.js';
import { testSeed, withSeed } from '../support/seed.js';

const PORT = 3478;
const FLOOD_ROUNDS = 300;
const ROUND_MS = 10;

/** The unauthenticated requests of a flood: each kind is answered (or was) with something. */
const KINDS: readonly { name: string; method: number; attributes: StunAttribute[] }[] = [
  { name: 'Binding', method: StunMethod.BINDING, attributes: [] },
  { name: 'Allocate', method: StunMethod.ALLOCATE, attributes: [{ type: Attr.REQUESTED_TRANSPORT, value: Uint8Array.of(17, 0, 0, 0) }] },
  { name: 'Refresh', method: StunMethod.REFRESH, attributes: [] },
  { name: 'CreatePermission', method: StunMethod.CREATE_PERMISSION, attributes: [] },
  { name: 'unknown method', method: 0x00f, attributes: [] },
  { name: 'unknown attribute', method: StunMethod.ALLOCATE, attributes: [{ type: 0x7ff0, value: Uint8Array.of(1, 2, 3, 4) }] },
];

test('a flood of unauthenticated requests from one source gets back fewer bytes than it sent, per kind; another client is served', () =>
  withSeed(testSeed(), async (seed) => {
    const network = new VirtualNetwork(seed);
    const drive = <T>(work: Promise<T>) => network.scheduler.drive(work);
    const elapse = (ms: number) => drive(new Promise<void>((resolve) => network.scheduler.after(ms, resolve)));
    const sn = network.addHost({ link: { latencyMs: 5 } });
    const server = { host: sn.addressText, port: PORT };
    const service = await drive(startStunService(sn.env(), { port: PORT, advertisedHost: sn.addressText }));
    try {
      const flooder = network.addHost({ link: { latencyMs: 5 } });
      const socket = await drive(flooder.env().net.bindUdp({ port: 5000 }));
      const sent = KINDS.map(() => 0);
      const received = KINDS.map(() => 0);
      socket.onMessage((bytes) => {
        const decoded = decodeStun(bytes);
        assert.ok(decoded.ok);
        received[decoded.value.transactionId[0]!]! += bytes.byteLength;
      });
      let serial = 0;
      for (let round = 0; round < FLOOD_ROUNDS; round++) {
        KINDS.forEach((kind, i) => {
          const transactionId = new Uint8Array(12);
          transactionId[0] = i;
          new DataView(transactionId.buffer).setUint32(8, ++serial);
          const request = encodeStun({ method: kind.method, cls: StunClass.REQUEST, transactionId, attributes: kind.attributes, classic: false });
          sent[i]! += request.byteLength;
          socket.send(request, server);
        });
        await elapse(ROUND_MS);
      }
      await elapse(500);
      KINDS.forEach((kind, i) => {
        assert.ok(received[i]! > 0, `${kind.name}: some answers (a burst) came back`);
        assert.ok(received[i]! <= sent[i]!, `${kind.name}: ${received[i]} bytes back for ${sent[i]} sent`);
      });
      const total = received.reduce((a, b) => a + b) / sent.reduce((a, b) => a + b);
      assert.ok(total <= 1, `bytes out / bytes in over the flood: ${total.toFixed(2)}`);
      assert.ok((service.turn.refused.get('reply_budget') ?? 0) > 0, 'withheld TURN answers counted');

      // Other sources are not caught by the flooder's budget: a NAT discovery and an allocation.
      const other = network.addHost({ behind: network.addGateway({ nat: 'port-restricted' }), link: { latencyMs: 5 } });
      const stunSocket = await drive(other.env().net.bindUdp({ port: 0 }));
      const binding = await drive(new StunTransactions(stunSocket, other.env().clock, other.env().random).request(server));
      stunSocket.close();
      assert.ok(binding.ok, 'a Binding request from elsewhere is answered');
      const otherSocket = await drive(other.env().net.bindUdp({ port: 0 }));
      const alice = new TurnClient(otherSocket, other.env().clock, other.env().random, server, service.credentials('alice', 'dev'));
      try {
        assert.ok((await drive(alice.allocate())).ok, 'a client at another address allocates');
      } finally {
        await drive(alice.close());
      }
    } finally {
      service.close();
    }
  }));
