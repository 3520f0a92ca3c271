// The network lab (lab.sh: namespaces, iptables/nftables NATs of every class, no link to the
// host), deployed as an operator would (docs/deploy.md): the login server on a host of its own,
// three supernodes on three others, each enrolled with a token from `parley admin` (no CA key
// on their hosts, no shared folders: only the public network.json is copied), one of them
// enrolled while the network runs. The NAT classes are verified with coturn's
// turnutils_natdiscovery (an independent tool) and with Parley's own detection, then real
// `parley` processes connect across every pair of placements (a UDP-blocked device through TURN
// over TCP on the supernode's port, a web-only one through its web port, 443), each on the best
// path possible for the pair. The login server answers on port 80, which web-only firewalls let
// out. Last, a supernode restarts with its identity, and clients whose descriptor named only the
// first two supernodes reach the third when those are gone.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startParley, stopParley, type RunningParley } from '../support/processes.js';
import { PLACEMENTS, bestPath, type Placement } from '../support/nat-matrix.js';
import { LAB_CLIENTS, SERVER_HOST, SUPERNODE_HOSTS, SUPERNODE_PORT, inNamespace, labDown, labUp, netns, parleyIn } from './lab.js';

/** What coturn's natdiscovery must report in each place ([mapping, filtering]), and Parley's name for it. */
const EXPECTED: Record<Placement, { natdiscovery: [string, string] | null; parley: string }> = {
  public: { natdiscovery: ['Endpoint Independent', 'Endpoint Independent'], parley: 'open' },
  'full-cone': { natdiscovery: ['Endpoint Independent', 'Endpoint Independent'], parley: 'full cone' },
  'address-restricted': { natdiscovery: ['Endpoint Independent', 'Address Dependent'], parley: 'address-restricted' },
  'port-restricted': { natdiscovery: ['Endpoint Independent', 'Address and Port Dependent'], parley: 'port-restricted' },
  symmetric: { natdiscovery: ['Address and Port Dependent', 'Address and Port Dependent'], parley: 'symmetric' },
  'udp-blocked': { natdiscovery: null, parley: 'UDP blocked' },
  'web-only': { natdiscovery: null, parley: 'web only (TCP to 80/443)' },
  'double-nat': { natdiscovery: ['Endpoint Independent', 'Address and Port Dependent'], parley: 'port-restricted' },
  'same-lan': { natdiscovery: ['Endpoint Independent', 'Address and Port Dependent'], parley: 'port-restricted' },
};

/** Every placement reaches the network, and connects: firewalled devices through TURN over TCP. */
const REACHABLE = PLACEMENTS;
const CONNECTABLE = REACHABLE;
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const user = (role: 'a' | 'b', p: Placement) => `${role}-${p}`;

let dir = '';
let server: RunningParley | null = null;
const supernodes: (RunningParley | null)[] = [];
/** The operator's firewall range for TURN relay ports; relayed calls in the matrix go through it. */
const RELAY_PORTS = '50000-50999';
const answerers: RunningParley[] = [];
let common: string[] = [];
/** Where each server serves Prometheus metrics (on its own loopback, as docs/operations.md advises). */
const METRICS_PORT = 9100;
/** A scrape of a server's metrics, on its own host. */
const scrape = (ns: string) => inNamespace(ns, [process.execPath, '-e', `fetch('http://127.0.0.1:${METRICS_PORT}/metrics').then(async (r) => console.log(r.status, await r.text()))`]);
/** Each lab host's own folder: nothing in one is read from another's. */
const hostDir = (ns: string) => join(dir, 'hosts', ns);
const supernodeKey = (output: string) => /supernode key: (\S+)/.exec(output)?.[1];

/** The lab's internet is a documentation range, which a supernode's TURN refuses as a peer unless told. */
const LAB_TURN_PEERS = ['--turn-allow-peers', '203.0.113.0/24'];

/** On the login server's host, the operator makes a token; on the supernode's host, the supernode enrols with it. */
async function enrolSupernode(i: number): Promise<RunningParley> {
  const sn = SUPERNODE_HOSTS[i]!;
  const token = await parleyIn('srv', ['admin', 'enrol-supernode', '--data', join(hostDir('srv'), 'login'), '--label', sn.ns]);
  assert.equal(token.code, 0, token.out);
  mkdirSync(hostDir(sn.ns), { recursive: true });
  copyFileSync(join(hostDir('srv'), 'login', 'network.json'), join(hostDir(sn.ns), 'network.json')); // public: no secret in it
  const args = ['supernode', '--dir', join(hostDir(sn.ns), 'supernode'), '--network', join(hostDir(sn.ns), 'network.json'), '--enrol', /parley-sn1-\S+/.exec(token.out)![0]];
  return startParley([...args, '--host', sn.host, '--stun-alternate', sn.alternate, '--port', String(SUPERNODE_PORT), '--web-port', '443', '--metrics', String(METRICS_PORT), '--relay-ports', RELAY_PORTS, ...LAB_TURN_PEERS], /open to the internet: .*\n/, 30_000, { netns: netns(sn.ns) });
}

before(async () => {
  if (process.getuid?.() !== 0) throw new Error('the network lab needs root (network namespaces, iptables): CI runs as root');
  await labUp();
  dir = mkdtempSync(join(tmpdir(), 'parley-lab-'));
  server = await startParley(['login-server', '--data', join(hostDir('srv'), 'login'), '--host', SERVER_HOST, '--port', '80', '--metrics', String(METRICS_PORT)], 'descriptor:', 30_000, { netns: netns('srv') });
  supernodes.push(await enrolSupernode(0), await enrolSupernode(1));
  // What the operator hands to users: a descriptor with the live bootstrap list, fetched from
  // the login server by a client host. The third supernode joins after it was made.
  mkdirSync(hostDir('clients'), { recursive: true });
  copyFileSync(join(hostDir('srv'), 'login', 'network.json'), join(hostDir('clients'), 'login-server.json'));
  const descriptor = await parleyIn('pub1', ['network', 'descriptor', '--network', join(hostDir('clients'), 'login-server.json'), '--out', join(hostDir('clients'), 'network.json')]);
  assert.match(descriptor.out, /with 2 bootstrap supernodes/, descriptor.out);
  common = ['--network', join(hostDir('clients'), 'network.json')];
  supernodes.push(await enrolSupernode(2));
});

after(async () => {
  for (const a of answerers) await stopParley(a.child);
  for (const s of supernodes) if (s) await stopParley(s.child);
  if (server) await stopParley(server.child);
  await labDown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('lab: coturn\'s natdiscovery finds each router\'s NAT class as built', { timeout: 120_000 }, async () => {
  const reports = await Promise.all(
    PLACEMENTS.map(async (p) => ({ p, out: (await inNamespace(LAB_CLIENTS[p].answerer, ['turnutils_natdiscovery', '-m', '-f', '-p', String(SUPERNODE_PORT), SUPERNODE_HOSTS[0].host], '', 20_000)).out })),
  );
  for (const { p, out } of reports) {
    const expected = EXPECTED[p].natdiscovery;
    if (!expected) {
      assert.doesNotMatch(out, /NAT with/, `${p}: no UDP answer expected:\n${out}`);
      continue;
    }
    assert.match(out, new RegExp(`NAT with ${expected[0]} Mapping!`), `${p}:\n${out}`);
    assert.match(out, new RegExp(`NAT with ${expected[1]} Filtering!`), `${p}:\n${out}`);
  }
});

test('lab: devices register, Parley\'s own NAT detection agrees, and every pair connects on its best path', { timeout: 600_000 }, async () => {
  // Two users per place: one offers connections, one answers (same LAN: on two machines).
  const profile = (p: Placement, role: 'a' | 'b') => ['--profile', join(dir, 'profiles', user(role, p)), ...common];
  // Two at a time: the login server hashes two passwords at once (scrypt, 128 MiB each), and
  // a queue of many would outlast the client's patience on a loaded machine.
  const accounts = REACHABLE.flatMap((p) => (['a', 'b'] as const).map((role) => ({ p, role })));
  await Promise.all(
    [0, 1].map(async (lane) => {
      for (const { p, role } of accounts.filter((_, i) => i % 2 === lane)) {
        const ns = role === 'a' ? LAB_CLIENTS[p].offerer : LAB_CLIENTS[p].answerer;
        const registered = await parleyIn(ns, ['register', user(role, p), '--password-stdin', ...profile(p, role)], 'lab password 1\n', 60_000);
        assert.equal(registered.code, 0, registered.out);
        const loggedIn = await parleyIn(ns, ['login', user(role, p), '--password-stdin', ...profile(p, role)], 'lab password 1\n', 60_000);
        assert.equal(loggedIn.code, 0, loggedIn.out);
      }
    }),
  );
  for (const p of REACHABLE) {
    const found = await parleyIn(LAB_CLIENTS[p].answerer, ['nat', ...profile(p, 'b')]);
    assert.match(found.out, new RegExp(`NAT: ${escapeRegExp(EXPECTED[p].parley)}[ ;]`), `${p}:\n${found.out}`);
  }
  for (const p of CONNECTABLE) {
    answerers.push(await startParley(['online', '--no-promotion', '--calls-from', 'anyone', ...profile(p, 'b')], 'is online', 30_000, { netns: netns(LAB_CLIENTS[p].answerer) }));
  }
  const pairs: [Placement, Placement][] = [];
  for (let i = 0; i < CONNECTABLE.length; i++) for (let j = i; j < CONNECTABLE.length; j++) pairs.push([CONNECTABLE[i]!, CONNECTABLE[j]!]);
  // Each offering device runs one connection at a time (one process per device); three devices
  // run side by side (more would measure the two cores' queue, not the network).
  const results: { a: Placement; b: Placement; path: string; setupMs: number; rttMs: number; best: string }[] = [];
  const lanes: [Placement, Placement][][] = [[], [], []];
  CONNECTABLE.forEach((offerer, i) => lanes[i % lanes.length]!.push(...pairs.filter(([a]) => a === offerer)));
  const failures: string[] = [];
  await Promise.all(
    lanes.map(async (list) => {
      for (const [a, b] of list) {
        const run = await parleyIn(LAB_CLIENTS[a].offerer, ['connect', user('b', b), ...profile(a, 'a')], '', 60_000);
        const match = /over a (\S+) path .* in (\d+) ms\nround trip over the path: ([\d.]+) ms/.exec(run.out);
        if (!match) {
          failures.push(`${a} ↔ ${b}: ${run.out.trim()}`);
          continue;
        }
        results.push({ a, b, path: match[1]!, setupMs: Number(match[2]), rttMs: Number(match[3]), best: bestPath(a, b) });
      }
    }),
  );
  if (process.env.PARLEY_LAB_RESULTS) writeFileSync(process.env.PARLEY_LAB_RESULTS, JSON.stringify(results, null, 2));
  assert.deepEqual(failures, [], 'every pair connects');
  const notBest = results.filter((r) => r.path !== r.best).map((r) => `${r.a} ↔ ${r.b}: ${r.path}, best is ${r.best}`);
  assert.deepEqual(notBest, [], 'every pair on its best path');
  assert.equal(results.length, pairs.length);
});

test('lab: Prometheus can scrape every server: the login server counted the logins, each supernode its attached clients', async () => {
  const login = await scrape('srv');
  assert.match(login.out, /^200 /, login.out);
  assert.match(login.out, /parley_login_logins_total\{[^}]*result="ok"[^}]*\} [1-9]/, login.out.slice(0, 2000));
  let attached = 0;
  for (const sn of SUPERNODE_HOSTS) {
    const metrics = await scrape(sn.ns);
    assert.match(metrics.out, /^200 /, `${sn.ns}: ${metrics.out}`);
    attached += Number(/^parley_supernode_attached_clients (\d+)/m.exec(metrics.out)?.[1] ?? 'NaN');
  }
  assert.ok(attached >= answerers.length, `the supernodes hold the ${answerers.length} devices online: ${attached}`);
});

test('lab: a restarted supernode keeps its identity; clients whose descriptor named only the first two reach the one enrolled later', { timeout: 120_000 }, async () => {
  for (const s of supernodes) assert.match(s!.output, /enrolled with the login server as supernode #\d+ \(sn\d\)/);
  for (const s of supernodes) assert.match(s!.output, new RegExp(`UDP and TCP ${RELAY_PORTS} \\(TURN relays`), 'the operator is told the relay range to open');
  const before = supernodeKey(supernodes[1]!.output);
  await stopParley(supernodes[1]!.child);
  const sn = SUPERNODE_HOSTS[1];
  // No token this time: it renews with its own key.
  supernodes[1] = await startParley(['supernode', '--dir', join(hostDir(sn.ns), 'supernode'), '--host', sn.host, '--stun-alternate', sn.alternate, '--port', String(SUPERNODE_PORT), '--web-port', '443', '--metrics', String(METRICS_PORT), '--relay-ports', RELAY_PORTS, ...LAB_TURN_PEERS], /open to the internet: .*\n/, 30_000, { netns: netns(sn.ns) });
  assert.ok(before);
  assert.equal(supernodeKey(supernodes[1].output), before, 'the same key after a restart');
  assert.doesNotMatch(supernodes[1].output, /enrolled with/, 'renewed, not enrolled again');
  const listed = await parleyIn('srv', ['admin', 'supernodes', '--data', join(hostDir('srv'), 'login')]);
  assert.equal((listed.out.match(/ live, /g) ?? []).length, 3, listed.out);

  for (const i of [0, 1]) {
    await stopParley(supernodes[i]!.child);
    supernodes[i] = null;
  }
  const p: Placement = 'port-restricted';
  const found = await parleyIn(LAB_CLIENTS[p].offerer, ['nat', '--profile', join(dir, 'profiles', user('a', p)), ...common], '', 60_000);
  assert.match(found.out, new RegExp(`attached to supernode ${escapeRegExp(SUPERNODE_HOSTS[2].host)}:${SUPERNODE_PORT}`), found.out);
});
