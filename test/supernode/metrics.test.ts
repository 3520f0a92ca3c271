// A supernode's metrics after real activity: a device attaches over real loopback sockets, a
// device with someone else's record is refused, a stranger's handshake fails, a STUN request is
// answered; every scrape is read by the strict reader, and each metric moved by what happened.
// Then the DHT's on the virtual network, and TURN's summed over relay threads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attachTo, AttachFailure } from '../../src/client/attachment.js';
import { connectSecure } from '../../src/crypto/secure-link.js';
import { SeededRandom } from '../../src/env/prng.js';
import { realEnv } from '../../src/env/real.js';
import type { UdpSocket } from '../../src/env/types.js';
import { decodeStun, encodeStun, StunClass, StunMethod } from '../../src/stun/stun.js';
import { supernodeMetrics } from '../../src/supernode/metrics.js';
import { serveSupernodeOps } from '../../src/supernode/ops.js';
import { startSupernode, type RunningSupernode } from '../../src/supernode/supernode.js';
import { Role } from '../../src/wire/messages.js';
import type { OpsServer } from '../../src/ops/ops-server.js';
import { testNetwork } from '../support/identities.js';
import { httpRequest, parseExposition, scrape, type Exposition } from '../support/prometheus.js';
import { testSeed, withSeed } from '../support/seed.js';
import { TurnClient } from '../../src/turn/turn-client.js';
import { LOOPBACK_PEERS } from '../../src/turn/peer-policy.js';
import { homeIndexOf } from '../../src/turn/relay-home.js';
import { overlayWorld } from '../support/supernodes.js';

/** How much a series grew between two scrapes (a series not there yet counts as 0). */
const grew = (before: Exposition, after: Exposition, name: string, labels?: Record<string, string>) => (after.value(name, labels) ?? 0) - (before.value(name, labels) ?? 0);

test('a supernode on real sockets counts attachments, refusals, failed handshakes and STUN answers', () =>
  withSeed(testSeed(), async (seed) => {
    const random = new SeededRandom(seed);
    const net = testNetwork(random);
    // Real time: certificates issued a second ago.
    const issued = { issuedAtMs: Date.now() - 1000 };
    const identity = net.identity('', { role: Role.SUPERNODE, ...issued });
    let supernode: RunningSupernode | null = null;
    let ops: OpsServer | null = null;
    let udp: UdpSocket | null = null;
    const links: { close(): void }[] = [];
    try {
      supernode = await startSupernode(realEnv, { identity, verifier: net.verifier, host: '127.0.0.1', port: 0, attachment: { maxClients: 1 } });
      ops = await serveSupernodeOps(supernode, { port: 0 });
      const address = { host: '127.0.0.1', port: supernode.port, dhKey: identity.dh.publicKey };
      const before = await scrape(ops.port);
      assert.equal(before.value('parley_supernode_attached_clients'), 0);
      assert.equal((await httpRequest(ops.port, '/readyz')).status, 200);

      const alice = await attachTo(realEnv, address, { identity: net.identity('alice', issued), verifier: net.verifier, username: 'alice' });
      links.push(alice.link);
      // bob sends a presence record for another user: refused as bad_presence.
      const refused = await attachTo(realEnv, address, { identity: net.identity('bob', issued), verifier: net.verifier, username: 'mallory' }).catch((e: unknown) => e);
      assert.ok(refused instanceof AttachFailure && refused.code === 'refused', String(refused));
      // A device of another network never completes its handshake.
      const other = testNetwork(random);
      const stranger = await connectSecure(realEnv, { host: '127.0.0.1', port: supernode.port, config: other.config(other.identity('eve', issued)) }).catch((e: unknown) => e);
      assert.ok(stranger instanceof Error);
      // One STUN binding request, one answer.
      udp = await realEnv.net.bindUdp({ host: '127.0.0.1', port: 0 });
      const answered = new Promise<boolean>((resolve) => udp!.onMessage((bytes) => resolve(decodeStun(bytes).ok)));
      udp.send(encodeStun({ method: StunMethod.BINDING, cls: StunClass.REQUEST, transactionId: random.bytes(12), attributes: [], classic: false }), { host: '127.0.0.1', port: supernode.stun!.primary.port });
      assert.ok(await answered);

      const after = await scrape(ops.port);
      assert.equal(after.value('parley_supernode_attached_clients'), 1);
      assert.equal(grew(before, after, 'parley_supernode_handshakes_total', { peer: 'device' }), 2, 'alice and bob');
      assert.equal(grew(before, after, 'parley_supernode_handshakes_total', { peer: 'supernode' }), 0);
      assert.equal(grew(before, after, 'parley_supernode_handshake_failures_total', { reason: 'wrong_network' }), 1);
      assert.equal(grew(before, after, 'parley_supernode_attach_refusals_total', { reason: 'bad_presence' }), 1);
      assert.equal(grew(before, after, 'parley_supernode_attach_refusals_bad_presence_total', { reason: 'wrong_user' }), 1, 'what was wrong with the record');
      assert.equal(grew(before, after, 'parley_supernode_stun_answers_total'), 1);
      assert.equal(after.types.get('parley_supernode_stun_answers_total'), 'counter');
      assert.equal(after.types.get('parley_supernode_attached_clients'), 'gauge');
      assert.equal(after.value('parley_supernode_turn_allocations'), 0);

      // Full (one client at most here): alive, not ready; closed: not ready either.
      const full = await httpRequest(ops.port, '/readyz');
      assert.deepEqual([full.status, full.body.startsWith('not ready: full')], [503, true]);
      assert.equal((await httpRequest(ops.port, '/healthz')).status, 200);
      supernode.close();
      const closed = await httpRequest(ops.port, '/readyz');
      assert.deepEqual([closed.status, closed.body], [503, 'not ready: closed\n']);
    } finally {
      for (const link of links) link.close();
      udp?.close();
      supernode?.close();
      await ops?.close();
    }
  }));

test('DHT metrics: routing table size and presence lookups by result', () =>
  withSeed(testSeed(), async (seed) => {
    const world = await overlayWorld(seed, 3);
    try {
      const first = world.supernodes[0]!.running;
      const read = async () => parseExposition(await supernodeMetrics(first).metrics());
      const before = await read();
      assert.equal(before.value('parley_supernode_dht_routing_table_contacts'), 2, 'the two others');
      assert.equal(before.value('parley_supernode_dht_records'), 0);
      const found = await world.drive(first.dht.findPresence('nobody'));
      assert.equal(found.records.length, 0);
      const after = await read();
      assert.equal(grew(before, after, 'parley_supernode_dht_presence_lookups_total', { result: 'not_found' }), 1);
      assert.equal(grew(before, after, 'parley_supernode_dht_presence_lookups_total', { result: 'found' }), 0);
      assert.ok((after.value('parley_supernode_dht_node_lookups_total') ?? 0) >= 1, 'joining looked nodes up');
      assert.equal(grew(before, after, 'parley_supernode_dht_contact_failures_total'), 0, 'every contact answered');

      // A supernode goes away: the lookups that ask it fail, and each failure is counted.
      world.supernodes[2]!.running.close();
      await world.drive(first.dht.findPresence('somebody'));
      const gone = await read();
      assert.ok(grew(after, gone, 'parley_supernode_dht_contact_failures_total') >= 1, 'the gone supernode did not answer');
      assert.equal(gone.value('parley_supernode_dht_contact_failures_total'), first.dht.counters.contactFailures);
    } finally {
      for (const s of world.supernodes) s.running.close();
    }
  }));

test('with relay threads, the TURN metrics are the sums over every thread', { timeout: 30_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const net = testNetwork(new SeededRandom(seed));
    const identity = net.identity('', { role: Role.SUPERNODE, issuedAtMs: Date.now() - 1000 });
    let supernode: RunningSupernode | null = null;
    const sockets: UdpSocket[] = [];
    const clients: TurnClient[] = [];
    try {
      supernode = await startSupernode(realEnv, { identity, verifier: net.verifier, host: '127.0.0.1', port: 0, stun: { relayWorkers: 2, allowPeers: LOOPBACK_PEERS } });
      const stun = supernode.stun!;
      const read = async () => parseExposition(await supernodeMetrics(supernode!).metrics());
      const before = await read();
      // One user at home on each thread: each Allocate is redirected once and relayed by its thread.
      for (let home = 0; home < 2; home++) {
        let i = 0;
        while (homeIndexOf(`user${i}`, 2) !== home) i++;
        const socket = await realEnv.net.bindUdp({ host: '127.0.0.1', port: 0 });
        sockets.push(socket);
        const turn = new TurnClient(socket, realEnv.clock, realEnv.random, stun.primary, stun.credentials(`user${i}`, 'dev'));
        clients.push(turn);
        assert.ok((await turn.allocate()).ok);
        assert.deepEqual(turn.server, stun.relayWorkers!.homes()[home]);
      }
      await stun.relayWorkers!.sync();
      const after = await read();
      assert.equal(after.value('parley_supernode_turn_allocations'), 2);
      assert.equal(grew(before, after, 'parley_supernode_turn_allocations_total'), 2);
      assert.equal(grew(before, after, 'parley_supernode_turn_redirects_total'), 2);
      assert.equal(stun.turn.allocationCount, 0, 'none on the main thread');
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      for (const socket of sockets) socket.close();
      supernode?.close();
      await supernode?.stun?.relayWorkers?.close();
    }
  }));
