// ICE over IPv6 on real sockets (the virtual network is IPv4 only): two agents on ::1 gather
// their IPv6 host candidates against a supernode's STUN service over IPv6 and connect; two
// dual-stack agents (one socket on `::`) offer an IPv4 and an IPv6 host candidate each, pair
// only within a family, and connect too, over IPv6 (RFC 8421).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { realEnv } from '../../src/env/real.js';
import { IceAgent, type IceAgentOptions } from '../../src/ice/ice-agent.js';
import { startStunService, type StunService } from '../../src/supernode/stun-service.js';

/** A service on 127.0.0.1 and ::1 (the same port number: a port taken on ::1 means another try). */
async function service(): Promise<StunService> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStunService(realEnv, { host: '127.0.0.1', port: 0, advertisedHost: '127.0.0.1', ipv6: { host: '::1' } });
    } catch (error) {
      if ((error as { code?: string }).code !== 'address_in_use' || attempt >= 5) throw error;
    }
  }
}

/** Two agents connected with these options each; what each receives of the other's datagram. */
async function connectPair(options: (controlling: boolean) => IceAgentOptions) {
  const agents: IceAgent[] = [];
  try {
    const alice = await IceAgent.gather(realEnv, options(true));
    agents.push(alice);
    const bob = await IceAgent.gather(realEnv, options(false));
    agents.push(bob);
    const got: string[] = [];
    const arrived = new Promise<void>((resolve) => {
      const take = (who: string) => (bytes: Uint8Array) => {
        got.push(`${who}:${new TextDecoder().decode(bytes)}`);
        if (got.length === 2) resolve();
      };
      alice.onData(take('alice'));
      bob.onData(take('bob'));
    });
    bob.connect(alice.parameters);
    alice.connect(bob.parameters);
    const [pathA, pathB] = await Promise.all([alice.established(), bob.established()]);
    assert.ok(pathA && pathB, 'both sides have a path');
    // Data: a first byte of 0-3 would be taken for STUN (RFC 7983).
    alice.send(new TextEncoder().encode('\x80ping'));
    bob.send(new TextEncoder().encode('\x80pong'));
    await arrived;
    return { alice, bob, pathA, pathB, got: got.sort() };
  } finally {
    for (const agent of agents) await agent.close();
  }
}

test('two IPv6 agents on ::1 gather IPv6 host candidates (via STUN over IPv6) and connect directly', { timeout: 30_000 }, async () => {
  const stun = await service();
  try {
    const { alice, pathA, pathB, got } = await connectPair((controlling) => ({ controlling, server: stun.primary6!, localHost: '::1' }));
    assert.deepEqual(alice.parameters.candidates.map((c) => [c.type, c.address.host]), [['host', '::1']], 'no server-reflexive candidate: the supernode sees the host address');
    assert.equal(pathA.kind, 'direct');
    assert.equal(pathA.local.address.host, '::1');
    assert.equal(pathA.remote.address.host, '::1');
    assert.deepEqual([pathB.local.address, pathB.remote.address], [pathA.remote.address, pathA.local.address], 'both sides on the same pair');
    assert.deepEqual(got, ['alice:\x80pong', 'bob:\x80ping']);
    assert.ok(stun.server6!.answered >= 2, 'both asked STUN over IPv6');
  } finally {
    stun.close();
  }
});

test('dual-stack agents offer an IPv4 and an IPv6 host candidate on one socket, pair within families, and connect', { timeout: 30_000 }, async () => {
  const stun = await service();
  try {
    const { alice, bob, pathA, got } = await connectPair((controlling) => ({ controlling, server: stun.primary, server6: stun.primary6!, localHost: '127.0.0.1', localHost6: '::1' }));
    for (const agent of [alice, bob]) {
      const hosts = agent.parameters.candidates.filter((c) => c.type === 'host').map((c) => c.address);
      assert.deepEqual(hosts.map((h) => h.host), ['127.0.0.1', '::1']);
      assert.equal(hosts[0]!.port, hosts[1]!.port, 'one socket');
    }
    assert.equal(pathA.kind, 'direct');
    // Both families work; RFC 8421's local preference makes the IPv6 pair the one chosen.
    const [v4, v6] = alice.parameters.candidates.filter((c) => c.type === 'host');
    assert.ok(v6!.priority > v4!.priority, 'IPv6 host candidate before the IPv4 one');
    assert.deepEqual([pathA.local.address.host, pathA.remote.address.host], ['::1', '::1'], 'the IPv6 pair is chosen');
    assert.deepEqual(got, ['alice:\x80pong', 'bob:\x80ping']);
    assert.ok(stun.server.answered >= 2 && stun.server6!.answered >= 2, 'both asked STUN over both families');
  } finally {
    stun.close();
  }
});
