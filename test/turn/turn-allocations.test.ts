// The TURN allocation table on its own: pure, told the time, so each rule is one call and one
// check. Lifetimes (RFC 8656 sections 7-9, 12), every quota, reservations, and expiry; then
// fast-check drives random sequences of Allocates, Refreshes, permissions, channels,
// reservations and time, and checks after each step that no quota is passed, no lifetime is
// outside its bounds, and that expiry at the end frees everything.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Endpoint } from '../../src/env/types.js';
import {
  AllocationTable,
  CHANNEL_LIFETIME_MS,
  PERMISSION_LIFETIME_MS,
  RESERVATION_LIFETIME_MS,
  tupleKey,
  type Allocation,
  type TurnLimits,
} from '../../src/turn/turn-allocations.js';

const SERVER: Endpoint = { host: '198.51.100.1', port: 3478 };
const client = (port: number): Endpoint => ({ host: '192.0.2.10', port });
const keyOf = (port: number) => tupleKey('udp', client(port), SERVER);

/** Begins and commits an allocation of `user` from client port `port`, relaying on `relayPort`. */
function allocate(table: AllocationTable, user: string, port: number, relayPort: number, lifetimeS: number, nowMs: number): Allocation {
  const key = keyOf(port);
  assert.equal(table.begin(key, user), null);
  return table.commit(
    { key, client: client(port), username: `9999999999:${user}:dev`, user, integrityKey: new Uint8Array(16), relayPort, relayed: { host: '203.0.113.7', port: relayPort }, lifetimeS, transactionId: `${port}`, answer: new Uint8Array(0) },
    nowMs,
  );
}

test('lifetimes: the default when none is asked, within default..max otherwise, and 0 stays 0 (a Refresh that deletes)', () => {
  const table = new AllocationTable({ defaultLifetimeS: 600, maxLifetimeS: 3_600 }, 0);
  assert.equal(table.lifetimeS(null), 600);
  assert.equal(table.lifetimeS(0), 0);
  assert.equal(table.lifetimeS(30), 600);
  assert.equal(table.lifetimeS(1_200), 1_200);
  assert.equal(table.lifetimeS(86_400), 3_600);
});

test('an allocation lives until its deadline, a Refresh moves the deadline, and a Refresh of 0 ends it at once', () => {
  const table = new AllocationTable({}, 0);
  const a = allocate(table, 'alice', 1000, 50_000, 600, 1_000);
  assert.equal(a.expiresAtMs, 601_000);
  assert.equal(table.nextDeadlineMs(), 601_000);
  assert.deepEqual(table.expire(600_999).allocations, []);
  assert.equal(table.refresh(a, 1_200, 600_000), null);
  assert.equal(table.nextDeadlineMs(), 1_800_000);
  assert.deepEqual(table.expire(1_000_000).allocations, [], 'the refresh kept it');
  assert.equal(table.atRelayPort(50_000), a);
  const freed = table.expire(1_800_000);
  assert.deepEqual(freed.allocations.map((x) => x.relayPort), [50_000], 'it ends at its deadline, naming its relay for the driver to close');
  assert.equal(table.size, 0);
  assert.equal(table.atRelayPort(50_000), undefined);
  assert.equal(table.allocationsOf('alice'), 0, 'its quota is back');
  assert.equal(table.nextDeadlineMs(), null);

  const b = allocate(table, 'alice', 1001, 50_002, 600, 0);
  assert.equal(table.refresh(b, 0, 1), b);
  assert.equal(table.get(keyOf(1001)), undefined);
  assert.equal(table.allocationsOf('alice'), 0);
});

test('allocations per user and for the server are bounded, Allocates in progress included; abandoning gives the quota back', () => {
  const table = new AllocationTable({ allocationsPerUser: 2, allocations: 3 }, 0);
  assert.equal(table.begin(keyOf(1), 'alice'), null);
  assert.equal(table.isPending(keyOf(1)), true);
  allocate(table, 'alice', 2, 50_000, 600, 0);
  assert.equal(table.begin(keyOf(3), 'alice'), 'quota', 'alice has one live and one in progress');
  allocate(table, 'bob', 4, 50_002, 600, 0);
  assert.equal(table.begin(keyOf(5), 'carol'), 'capacity', 'two live and one in progress fill the server');
  table.abandon(keyOf(1), 'alice');
  assert.equal(table.isPending(keyOf(1)), false);
  assert.equal(table.allocationsOf('alice'), 1);
  assert.equal(table.begin(keyOf(5), 'carol'), null);
  table.abandon(keyOf(1), 'alice');
  assert.equal(table.allocationsOf('alice'), 1, 'abandoning twice gives back once');
  assert.throws(() => table.commit({ ...table.get(keyOf(2))!, key: keyOf(9), lifetimeS: 600 }, 0), /no Allocate in progress/);
});

test('permissions last 5 minutes, refreshed ones do not count twice, and new ones past the bound change nothing', () => {
  const table = new AllocationTable({ permissionsPerAllocation: 2 }, 0);
  const a = allocate(table, 'alice', 1000, 50_000, 600, 0);
  assert.equal(table.permit(a, ['192.0.2.1', '192.0.2.1'], 0), true);
  assert.equal(table.permit(a, ['192.0.2.2'], 1_000), true);
  assert.equal(table.permit(a, ['192.0.2.1', '192.0.2.3'], 2_000), false, 'a third address is over the bound');
  assert.equal(table.permitted(a, '192.0.2.3', 2_000), false);
  assert.equal(table.permitted(a, '192.0.2.1', PERMISSION_LIFETIME_MS - 1), true, 'the refused request did not refresh it either');
  assert.equal(table.permitted(a, '192.0.2.1', PERMISSION_LIFETIME_MS), false, 'ended');
  assert.equal(table.permit(a, ['192.0.2.3'], PERMISSION_LIFETIME_MS), true, 'an ended permission makes room once noticed');
});

test('channels: one peer per channel and one channel per peer, bounded, each installing its peer\'s permission, live for 10 minutes', () => {
  const table = new AllocationTable({ channelsPerAllocation: 2 }, 0);
  const a = allocate(table, 'alice', 1000, 50_000, 3_600, 0);
  const p1 = { host: '192.0.2.1', port: 7000 };
  const p2 = { host: '192.0.2.2', port: 7000 };
  assert.equal(table.bindChannel(a, 0x4000, p1, 0), 'bound');
  assert.equal(table.permitted(a, p1.host, 1), true);
  assert.equal(table.bindChannel(a, 0x4000, p2, 0), 'conflict', 'the channel is another peer\'s');
  assert.equal(table.bindChannel(a, 0x4001, p1, 0), 'conflict', 'the peer has another channel');
  assert.equal(table.bindChannel(a, 0x4001, p2, 0), 'bound');
  assert.equal(table.bindChannel(a, 0x4002, { host: '192.0.2.3', port: 1 }, 0), 'quota');
  assert.equal(table.bindChannel(a, 0x4000, p1, 60_000), 'bound', 'a rebind refreshes, within the bound');
  assert.deepEqual(table.channelPeer(a, 0x4000, 60_000 + CHANNEL_LIFETIME_MS - 1), p1);
  assert.equal(table.channelOfPeer(a, p1, 60_000), 0x4000);
  assert.equal(table.channelOfPeer(a, { ...p1, port: 7001 }, 60_000), null, 'channels are per transport address');
  assert.equal(table.channelPeer(a, 0x4000, 60_000 + CHANNEL_LIFETIME_MS), null, 'ended');
  assert.equal(table.channelOfPeer(a, p1, 60_000 + CHANNEL_LIFETIME_MS), null);
});

test('relayed bytes are bounded per allocation and for the server, refilling with time', () => {
  const table = new AllocationTable({ bytesPerSecondPerAllocation: 1_000, bytesPerSecond: 1_500 }, 0);
  const a = allocate(table, 'alice', 1000, 50_000, 600, 0);
  const b = allocate(table, 'bob', 1001, 50_002, 600, 0);
  assert.equal(table.spend(a, 1_000, 0), true);
  assert.equal(table.spend(a, 1, 0), false, 'the allocation\'s second is spent');
  assert.equal(table.spend(b, 500, 0), true, 'the server had 500 left');
  assert.equal(table.spend(b, 1, 0), false, 'the server is out, though bob\'s allocation is not');
  assert.equal(table.spend(a, 500, 500), true, 'half a second refills half');
});

test('a reserved port is held for its user for 30 s, claimed once, bounded per user and for the server', () => {
  const table = new AllocationTable({ reservationsPerUser: 1, reservations: 2 }, 0);
  assert.equal(table.canReserve('alice'), true);
  table.reserve('aa', 'alice', 50_001, 0);
  assert.equal(table.canReserve('alice'), false);
  table.reserve('bb', 'bob', 50_003, 0);
  assert.equal(table.canReserve('carol'), false, 'the server holds its bound');
  assert.equal(table.isReservedPort(50_001), true);
  assert.equal(table.heldFor('aa', 'bob'), false);
  assert.equal(table.claim('aa', 'bob'), null, 'another user\'s token');
  assert.equal(table.claim('aa', 'alice')?.port, 50_001);
  assert.equal(table.claim('aa', 'alice'), null, 'used once');
  assert.equal(table.isReservedPort(50_001), false);
  assert.equal(table.nextDeadlineMs(), RESERVATION_LIFETIME_MS);
  assert.deepEqual(table.expire(RESERVATION_LIFETIME_MS - 1).reservations, []);
  assert.deepEqual(table.expire(RESERVATION_LIFETIME_MS).reservations.map((r) => r.port), [50_003]);
  assert.equal(table.reservationCount, 0);
  assert.equal(table.canReserve('bob'), true);
});

test('clear ends every allocation and reservation (the server closing)', () => {
  const table = new AllocationTable({}, 0);
  allocate(table, 'alice', 1000, 50_000, 600, 0);
  table.reserve('aa', 'alice', 50_001, 0);
  const freed = table.clear();
  assert.deepEqual([freed.allocations.map((a) => a.relayPort), freed.reservations.map((r) => r.port)], [[50_000], [50_001]]);
  assert.equal(table.size + table.reservationCount, 0);
  assert.equal(table.allocationsOf('alice') + table.reservationsOf('alice'), 0);
});

// Random sequences of operations, as the handlers would make them, on small limits.
const LIMITS: Partial<TurnLimits> = { allocationsPerUser: 2, allocations: 5, permissionsPerAllocation: 3, channelsPerAllocation: 2, reservationsPerUser: 1, reservations: 2, defaultLifetimeS: 60, maxLifetimeS: 600 };
const USERS = ['alice', 'bob', 'carol'];
const op = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('begin' as const), client: fc.nat(7), user: fc.nat(2) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('commit' as const), pick: fc.nat(), lifetimeS: fc.option(fc.nat(2_000), { nil: null }) }), weight: 2 },
  fc.record({ kind: fc.constant('abandon' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('refresh' as const), pick: fc.nat(), lifetimeS: fc.option(fc.nat(2_000), { nil: null }) }),
  fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('permit' as const), pick: fc.nat(), hosts: fc.array(fc.nat(5), { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('bind' as const), pick: fc.nat(), channel: fc.nat(3), peer: fc.nat(3) }),
  { arbitrary: fc.record({ kind: fc.constant('reserve' as const), user: fc.nat(2) }), weight: 2 },
  fc.record({ kind: fc.constant('claim' as const), pick: fc.nat(), user: fc.nat(2) }),
  fc.record({ kind: fc.constant('time' as const), ms: fc.nat(200_000) }),
);

test('property: no quota is ever passed, lifetimes stay in bounds, expiry ends exactly what is due, and in the end frees everything', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const table = new AllocationTable(LIMITS, 0);
      const limits = table.limits;
      let now = 0;
      let nextPort = 50_000;
      const pending: { key: string; client: number; user: string }[] = [];
      const tokens: string[] = [];
      const live = () => USERS.flatMap((_, i) => Array.from({ length: 8 }, (__, c) => table.get(keyOf(c + 10 * i)))).filter((a): a is Allocation => a !== undefined);
      const pick = <T>(list: T[], n: number): T | undefined => (list.length === 0 ? undefined : list[n % list.length]);
      for (const o of ops) {
        switch (o.kind) {
          case 'begin': {
            const c = o.client + 10 * o.user;
            const key = keyOf(c);
            if (table.get(key) || table.isPending(key)) break;
            if (table.begin(key, USERS[o.user]!) === null) pending.push({ key, client: c, user: USERS[o.user]! });
            break;
          }
          case 'commit': {
            const p = pick(pending, o.pick);
            if (!p) break;
            pending.splice(pending.indexOf(p), 1);
            const lifetimeS = table.lifetimeS(o.lifetimeS) || limits.defaultLifetimeS;
            const port = nextPort++;
            const a = table.commit({ key: p.key, client: client(p.client), username: p.user, user: p.user, integrityKey: new Uint8Array(0), relayPort: port, relayed: { host: '203.0.113.7', port }, lifetimeS, transactionId: '', answer: new Uint8Array(0) }, now);
            assert.ok(a.expiresAtMs - now >= limits.defaultLifetimeS * 1000 && a.expiresAtMs - now <= limits.maxLifetimeS * 1000);
            break;
          }
          case 'abandon': {
            const p = pick(pending, o.pick);
            if (!p) break;
            pending.splice(pending.indexOf(p), 1);
            table.abandon(p.key, p.user);
            break;
          }
          case 'refresh': {
            const a = pick(live(), o.pick);
            if (!a) break;
            const lifetimeS = table.lifetimeS(o.lifetimeS);
            const ended = table.refresh(a, lifetimeS, now);
            if (lifetimeS === 0) assert.equal(ended, a);
            else assert.ok(a.expiresAtMs - now >= limits.defaultLifetimeS * 1000 && a.expiresAtMs - now <= limits.maxLifetimeS * 1000);
            break;
          }
          case 'remove': {
            const a = pick(live(), o.pick);
            if (a) assert.equal(table.remove(a.key), a);
            break;
          }
          case 'permit': {
            const a = pick(live(), o.pick);
            if (a) table.permit(a, o.hosts.map((h) => `192.0.2.${h}`), now);
            break;
          }
          case 'bind': {
            const a = pick(live(), o.pick);
            if (a) table.bindChannel(a, 0x4000 + o.channel, { host: `192.0.2.${o.peer}`, port: 9 }, now);
            break;
          }
          case 'reserve': {
            const user = USERS[o.user]!;
            if (!table.canReserve(user)) break;
            const token = `t${nextPort}`;
            table.reserve(token, user, nextPort++, now);
            tokens.push(token);
            break;
          }
          case 'claim': {
            const token = pick(tokens, o.pick);
            if (token) table.claim(token, USERS[o.user]!);
            break;
          }
          case 'time': {
            now += o.ms;
            const freed = table.expire(now);
            for (const a of freed.allocations) assert.ok(a.expiresAtMs <= now, 'only what is due');
            for (const r of freed.reservations) assert.ok(r.expiresAtMs <= now);
            const next = table.nextDeadlineMs();
            assert.ok(next === null || next > now, 'nothing due is left');
            break;
          }
        }
        // The bounds, after every step.
        const allocations = live();
        assert.ok(table.size + table.pendingCount <= limits.allocations);
        assert.equal(table.size, allocations.length);
        for (const user of USERS) {
          assert.ok(table.allocationsOf(user) <= limits.allocationsPerUser);
          assert.equal(table.allocationsOf(user), allocations.filter((a) => a.user === user).length + pending.filter((p) => p.user === user).length);
          assert.ok(table.reservationsOf(user) <= limits.reservationsPerUser);
        }
        assert.ok(table.reservationCount <= limits.reservations);
        for (const a of allocations) {
          assert.ok(a.permissions.size <= limits.permissionsPerAllocation);
          assert.ok(a.channels.size <= limits.channelsPerAllocation);
          assert.ok(a.expiresAtMs > now, 'nothing outlives its deadline past an expire');
          assert.equal(table.atRelayPort(a.relayPort), a);
        }
      }
      // The end: what is in progress is abandoned, and expiry after the longest lifetime frees everything.
      for (const p of pending) table.abandon(p.key, p.user);
      table.expire(now + limits.maxLifetimeS * 1000);
      assert.equal(table.size + table.pendingCount + table.reservationCount, 0);
      assert.equal(table.nextDeadlineMs(), null);
      for (const user of USERS) assert.equal(table.allocationsOf(user) + table.reservationsOf(user), 0);
      for (let port = 50_000; port < nextPort; port++) assert.ok(table.atRelayPort(port) === undefined && !table.isReservedPort(port));
    }),
    { numRuns: 300 },
  );
});
