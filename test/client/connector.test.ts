// Two devices behind NATs connect through the overlay: the offer and answer travel in their
// end-to-end streams (routed through supernodes), the TURN credentials come from each one's
// supernode, and the checks punch through both NATs. A device that is not a buddy is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { offerOf, parametersOf } from '../../src/client/connector.js';
import { detectNat } from '../../src/nat/nat-detection.js';
import { testSeed, withSeed } from '../support/seed.js';
import { overlayWorld } from '../support/supernodes.js';
import { device, shutDown } from '../support/devices.js';

test('two devices behind port-restricted NATs connect through the overlay on a hole-punched path; a stranger is refused', () =>
  withSeed(testSeed(), async (seed) => {
    const world = await overlayWorld(seed, 3, { link: () => ({ latencyMs: 5 }) });
    const { drive, elapse } = world;
    const alice = await device(world, 'alice', ['bob']);
    const bob = await device(world, 'bob', ['alice']);
    const mallory = await device(world, 'mallory', ['bob']);
    await elapse(1_000);
    const outcome = await drive(alice.connector.connect('bob', bob.identity.dh.publicKey));
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
    assert.equal(outcome.connection.path.kind, 'hole-punched');
    assert.ok(outcome.connection.setupMs < 1_000, `set up in ${outcome.connection.setupMs} ms`);
    await elapse(500);
    assert.equal(bob.incoming.length, 1);
    assert.equal(bob.incoming[0]!.path.kind, 'hole-punched');
    // Data both ways on the path.
    const got: string[] = [];
    bob.incoming[0]!.agent.onData((bytes) => {
      got.push(`bob:${new TextDecoder().decode(bytes)}`);
      bob.incoming[0]!.agent.send(new TextEncoder().encode('~pong'));
    });
    outcome.connection.agent.onData((bytes) => got.push(`alice:${new TextDecoder().decode(bytes)}`));
    outcome.connection.agent.send(new TextEncoder().encode('~ping'));
    await elapse(200);
    assert.deepEqual(got, ['bob:~ping', 'alice:~pong']);
    // Mallory is not bob's buddy: refused in the first exchange.
    const heard: string[] = [];
    const stopHearing = bob.connector.onFailure((user) => heard.push(user));
    const refused = await drive(mallory.connector.connect('bob', bob.identity.dh.publicKey));
    assert.deepEqual(refused, { ok: false, error: 'refused' });
    assert.deepEqual(bob.refusals, ["mallory: refused by this user's setting"]);
    // A removed failure listener hears no more; the others still do.
    stopHearing();
    assert.deepEqual(await drive(mallory.connector.connect('bob', bob.identity.dh.publicKey)), { ok: false, error: 'refused' });
    assert.deepEqual(heard, ['mallory']);
    assert.equal(bob.refusals.length, 2);
    await drive(Promise.all([outcome.connection.agent.close(), bob.incoming[0]!.agent.close()]));
    shutDown(world, [alice, bob, mallory]);
  }));

test('a device behind a web-only firewall attaches on a supernode\'s web port, learns other web ports from gossip, finds itself web only and connects over TURN on TCP 443', () =>
  withSeed(testSeed(), async (seed) => {
    const world = await overlayWorld(seed, 3, { link: () => ({ latencyMs: 5 }), webPort: 443 });
    const { drive, elapse } = world;
    const alice = await device(world, 'alice', ['bob'], { firewall: 'web-only', bootstrap: 0 });
    const bob = await device(world, 'bob', ['alice']);
    // Only the web port got through; the attachment still names the supernode by its own port.
    assert.deepEqual(alice.attached.supernodeEndpoint, { host: world.supernodes[0]!.ref.host, port: 443 });
    assert.equal(alice.attached.supernode?.port, 33033);
    // Gossip carried the other supernodes' web ports into the host cache.
    const learned = alice.hostCache.all().filter((e) => e.source === 'gossip');
    assert.ok(learned.length >= 2, `gossip: ${learned.length} entries`);
    assert.deepEqual(new Set(learned.map((e) => e.webPort)), new Set([443]));
    const report = await drive(detectNat(alice.host.env(), { host: world.supernodes[0]!.ref.host, port: 33033 }, { onlyWebPortReached: true }));
    assert.equal(report.type, 'web-only');
    await elapse(1_000);
    const outcome = await drive(alice.connector.connect('bob', bob.identity.dh.publicKey));
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
    assert.equal(outcome.connection.path.kind, 'relayed-tcp');
    await elapse(500);
    assert.equal(bob.incoming[0]?.path.kind, 'relayed-tcp');
    const got: string[] = [];
    bob.incoming[0]!.agent.onData((bytes) => got.push(`bob:${new TextDecoder().decode(bytes)}`));
    outcome.connection.agent.send(new TextEncoder().encode('~through 443'));
    await elapse(200);
    assert.deepEqual(got, ['bob:~through 443']);
    await drive(Promise.all([outcome.connection.agent.close(), bob.incoming[0]!.agent.close()]));
    shutDown(world, [alice, bob]);
  }));

test('an offer keeps only candidates that are real IPv4 or IPv6 endpoints (a bad one would throw where permissions encode it)', () => {
  const offer = offerOf(new Uint8Array(16), false, {
    ufrag: 'abcdefgh',
    pwd: 'p'.repeat(24),
    candidates: [
      { type: 'host', address: { host: '999.1.1.1', port: 5000 }, priority: 1 },
      { type: 'srflx', address: { host: '203.0.113.7', port: 0 }, priority: 1 },
      { type: 'relay', address: { host: '203.0.113.9', port: 3478 }, priority: 1, relayTcp: true },
      { type: 'host', address: { host: '2001:db8::7', port: 5000 }, priority: 2 },
      { type: 'host', address: { host: 'fe80::1%eth0', port: 5000 }, priority: 1 },
      { type: 'host', address: { host: '2001:db8::1::2', port: 5000 }, priority: 1 },
      { type: 'host', address: { host: 'example.org', port: 5000 }, priority: 1 },
    ],
  });
  assert.deepEqual(parametersOf(offer)?.candidates, [
    { type: 'relay', address: { host: '203.0.113.9', port: 3478 }, priority: 1, relayTcp: true },
    { type: 'host', address: { host: '2001:db8::7', port: 5000 }, priority: 2 },
  ]);
});
