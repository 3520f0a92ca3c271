// The TURN peer policy as a table: which addresses are the internet's, in both families and in
// the IPv6 forms that carry an IPv4 address; the order of its rules (service ports over the
// allow list, relay ports of its own address); CIDR lists as an operator writes them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LOOPBACK_PEERS, PeerPolicy, parseCidr, parseCidrList, specialRange } from '../../src/turn/peer-policy.js';

test('special-purpose addresses are named, in IPv4, IPv6 and IPv6 forms of IPv4; global ones are not', () => {
  const expected: Record<string, ReturnType<typeof specialRange>> = {
    '127.0.0.1': 'loopback',
    '127.255.0.9': 'loopback',
    '10.0.0.1': 'private',
    '172.16.0.1': 'private',
    '172.31.255.255': 'private',
    '172.32.0.1': null,
    '192.168.1.1': 'private',
    '100.64.0.1': 'shared',
    '100.127.255.255': 'shared',
    '100.128.0.1': null,
    '169.254.169.254': 'link_local',
    '0.0.0.0': 'not_unicast',
    '224.0.0.1': 'not_unicast',
    '255.255.255.255': 'not_unicast',
    '198.18.0.1': 'reserved',
    '203.0.113.5': 'documentation',
    '8.8.8.8': null,
    '20.0.0.1': null,
    '::1': 'loopback',
    '::': 'not_unicast',
    'fd00::1': 'private',
    'fe80::1': 'link_local',
    'ff02::1': 'not_unicast',
    '2001:db8::1': 'documentation',
    '::ffff:127.0.0.1': 'loopback',
    '::ffff:169.254.169.254': 'link_local',
    '::ffff:7f00:1': 'loopback',
    '64:ff9b::10.0.0.1': 'private',
    '2002:a00:1::': 'private',
    '::ffff:8.8.8.8': null,
    '2a00:1450::1': null,
    'not an address': 'not_unicast',
  };
  for (const [host, kind] of Object.entries(expected)) assert.equal(specialRange(host), kind, host);
});

test('the rules in order: non-unicast and service ports over the allow list, own relay ports admitted, own other ports refused', () => {
  const relays = new Set([50_000]);
  const isRelay = (port: number) => relays.has(port);
  const strict = new PeerPolicy({ ownHosts: ['20.0.0.1'], servicePorts: [3478] });
  assert.equal(strict.check({ host: '8.8.8.8', port: 53 }, isRelay), null);
  assert.equal(strict.check({ host: '8.8.8.8', port: 0 }, isRelay), 'not_unicast');
  assert.equal(strict.check({ host: '20.0.0.1', port: 3478 }, isRelay), 'own_service');
  assert.equal(strict.check({ host: '::ffff:20.0.0.1', port: 3478 }, isRelay), 'own_service', 'the mapped form of its own address');
  assert.equal(strict.check({ host: '127.0.0.1', port: 3478 }, isRelay), 'own_service');
  assert.equal(strict.check({ host: '20.0.0.1', port: 50_000 }, isRelay), null, 'relay to relay on one server');
  assert.equal(strict.check({ host: '20.0.0.1', port: 53 }, isRelay), 'own_address');
  assert.equal(strict.check({ host: '127.0.0.1', port: 8080 }, isRelay), 'loopback');

  const local = new PeerPolicy({ ownHosts: ['127.0.0.1'], servicePorts: [33033], allow: LOOPBACK_PEERS });
  assert.equal(local.check({ host: '127.0.0.1', port: 40_000 }, isRelay), null, 'parley local: a client on loopback');
  assert.equal(local.check({ host: '127.0.0.1', port: 33033 }, isRelay), 'own_service', 'never its own port');
  assert.equal(local.check({ host: '10.0.0.1', port: 9 }, isRelay), 'private', 'loopback allowed, not the LAN');
  assert.equal(local.check({ host: '224.0.0.1', port: 9 }, isRelay), 'not_unicast');
});

test('CIDR lists: IPv4 and IPv6, bare addresses, bad entries named', () => {
  const list = parseCidrList('10.0.0.0/8, 192.168.1.7 ,fd00::/8,');
  assert.ok(list.ok);
  const policy = new PeerPolicy({ ownHosts: [], servicePorts: [], allow: list.value });
  assert.equal(policy.check({ host: '10.9.8.7', port: 9 }, () => false), null);
  assert.equal(policy.check({ host: '192.168.1.7', port: 9 }, () => false), null);
  assert.equal(policy.check({ host: '192.168.1.8', port: 9 }, () => false), 'private');
  assert.equal(policy.check({ host: 'fd12::1', port: 9 }, () => false), null);
  assert.equal(policy.check({ host: 'fe80::1', port: 9 }, () => false), 'link_local');
  for (const bad of ['10.0.0.0/33', '10.0.0/8', 'fd00::/129', '10.0.0.0/8/1', 'example.com', '10.0.0.0/x']) {
    const parsed = parseCidr(bad);
    assert.equal(parsed.ok ? 'parsed' : parsed.error.code, 'bad_cidr', bad);
  }
  assert.equal(parseCidrList('10.0.0.0/8,nope').ok, false);
});
