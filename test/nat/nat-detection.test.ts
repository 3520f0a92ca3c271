// NAT type detection against a STUN server with two addresses, on the virtual network: each
// NAT class of RFC 4787 is told apart, UDP-blocking firewalls are seen, and a server with one
// address answers what it can. Link RTT 20 ms: the whole detection takes about two round trips.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualNetwork, type VirtualHost } from '../../src/env/virtual/index.js';
import { StunServer } from '../../src/stun/stun-server.js';
import { detectMappingLifetime, detectNat, MAX_UDP_TIMEOUT_MS, MIN_UDP_TIMEOUT_MS, udpTimeoutFor, type NatType } from '../../src/nat/nat-detection.js';
import type { FirewallPolicy } from '../../src/env/virtual/network.js';
import type { NatClass } from '../../src/env/virtual/nat.js';
import { testSeed, withSeed } from '../support/seed.js';

const PORT = 3478;
const ALT_PORT = 3479;

/** A STUN server on two public hosts (its two addresses), two ports each. */
async function stunServer(network: VirtualNetwork, addresses: 1 | 2) {
  const hosts: VirtualHost[] = [];
  for (let i = 0; i < addresses; i++) hosts.push(network.addHost({ link: { latencyMs: 5 } }));
  const grid = [];
  for (const host of hosts) grid.push(addresses === 2 ? [await host.env().net.bindUdp({ port: PORT }), await host.env().net.bindUdp({ port: ALT_PORT })] : [await host.env().net.bindUdp({ port: PORT })]);
  const server = new StunServer(network.scheduler, { grid });
  server.listen();
  return { server, primary: { host: hosts[0]!.addressText, port: PORT } };
}

const CASES: { name: string; nat?: NatClass; firewall?: FirewallPolicy; expected: NatType }[] = [
  { name: 'public', expected: 'open' },
  { name: 'full cone', nat: 'full-cone', expected: 'full-cone' },
  { name: 'address-restricted', nat: 'address-restricted', expected: 'address-restricted' },
  { name: 'port-restricted', nat: 'port-restricted', expected: 'port-restricted' },
  { name: 'symmetric', nat: 'symmetric', expected: 'symmetric' },
  { name: 'UDP-blocking firewall', nat: 'port-restricted', firewall: 'udp-blocked', expected: 'udp-blocked' },
  { name: 'web-only firewall', nat: 'port-restricted', firewall: 'web-only', expected: 'udp-blocked' },
];

test('NAT detection tells each NAT class and firewall apart against a two-address STUN server, in about two round trips', () =>
  withSeed(testSeed(), async (seed) => {
    const network = new VirtualNetwork(seed);
    const { server, primary } = await stunServer(network, 2);
    for (const c of CASES) {
      const gateway = c.nat ? network.addGateway({ nat: c.nat, link: { latencyMs: 5 }, ...(c.firewall ? { firewall: c.firewall } : {}) }) : undefined;
      const host = network.addHost({ ...(gateway ? { behind: gateway } : {}), link: { latencyMs: 5 } });
      const report = await network.scheduler.drive(detectNat(host.env(), primary));
      assert.equal(report.type, c.expected, `${c.name}: ${JSON.stringify(report)}`);
      if (c.expected === 'udp-blocked') continue;
      assert.equal(report.mapped?.host, gateway ? gateway.addressText : host.addressText, `${c.name}: the address the server saw`);
      assert.equal(report.rttMs, gateway ? 30 : 20, `${c.name}: the round trip (links of 5 ms each way)`);
      assert.equal(report.hairpinning, gateway && c.nat !== 'symmetric' ? true : null, `${c.name}: the virtual NATs hairpin (behind a symmetric one the test cannot tell)`);
      // Two round trips and the wait for filtering answers that are not coming.
      assert.ok(report.durationMs <= 4 * report.rttMs! + 100 + 1, `${c.name}: took ${report.durationMs} ms`);
    }
    assert.equal(server.refused.size, 0, `nothing refused: ${JSON.stringify([...server.refused])}`);
    const noHairpin = network.addHost({ behind: network.addGateway({ nat: 'port-restricted', natOverrides: { hairpinning: false } }) });
    assert.equal((await network.scheduler.drive(detectNat(noHairpin.env(), primary))).hairpinning, false, 'a NAT that does not hairpin is seen');
  }));

test('against a STUN server with one address, detection never guesses a class: unknown in every place UDP gets through, UDP blocked where it does not', () =>
  withSeed(testSeed(), async (seed) => {
    const network = new VirtualNetwork(seed);
    const { server, primary } = await stunServer(network, 1);
    for (const c of CASES) {
      const gateway = c.nat ? network.addGateway({ nat: c.nat, link: { latencyMs: 5 }, ...(c.firewall ? { firewall: c.firewall } : {}) }) : undefined;
      const host = network.addHost({ ...(gateway ? { behind: gateway } : {}), link: { latencyMs: 5 } });
      const report = await network.scheduler.drive(detectNat(host.env(), primary));
      if (c.expected === 'udp-blocked') {
        assert.equal(report.type, 'udp-blocked', c.name);
        continue;
      }
      assert.equal(report.type, 'unknown', `${c.name}: ${JSON.stringify(report)}`);
      assert.equal(report.mapping, null, c.name);
      assert.equal(report.filtering, null, c.name);
      assert.match(report.note ?? '', gateway ? /behind a NAT; .*no second address/ : /public address .*no second address/, c.name);
      assert.equal(report.mapped?.host, gateway ? gateway.addressText : host.addressText, `${c.name}: the address the server saw is still reported`);
    }
    assert.equal(server.refused.get('no_alternate'), 2 * (CASES.length - 2), 'two CHANGE-REQUESTs from each place UDP reached');
  }));

test('two supernodes with one address each tell a symmetric NAT from a cone; a cone\'s filtering stays unknown, never guessed', () =>
  withSeed(testSeed(), async (seed) => {
    const network = new VirtualNetwork(seed);
    const first = await stunServer(network, 1);
    const second = await stunServer(network, 1);
    for (const c of CASES) {
      if (c.expected === 'udp-blocked') continue;
      const gateway = c.nat ? network.addGateway({ nat: c.nat, link: { latencyMs: 5 } }) : undefined;
      const host = network.addHost({ ...(gateway ? { behind: gateway } : {}), link: { latencyMs: 5 } });
      const report = await network.scheduler.drive(detectNat(host.env(), first.primary, { secondServer: second.primary }));
      assert.equal(report.filtering, null, c.name);
      if (c.nat === 'symmetric') {
        assert.equal(report.type, 'symmetric', `${c.name}: ${JSON.stringify(report)}`);
        assert.match(report.note ?? '', /two different mappings/);
      } else {
        assert.equal(report.type, 'unknown', `${c.name}: ${JSON.stringify(report)}`);
        assert.equal(report.mapping, gateway ? 'endpoint-independent' : null, c.name);
        if (gateway) assert.match(report.note ?? '', /same mapping \(a cone NAT\), but its filtering is unknown/, c.name);
      }
    }
    // A second server that does not answer changes nothing.
    const behind = network.addHost({ behind: network.addGateway({ nat: 'symmetric' }) });
    const silent = await network.scheduler.drive(detectNat(behind.env(), first.primary, { secondServer: { host: '198.51.100.99', port: PORT }, udpTimeoutMs: 500 }));
    assert.equal(silent.type, 'unknown');
    assert.equal(silent.mapping, null);
  }));

test('the NAT\'s mapping lifetime is bracketed by parallel probes, in the time of the longest wait', () =>
  withSeed(testSeed(), async (seed) => {
    const network = new VirtualNetwork(seed);
    const { primary } = await stunServer(network, 2);
    const host = network.addHost({ behind: network.addGateway({ nat: 'port-restricted', natOverrides: { udpMappingTimeoutMs: 40_000 } }) });
    const started = network.scheduler.now();
    const lifetime = await network.scheduler.drive(detectMappingLifetime(host.env(), primary));
    assert.deepEqual(lifetime, { aliveAfterMs: 30_000, goneAfterMs: 60_000 });
    assert.ok(network.scheduler.now() - started < 125_000, 'the waits ran side by side');
    const open = network.addHost();
    assert.deepEqual(await network.scheduler.drive(detectMappingLifetime(open.env(), primary)), { aliveAfterMs: 120_000, goneAfterMs: null }, 'no NAT: nothing expires');
  }));

test('the UDP budget follows how long reaching the supernode took: a slow path (1.8 s round trips) is found port-restricted, not called UDP blocked', () =>
  withSeed(testSeed(), async (seed) => {
    for (const attach of [0, 10, 100, 375, 400, 1_000, 5_000, 60_000]) {
      const budget = udpTimeoutFor(attach);
      assert.ok(budget >= MIN_UDP_TIMEOUT_MS && budget <= MAX_UDP_TIMEOUT_MS, `${attach} → ${budget}`);
      assert.ok(budget >= Math.min(MAX_UDP_TIMEOUT_MS, 4 * attach), `${attach} → ${budget}: four times what attaching took`);
    }
    assert.equal(udpTimeoutFor(null), MIN_UDP_TIMEOUT_MS);
    const network = new VirtualNetwork(seed);
    const { primary } = await stunServer(network, 2);
    const slow = () => network.addHost({ behind: network.addGateway({ nat: 'port-restricted', link: { latencyMs: 880 } }), link: { latencyMs: 5 } });
    const fixed = await network.scheduler.drive(detectNat(slow().env(), primary));
    assert.equal(fixed.type, 'udp-blocked', 'with the fixed 1.5 s budget the answer comes too late');
    // Attaching over TCP takes about three round trips on that path.
    const scaled = await network.scheduler.drive(detectNat(slow().env(), primary, { udpTimeoutMs: udpTimeoutFor(3 * 1_780) }));
    assert.equal(scaled.type, 'port-restricted', JSON.stringify(scaled));
  }));
