// Hostile peers (issue 19, item 8): taking a supernode's slots without ever using them. One
// address must not hold every pending handshake, and one certificate must not hold links that
// never attach. A seeded virtual network.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectSecure, listenSecure, type SecureLink } from '../../src/crypto/secure-link.js';
import { Role } from '../../src/crypto/certificate.js';
import type { TcpConnection, TcpListener } from '../../src/env/types.js';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { SeededRandom } from '../../src/env/prng.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';
import { testSeed, withSeed } from '../support/seed.js';
import { overlayWorld } from '../support/supernodes.js';

const MAX_PENDING = 16;

test('one address that opens connections and says nothing cannot take every handshake slot', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const net = testNetwork(new SeededRandom(seed));
    const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
    const server = network.addHost();
    const identity = net.identity('', { role: Role.SUPERNODE });
    const accepted: SecureLink[] = [];
    const silent: TcpConnection[] = [];
    let listener: TcpListener | null = null;
    try {
      listener = await listenSecure(server.env(), { port: 33033, config: net.config(identity), maxPendingHandshakes: MAX_PENDING, handshakeTimeoutMs: 60_000, onLink: (link) => accepted.push(link) });
      // The attacker's host opens as many connections as there are slots, and sends nothing.
      const attacker = network.addHost().env();
      for (let i = 0; i < MAX_PENDING; i++) silent.push(await network.scheduler.drive(attacker.net.connectTcp({ host: server.addressText, port: 33033 })));
      await network.scheduler.drive(new Promise<void>((resolve) => network.scheduler.after(1_000, resolve)));
      // Well inside the handshake timeout, a client from elsewhere still gets in.
      const client = network.addHost().env();
      const link = await network.scheduler.drive(connectSecure(client, { host: server.addressText, port: 33033, config: net.config(net.identity('alice'), { remoteStaticKey: identity.dh.publicKey }), handshakeTimeoutMs: 5_000 }));
      accepted.push(link);
      assert.equal(link.peer.role, Role.SUPERNODE);
    } finally {
      for (const c of silent) c.close();
      for (const l of accepted) l.close();
      listener?.close();
    }
  }));

test('many addresses that open connections and say nothing cannot take every slot either: the oldest gives way to a newcomer', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const net = testNetwork(new SeededRandom(seed));
    const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
    const server = network.addHost();
    const identity = net.identity('', { role: Role.SUPERNODE });
    const accepted: SecureLink[] = [];
    const silent: TcpConnection[] = [];
    const failures: string[] = [];
    let listener: TcpListener | null = null;
    try {
      listener = await listenSecure(server.env(), { port: 33033, config: net.config(identity), maxPendingHandshakes: MAX_PENDING, handshakeTimeoutMs: 60_000, onLink: (link) => accepted.push(link), onFailure: (e) => failures.push(e.message) });
      // Eight addresses, each holding its whole share, together every slot; and they keep it up.
      const attackers = Array.from({ length: 8 }, () => network.addHost().env());
      for (let round = 0; round < 3; round++) {
        for (const attacker of attackers) for (let i = 0; i < MAX_PENDING / 8; i++) silent.push(await network.scheduler.drive(attacker.net.connectTcp({ host: server.addressText, port: 33033 })));
        await network.scheduler.drive(new Promise<void>((resolve) => network.scheduler.after(200, resolve)));
      }
      // Well inside the handshake timeout, with every slot held by silence, a client still gets in.
      const client = network.addHost().env();
      const link = await network.scheduler.drive(connectSecure(client, { host: server.addressText, port: 33033, config: net.config(net.identity('alice'), { remoteStaticKey: identity.dh.publicKey }), handshakeTimeoutMs: 5_000 }));
      accepted.push(link);
      assert.equal(link.peer.role, Role.SUPERNODE);
      assert.ok(failures.some((f) => /gave way/.test(f)), 'silent connections gave way, and it was counted');
    } finally {
      for (const c of silent) c.close();
      for (const l of accepted) l.close();
      listener?.close();
    }
  }));

test('one address that starts handshakes faster than any client would is refused beyond a burst, and others still get in', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const net = testNetwork(new SeededRandom(seed));
    const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
    const server = network.addHost();
    const identity = net.identity('', { role: Role.SUPERNODE });
    const accepted: SecureLink[] = [];
    const started: TcpConnection[] = [];
    const failures: string[] = [];
    let listener: TcpListener | null = null;
    try {
      listener = await listenSecure(server.env(), { port: 33033, config: net.config(identity), handshakeBurstPerHost: 8, handshakesPerSecondPerHost: 4, onLink: (link) => accepted.push(link), onFailure: (e) => failures.push(e.message) });
      // Connections opened and dropped at once, as a replay of a recorded first message would be: 40 in well under a second.
      const attacker = network.addHost().env();
      const fromMs = network.scheduler.now();
      for (let i = 0; i < 40; i++) {
        const connection = await network.scheduler.drive(attacker.net.connectTcp({ host: server.addressText, port: 33033 }));
        started.push(connection);
        connection.close();
      }
      await network.scheduler.drive(new Promise<void>((resolve) => network.scheduler.after(10, resolve)));
      const refused = failures.filter((f) => /started from this address lately/.test(f)).length;
      const refilled = Math.ceil((4 * (network.scheduler.now() - fromMs)) / 1000);
      assert.ok(refused >= 40 - 8 - refilled, `beyond the burst of 8 and ${refilled} refilled, refused at once: ${refused} of 40`);
      const client = network.addHost().env();
      const link = await network.scheduler.drive(connectSecure(client, { host: server.addressText, port: 33033, config: net.config(net.identity('alice'), { remoteStaticKey: identity.dh.publicKey }), handshakeTimeoutMs: 5_000 }));
      accepted.push(link);
      assert.equal(link.peer.role, Role.SUPERNODE, 'another address is not held back');
    } finally {
      for (const c of started) c.close();
      for (const l of accepted) l.close();
      listener?.close();
    }
  }));

test('one device certificate cannot hold many links that never attach: extra links are refused, idle ones closed', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const { net, network, drive, elapse, supernodes } = await overlayWorld(seed, 1);
    const supernode = supernodes[0]!;
    const links: SecureLink[] = [];
    try {
      const mallory = net.identity('mallory');
      const host = network.addHost().env();
      // Twenty links with one certificate, none of which ever sends an attach request.
      for (let i = 0; i < 20; i++) {
        const link = await drive(connectSecure(host, { host: supernode.ref.host, port: 33033, config: net.config(mallory, { remoteStaticKey: supernode.ref.dhKey }) }));
        links.push(link);
      }
      await elapse(500);
      assert.ok(supernode.running.links.size <= 4, `${supernode.running.links.size} links of one device held open`);
      // Long after any honest client would have attached, none is left.
      await elapse(15_000);
      assert.equal(supernode.running.links.size, 0, 'links that never attached were closed');
    } finally {
      for (const l of links) l.close();
      for (const s of supernodes) s.running.close();
    }
  }));
