// Everything the login server keeps, behind one class, on SQLite or PostgreSQL. The server
// holds no other state, so replicas over one PostgreSQL serve the same users. Expected
// failures (a name taken, a stale version, a quota) are typed results; exceptions are bugs or
// a database that is down.
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { err, ok, type CodedError, type Result } from '../../result.js';
import type { DevicesTable, DialectName, Schema, UsersTable } from './schema.js';
import type { StoreDatabase } from './database.js';
import { usernameSkeleton } from '../../wire/confusables.js';
import type { ChallengeAnswer, ChallengeOutcome, ChallengeRequest, ChallengeUse } from './relogin-queries.js';

export interface User {
  readonly id: number;
  readonly username: string;
  readonly displayName: string;
  readonly passwordHash: string;
  readonly createdAtMs: number;
  readonly discoverable: boolean;
  readonly showLastSeen: boolean;
  readonly lastSeenMs: number | null;
}

export interface Device {
  readonly id: number;
  readonly userId: number;
  readonly signingKey: Uint8Array;
  readonly dhKey: Uint8Array;
  readonly name: string;
  readonly createdAtMs: number;
  readonly lastLoginMs: number;
  readonly revokedAtMs: number | null;
}

export type ContactKind = 'buddy' | 'blocked';

export interface ContactEntry {
  readonly username: string;
  readonly kind: ContactKind;
}

export interface ContactList {
  readonly version: number;
  readonly entries: readonly ContactEntry[];
}

export interface BuddyRequest {
  readonly id: number;
  readonly from: string;
  readonly to: string;
  readonly message: string;
  readonly createdAtMs: number;
}

export interface OfflineMessage {
  readonly id: number;
  readonly sender: string;
  readonly ciphertext: Uint8Array;
  readonly createdAtMs: number;
}

export interface DirectoryEntry {
  readonly username: string;
  readonly displayName: string;
  /** Only for users who allow it. */
  readonly lastSeenMs: number | null;
}

export interface StoreLimits {
  readonly maxDevicesPerUser: number;
  readonly maxContacts: number;
  /** Pending buddy requests to one user, from everyone together. */
  readonly maxPendingRequestsPerUser: number;
  /** Pending buddy requests from one user, to everyone together: one account cannot ask the whole directory. */
  readonly maxOutgoingRequestsPerUser: number;
  /** A device's whole offline store. */
  readonly maxOfflineMessagesPerDevice: number;
  readonly maxOfflineBytesPerDevice: number;
  /** One buddy's share of a device's store: a few chatty buddies cannot crowd out the rest. */
  readonly maxOfflineMessagesPerBuddy: number;
  readonly maxOfflineBytesPerBuddy: number;
  /** One stranger's share: the words of a buddy request, a few messages (the chat shows them as requests). */
  readonly maxOfflineMessagesPerStranger: number;
  readonly maxOfflineBytesPerStranger: number;
  /** All strangers together: many throwaway accounts still leave the rest of the store to buddies. */
  readonly maxOfflineMessagesFromStrangers: number;
  readonly maxOfflineBytesFromStrangers: number;
}

export const DEFAULT_STORE_LIMITS: StoreLimits = {
  maxDevicesPerUser: 16,
  maxContacts: 2000,
  maxPendingRequestsPerUser: 200,
  maxOutgoingRequestsPerUser: 100,
  maxOfflineMessagesPerDevice: 1000,
  maxOfflineBytesPerDevice: 16 * 1024 * 1024,
  maxOfflineMessagesPerBuddy: 250,
  maxOfflineBytesPerBuddy: 4 * 1024 * 1024,
  maxOfflineMessagesPerStranger: 10,
  maxOfflineBytesPerStranger: 160 * 1024,
  maxOfflineMessagesFromStrangers: 100,
  maxOfflineBytesFromStrangers: 1024 * 1024,
};

/** Who deposits a message for a device, as its owner's contact list says: it decides the sender's share. */
export type OfflineSenderKind = 'self' | 'buddy' | 'stranger';

export type StoreErrorCode =
  | 'username_taken'
  | 'not_found'
  | 'key_in_use'
  | 'too_many_devices'
  | 'version_conflict'
  | 'too_many_contacts'
  | 'too_many_requests'
  | 'too_many_outgoing_requests'
  | 'already_requested'
  | 'quota_exceeded'
  | 'sender_share_exceeded'
  | 'strangers_share_exceeded';
export type StoreError = CodedError<StoreErrorCode>;

function storeError<T>(code: StoreErrorCode, message: string): Result<T, StoreError> {
  return err({ code, message });
}

function toUser(row: Selectable<UsersTable>): User {
  return {
    id: Number(row.id),
    username: row.username,
    displayName: row.display_name,
    passwordHash: row.password_hash,
    createdAtMs: Number(row.created_at_ms),
    discoverable: Number(row.discoverable) === 1,
    showLastSeen: Number(row.show_last_seen) === 1,
    lastSeenMs: row.last_seen_ms === null ? null : Number(row.last_seen_ms),
  };
}

function toDevice(row: Selectable<DevicesTable>): Device {
  return {
    id: Number(row.id),
    userId: Number(row.user_id),
    signingKey: new Uint8Array(row.signing_key),
    dhKey: new Uint8Array(row.dh_key),
    name: row.name,
    createdAtMs: Number(row.created_at_ms),
    lastLoginMs: Number(row.last_login_ms),
    revokedAtMs: row.revoked_at_ms === null ? null : Number(row.revoked_at_ms),
  };
}

/** A unique-constraint violation, in either dialect's words. */
function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Escapes LIKE wildcards so user text matches literally. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** How a throttle counts failures and locks (context.ts `ThrottlePolicy`). */
export interface ThrottlePolicyRow {
  readonly freeFailures: number;
  readonly baseLockMs: number;
  readonly maxLockMs: number;
  readonly forgetAfterMs: number;
}

/** After `freeFailures`, each further failure locks for twice as long as the one before (capped). */
function lockUntil(failures: number, nowMs: number, policy: ThrottlePolicyRow): number {
  const over = failures - policy.freeFailures;
  return over > 0 ? nowMs + Math.min(policy.maxLockMs, policy.baseLockMs * 2 ** Math.min(over - 1, 30)) : 0;
}

export class LoginStore {
  readonly db: Kysely<Schema>;
  readonly dialect: DialectName;

  readonly limits: StoreLimits;

  /** `limits` overrides some of `DEFAULT_STORE_LIMITS` (tests use small ones). */
  constructor(
    private readonly database: StoreDatabase,
    limits: Partial<StoreLimits> = {},
  ) {
    this.db = database.db;
    this.dialect = database.dialect;
    this.limits = { ...DEFAULT_STORE_LIMITS, ...limits };
  }

  close(): Promise<void> {
    return this.database.close();
  }

  /** Whether the database answers a trivial query (readiness); throws when it does not. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  // --- Accounts -------------------------------------------------------------------------

  async createUser(input: { username: string; displayName: string; passwordHash: string; nowMs: number; discoverable: boolean; showLastSeen: boolean }): Promise<Result<User, StoreError>> {
    try {
      const row = await this.db
        .insertInto('users')
        .values({
          username: input.username,
          username_skeleton: usernameSkeleton(input.username),
          display_name: input.displayName,
          password_hash: input.passwordHash,
          created_at_ms: input.nowMs,
          discoverable: input.discoverable ? 1 : 0,
          show_last_seen: input.showLastSeen ? 1 : 0,
          last_seen_ms: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return ok(toUser(row));
    } catch (error) {
      if (isUniqueViolation(error)) {
        const lookAlike = /skeleton/.test(`${(error as { constraint?: string }).constraint ?? ''} ${(error as Error).message}`);
        return storeError('username_taken', lookAlike ? `the name ${input.username} looks like one that is taken` : `the name ${input.username} is taken`);
      }
      throw error;
    }
  }

  async findUser(username: string): Promise<User | null> {
    const row = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async findUserById(id: number): Promise<User | null> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async setPasswordHash(userId: number, passwordHash: string): Promise<void> {
    await this.db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
  }

  async setPrivacy(userId: number, settings: { discoverable?: boolean; showLastSeen?: boolean }): Promise<void> {
    const values: { discoverable?: number; show_last_seen?: number } = {};
    if (settings.discoverable !== undefined) values.discoverable = settings.discoverable ? 1 : 0;
    if (settings.showLastSeen !== undefined) values.show_last_seen = settings.showLastSeen ? 1 : 0;
    if (Object.keys(values).length > 0) await this.db.updateTable('users').set(values).where('id', '=', userId).execute();
  }

  async setLastSeen(userId: number, nowMs: number): Promise<void> {
    await this.db.updateTable('users').set({ last_seen_ms: nowMs }).where('id', '=', userId).execute();
  }

  /** Deletes the account and, by cascade, its devices, contacts, requests and stored messages. */
  async deleteUser(userId: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      // Others' lists that name this user change too: bump their versions so they resync.
      const holders = await tx.selectFrom('contacts').select('user_id').where('contact_id', '=', userId).execute();
      for (const { user_id } of holders) await this.bumpVersion(tx, Number(user_id));
      await tx.deleteFrom('users').where('id', '=', userId).execute();
    });
  }

  // --- Devices, challenges, serials -------------------------------------------------------

  /** Adds a device to a user, or returns the one that already has this signing key. */
  async registerDevice(input: { userId: number; signingKey: Uint8Array; dhKey: Uint8Array; name: string; nowMs: number }): Promise<Result<Device, StoreError>> {
    const existing = await this.findDeviceBySigningKey(input.signingKey);
    if (existing) {
      if (existing.userId !== input.userId) return storeError('key_in_use', 'this device key belongs to another account');
      if (existing.revokedAtMs !== null) return storeError('key_in_use', 'this device was revoked; make a new device key');
      await this.db.updateTable('devices').set({ dh_key: input.dhKey, last_login_ms: input.nowMs, name: input.name }).where('id', '=', existing.id).execute();
      return ok({ ...existing, dhKey: input.dhKey, lastLoginMs: input.nowMs, name: input.name });
    }
    const count = await this.db.selectFrom('devices').select(sql<number>`count(*)`.as('n')).where('user_id', '=', input.userId).where('revoked_at_ms', 'is', null).executeTakeFirstOrThrow();
    if (Number(count.n) >= this.limits.maxDevicesPerUser) return storeError('too_many_devices', `at most ${this.limits.maxDevicesPerUser} devices per account`);
    try {
      const row = await this.db
        .insertInto('devices')
        .values({ user_id: input.userId, signing_key: input.signingKey, dh_key: input.dhKey, name: input.name, created_at_ms: input.nowMs, last_login_ms: input.nowMs, revoked_at_ms: null })
        .returningAll()
        .executeTakeFirstOrThrow();
      return ok(toDevice(row));
    } catch (error) {
      if (isUniqueViolation(error)) return storeError('key_in_use', 'this device key is already registered');
      throw error;
    }
  }

  async findDeviceBySigningKey(signingKey: Uint8Array): Promise<Device | null> {
    const row = await this.db.selectFrom('devices').selectAll().where('signing_key', '=', signingKey).executeTakeFirst();
    return row ? toDevice(row) : null;
  }

  async findDevice(deviceId: number): Promise<Device | null> {
    const row = await this.db.selectFrom('devices').selectAll().where('id', '=', deviceId).executeTakeFirst();
    return row ? toDevice(row) : null;
  }

  async listDevices(userId: number): Promise<Device[]> {
    const rows = await this.db.selectFrom('devices').selectAll().where('user_id', '=', userId).orderBy('id').execute();
    return rows.map(toDevice);
  }

  async revokeDevice(userId: number, deviceId: number, nowMs: number): Promise<Result<void, StoreError>> {
    const result = await this.db.updateTable('devices').set({ revoked_at_ms: nowMs }).where('id', '=', deviceId).where('user_id', '=', userId).where('revoked_at_ms', 'is', null).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return storeError('not_found', 'no such active device on this account');
    await this.db.deleteFrom('offline_messages').where('recipient_device_id', '=', deviceId).execute();
    return ok(undefined);
  }

  /**
   * Issues a challenge for the active device with `signingKey`, unless `lockKey` is locked or
   * `windowKey`'s window is full (relogin-queries.ts, one statement on PostgreSQL). A device holds
   * at most `maxPerDevice` outstanding: past that, the oldest one asked for from the same source
   * goes, or else the oldest of all, and expired ones go too. So the table stays bounded by
   * devices × `maxPerDevice`, and a stranger who knows a device's public key and asks again and
   * again evicts its own challenges, not the one the device is about to sign.
   */
  issueChallenge(request: ChallengeRequest): Promise<ChallengeOutcome> {
    return this.database.relogin.issueChallenge(request);
  }

  /**
   * Unless `lockKey` is locked, uses a challenge up: once, never again (a replay finds nothing);
   * an expired challenge is used up and found as unknown. When the challenge was the active
   * device's with this signing key and the signature is valid, the login is recorded and its
   * certificate's serial drawn in the same step.
   */
  async useChallenge(answer: ChallengeAnswer): Promise<Exclude<ChallengeUse, { kind: 'granted' }> | { readonly kind: 'granted'; readonly device: Device; readonly user: User; readonly serial: number }> {
    const used = await this.database.relogin.useChallenge(answer);
    return used.kind === 'granted' ? { kind: 'granted', device: toDevice(used.device), user: toUser(used.user), serial: used.serial } : used;
  }

  /** Records a password login (the device's last login, the user's last seen) and returns the next certificate serial, atomically. */
  recordGrant(deviceId: number, userId: number, nowMs: number): Promise<number> {
    return this.database.relogin.recordGrant(deviceId, userId, nowMs);
  }

  /** The next certificate serial, unique across replicas (one atomic upsert). */
  async nextSerial(): Promise<number> {
    const row = await this.db
      .insertInto('counters')
      .values({ name: 'serial', value: 1 })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value: sql`counters.value + 1` }))
      .returning('value')
      .executeTakeFirstOrThrow();
    return Number(row.value);
  }

  // --- Throttles (shared by replicas) -----------------------------------------------------

  async lockedUntil(key: string): Promise<number> {
    const row = await this.db.selectFrom('throttles').select('locked_until_ms').where('key', '=', key).executeTakeFirst();
    return row ? Number(row.locked_until_ms) : 0;
  }

  /** Counts a failure; after `freeFailures`, each further one locks for twice as long (capped). */
  async recordFailure(key: string, nowMs: number, policy: ThrottlePolicyRow): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      // Claim the row first (an upsert cannot conflict), then compute from what it held.
      await tx.insertInto('throttles').values({ key, failures: 0, locked_until_ms: 0, updated_at_ms: nowMs }).onConflict((oc) => oc.column('key').doNothing()).execute();
      let select = tx.selectFrom('throttles').selectAll().where('key', '=', key);
      if (this.dialect === 'postgres') select = select.forUpdate();
      const row = await select.executeTakeFirstOrThrow();
      const stale = nowMs - Number(row.updated_at_ms) > policy.forgetAfterMs;
      const failures = stale ? 1 : Number(row.failures) + 1;
      const lockedUntil = lockUntil(failures, nowMs, policy);
      await tx.updateTable('throttles').set({ failures, locked_until_ms: lockedUntil, updated_at_ms: nowMs }).where('key', '=', key).execute();
      return lockedUntil;
    });
  }

  async clearFailures(key: string): Promise<void> {
    await this.db.deleteFrom('throttles').where('key', '=', key).execute();
  }

  /**
   * Reserves an attempt before the work it guards (a password hash): refused while `key` is
   * locked; otherwise counted at once as a failure, locking later attempts as `recordFailure`
   * would. Concurrent attempts thus see each other: a burst gets `freeFailures + 1` attempts,
   * not one per request. A right password gives its reservation back (`refundAttempt`).
   */
  async reserveAttempt(key: string, nowMs: number, policy: ThrottlePolicyRow): Promise<{ readonly ok: true } | { readonly ok: false; readonly lockedUntilMs: number }> {
    return this.db.transaction().execute(async (tx) => {
      const row = await this.claimThrottle(tx, key, nowMs);
      if (Number(row.locked_until_ms) > nowMs) return { ok: false as const, lockedUntilMs: Number(row.locked_until_ms) };
      const stale = nowMs - Number(row.updated_at_ms) > policy.forgetAfterMs;
      const failures = stale ? 1 : Number(row.failures) + 1;
      await tx.updateTable('throttles').set({ failures, locked_until_ms: lockUntil(failures, nowMs, policy), updated_at_ms: nowMs }).where('key', '=', key).execute();
      return { ok: true as const };
    });
  }

  /** Gives back a reserved attempt that succeeded or was never evaluated; the lock goes when the count is back within the free failures. */
  async refundAttempt(key: string, policy: ThrottlePolicyRow): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      let select = tx.selectFrom('throttles').selectAll().where('key', '=', key);
      if (this.dialect === 'postgres') select = select.forUpdate();
      const row = await select.executeTakeFirst();
      if (!row) return;
      const failures = Math.max(0, Number(row.failures) - 1);
      await tx
        .updateTable('throttles')
        .set({ failures, locked_until_ms: failures > policy.freeFailures ? Number(row.locked_until_ms) : 0 })
        .where('key', '=', key)
        .execute();
    });
  }

  /**
   * Deletes throttle rows idle for `idleMs` and not locked: such a row says nothing a missing
   * row would not (every policy forgets sooner). Bounds the table by the attempts of one period.
   */
  async pruneThrottles(nowMs: number, idleMs: number): Promise<number> {
    const result = await this.db.deleteFrom('throttles').where('updated_at_ms', '<', nowMs - idleMs).where('locked_until_ms', '<=', nowMs).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** The row of `key`, created empty if missing, locked for update in this transaction. */
  private async claimThrottle(tx: Transaction<Schema>, key: string, nowMs: number) {
    // Claim the row first (an upsert cannot conflict), then read what it holds.
    await tx.insertInto('throttles').values({ key, failures: 0, locked_until_ms: 0, updated_at_ms: nowMs }).onConflict((oc) => oc.column('key').doNothing()).execute();
    let select = tx.selectFrom('throttles').selectAll().where('key', '=', key);
    if (this.dialect === 'postgres') select = select.forUpdate();
    return select.executeTakeFirstOrThrow();
  }

  // --- Contacts: buddy and block list, versioned ---------------------------------------------

  private async bumpVersion(tx: Transaction<Schema>, userId: number): Promise<number> {
    const row = await tx
      .insertInto('contact_lists')
      .values({ user_id: userId, version: 1 })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ version: sql`contact_lists.version + 1` }))
      .returning('version')
      .executeTakeFirstOrThrow();
    return Number(row.version);
  }

  async contactVersion(userId: number): Promise<number> {
    const row = await this.db.selectFrom('contact_lists').select('version').where('user_id', '=', userId).executeTakeFirst();
    return row ? Number(row.version) : 0;
  }

  async getContacts(userId: number): Promise<ContactList> {
    const [version, rows] = await Promise.all([
      this.contactVersion(userId),
      this.db.selectFrom('contacts').innerJoin('users', 'users.id', 'contacts.contact_id').select(['users.username', 'contacts.kind']).where('contacts.user_id', '=', userId).orderBy('users.username').execute(),
    ]);
    return { version, entries: rows.map((r) => ({ username: r.username, kind: r.kind as ContactKind })) };
  }

  /**
   * Replaces the whole list if `expectedVersion` is still current (optimistic concurrency: two
   * devices editing at once, one wins and the other gets `version_conflict` and resyncs).
   */
  async putContacts(userId: number, expectedVersion: number, entries: readonly ContactEntry[]): Promise<Result<ContactList, StoreError>> {
    if (entries.length > this.limits.maxContacts) return storeError('too_many_contacts', `at most ${this.limits.maxContacts} contacts`);
    return this.db.transaction().execute(async (tx) => {
      // Make sure the version row exists, then lock it (PostgreSQL) so two replicas cannot both
      // pass the check, even for a list written for the first time.
      await tx.insertInto('contact_lists').values({ user_id: userId, version: 0 }).onConflict((oc) => oc.column('user_id').doNothing()).execute();
      let current = tx.selectFrom('contact_lists').select('version').where('user_id', '=', userId);
      if (this.dialect === 'postgres') current = current.forUpdate();
      const row = await current.executeTakeFirst();
      const version = row ? Number(row.version) : 0;
      if (version !== expectedVersion) return storeError<ContactList>('version_conflict', `the list is at version ${version}, not ${expectedVersion}`);
      const names = [...new Set(entries.map((e) => e.username))];
      const users = names.length === 0 ? [] : await tx.selectFrom('users').select(['id', 'username']).where('username', 'in', names).execute();
      const idOf = new Map(users.map((u) => [u.username, Number(u.id)]));
      const missing = names.filter((n) => !idOf.has(n));
      if (missing.length > 0) return storeError<ContactList>('not_found', `no such user: ${missing.slice(0, 5).join(', ')}`);
      await tx.deleteFrom('contacts').where('user_id', '=', userId).execute();
      const byId = new Map<number, ContactKind>();
      for (const e of entries) {
        const id = idOf.get(e.username)!;
        if (id !== userId) byId.set(id, e.kind);
      }
      if (byId.size > 0) await tx.insertInto('contacts').values([...byId].map(([contact_id, kind]) => ({ user_id: userId, contact_id, kind }))).execute();
      const newVersion = await this.bumpVersion(tx, userId);
      const sorted = [...byId].map(([id, kind]) => ({ username: users.find((u) => Number(u.id) === id)!.username, kind })).sort((a, b) => (a.username < b.username ? -1 : 1));
      return ok({ version: newVersion, entries: sorted });
    });
  }

  async isBlockedBy(userId: number, byUserId: number): Promise<boolean> {
    const row = await this.db.selectFrom('contacts').select('kind').where('user_id', '=', byUserId).where('contact_id', '=', userId).executeTakeFirst();
    return row?.kind === 'blocked';
  }

  // --- Buddy requests ---------------------------------------------------------------------

  async createBuddyRequest(fromUserId: number, toUserId: number, message: string, nowMs: number): Promise<Result<BuddyRequest, StoreError>> {
    const pending = await this.db.selectFrom('buddy_requests').select(sql<number>`count(*)`.as('n')).where('to_user_id', '=', toUserId).executeTakeFirstOrThrow();
    if (Number(pending.n) >= this.limits.maxPendingRequestsPerUser) return storeError('too_many_requests', 'this user has too many pending requests');
    const outgoing = await this.db.selectFrom('buddy_requests').select(sql<number>`count(*)`.as('n')).where('from_user_id', '=', fromUserId).executeTakeFirstOrThrow();
    if (Number(outgoing.n) >= this.limits.maxOutgoingRequestsPerUser) {
      return storeError('too_many_outgoing_requests', `at most ${this.limits.maxOutgoingRequestsPerUser} of your buddy requests may wait for an answer at once`);
    }
    try {
      const row = await this.db.insertInto('buddy_requests').values({ from_user_id: fromUserId, to_user_id: toUserId, message, created_at_ms: nowMs }).returning('id').executeTakeFirstOrThrow();
      const request = (await this.listRequests({ id: Number(row.id) }))[0]!;
      return ok(request);
    } catch (error) {
      if (isUniqueViolation(error)) return storeError('already_requested', 'a request is already pending');
      throw error;
    }
  }

  /** Requests to a user (incoming), from a user (outgoing), or one by id. */
  async listRequests(filter: { toUserId?: number; fromUserId?: number; id?: number }): Promise<BuddyRequest[]> {
    let query = this.db
      .selectFrom('buddy_requests as r')
      .innerJoin('users as f', 'f.id', 'r.from_user_id')
      .innerJoin('users as t', 't.id', 'r.to_user_id')
      .select(['r.id', 'f.username as from', 't.username as to', 'r.message', 'r.created_at_ms']);
    if (filter.toUserId !== undefined) query = query.where('r.to_user_id', '=', filter.toUserId);
    if (filter.fromUserId !== undefined) query = query.where('r.from_user_id', '=', filter.fromUserId);
    if (filter.id !== undefined) query = query.where('r.id', '=', filter.id);
    const rows = await query.orderBy('r.id').execute();
    return rows.map((r) => ({ id: Number(r.id), from: r.from, to: r.to, message: r.message, createdAtMs: Number(r.created_at_ms) }));
  }

  /** Accepting makes both users buddies of each other (both lists change version). */
  async answerRequest(requestId: number, toUserId: number, accept: boolean): Promise<Result<BuddyRequest, StoreError>> {
    const request = (await this.listRequests({ id: requestId, toUserId }))[0];
    if (!request) return storeError('not_found', 'no such request to you');
    await this.db.transaction().execute(async (tx) => {
      const row = await tx.deleteFrom('buddy_requests').where('id', '=', requestId).returning(['from_user_id', 'to_user_id']).executeTakeFirst();
      if (!row || !accept) return;
      const a = Number(row.from_user_id);
      const b = Number(row.to_user_id);
      for (const [user, contact] of [[a, b], [b, a]] as const) {
        await tx.deleteFrom('contacts').where('user_id', '=', user).where('contact_id', '=', contact).execute();
        await tx.insertInto('contacts').values({ user_id: user, contact_id: contact, kind: 'buddy' }).execute();
        await this.bumpVersion(tx, user);
      }
    });
    return ok(request);
  }

  // --- Directory fallback -------------------------------------------------------------------

  async lookup(username: string): Promise<DirectoryEntry | null> {
    const user = await this.findUser(username);
    if (!user) return null;
    return { username: user.username, displayName: user.displayName, lastSeenMs: user.showLastSeen ? user.lastSeenMs : null };
  }

  /** Discoverable users whose name starts with `prefix`, in name order, after `after` (paging). */
  async searchPrefix(prefix: string, limit: number, after?: string): Promise<DirectoryEntry[]> {
    let query = this.db
      .selectFrom('users')
      .select(['username', 'display_name', 'show_last_seen', 'last_seen_ms'])
      .where('discoverable', '=', 1)
      .where(sql<boolean>`username like ${likePrefix(prefix)} escape '\\'`);
    if (after !== undefined) query = query.where('username', '>', after);
    const rows = await query.orderBy('username').limit(limit).execute();
    return rows.map((r) => ({ username: r.username, displayName: r.display_name, lastSeenMs: Number(r.show_last_seen) === 1 && r.last_seen_ms !== null ? Number(r.last_seen_ms) : null }));
  }

  // --- Offline messages ---------------------------------------------------------------------

  /**
   * Keeps a sealed message for a device, within the device's store and the sender's share of it:
   * the device's own user fills it up to the whole store, each buddy (on the recipient's contact
   * list) up to a buddy's share, each stranger up to a stranger's share, and all strangers
   * together up to the strangers' share, so nobody outside the list can crowd out the buddies.
   */
  async storeOffline(recipient: { deviceId: number; userId: number }, sender: { userId: number; username: string }, ciphertext: Uint8Array, nowMs: number): Promise<Result<{ id: number; senderKind: OfflineSenderKind }, StoreError>> {
    type Stored = { id: number; senderKind: OfflineSenderKind };
    const limits = this.limits;
    const size = ciphertext.byteLength;
    return this.db.transaction().execute(async (tx) => {
      // One deposit at a time per device on PostgreSQL (replicas, pooled connections): the
      // usage read below then stays true until the insert.
      if (this.dialect === 'postgres') await tx.selectFrom('devices').select('id').where('id', '=', recipient.deviceId).forUpdate().execute();
      const senderKind = await this.offlineSenderKind(tx, recipient.userId, sender.userId);
      const usage = await tx
        .selectFrom('offline_messages')
        .select([
          sql<number>`count(*)`.as('n'),
          sql<number>`coalesce(sum(length(ciphertext)), 0)`.as('bytes'),
          sql<number>`coalesce(sum(case when sender_username = ${sender.username} then 1 else 0 end), 0)`.as('senderN'),
          sql<number>`coalesce(sum(case when sender_username = ${sender.username} then length(ciphertext) else 0 end), 0)`.as('senderBytes'),
          sql<number>`coalesce(sum(from_stranger), 0)`.as('strangersN'),
          sql<number>`coalesce(sum(from_stranger * length(ciphertext)), 0)`.as('strangersBytes'),
        ])
        .where('recipient_device_id', '=', recipient.deviceId)
        .executeTakeFirstOrThrow();
      const full = (count: unknown, bytes: unknown, maxCount: number, maxBytes: number) => Number(count) >= maxCount || Number(bytes) + size > maxBytes;
      if (full(usage.n, usage.bytes, limits.maxOfflineMessagesPerDevice, limits.maxOfflineBytesPerDevice)) {
        return storeError<Stored>('quota_exceeded', 'the recipient device has no room for more offline messages');
      }
      if (senderKind === 'buddy' && full(usage.senderN, usage.senderBytes, limits.maxOfflineMessagesPerBuddy, limits.maxOfflineBytesPerBuddy)) {
        return storeError<Stored>('sender_share_exceeded', `a buddy may leave at most ${limits.maxOfflineMessagesPerBuddy} messages (${limits.maxOfflineBytesPerBuddy} bytes) for one device until it fetches them`);
      }
      if (senderKind === 'stranger') {
        if (full(usage.senderN, usage.senderBytes, limits.maxOfflineMessagesPerStranger, limits.maxOfflineBytesPerStranger)) {
          return storeError<Stored>('sender_share_exceeded', `someone who is not the recipient's buddy may leave at most ${limits.maxOfflineMessagesPerStranger} messages (${limits.maxOfflineBytesPerStranger} bytes) for one device until it fetches them`);
        }
        if (full(usage.strangersN, usage.strangersBytes, limits.maxOfflineMessagesFromStrangers, limits.maxOfflineBytesFromStrangers)) {
          return storeError<Stored>('strangers_share_exceeded', "the recipient device's room for messages from people who are not its buddies is full");
        }
      }
      const row = await tx
        .insertInto('offline_messages')
        .values({ recipient_device_id: recipient.deviceId, sender_username: sender.username, ciphertext, created_at_ms: nowMs, from_stranger: senderKind === 'stranger' ? 1 : 0 })
        .returning('id')
        .executeTakeFirstOrThrow();
      return ok({ id: Number(row.id), senderKind });
    });
  }

  private async offlineSenderKind(tx: Transaction<Schema>, recipientUserId: number, senderUserId: number): Promise<OfflineSenderKind> {
    if (recipientUserId === senderUserId) return 'self';
    const row = await tx.selectFrom('contacts').select('kind').where('user_id', '=', recipientUserId).where('contact_id', '=', senderUserId).executeTakeFirst();
    return row?.kind === 'buddy' ? 'buddy' : 'stranger';
  }

  async fetchOffline(recipientDeviceId: number, limit: number): Promise<OfflineMessage[]> {
    const rows = await this.db.selectFrom('offline_messages').selectAll().where('recipient_device_id', '=', recipientDeviceId).orderBy('id').limit(limit).execute();
    return rows.map((r) => ({ id: Number(r.id), sender: r.sender_username, ciphertext: new Uint8Array(r.ciphertext), createdAtMs: Number(r.created_at_ms) }));
  }

  /** Deletes the acknowledged messages of this device (ids of other devices are ignored). */
  async ackOffline(recipientDeviceId: number, ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await this.db.deleteFrom('offline_messages').where('recipient_device_id', '=', recipientDeviceId).where('id', 'in', [...ids]).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
