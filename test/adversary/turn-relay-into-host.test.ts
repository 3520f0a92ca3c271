// Hostile users (issue 19, item 9): a user with valid TURN credentials names as its peer an
// address inside the supernode's own network — loopback, RFC 1918, the carrier's shared space,
// the cloud's metadata address — or the supernode's own ports. Before, the relay carried their
// datagrams there. Now CreatePermission and ChannelBind get 403, a Send indication is dropped,
// and nothing arrives at a listener there; a peer on the internet still gets through (the
// control that shows "nothing arrived" means something).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { realEnv } from '../../src/env/real.js';
import type { Endpoint, UdpSocket } from '../../src/env/types.js';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { TurnClient } from '../../src/turn/turn-client.js';
import { StunClass, StunMethod, encodeStun } from '../../src/stun/stun.js';
import { parseCidrList } from '../../src/turn/peer-policy.js';
import { startStunService, type StunService } from '../../src/supernode/stun-service.js';
import { testSeed, withSeed } from '../support/seed.js';

const PORT = 3478;
const LISTEN_PORT = 7000;
const text = (s: string) => new TextEncoder().encode(s);
/** A Binding request: what the supernode's own STUN port would answer if the relay carried it there. */
const bindingRequest = () => encodeStun({ method: StunMethod.BINDING, cls: StunClass.REQUEST, transactionId: new Uint8Array(12).fill(9), attributes: [], classic: false });

test('on the virtual internet: private, shared, link-local (metadata) and the supernode\'s own addresses are refused as peers, and receive nothing', () =>
  withSeed(testSeed(), async (seed) => {
    const network = new VirtualNetwork(seed);
    const drive = <T>(work: Promise<T>) => network.scheduler.drive(work);
    const elapse = (ms: number) => drive(new Promise<void>((resolve) => network.scheduler.after(ms, resolve)));
    const sn = network.addHost({ link: { latencyMs: 5 } });
    const service = await drive(startStunService(sn.env(), { port: PORT, advertisedHost: sn.addressText }));
    try {
      const heard: string[] = [];
      const listen = async (env: ReturnType<typeof sn.env>, port: number, name: string) => {
        const socket = await drive(env.net.bindUdp({ port }));
        socket.onMessage(() => heard.push(name));
        return socket;
      };
      // Listeners where a relay must not reach: hosts at such addresses, and another port of the supernode's host.
      const forbidden: Endpoint[] = [];
      for (const address of ['10.0.0.1', '172.16.5.5', '192.168.1.1', '100.64.0.1', '169.254.169.254']) {
        await listen(network.addHost({ address, link: { latencyMs: 5 } }).env(), LISTEN_PORT, address);
        forbidden.push({ host: address, port: LISTEN_PORT });
      }
      await listen(sn.env(), LISTEN_PORT, 'the supernode host');
      forbidden.push({ host: sn.addressText, port: LISTEN_PORT }, { host: sn.addressText, port: PORT });
      const bob = network.addHost({ link: { latencyMs: 5 } });
      await listen(bob.env(), LISTEN_PORT, 'bob');

      const aliceHost = network.addHost({ behind: network.addGateway({ nat: 'port-restricted' }), link: { latencyMs: 5 } });
      const socket = await drive(aliceHost.env().net.bindUdp({ port: 0 }));
      const alice = new TurnClient(socket, aliceHost.env().clock, aliceHost.env().random, { host: sn.addressText, port: PORT }, service.credentials('alice', 'dev'));
      try {
        assert.ok((await drive(alice.allocate())).ok);
        const answeredBefore = service.server.answered;
        for (const peer of forbidden) {
          const permit = await drive(alice.permit([peer]));
          assert.equal(permit.ok ? 0 : permit.error.status, 403, `CreatePermission for ${peer.host}:${peer.port}`);
          const channel = await drive(alice.bindChannel(peer));
          assert.equal(channel.ok ? 0 : channel.error.status, 403, `ChannelBind for ${peer.host}:${peer.port}`);
          alice.send(peer, bindingRequest());
        }
        // The control: bob, on the internet, is permitted and hears alice.
        assert.ok((await drive(alice.permit([{ host: bob.addressText, port: LISTEN_PORT }]))).ok);
        alice.send({ host: bob.addressText, port: LISTEN_PORT }, text('hello bob'));
        await elapse(200);
        assert.deepEqual(heard, ['bob'], 'only the peer on the internet heard anything');
        assert.equal(service.server.answered, answeredBefore, 'the supernode\'s own STUN port got nothing through its relay');
        assert.equal(service.turn.relayed.toPeers, 1);
        assert.equal(service.turn.refused.get('forbidden_peer'), 2 * forbidden.length, 'each refused request counted');
      } finally {
        await drive(alice.close());
      }
    } finally {
      service.close();
    }
  }));

test('on real sockets: a supernode refuses 127.0.0.1 as a peer by default; allowed loopback (parley local) still never reaches its own STUN/TURN port', { timeout: 30_000 }, async () => {
  const sockets: UdpSocket[] = [];
  const services: StunService[] = [];
  const clients: TurnClient[] = [];
  try {
    const listener = await realEnv.net.bindUdp({ host: '127.0.0.1', port: 0 });
    sockets.push(listener);
    let heard = 0;
    listener.onMessage(() => heard++);
    const allocate = async (service: StunService) => {
      const socket = await realEnv.net.bindUdp({ host: '127.0.0.1', port: 0 });
      sockets.push(socket);
      const client = new TurnClient(socket, realEnv.clock, realEnv.random, service.primary, service.credentials('alice', 'dev'));
      clients.push(client);
      assert.ok((await client.allocate()).ok);
      return client;
    };
    const status = (result: { ok: boolean; error?: { status?: number } }) => (result.ok ? 0 : result.error?.status);

    // A supernode on the internet (no allow list), reached here over loopback: loopback is the host's own.
    const strict = await startStunService(realEnv, { host: '127.0.0.1', port: 0, advertisedHost: '127.0.0.1' });
    services.push(strict);
    const alice = await allocate(strict);
    assert.equal(status(await alice.permit([listener.local])), 403);
    assert.equal(status(await alice.bindChannel(listener.local)), 403);
    alice.send(listener.local, text('into the host'));
    // A signed round trip after the Send: the server has handled it by the time the answer is here.
    assert.equal(status(await alice.permit([{ host: '127.0.0.2', port: 9 }])), 403);
    assert.equal(strict.turn.relayed.toPeers, 0, 'nothing relayed');
    assert.equal(strict.turn.refused.get('forbidden_peer'), 3, 'each refused request counted (the Send had no permission to use)');

    // `parley local`: loopback allowed, so the listener is reached, but the supernode's own port is not.
    const allowPeers = parseCidrList('127.0.0.0/8,::1');
    assert.ok(allowPeers.ok);
    const local = await startStunService(realEnv, { host: '127.0.0.1', port: 0, advertisedHost: '127.0.0.1', allowPeers: allowPeers.value });
    services.push(local);
    const bob = await allocate(local);
    assert.equal(status(await bob.permit([listener.local])), 0, 'loopback is allowed here');
    const arrived = new Promise<void>((resolve) => listener.onMessage(() => resolve()));
    bob.send(listener.local, text('hello'));
    await arrived;
    const answeredBefore = local.server.answered;
    assert.equal(status(await bob.permit([local.primary])), 403, 'its own STUN/TURN port');
    assert.equal(status(await bob.bindChannel(local.primary)), 403);
    bob.send(local.primary, bindingRequest());
    assert.equal(status(await bob.permit([listener.local])), 0);
    assert.equal(local.server.answered, answeredBefore, 'its own port got nothing through its relay');
    assert.equal(local.turn.relayed.toPeers, 1);
    assert.equal(heard, 0, 'the strict supernode let nothing through to the listener');
  } finally {
    // Each releases its allocation (and waits for the answer) before the sockets go.
    await Promise.all(clients.map((c) => c.close()));
    for (const s of services) s.close();
    for (const s of sockets) s.close();
  }
});
