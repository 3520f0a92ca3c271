// Everything the login server keeps, behind one class, on SQLite or PostgreSQL. The server
// holds no other state, so replicas over one PostgreSQL serve the same users. Expected
// failures (a name taken, a stale version, a quota) are typed results; exceptions are bugs or
// a database that is down.
import { sql } from 'kysely';
import { err, ok } from '../../result.js';
export const DEFAULT_STORE_LIMITS = {
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
function storeError(code, message) {
    return err({ code, message });
}
function toUser(row) {
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
function toDevice(row) {
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
function isUniqueViolation(error) {
    const e = error;
    return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
/** Escapes LIKE wildcards so user text matches literally. */
function likePrefix(prefix) {
    return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
export class LoginStore {
    database;
    db;
    dialect;
    limits;
    /** `limits` overrides some of `DEFAULT_STORE_LIMITS` (tests use small ones). */
    constructor(database, limits = {}) {
        this.database = database;
        this.db = database.db;
        this.dialect = database.dialect;
        this.limits = { ...DEFAULT_STORE_LIMITS, ...limits };
    }
    close() {
        return this.database.close();
    }
    /** Whether the database answers a trivial query (readiness); throws when it does not. */
    async ping() {
        await sql `select 1`.execute(this.db);
    }
    // --- Accounts -------------------------------------------------------------------------
    async createUser(input) {
        try {
            const row = await this.db
                .insertInto('users')
                .values({
                username: input.username,
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
        }
        catch (error) {
            if (isUniqueViolation(error))
                return storeError('username_taken', `the name ${input.username} is taken`);
            throw error;
        }
    }
    async findUser(username) {
        const row = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
        return row ? toUser(row) : null;
    }
    async findUserById(id) {
        const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
        return row ? toUser(row) : null;
    }
    async setPasswordHash(userId, passwordHash) {
        await this.db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
    }
    async setPrivacy(userId, settings) {
        const values = {};
        if (settings.discoverable !== undefined)
            values.discoverable = settings.discoverable ? 1 : 0;
        if (settings.showLastSeen !== undefined)
            values.show_last_seen = settings.showLastSeen ? 1 : 0;
        if (Object.keys(values).length > 0)
            await this.db.updateTable('users').set(values).where('id', '=', userId).execute();
    }
    async setLastSeen(userId, nowMs) {
        await this.db.updateTable('users').set({ last_seen_ms: nowMs }).where('id', '=', userId).execute();
    }
    /** Deletes the account and, by cascade, its devices, contacts, requests and stored messages. */
    async deleteUser(userId) {
        await this.db.transaction().execute(async (tx) => {
            // Others' lists that name this user change too: bump their versions so they resync.
            const holders = await tx.selectFrom('contacts').select('user_id').where('contact_id', '=', userId).execute();
            for (const { user_id } of holders)
                await this.bumpVersion(tx, Number(user_id));
            await tx.deleteFrom('users').where('id', '=', userId).execute();
        });
    }
    // --- Devices, challenges, serials -------------------------------------------------------
    /** Adds a device to a user, or returns the one that already has this signing key. */
    async registerDevice(input) {
        const existing = await this.findDeviceBySigningKey(input.signingKey);
        if (existing) {
            if (existing.userId !== input.userId)
                return storeError('key_in_use', 'this device key belongs to another account');
            if (existing.revokedAtMs !== null)
                return storeError('key_in_use', 'this device was revoked; make a new device key');
            await this.db.updateTable('devices').set({ dh_key: input.dhKey, last_login_ms: input.nowMs, name: input.name }).where('id', '=', existing.id).execute();
            return ok({ ...existing, dhKey: input.dhKey, lastLoginMs: input.nowMs, name: input.name });
        }
        const count = await this.db.selectFrom('devices').select(sql `count(*)`.as('n')).where('user_id', '=', input.userId).where('revoked_at_ms', 'is', null).executeTakeFirstOrThrow();
        if (Number(count.n) >= this.limits.maxDevicesPerUser)
            return storeError('too_many_devices', `at most ${this.limits.maxDevicesPerUser} devices per account`);
        try {
            const row = await this.db
                .insertInto('devices')
                .values({ user_id: input.userId, signing_key: input.signingKey, dh_key: input.dhKey, name: input.name, created_at_ms: input.nowMs, last_login_ms: input.nowMs, revoked_at_ms: null })
                .returningAll()
                .executeTakeFirstOrThrow();
            return ok(toDevice(row));
        }
        catch (error) {
            if (isUniqueViolation(error))
                return storeError('key_in_use', 'this device key is already registered');
            throw error;
        }
    }
    async findDeviceBySigningKey(signingKey) {
        const row = await this.db.selectFrom('devices').selectAll().where('signing_key', '=', signingKey).executeTakeFirst();
        return row ? toDevice(row) : null;
    }
    async findDevice(deviceId) {
        const row = await this.db.selectFrom('devices').selectAll().where('id', '=', deviceId).executeTakeFirst();
        return row ? toDevice(row) : null;
    }
    async listDevices(userId) {
        const rows = await this.db.selectFrom('devices').selectAll().where('user_id', '=', userId).orderBy('id').execute();
        return rows.map(toDevice);
    }
    async revokeDevice(userId, deviceId, nowMs) {
        const result = await this.db.updateTable('devices').set({ revoked_at_ms: nowMs }).where('id', '=', deviceId).where('user_id', '=', userId).where('revoked_at_ms', 'is', null).executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0)
            return storeError('not_found', 'no such active device on this account');
        await this.db.deleteFrom('offline_messages').where('recipient_device_id', '=', deviceId).execute();
        return ok(undefined);
    }
    /**
     * Issues a challenge for a device, replacing any earlier one: one outstanding challenge per
     * device bounds the table by the number of devices, however often a client asks.
     */
    async createChallenge(id, deviceId, expiresAtMs) {
        await this.db.transaction().execute(async (tx) => {
            await tx.deleteFrom('challenges').where('device_id', '=', deviceId).execute();
            await tx.insertInto('challenges').values({ id, device_id: deviceId, expires_at_ms: expiresAtMs }).execute();
        });
    }
    /** A device and its user in one query (the login path's lookup). */
    async findDeviceWithUser(deviceId) {
        const row = await this.db
            .selectFrom('devices')
            .innerJoin('users', 'users.id', 'devices.user_id')
            .selectAll('users')
            .select(['devices.id as d_id', 'devices.user_id as d_user_id', 'devices.signing_key', 'devices.dh_key', 'devices.name', 'devices.created_at_ms as d_created_at_ms', 'devices.last_login_ms', 'devices.revoked_at_ms'])
            .where('devices.id', '=', deviceId)
            .executeTakeFirst();
        if (!row)
            return null;
        return {
            user: toUser(row),
            device: toDevice({ id: row.d_id, user_id: row.d_user_id, signing_key: row.signing_key, dh_key: row.dh_key, name: row.name, created_at_ms: row.d_created_at_ms, last_login_ms: row.last_login_ms, revoked_at_ms: row.revoked_at_ms }),
        };
    }
    /** Records a login: the device's last login and the user's last seen, in one transaction. */
    async recordLogin(deviceId, userId, nowMs) {
        await this.db.transaction().execute(async (tx) => {
            await tx.updateTable('devices').set({ last_login_ms: nowMs }).where('id', '=', deviceId).execute();
            await tx.updateTable('users').set({ last_seen_ms: nowMs }).where('id', '=', userId).execute();
        });
    }
    /** Uses a challenge up: returns its device once, never again (a replay finds nothing). */
    async consumeChallenge(id, nowMs) {
        const row = await this.db.deleteFrom('challenges').where('id', '=', id).returning(['device_id', 'expires_at_ms']).executeTakeFirst();
        if (!row || Number(row.expires_at_ms) < nowMs)
            return null;
        return Number(row.device_id);
    }
    /** The next certificate serial, unique across replicas (one atomic upsert). */
    async nextSerial() {
        const row = await this.db
            .insertInto('counters')
            .values({ name: 'serial', value: 1 })
            .onConflict((oc) => oc.column('name').doUpdateSet({ value: sql `counters.value + 1` }))
            .returning('value')
            .executeTakeFirstOrThrow();
        return Number(row.value);
    }
    // --- Throttles (shared by replicas) -----------------------------------------------------
    async lockedUntil(key) {
        const row = await this.db.selectFrom('throttles').select('locked_until_ms').where('key', '=', key).executeTakeFirst();
        return row ? Number(row.locked_until_ms) : 0;
    }
    /** Counts a failure; after `freeFailures`, each further one locks for twice as long (capped). */
    async recordFailure(key, nowMs, policy) {
        return this.db.transaction().execute(async (tx) => {
            // Claim the row first (an upsert cannot conflict), then compute from what it held.
            await tx.insertInto('throttles').values({ key, failures: 0, locked_until_ms: 0, updated_at_ms: nowMs }).onConflict((oc) => oc.column('key').doNothing()).execute();
            let select = tx.selectFrom('throttles').selectAll().where('key', '=', key);
            if (this.dialect === 'postgres')
                select = select.forUpdate();
            const row = await select.executeTakeFirstOrThrow();
            const stale = nowMs - Number(row.updated_at_ms) > policy.forgetAfterMs;
            const failures = stale ? 1 : Number(row.failures) + 1;
            const over = failures - policy.freeFailures;
            const lockedUntil = over > 0 ? nowMs + Math.min(policy.maxLockMs, policy.baseLockMs * 2 ** Math.min(over - 1, 30)) : 0;
            await tx.updateTable('throttles').set({ failures, locked_until_ms: lockedUntil, updated_at_ms: nowMs }).where('key', '=', key).execute();
            return lockedUntil;
        });
    }
    async clearFailures(key) {
        await this.db.deleteFrom('throttles').where('key', '=', key).execute();
    }
    // --- Contacts: buddy and block list, versioned ---------------------------------------------
    async bumpVersion(tx, userId) {
        const row = await tx
            .insertInto('contact_lists')
            .values({ user_id: userId, version: 1 })
            .onConflict((oc) => oc.column('user_id').doUpdateSet({ version: sql `contact_lists.version + 1` }))
            .returning('version')
            .executeTakeFirstOrThrow();
        return Number(row.version);
    }
    async contactVersion(userId) {
        const row = await this.db.selectFrom('contact_lists').select('version').where('user_id', '=', userId).executeTakeFirst();
        return row ? Number(row.version) : 0;
    }
    async getContacts(userId) {
        const [version, rows] = await Promise.all([
            this.contactVersion(userId),
            this.db.selectFrom('contacts').innerJoin('users', 'users.id', 'contacts.contact_id').select(['users.username', 'contacts.kind']).where('contacts.user_id', '=', userId).orderBy('users.username').execute(),
        ]);
        return { version, entries: rows.map((r) => ({ username: r.username, kind: r.kind })) };
    }
    /**
     * Replaces the whole list if `expectedVersion` is still current (optimistic concurrency: two
     * devices editing at once, one wins and the other gets `version_conflict` and resyncs).
     */
    async putContacts(userId, expectedVersion, entries) {
        if (entries.length > this.limits.maxContacts)
            return storeError('too_many_contacts', `at most ${this.limits.maxContacts} contacts`);
        return this.db.transaction().execute(async (tx) => {
            // Make sure the version row exists, then lock it (PostgreSQL) so two replicas cannot both
            // pass the check, even for a list written for the first time.
            await tx.insertInto('contact_lists').values({ user_id: userId, version: 0 }).onConflict((oc) => oc.column('user_id').doNothing()).execute();
            let current = tx.selectFrom('contact_lists').select('version').where('user_id', '=', userId);
            if (this.dialect === 'postgres')
                current = current.forUpdate();
            const row = await current.executeTakeFirst();
            const version = row ? Number(row.version) : 0;
            if (version !== expectedVersion)
                return storeError('version_conflict', `the list is at version ${version}, not ${expectedVersion}`);
            const names = [...new Set(entries.map((e) => e.username))];
            const users = names.length === 0 ? [] : await tx.selectFrom('users').select(['id', 'username']).where('username', 'in', names).execute();
            const idOf = new Map(users.map((u) => [u.username, Number(u.id)]));
            const missing = names.filter((n) => !idOf.has(n));
            if (missing.length > 0)
                return storeError('not_found', `no such user: ${missing.slice(0, 5).join(', ')}`);
            await tx.deleteFrom('contacts').where('user_id', '=', userId).execute();
            const byId = new Map();
            for (const e of entries) {
                const id = idOf.get(e.username);
                if (id !== userId)
                    byId.set(id, e.kind);
            }
            if (byId.size > 0)
                await tx.insertInto('contacts').values([...byId].map(([contact_id, kind]) => ({ user_id: userId, contact_id, kind }))).execute();
            const newVersion = await this.bumpVersion(tx, userId);
            const sorted = [...byId].map(([id, kind]) => ({ username: users.find((u) => Number(u.id) === id).username, kind })).sort((a, b) => (a.username < b.username ? -1 : 1));
            return ok({ version: newVersion, entries: sorted });
        });
    }
    async isBlockedBy(userId, byUserId) {
        const row = await this.db.selectFrom('contacts').select('kind').where('user_id', '=', byUserId).where('contact_id', '=', userId).executeTakeFirst();
        return row?.kind === 'blocked';
    }
    // --- Buddy requests ---------------------------------------------------------------------
    async createBuddyRequest(fromUserId, toUserId, message, nowMs) {
        const pending = await this.db.selectFrom('buddy_requests').select(sql `count(*)`.as('n')).where('to_user_id', '=', toUserId).executeTakeFirstOrThrow();
        if (Number(pending.n) >= this.limits.maxPendingRequestsPerUser)
            return storeError('too_many_requests', 'this user has too many pending requests');
        const outgoing = await this.db.selectFrom('buddy_requests').select(sql `count(*)`.as('n')).where('from_user_id', '=', fromUserId).executeTakeFirstOrThrow();
        if (Number(outgoing.n) >= this.limits.maxOutgoingRequestsPerUser) {
            return storeError('too_many_outgoing_requests', `at most ${this.limits.maxOutgoingRequestsPerUser} of your buddy requests may wait for an answer at once`);
        }
        try {
            const row = await this.db.insertInto('buddy_requests').values({ from_user_id: fromUserId, to_user_id: toUserId, message, created_at_ms: nowMs }).returning('id').executeTakeFirstOrThrow();
            const request = (await this.listRequests({ id: Number(row.id) }))[0];
            return ok(request);
        }
        catch (error) {
            if (isUniqueViolation(error))
                return storeError('already_requested', 'a request is already pending');
            throw error;
        }
    }
    /** Requests to a user (incoming), from a user (outgoing), or one by id. */
    async listRequests(filter) {
        let query = this.db
            .selectFrom('buddy_requests as r')
            .innerJoin('users as f', 'f.id', 'r.from_user_id')
            .innerJoin('users as t', 't.id', 'r.to_user_id')
            .select(['r.id', 'f.username as from', 't.username as to', 'r.message', 'r.created_at_ms']);
        if (filter.toUserId !== undefined)
            query = query.where('r.to_user_id', '=', filter.toUserId);
        if (filter.fromUserId !== undefined)
            query = query.where('r.from_user_id', '=', filter.fromUserId);
        if (filter.id !== undefined)
            query = query.where('r.id', '=', filter.id);
        const rows = await query.orderBy('r.id').execute();
        return rows.map((r) => ({ id: Number(r.id), from: r.from, to: r.to, message: r.message, createdAtMs: Number(r.created_at_ms) }));
    }
    /** Accepting makes both users buddies of each other (both lists change version). */
    async answerRequest(requestId, toUserId, accept) {
        const request = (await this.listRequests({ id: requestId, toUserId }))[0];
        if (!request)
            return storeError('not_found', 'no such request to you');
        await this.db.transaction().execute(async (tx) => {
            const row = await tx.deleteFrom('buddy_requests').where('id', '=', requestId).returning(['from_user_id', 'to_user_id']).executeTakeFirst();
            if (!row || !accept)
                return;
            const a = Number(row.from_user_id);
            const b = Number(row.to_user_id);
            for (const [user, contact] of [[a, b], [b, a]]) {
                await tx.deleteFrom('contacts').where('user_id', '=', user).where('contact_id', '=', contact).execute();
                await tx.insertInto('contacts').values({ user_id: user, contact_id: contact, kind: 'buddy' }).execute();
                await this.bumpVersion(tx, user);
            }
        });
        return ok(request);
    }
    // --- Directory fallback -------------------------------------------------------------------
    async lookup(username) {
        const user = await this.findUser(username);
        if (!user)
            return null;
        return { username: user.username, displayName: user.displayName, lastSeenMs: user.showLastSeen ? user.lastSeenMs : null };
    }
    /** Discoverable users whose name starts with `prefix`, in name order, after `after` (paging). */
    async searchPrefix(prefix, limit, after) {
        let query = this.db
            .selectFrom('users')
            .select(['username', 'display_name', 'show_last_seen', 'last_seen_ms'])
            .where('discoverable', '=', 1)
            .where(sql `username like ${likePrefix(prefix)} escape '\\'`);
        if (after !== undefined)
            query = query.where('username', '>', after);
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
    async storeOffline(recipient, sender, ciphertext, nowMs) {
        const limits = this.limits;
        const size = ciphertext.byteLength;
        return this.db.transaction().execute(async (tx) => {
            // One deposit at a time per device on PostgreSQL (replicas, pooled connections): the
            // usage read below then stays true until the insert.
            if (this.dialect === 'postgres')
                await tx.selectFrom('devices').select('id').where('id', '=', recipient.deviceId).forUpdate().execute();
            const senderKind = await this.offlineSenderKind(tx, recipient.userId, sender.userId);
            const usage = await tx
                .selectFrom('offline_messages')
                .select([
                sql `count(*)`.as('n'),
                sql `coalesce(sum(length(ciphertext)), 0)`.as('bytes'),
                sql `coalesce(sum(case when sender_username = ${sender.username} then 1 else 0 end), 0)`.as('senderN'),
                sql `coalesce(sum(case when sender_username = ${sender.username} then length(ciphertext) else 0 end), 0)`.as('senderBytes'),
                sql `coalesce(sum(from_stranger), 0)`.as('strangersN'),
                sql `coalesce(sum(from_stranger * length(ciphertext)), 0)`.as('strangersBytes'),
            ])
                .where('recipient_device_id', '=', recipient.deviceId)
                .executeTakeFirstOrThrow();
            const full = (count, bytes, maxCount, maxBytes) => Number(count) >= maxCount || Number(bytes) + size > maxBytes;
            if (full(usage.n, usage.bytes, limits.maxOfflineMessagesPerDevice, limits.maxOfflineBytesPerDevice)) {
                return storeError('quota_exceeded', 'the recipient device has no room for more offline messages');
            }
            if (senderKind === 'buddy' && full(usage.senderN, usage.senderBytes, limits.maxOfflineMessagesPerBuddy, limits.maxOfflineBytesPerBuddy)) {
                return storeError('sender_share_exceeded', `a buddy may leave at most ${limits.maxOfflineMessagesPerBuddy} messages (${limits.maxOfflineBytesPerBuddy} bytes) for one device until it fetches them`);
            }
            if (senderKind === 'stranger') {
                if (full(usage.senderN, usage.senderBytes, limits.maxOfflineMessagesPerStranger, limits.maxOfflineBytesPerStranger)) {
                    return storeError('sender_share_exceeded', `someone who is not the recipient's buddy may leave at most ${limits.maxOfflineMessagesPerStranger} messages (${limits.maxOfflineBytesPerStranger} bytes) for one device until it fetches them`);
                }
                if (full(usage.strangersN, usage.strangersBytes, limits.maxOfflineMessagesFromStrangers, limits.maxOfflineBytesFromStrangers)) {
                    return storeError('strangers_share_exceeded', "the recipient device's room for messages from people who are not its buddies is full");
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
    async offlineSenderKind(tx, recipientUserId, senderUserId) {
        if (recipientUserId === senderUserId)
            return 'self';
        const row = await tx.selectFrom('contacts').select('kind').where('user_id', '=', recipientUserId).where('contact_id', '=', senderUserId).executeTakeFirst();
        return row?.kind === 'buddy' ? 'buddy' : 'stranger';
    }
    async fetchOffline(recipientDeviceId, limit) {
        const rows = await this.db.selectFrom('offline_messages').selectAll().where('recipient_device_id', '=', recipientDeviceId).orderBy('id').limit(limit).execute();
        return rows.map((r) => ({ id: Number(r.id), sender: r.sender_username, ciphertext: new Uint8Array(r.ciphertext), createdAtMs: Number(r.created_at_ms) }));
    }
    /** Deletes the acknowledged messages of this device (ids of other devices are ignored). */
    async ackOffline(recipientDeviceId, ids) {
        if (ids.length === 0)
            return 0;
        const result = await this.db.deleteFrom('offline_messages').where('recipient_device_id', '=', recipientDeviceId).where('id', 'in', [...ids]).executeTakeFirst();
        return Number(result.numDeletedRows);
    }
}
//# sourceMappingURL=login-store.js.map