// 300 Try Alternate (RFC 8489 section 10), as a relay on several threads uses it, on the virtual
// network: a TURN server that is not a user's home answers the user's signed Allocate with a
// signed 300 naming the home, never an unsigned one; our TurnClient checks it, follows it with
// the same credentials, and relays through the home from then on; a redirect loop ends.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import type { Endpoint, UdpSocket } from '../../src/env/types.js';
import { TurnServer } from '../../src/turn/turn-server.js';
import { TurnClient, MAX_REDIRECTS } from '../../src/turn/turn-client.js';
import { issueTurnCredentials, passwordFor } from '../../src/turn/turn-credentials.js';
import { testSeed, withSeed } from '../support/seed.js';

async function world(seed: number) {
  const network = new VirtualNetwork(seed);
  const drive = <T>(work: Promise<T>) => network.scheduler.drive(work);
  const sn = network.addHost({ link: { latencyMs: 5 } });
  const env = sn.env();
  const secret = new Uint8Array(32).fill(9);
  /** A TURN server on `port` whose users' home is `home()` (null: here). */
  const server = async (port: number, home: () => Endpoint | null) => {
    const socket = await drive(env.net.bindUdp({ port }));
    const turn = new TurnServer(env.clock, {
      realm: 'parley',
      secret,
      passwordFor: (username, nowMs) => passwordFor(secret, username, nowMs),
      bindRelay: (relayPort) => env.net.bindUdp({ port: relayPort }),
      relayHost: sn.addressText,
      random: env.random,
      homeOf: () => home(),
    });
    socket.onMessage((bytes, from) => void turn.receive(bytes, from, socket));
    return { turn, endpoint: { host: sn.addressText, port } as Endpoint };
  };
  const client = async (server: Endpoint) => {
    const host = network.addHost({ behind: network.addGateway({ nat: 'port-restricted' }), link: { latencyMs: 5 } });
    const hostEnv = host.env();
    const socket: UdpSocket = await drive(hostEnv.net.bindUdp({ port: 0 }));
    const moves: Endpoint[] = [];
    const turn = new TurnClient(socket, hostEnv.clock, hostEnv.random, server, issueTurnCredentials(secret, 'alice', 'dev', hostEnv.clock.wallTimeMs()), undefined, (to) => moves.push(to));
    return { turn, moves };
  };
  const peer = async () => {
    const host = network.addHost({ link: { latencyMs: 5 } });
    const socket = await drive(host.env().net.bindUdp({ port: 7000 }));
    const heard: string[] = [];
    socket.onMessage((bytes, from) => {
      heard.push(new TextDecoder().decode(bytes));
      socket.send(bytes, from);
    });
    return { endpoint: { host: host.addressText, port: 7000 } as Endpoint, heard };
  };
  const elapse = (ms: number) => drive(new Promise<void>((resolve) => network.scheduler.after(ms, resolve)));
  return { drive, elapse, server, client, peer };
}

test('an Allocate at a server that is not the user\'s home is redirected there, signed; the client follows and relays through the home', () =>
  withSeed(testSeed(), async (seed) => {
    const { drive, elapse, server, client, peer } = await world(seed);
    const home = await server(3479, () => null);
    const front = await server(3478, () => home.endpoint);
    const alice = await client(front.endpoint);
    const allocated = await drive(alice.turn.allocate());
    assert.ok(allocated.ok, JSON.stringify(allocated));
    assert.deepEqual(alice.turn.server, home.endpoint);
    assert.deepEqual(alice.moves, [home.endpoint], 'told before anything went to the home');
    // The front answered the unsigned first Allocate with 401 (a 300 goes to signed requests only), the signed one with 300.
    assert.equal(front.turn.refused.get('unauthenticated'), 1);
    assert.equal(front.turn.redirected, 1);
    assert.equal(front.turn.allocationCount, 0);
    // The home took the nonce the front issued (same secret, same client address): no second challenge.
    assert.equal(home.turn.refused.get('unauthenticated') ?? 0, 0);
    assert.equal(home.turn.allocationCount, 1);
    const bob = await peer();
    assert.ok((await drive(alice.turn.bindChannel(bob.endpoint))).ok);
    const echoed: string[] = [];
    alice.turn.onData((_from, data) => echoed.push(new TextDecoder().decode(data)));
    alice.turn.send(bob.endpoint, new TextEncoder().encode('via the home'));
    await elapse(100);
    assert.deepEqual(bob.heard, ['via the home']);
    assert.deepEqual(echoed, ['via the home']);
    assert.equal(home.turn.relayed.toPeers, 1);
    await drive(alice.turn.close());
    assert.equal(home.turn.allocationCount, 0, 'the release went to the home too');
  }));

test('two servers that send a user to each other: the client stops after MAX_REDIRECTS and reports the 300', () =>
  withSeed(testSeed(), async (seed) => {
    const { drive, server, client } = await world(seed);
    let b: Endpoint | null = null;
    const a = await server(3478, () => b);
    b = (await server(3479, () => a.endpoint)).endpoint;
    const alice = await client(a.endpoint);
    const allocated = await drive(alice.turn.allocate());
    assert.ok(!allocated.ok && allocated.error.status === 300, JSON.stringify(allocated));
    assert.equal(alice.moves.length, MAX_REDIRECTS);
  }));
