// TURN over UDP on several threads (supernode/relay-workers.ts), on real loopback sockets: an
// Allocate at the supernode's port is redirected (300 Try Alternate) to the user's home thread,
// which relays; users of every thread relay, also relay to relay across threads; a user's quota
// holds whichever thread the client asks; a thread that dies takes only its allocations with it
// and is started again; coturn's turnutils_uclient follows the redirect; the counters are summed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { realEnv } from '../../src/env/real.js';
import type { Endpoint, UdpSocket } from '../../src/env/types.js';
import { startStunService, type StunService, type StunServiceOptions } from '../../src/supernode/stun-service.js';
import { LOOPBACK_PEERS } from '../../src/turn/peer-policy.js';
import { homeIndexOf } from '../../src/turn/relay-home.js';
import { TurnClient } from '../../src/turn/turn-client.js';

const WORKERS = 2;
const WAIT_MS = 5_000;
const text = (s: string) => new TextEncoder().encode(s);
const words = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A user whose home is thread `home` (names are tried in order: the hash decides). */
function userAt(home: number, prefix = 'user'): string {
  for (let i = 0; ; i++) if (homeIndexOf(`${prefix}${i}`, WORKERS) === home) return `${prefix}${i}`;
}

/** Everything a test opens, closed in `finally`. */
class Scene {
  readonly sockets: UdpSocket[] = [];
  readonly clients: TurnClient[] = [];
  service: StunService | null = null;

  async start(options: Partial<StunServiceOptions> = {}): Promise<StunService> {
    this.service = await startStunService(realEnv, { host: '127.0.0.1', port: 0, advertisedHost: '127.0.0.1', allowPeers: LOOPBACK_PEERS, relayWorkers: WORKERS, ...options });
    return this.service;
  }

  async socket(): Promise<UdpSocket> {
    const socket = await realEnv.net.bindUdp({ host: '127.0.0.1', port: 0 });
    this.sockets.push(socket);
    return socket;
  }

  /** A TURN client of `user` on a socket of its own, asking `server` (default: the supernode's port). */
  async client(user: string, server?: Endpoint) {
    const service = this.service!;
    const socket = await this.socket();
    const turn = new TurnClient(socket, realEnv.clock, realEnv.random, server ?? service.primary, service.credentials(user, 'dev'));
    this.clients.push(turn);
    const data: { peer: Endpoint; text: string }[] = [];
    const waiting: (() => void)[] = [];
    turn.onData((peer, bytes) => {
      data.push({ peer, text: words(bytes) });
      for (const wake of waiting.splice(0)) wake();
    });
    /** Resolves once `count` datagrams came through the relay; rejects after WAIT_MS. */
    const received = (count: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${user}: ${data.length} of ${count} datagrams within ${WAIT_MS} ms`)), WAIT_MS);
        const check = () => {
          if (data.length >= count) {
            clearTimeout(timer);
            resolve();
          } else waiting.push(check);
        };
        check();
      });
    return { turn, data, received };
  }

  /** A peer that sends back what it gets. */
  async echo(): Promise<Endpoint> {
    const socket = await this.socket();
    socket.onMessage((bytes, from) => socket.send(bytes, from));
    return socket.local;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
    for (const socket of this.sockets) socket.close();
    this.service?.close();
    // close() ends the threads in the background; here they are waited for.
    await this.service?.relayWorkers?.close();
  }
}

test('with two relay threads, an Allocate at the supernode goes to the user\'s home thread; relay to relay works across threads, service ports stay out; counters are summed', { timeout: 30_000 }, async () => {
  const scene = new Scene();
  try {
    // No allow list: loopback peers are refused but for this host's relays (of any thread).
    const service = await scene.start({ allowPeers: [] });
    const workers = service.relayWorkers!;
    assert.equal(workers.count, WORKERS);
    const homes = workers.homes();
    const clients = [];
    for (let home = 0; home < WORKERS; home++) {
      const client = await scene.client(userAt(home));
      const allocated = await client.turn.allocate();
      assert.ok(allocated.ok, JSON.stringify(allocated));
      assert.deepEqual(client.turn.server, homes[home], `thread ${home} holds the allocation`);
      assert.notEqual(client.turn.server.port, service.primary.port);
      clients.push({ ...client, relayed: allocated.value.relayed });
    }
    const [a, b] = clients as [(typeof clients)[0], (typeof clients)[0]];
    // Relay to relay: each thread sends to a relay the other holds (the port board says it is a relay of this host).
    assert.ok((await a.turn.permit([b.relayed])).ok);
    assert.ok((await b.turn.bindChannel(a.relayed)).ok);
    a.turn.send(b.relayed, text('a to b'));
    await b.received(1);
    assert.deepEqual(b.data[0], { peer: a.relayed, text: 'a to b' });
    b.turn.send(a.relayed, text('b to a'));
    await a.received(1);
    assert.deepEqual(a.data[0], { peer: b.relayed, text: 'b to a' });
    // The other thread's service port and any other port of this host are refused.
    const intoService = await a.turn.permit([homes[1]!]);
    assert.ok(!intoService.ok && intoService.error.status === 403, JSON.stringify(intoService));
    const intoHost = await a.turn.permit([{ host: '127.0.0.1', port: 9 }]);
    assert.ok(!intoHost.ok && intoHost.error.status === 403, JSON.stringify(intoHost));
    // The main thread relayed nothing; the sums are every thread's.
    assert.equal(service.turn.allocationCount, 0);
    assert.equal(service.turn.relayed.toPeers, 0);
    const totals = await workers.sync();
    assert.equal(totals.allocations, 2);
    assert.equal(totals.allocationsCreated, 2);
    assert.deepEqual(totals.relayed, { toPeers: 2, toClients: 2, bytes: 24 });
    assert.deepEqual([...totals.forbiddenPeers].sort(), [['own_address', 1], ['own_service', 1]]);
    assert.equal(service.turnTotals().redirected, 2, 'each Allocate was redirected once, by the main thread');
    assert.equal(service.turnTotals().allocations, 2);
  } finally {
    await scene.close();
  }
});

test('a user\'s allocation quota holds across threads: a client that asks another thread directly is sent home, and refused there', { timeout: 30_000 }, async () => {
  const scene = new Scene();
  try {
    const service = await scene.start({ turnLimits: { allocationsPerUser: 2 } });
    const workers = service.relayWorkers!;
    const user = userAt(0);
    for (let i = 0; i < 2; i++) assert.ok((await (await scene.client(user)).turn.allocate()).ok);
    const third = await (await scene.client(user)).turn.allocate();
    assert.ok(!third.ok && third.error.status === 486, JSON.stringify(third));
    // Straight to the other thread's port: 300 to the home thread, which refuses.
    const elsewhere = await scene.client(user, workers.homes()[1]);
    const sneaky = await elsewhere.turn.allocate();
    assert.ok(!sneaky.ok && sneaky.error.status === 486, JSON.stringify(sneaky));
    assert.deepEqual(elsewhere.turn.server, workers.homes()[0]);
    const totals = await workers.sync();
    assert.equal(totals.allocations, 2);
    assert.equal(totals.refused.get('quota'), 2);
  } finally {
    await scene.close();
  }
});

test('a relay thread that dies takes its own allocations only, and is started again on its port', { timeout: 30_000 }, async () => {
  const scene = new Scene();
  try {
    const service = await scene.start();
    const workers = service.relayWorkers!;
    const homesBefore = workers.homes();
    const echo = await scene.echo();
    const [doomed, survivor] = [await scene.client(userAt(0, 'doomed')), await scene.client(userAt(1, 'survivor'))];
    const lost = await doomed.turn.allocate();
    assert.ok(lost.ok && (await survivor.turn.allocate()).ok);
    assert.ok((await doomed.turn.bindChannel(echo)).ok && (await survivor.turn.bindChannel(echo)).ok);
    assert.ok(workers.board.view(0).isRelay(lost.value.relayed.port));
    // Counters are posted every second; asked now, the dead thread's last ones include its allocation.
    assert.equal((await workers.sync()).allocationsCreated, 2);
    const restarted = workers.nextRestart();
    await workers.crash(0);
    assert.equal(await restarted, 0);
    assert.equal(workers.restarts, 1);
    assert.deepEqual(workers.homes(), homesBefore, 'the thread came back on its port');
    assert.ok(!workers.board.view(0).isRelay(lost.value.relayed.port), "the dead thread's relay left the board");
    // The other thread kept its allocation and relays as before.
    survivor.turn.send(echo, text('still here'));
    await survivor.received(1);
    // The dead thread's allocation is gone: the same client (same 5-tuple) gets a fresh one
    // (an allocation still there would answer another transaction's Allocate with 437).
    const again = await doomed.turn.allocate();
    assert.ok(again.ok, JSON.stringify(again));
    assert.ok((await doomed.turn.bindChannel(echo)).ok);
    doomed.turn.send(echo, text('back'));
    await doomed.received(1);
    assert.equal(doomed.data[0]!.text, 'back');
    const totals = await workers.sync();
    assert.equal(totals.allocations, 2);
    assert.equal(totals.allocationsCreated, 3, "the dead thread's counters stay in the sums");
  } finally {
    await scene.close();
  }
});

test("coturn's turnutils_uclient follows the redirect to a relay thread and gets every packet relayed, RTCP reservations too", { timeout: 60_000 }, async () => {
  const scene = new Scene();
  try {
    const service = await scene.start();
    const port = String(service.primary.port);
    const { username, password } = service.credentials('alice', 'd3v1ce');
    // -y: two allocations relay to each other; -c: no RTCP relays; without it, EVEN-PORT reservations claimed by token.
    for (const [mode, sessions] of [[['-c'], 2], [[], 4]] as const) {
      const before = (await service.relayWorkers!.sync()).relayed.toPeers;
      const out = await promisify(execFile)('turnutils_uclient', ['-y', ...mode, '-n', '50', '-l', '100', '-u', username, '-w', password, '-p', port, '127.0.0.1'], { timeout: 20_000 }).then(
        ({ stdout, stderr }) => stdout + stderr,
        (error: { code?: string; stdout?: string; stderr?: string }) => {
          if (error.code === 'ENOENT') throw new Error("turnutils_uclient is not installed: run scripts/setup (it installs Debian's coturn)");
          return `${error.stdout ?? ''}${error.stderr ?? ''}\n(exit: ${String(error.code)})`;
        },
      );
      assert.match(out, new RegExp(`tot_send_msgs=${50 * sessions}, tot_recv_msgs=${50 * sessions}\\b`), out);
      assert.match(out, /Total lost packets 0 \(0\.0+%\)/, out);
      const after = (await service.relayWorkers!.sync()).relayed.toPeers;
      assert.ok(after - before >= 50 * sessions, `the relay threads relayed ${after - before} to peers`);
    }
    assert.equal(service.turn.relayed.toPeers, 0, 'nothing was relayed by the main thread');
    assert.ok(service.turnTotals().redirected >= 1);
  } finally {
    await scene.close();
  }
});

test('a relay thread gives IPv6 relays too, to a client that asks over IPv4 (REQUESTED-ADDRESS-FAMILY)', { timeout: 30_000 }, async () => {
  const scene = new Scene();
  try {
    // The IPv6 socket takes the IPv4 one's port number: a number taken on ::1 means another try.
    for (let attempt = 1; !scene.service; attempt++) {
      await scene.start({ ipv6: { host: '::1' } }).catch((error: unknown) => {
        if ((error as { code?: string }).code !== 'address_in_use' || attempt >= 5) throw error;
      });
    }
    const user = userAt(1);
    const client = await scene.client(user);
    const allocated = await client.turn.allocate(600, 'ipv6');
    assert.ok(allocated.ok, JSON.stringify(allocated));
    assert.equal(allocated.value.relayed.host, '::1');
    assert.deepEqual(client.turn.server, scene.service!.relayWorkers!.homes()[1]);
    const echo6 = await realEnv.net.bindUdp({ host: '::1', port: 0 });
    scene.sockets.push(echo6);
    echo6.onMessage((bytes, from) => echo6.send(bytes, from));
    assert.ok((await client.turn.bindChannel(echo6.local)).ok);
    client.turn.send(echo6.local, text('over IPv6'));
    await client.received(1);
    assert.deepEqual(client.data[0], { peer: echo6.local, text: 'over IPv6' });
    assert.equal((await scene.service!.relayWorkers!.sync()).ipv6AllocationsCreated, 1);
  } finally {
    await scene.close();
  }
});
