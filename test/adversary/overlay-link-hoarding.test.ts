// Hostile peers (issue 19, item 8): taking a supernode's slots without ever using them. One
// address must not hold every pending handshake, and one certificate must not hold links that
// never attach. A seeded virtual network.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectSecure, listenSecure, type ListenOptions, type SecureLink } from '../../src/crypto/secure-link.js';
import { Role } from '../../src/crypto/certificate.js';
import type { Env, TcpConnection, TcpListener } from '../../src/env/types.js';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { SeededRandom } from '../../src/env/prng.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';
import { testSeed, withSeed } from '../support/seed.js';
import { overlayWorld } from '../support/supernodes.js';

const MAX_PENDING = 16;

/**
 * A secure-link listener alone on a seeded virtual network, with what it accepted and why it
 * refused; `attempt` connects a fresh honest client. `body` runs with it; everything is closed
 * after, also when it fails.
 */
function withListener(options: Partial<ListenOptions>, body: (w: ListenerWorld) => Promise<void>): Promise<void> {
  return withSeed(testSeed(), async (seed) => {
    const net = testNetwork(new SeededRandom(seed));
    const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
    const server = network.addHost();
    const identity = net.identity('', { role: Role.SUPERNODE });
    const accepted: SecureLink[] = [];
    const opened: TcpConnection[] = [];
    const failures: string[] = [];
    let listener: TcpListener | null = null;
    try {
      listener = await listenSecure(server.env(), { port: 33033, config: net.config(identity), maxPendingHandshakes: MAX_PENDING, handshakeTimeoutMs: 60_000, onLink: (link) => accepted.push(link), onFailure: (e) => failures.push(e.message), ...options });
      const open = async (from: Env) => {
        const connection = await network.scheduler.drive(from.net.connectTcp({ host: server.addressText, port: 33033 }));
        opened.push(connection);
        return connection;
      };
      const attempt = async () => {
        const link = await network.scheduler.drive(connectSecure(network.addHost().env(), { host: server.addressText, port: 33033, config: net.config(net.identity('alice'), { remoteStaticKey: identity.dh.publicKey }), handshakeTimeoutMs: 5_000 }));
        accepted.push(link);
        return link;
      };
      const elapse = (ms: number) => network.scheduler.drive(new Promise<void>((resolve) => network.scheduler.after(ms, resolve)));
      await body({ network, failures, open, attempt, elapse });
    } finally {
      for (const c of opened) c.close();
      for (const l of accepted) l.close();
      listener?.close();
    }
  });
}

interface ListenerWorld {
  readonly network: VirtualNetwork;
  readonly failures: string[];
  /** Opens a raw TCP connection to the listener from `from` (it says nothing). */
  open(from: Env): Promise<TcpConnection>;
  /** An honest client's secure link from a host of its own. */
  attempt(): Promise<SecureLink>;
  elapse(ms: number): Promise<void>;
}

test('one address that opens connections and says nothing cannot take every handshake slot', { timeout: 60_000 }, () =>
  withListener({}, async (w) => {
    // The attacker's host opens as many connections as there are slots, and sends nothing.
    const attacker = w.network.addHost().env();
    for (let i = 0; i < MAX_PENDING; i++) await w.open(attacker);
    await w.elapse(1_000);
    // Well inside the handshake timeout, a client from elsewhere still gets in.
    assert.equal((await w.attempt()).peer.role, Role.SUPERNODE);
  }));

test('many addresses that open connections and say nothing cannot take every slot either: the oldest gives way to a newcomer', { timeout: 60_000 }, () =>
  withListener({}, async (w) => {
    // Eight addresses, each holding its whole share, together every slot; and they keep it up.
    const attackers = Array.from({ length: 8 }, () => w.network.addHost().env());
    for (let round = 0; round < 3; round++) {
      for (const attacker of attackers) for (let i = 0; i < MAX_PENDING / 8; i++) await w.open(attacker);
      await w.elapse(200);
    }
    // Well inside the handshake timeout, with every slot held by silence, a client still gets in.
    assert.equal((await w.attempt()).peer.role, Role.SUPERNODE);
    assert.ok(w.failures.some((f) => /gave way/.test(f)), 'silent connections gave way, and it was counted');
  }));

test('one address that starts handshakes faster than any client would is refused beyond a burst, and others still get in', { timeout: 60_000 }, () =>
  withListener({ maxPendingHandshakes: undefined, handshakeTimeoutMs: undefined, handshakeBurstPerHost: 8, handshakesPerSecondPerHost: 4 }, async (w) => {
    // Connections opened and dropped at once, as a replay of a recorded first message would be: 40 in well under a second.
    const attacker = w.network.addHost().env();
    const fromMs = w.network.scheduler.now();
    for (let i = 0; i < 40; i++) (await w.open(attacker)).close();
    await w.elapse(10);
    const refused = w.failures.filter((f) => /started from this address lately/.test(f)).length;
    const refilled = Math.ceil((4 * (w.network.scheduler.now() - fromMs)) / 1000);
    assert.ok(refused >= 40 - 8 - refilled, `beyond the burst of 8 and ${refilled} refilled, refused at once: ${refused} of 40`);
    assert.equal((await w.attempt()).peer.role, Role.SUPERNODE, 'another address is not held back');
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
