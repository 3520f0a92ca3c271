// The login server's store, the same tests on SQLite and on a real PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LoginStore, type User } from '../../src/login-server/store/login-store.js';
import { DIALECTS, freshDatabase } from '../support/databases.js';

const T0 = Date.UTC(2026, 0, 1);
const key = (n: number) => new Uint8Array(32).fill(n);

for (const dialect of DIALECTS) {
  describe(`login store on ${dialect}`, () => {
    let store: LoginStore;
    let drop: () => Promise<void>;
    const users: Record<string, User> = {};

    before(async () => {
      const fresh = await freshDatabase(dialect);
      drop = fresh.drop;
      store = new LoginStore(await fresh.open(), {
        maxDevicesPerUser: 2,
        maxContacts: 3,
        maxPendingRequestsPerUser: 2,
        maxOfflineMessagesPerDevice: 3,
        maxOfflineBytesPerDevice: 100,
      });
      for (const [name, discoverable] of [['alice', true], ['alfred', true], ['albert', false], ['bob', true], ['al_x', true]] as const) {
        const created = await store.createUser({ username: name, displayName: name.toUpperCase(), passwordHash: 'h', nowMs: T0, discoverable, showLastSeen: name === 'alice' });
        assert.ok(created.ok);
        users[name] = created.value;
      }
    });
    after(async () => {
      await store.close();
      await drop();
    });

    test('a taken name is refused with username_taken, and nothing changes', async () => {
      const again = await store.createUser({ username: 'alice', displayName: 'x', passwordHash: 'h2', nowMs: T0, discoverable: false, showLastSeen: false });
      assert.ok(!again.ok && again.error.code === 'username_taken');
      assert.equal((await store.findUser('alice'))?.passwordHash, 'h');
    });

    test('devices: registered once per key, bounded per user, revocable; a key cannot change owner', async () => {
      const d1 = await store.registerDevice({ userId: users.alice!.id, signingKey: key(1), dhKey: key(2), name: 'laptop', nowMs: T0 });
      assert.ok(d1.ok);
      const same = await store.registerDevice({ userId: users.alice!.id, signingKey: key(1), dhKey: key(3), name: 'laptop', nowMs: T0 + 1 });
      assert.ok(same.ok && same.value.id === d1.value.id);
      assert.deepEqual((await store.findDevice(d1.value.id))?.dhKey, key(3));
      const stolen = await store.registerDevice({ userId: users.bob!.id, signingKey: key(1), dhKey: key(2), name: 'x', nowMs: T0 });
      assert.ok(!stolen.ok && stolen.error.code === 'key_in_use');
      assert.ok((await store.registerDevice({ userId: users.alice!.id, signingKey: key(4), dhKey: key(2), name: 'phone', nowMs: T0 })).ok);
      const third = await store.registerDevice({ userId: users.alice!.id, signingKey: key(5), dhKey: key(2), name: 'tablet', nowMs: T0 });
      assert.ok(!third.ok && third.error.code === 'too_many_devices');
      assert.ok((await store.revokeDevice(users.alice!.id, d1.value.id, T0 + 5)).ok);
      const again = await store.revokeDevice(users.alice!.id, d1.value.id, T0 + 6);
      assert.ok(!again.ok && again.error.code === 'not_found');
      assert.equal((await store.listDevices(users.alice!.id)).length, 2);
    });

    test('a challenge is used once and not after it expires; a device holds a bounded set, a flood evicts its own first', async () => {
      const device = await store.registerDevice({ userId: users.bob!.id, signingKey: key(9), dhKey: key(9), name: 'pc', nowMs: T0 });
      assert.ok(device.ok);
      const window = { lockKey: 'lock:none', windowKey: 'window:open', windowMs: 1, maxPerWindow: 1e9 };
      const issue = (challenge: string, source: string, nowMs = T0) => store.issueChallenge({ ...window, signingKey: key(9), challenge, source, nowMs, expiresAtMs: nowMs + 60_000, maxPerDevice: 4 });
      const use = async (challenge: string, nowMs: number, answer: { signingKey?: Uint8Array; signatureValid?: boolean } = {}) => {
        const used = await store.useChallenge({ lockKey: 'lock:none', challenge, nowMs, signingKey: answer.signingKey ?? key(9), signatureValid: answer.signatureValid ?? true });
        return used.kind === 'granted' ? used.device.id : used.kind;
      };
      assert.deepEqual(await issue('c1', 'owner'), { kind: 'issued' });
      const granted = await store.useChallenge({ lockKey: 'lock:none', challenge: 'c1', nowMs: T0 + 1, signingKey: key(9), signatureValid: true });
      assert.ok(granted.kind === 'granted' && granted.device.id === device.value.id && granted.user.username === 'bob' && granted.user.passwordHash === 'h');
      assert.deepEqual(granted.device.signingKey, key(9));
      assert.equal((await store.findDevice(device.value.id))?.lastLoginMs, T0 + 1, 'the login is recorded');
      assert.equal((await store.findUserById(users.bob!.id))?.lastSeenMs, T0 + 1);
      assert.equal(await store.nextSerial(), granted.serial + 1, 'its serial was drawn');
      assert.equal(await use('c1', T0 + 2), 'unknown', 'replayed');
      // A wrong answer (another key, a bad signature) is refused and uses the challenge up, recording nothing.
      await issue('c3', 'owner');
      assert.equal(await use('c3', T0 + 3, { signatureValid: false }), 'wrong_key');
      assert.equal(await use('c3', T0 + 4), 'unknown', 'used up by the wrong answer');
      await issue('c4', 'owner');
      assert.equal(await use('c4', T0 + 5, { signingKey: key(1) }), 'wrong_key');
      assert.equal((await store.findDevice(device.value.id))?.lastLoginMs, T0 + 1, 'no login recorded');
      await issue('c2', 'owner');
      assert.equal(await use('c2', T0 + 60_001), 'unknown', 'expired');
      assert.equal(await use('c2', T0), 'unknown', 'an expired challenge was used up all the same');
      // The owner's challenge outlives a flood from another source; the table stays bounded.
      await issue('mine', 'owner');
      for (let i = 0; i < 50; i++) await issue(`flood${i}`, 'stranger');
      const rows = await store.db.selectFrom('login_challenges').select('challenge').where('device_id', '=', device.value.id).orderBy('id').execute();
      assert.deepEqual(rows.map((r) => r.challenge), ['mine', 'flood47', 'flood48', 'flood49']);
      assert.equal(await use('flood46', T0), 'unknown', 'an earlier flood challenge is gone');
      assert.equal(await use('mine', T0), device.value.id);
      // With the set full of one source's challenges, another source evicts the oldest; expired ones go first.
      await issue('late', 'third', T0 + 120_000);
      const after = await store.db.selectFrom('login_challenges').select('challenge').where('device_id', '=', device.value.id).execute();
      assert.deepEqual(after.map((r) => r.challenge), ['late'], 'expired challenges were deleted');
      // Unknown and revoked keys get none; nothing is stored for them.
      assert.deepEqual(await store.issueChallenge({ ...window, signingKey: key(77), challenge: 'nobody', source: 'owner', nowMs: T0, expiresAtMs: T0 + 60_000, maxPerDevice: 4 }), { kind: 'unknown_device' });
      assert.equal(await use('nobody', T0), 'unknown');
    });

    test('challenges: refused and not counted while the lock holds, counted in fixed windows, a challenge kept while locked', async () => {
      const device = await store.registerDevice({ userId: users.alfred!.id, signingKey: key(10), dhKey: key(10), name: 'pc', nowMs: T0 });
      assert.ok(device.ok);
      const issue = (challenge: string, nowMs: number, signingKey = key(10)) =>
        store.issueChallenge({ lockKey: 'login-ip:w', windowKey: 'challenge-ip:w', windowMs: 10_000, maxPerWindow: 3, signingKey, challenge, source: 'w', nowMs, expiresAtMs: nowMs + 60_000, maxPerDevice: 8 });
      // Fixed windows: three per 10 s (an unknown key counts too), then refused until the window ends.
      const outcomes = [await issue('w0', T0), await issue('w1', T0 + 1, key(78)), await issue('w2', T0 + 2), await issue('w3', T0 + 3), await issue('w4', T0 + 4)];
      assert.deepEqual(outcomes.map((o) => o.kind), ['issued', 'unknown_device', 'issued', 'rate_limited', 'rate_limited']);
      assert.deepEqual(outcomes[3], { kind: 'rate_limited', lockedUntilMs: T0 + 10_000 });
      assert.deepEqual(await issue('w5', T0 + 10_000), { kind: 'issued' }, 'a new window');
      // A locked source gets no challenge, and its asking is not counted; its outstanding challenge is kept.
      const policy = { freeFailures: 0, baseLockMs: 5_000, maxLockMs: 5_000, forgetAfterMs: 60_000 };
      assert.equal(await store.recordFailure('login-ip:w', T0 + 10_000, policy), T0 + 15_000);
      assert.deepEqual(await issue('w6', T0 + 10_001), { kind: 'locked', lockedUntilMs: T0 + 15_000 });
      const answer = { lockKey: 'login-ip:w', challenge: 'w5', signingKey: key(10), signatureValid: true };
      assert.deepEqual(await store.useChallenge({ ...answer, nowMs: T0 + 10_001 }), { kind: 'locked', lockedUntilMs: T0 + 15_000 });
      assert.deepEqual(await issue('w7', T0 + 15_000), { kind: 'issued' }, 'the lock ended');
      assert.deepEqual(await issue('w8', T0 + 15_001), { kind: 'issued' }, 'the third of the window: the locked ask was not counted');
      const used = await store.useChallenge({ ...answer, nowMs: T0 + 15_000 });
      assert.ok(used.kind === 'granted' && used.device.id === device.value.id);
      // A revoked device's challenge is refused as such.
      assert.deepEqual(await issue('w9', T0 + 20_000), { kind: 'issued' }, 'a new window');
      assert.ok((await store.revokeDevice(users.alfred!.id, device.value.id, T0 + 20_001)).ok);
      assert.deepEqual(await store.useChallenge({ ...answer, challenge: 'w9', nowMs: T0 + 20_002 }), { kind: 'revoked' });
    });

    test('a password login records the login and draws the next serial', async () => {
      const device = (await store.listDevices(users.alfred!.id))[0]!;
      const first = await store.recordGrant(device.id, users.alfred!.id, T0 + 42);
      assert.equal(await store.recordGrant(device.id, users.alfred!.id, T0 + 43), first + 1);
      assert.equal((await store.findDevice(device.id))?.lastLoginMs, T0 + 43);
      assert.equal((await store.findUserById(users.alfred!.id))?.lastSeenMs, T0 + 43);
    });

    test('certificate serials are unique and increasing, even when drawn at once', async () => {
      const serials = await Promise.all(Array.from({ length: 20 }, () => store.nextSerial()));
      assert.equal(new Set(serials).size, 20);
      assert.ok((await store.nextSerial()) > Math.max(...serials));
    });

    test('contact list: versioned replace, stale version conflicts, unknown users refused, bounded', async () => {
      const alice = users.alice!.id;
      assert.deepEqual(await store.getContacts(alice), { version: 0, entries: [] });
      const first = await store.putContacts(alice, 0, [{ username: 'bob', kind: 'buddy' }, { username: 'albert', kind: 'blocked' }]);
      assert.ok(first.ok && first.value.version === 1);
      const stale = await store.putContacts(alice, 0, [{ username: 'bob', kind: 'blocked' }]);
      assert.ok(!stale.ok && stale.error.code === 'version_conflict');
      const unknown = await store.putContacts(alice, 1, [{ username: 'nobody', kind: 'buddy' }]);
      assert.ok(!unknown.ok && unknown.error.code === 'not_found');
      const many = await store.putContacts(alice, 1, ['bob', 'albert', 'alfred', 'al_x'].map((username) => ({ username, kind: 'buddy' as const })));
      assert.ok(!many.ok && many.error.code === 'too_many_contacts');
      assert.deepEqual(await store.getContacts(alice), { version: 1, entries: [{ username: 'albert', kind: 'blocked' }, { username: 'bob', kind: 'buddy' }] });
      assert.ok(await store.isBlockedBy(users.albert!.id, alice));
      assert.ok(!(await store.isBlockedBy(users.bob!.id, alice)));
    });

    test('buddy requests: one pending per pair, bounded per recipient; accepting makes both buddies', async () => {
      const request = await store.createBuddyRequest(users.alfred!.id, users.bob!.id, 'hi bob', T0);
      assert.ok(request.ok && request.value.from === 'alfred' && request.value.to === 'bob');
      const twice = await store.createBuddyRequest(users.alfred!.id, users.bob!.id, 'again', T0);
      assert.ok(!twice.ok && twice.error.code === 'already_requested');
      assert.ok((await store.createBuddyRequest(users.al_x!.id, users.bob!.id, '', T0)).ok);
      const full = await store.createBuddyRequest(users.albert!.id, users.bob!.id, '', T0);
      assert.ok(!full.ok && full.error.code === 'too_many_requests');
      const bobVersion = await store.contactVersion(users.bob!.id);
      assert.ok((await store.answerRequest(request.value.id, users.bob!.id, true)).ok);
      assert.deepEqual((await store.getContacts(users.alfred!.id)).entries, [{ username: 'bob', kind: 'buddy' }]);
      assert.ok((await store.getContacts(users.bob!.id)).entries.some((e) => e.username === 'alfred'));
      assert.equal(await store.contactVersion(users.bob!.id), bobVersion + 1);
      const notYours = await store.answerRequest(request.value.id, users.bob!.id, true);
      assert.ok(!notYours.ok && notYours.error.code === 'not_found');
      assert.equal((await store.listRequests({ toUserId: users.bob!.id })).length, 1);
    });

    test('directory: exact lookup for anyone; prefix search only among the discoverable, paged, wildcards literal', async () => {
      await store.setLastSeen(users.alice!.id, T0 + 99);
      assert.deepEqual(await store.lookup('alice'), { username: 'alice', displayName: 'ALICE', lastSeenMs: T0 + 99 });
      assert.equal((await store.lookup('albert'))?.lastSeenMs, null);
      assert.equal(await store.lookup('zed'), null);
      const all = await store.searchPrefix('al', 10);
      assert.deepEqual(all.map((e) => e.username), ['al_x', 'alfred', 'alice'], 'albert is not discoverable');
      const page1 = await store.searchPrefix('al', 2);
      const page2 = await store.searchPrefix('al', 2, page1.at(-1)!.username);
      assert.deepEqual([...page1, ...page2].map((e) => e.username), ['al_x', 'alfred', 'alice']);
      assert.deepEqual((await store.searchPrefix('al_', 10)).map((e) => e.username), ['al_x'], "'_' is not a wildcard");
      assert.deepEqual(await store.searchPrefix('%', 10), []);
    });

    test('offline messages: stored opaque, fetched in order, acknowledged once, within quotas', async () => {
      const device = await store.registerDevice({ userId: users.alfred!.id, signingKey: key(20), dhKey: key(20), name: 'pc', nowMs: T0 });
      assert.ok(device.ok);
      const id = device.value.id;
      const recipient = { deviceId: id, userId: users.alfred!.id };
      const bob = { userId: users.bob!.id, username: 'bob' };
      for (const n of [1, 2, 3]) assert.ok((await store.storeOffline(recipient, bob, new Uint8Array(10).fill(n), T0 + n)).ok);
      const count = await store.storeOffline(recipient, bob, new Uint8Array(1), T0);
      assert.ok(!count.ok && count.error.code === 'quota_exceeded');
      const fetched = await store.fetchOffline(id, 10);
      assert.deepEqual(fetched.map((m) => m.ciphertext[0]), [1, 2, 3]);
      assert.equal(await store.ackOffline(id, [fetched[0]!.id, fetched[1]!.id, 999_999]), 2);
      assert.equal(await store.ackOffline(id, [fetched[0]!.id]), 0, 'acknowledged once');
      const bytes = await store.storeOffline(recipient, bob, new Uint8Array(95), T0);
      assert.ok(!bytes.ok && bytes.error.code === 'quota_exceeded', 'byte quota');
    });

    test('throttle: free failures, then doubling locks, forgotten after a while, cleared on success', async () => {
      const policy = { freeFailures: 2, baseLockMs: 1000, maxLockMs: 8000, forgetAfterMs: 60_000 };
      assert.equal(await store.recordFailure('ip:1', T0, policy), 0);
      assert.equal(await store.recordFailure('ip:1', T0, policy), 0);
      assert.equal(await store.recordFailure('ip:1', T0, policy), T0 + 1000);
      assert.equal(await store.recordFailure('ip:1', T0, policy), T0 + 2000);
      for (let i = 0; i < 5; i++) await store.recordFailure('ip:1', T0, policy);
      assert.equal(await store.lockedUntil('ip:1'), T0 + 8000, 'capped');
      assert.equal(await store.recordFailure('ip:1', T0 + 120_000, policy), 0, 'forgotten');
      await store.clearFailures('ip:1');
      assert.equal(await store.lockedUntil('ip:1'), 0);
    });

    test('throttle reservations: counted before the work, refused while locked, given back on success; pruning', async () => {
      const policy = { freeFailures: 2, baseLockMs: 1000, maxLockMs: 8000, forgetAfterMs: 60_000 };
      // Ten at once: the first three are admitted (two free, the third sets the lock), the rest refused.
      const burst = await Promise.all(Array.from({ length: 10 }, () => store.reserveAttempt('acct:1', T0, policy)));
      assert.equal(burst.filter((r) => r.ok).length, 3);
      assert.ok(burst.every((r) => r.ok || r.lockedUntilMs === T0 + 1000));
      // A success gives its reservation back: the count is within the free failures, the lock goes.
      await store.refundAttempt('acct:1', policy);
      assert.equal(await store.lockedUntil('acct:1'), 0);
      assert.ok((await store.reserveAttempt('acct:1', T0, policy)).ok);
      // Idle, unlocked rows are pruned; a locked one stays.
      await store.recordFailure('idle:1', T0 - 3_600_000, policy);
      for (let i = 0; i < 4; i++) await store.recordFailure('locked:1', T0 - 3_600_000, { ...policy, maxLockMs: 2 * 3_600_000, baseLockMs: 2 * 3_600_000 });
      assert.equal(await store.pruneThrottles(T0, 3_000_000), 1);
      assert.equal(await store.lockedUntil('idle:1'), 0);
      assert.ok((await store.lockedUntil('locked:1')) > T0);
    });

    test('deleting an account removes its data and bumps the lists that named it', async () => {
      const version = await store.contactVersion(users.alice!.id);
      await store.deleteUser(users.bob!.id);
      assert.equal(await store.findUser('bob'), null);
      assert.equal(await store.contactVersion(users.alice!.id), version + 1);
      assert.ok(!(await store.getContacts(users.alice!.id)).entries.some((e) => e.username === 'bob'));
      assert.equal((await store.listDevices(users.bob!.id)).length, 0);
    });
  });
}
