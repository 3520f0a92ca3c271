// The key re-login's queries (POST /v1/login/challenge, then /v1/login/device), the login
// server's busiest path: written by hand once per dialect, prepared once, and combined so that a
// re-login costs two statements instead of twenty (issue 22: Kysely building ten queries and
// six BEGIN/COMMITs per re-login was most of the cost). Both dialects keep the same semantics
// as the general store methods they stand for (login-store.ts `lockedUntil`, `countInWindow`,
// `findDeviceBySigningKey`, `nextSerial`): store.test.ts runs them on both.
// - SQLite (better-sqlite3, synchronous): simple statements in one transaction, run while this
//   process holds Kysely's connection, so no other query can slip in between them.
// - PostgreSQL: one statement per step (data-modifying CTEs), each atomic on its own, sent as a
//   named prepared statement (parsed and planned once per pooled connection).
import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely, Selectable } from 'kysely';
import type pg from 'pg';
import type { DevicesTable, Schema, UsersTable } from './schema.js';

export interface ChallengeRequest {
  /** Refused, and not counted, while this throttle key is locked. */
  readonly lockKey: string;
  /** Counted in fixed windows of `windowMs`, at most `maxPerWindow` each. */
  readonly windowKey: string;
  readonly windowMs: number;
  readonly maxPerWindow: number;
  readonly signingKey: Uint8Array;
  readonly challenge: string;
  /** Who asked: a device holding `maxPerDevice` challenges loses this source's oldest first. */
  readonly source: string;
  readonly maxPerDevice: number;
  readonly nowMs: number;
  readonly expiresAtMs: number;
}

export type ChallengeOutcome =
  | { readonly kind: 'issued' }
  | { readonly kind: 'locked'; readonly lockedUntilMs: number }
  | { readonly kind: 'rate_limited'; readonly lockedUntilMs: number }
  /** No active device has the key (the request was counted in its window). */
  | { readonly kind: 'unknown_device' };

/** A device's answer to a challenge; the caller checked the signature with the key the device sent. */
export interface ChallengeAnswer {
  /** Refused, and the challenge kept, while this throttle key is locked. */
  readonly lockKey: string;
  readonly challenge: string;
  readonly signingKey: Uint8Array;
  readonly signatureValid: boolean;
  readonly nowMs: number;
}

export type ChallengeUse =
  | { readonly kind: 'locked'; readonly lockedUntilMs: number }
  /** Unknown, expired or already used (an expired one is used up all the same). */
  | { readonly kind: 'unknown' }
  | { readonly kind: 'revoked' }
  /** The challenge was another device's, or the signature is not valid. */
  | { readonly kind: 'wrong_key' }
  /** Logged in: the login is recorded and `serial` drawn for its certificate. */
  | { readonly kind: 'granted'; readonly device: Selectable<DevicesTable>; readonly user: Selectable<UsersTable>; readonly serial: number };

export interface ReloginQueries {
  /** Checks the lock, counts the window, finds the device, evicts its excess challenges and stores the new one. */
  issueChallenge(request: ChallengeRequest): Promise<ChallengeOutcome>;
  /**
   * Unless `lockKey` is locked: uses the challenge up (whatever the answer), and if it was the
   * signing key's active device's and the signature is valid, records the login and draws a serial.
   */
  useChallenge(answer: ChallengeAnswer): Promise<ChallengeUse>;
  /** The next certificate serial, with the device's last login and the user's last seen set to `nowMs` (a password login). */
  recordGrant(deviceId: number, userId: number, nowMs: number): Promise<number>;
}

/** The joined row of a device and its user: user columns by name, device columns prefixed `d_`. */
interface DeviceUserRow {
  id: number;
  username: string;
  display_name: string;
  password_hash: string;
  created_at_ms: number;
  discoverable: number;
  show_last_seen: number;
  last_seen_ms: number | null;
  d_id: number;
  d_user_id: number;
  signing_key: Uint8Array;
  dh_key: Uint8Array;
  name: string;
  d_created_at_ms: number;
  last_login_ms: number;
  revoked_at_ms: number | null;
}

const DEVICE_USER_COLUMNS = `u.id, u.username, u.display_name, u.password_hash, u.created_at_ms, u.discoverable, u.show_last_seen, u.last_seen_ms,
  d.id as d_id, d.user_id as d_user_id, d.signing_key, d.dh_key, d.name, d.created_at_ms as d_created_at_ms, d.last_login_ms, d.revoked_at_ms`;

function granted(row: DeviceUserRow, serial: number): ChallengeUse {
  return {
    kind: 'granted',
    serial,
    user: { id: row.id, username: row.username, username_skeleton: '', display_name: row.display_name, password_hash: row.password_hash, created_at_ms: row.created_at_ms, discoverable: row.discoverable, show_last_seen: row.show_last_seen, last_seen_ms: row.last_seen_ms },
    device: { id: row.d_id, user_id: row.d_user_id, signing_key: row.signing_key, dh_key: row.dh_key, name: row.name, created_at_ms: row.d_created_at_ms, last_login_ms: row.last_login_ms, revoked_at_ms: row.revoked_at_ms },
  };
}

// A window restarts when it is over (or was never counted in); a full window refuses and is left as it is.
const WINDOW_FRESH = 'excluded.updated_at_ms - throttles.updated_at_ms >= @windowMs or throttles.failures = 0';

export class SqliteReloginQueries implements ReloginQueries {
  private readonly issue: (request: ChallengeRequest) => ChallengeOutcome;
  private readonly use: (answer: ChallengeAnswer) => ChallengeUse;
  private readonly grant: (deviceId: number, userId: number, nowMs: number) => number;

  constructor(
    private readonly db: Kysely<Schema>,
    sqlite: BetterSqlite3.Database,
  ) {
    const lockedUntil = sqlite.prepare<[string], number>('select locked_until_ms from throttles where key = ?').pluck();
    const countInWindow = sqlite.prepare(
      `insert into throttles (key, failures, locked_until_ms, updated_at_ms) values (@key, 1, 0, @nowMs)
       on conflict (key) do update set
         failures = case when ${WINDOW_FRESH} then 1 else throttles.failures + 1 end,
         locked_until_ms = 0,
         updated_at_ms = case when ${WINDOW_FRESH} then excluded.updated_at_ms else throttles.updated_at_ms end
       where ${WINDOW_FRESH} or throttles.failures < @maxPerWindow
       returning failures`,
    );
    const windowStart = sqlite.prepare<[string], number>('select updated_at_ms from throttles where key = ?').pluck();
    const activeDevice = sqlite.prepare<[Uint8Array], number>('select id from devices where signing_key = ? and revoked_at_ms is null').pluck();
    // Keeps the device's `keep` most worth keeping unexpired challenges (other sources' first,
    // then the newest), so the new one makes at most `maxPerDevice`; login-store.ts `createChallenge`.
    const evict = sqlite.prepare(
      `delete from login_challenges where device_id = @deviceId and id not in (
         select id from login_challenges where device_id = @deviceId and expires_at_ms >= @nowMs
         order by case when source = @source then 1 else 0 end, id desc limit @keep)`,
    );
    const insertChallenge = sqlite.prepare('insert into login_challenges (challenge, device_id, source, expires_at_ms) values (@challenge, @deviceId, @source, @expiresAtMs)');
    const takeChallenge = sqlite.prepare<[string], { device_id: number; expires_at_ms: number }>('delete from login_challenges where challenge = ? returning device_id, expires_at_ms');
    const deviceWithUser = sqlite.prepare<[number], DeviceUserRow>(`select ${DEVICE_USER_COLUMNS} from devices d join users u on u.id = d.user_id where d.id = ?`);
    const nextSerial = sqlite.prepare<[], number>("insert into counters (name, value) values ('serial', 1) on conflict (name) do update set value = counters.value + 1 returning value").pluck();
    const deviceLogin = sqlite.prepare('update devices set last_login_ms = ? where id = ?');
    const userSeen = sqlite.prepare('update users set last_seen_ms = ? where id = ?');

    const lockOf = (key: string, nowMs: number) => {
      const until = lockedUntil.get(key) ?? 0;
      return until > nowMs ? until : null;
    };
    this.issue = sqlite.transaction((r: ChallengeRequest): ChallengeOutcome => {
      const locked = lockOf(r.lockKey, r.nowMs);
      if (locked !== null) return { kind: 'locked', lockedUntilMs: locked };
      if (countInWindow.get({ key: r.windowKey, nowMs: r.nowMs, windowMs: r.windowMs, maxPerWindow: r.maxPerWindow }) === undefined) {
        return { kind: 'rate_limited', lockedUntilMs: windowStart.get(r.windowKey)! + r.windowMs };
      }
      const deviceId = activeDevice.get(r.signingKey);
      if (deviceId === undefined) return { kind: 'unknown_device' };
      evict.run({ deviceId, nowMs: r.nowMs, source: r.source, keep: Math.max(0, r.maxPerDevice - 1) });
      insertChallenge.run({ challenge: r.challenge, deviceId, source: r.source, expiresAtMs: r.expiresAtMs });
      return { kind: 'issued' };
    });
    const recordLogin = (deviceId: number, userId: number, nowMs: number): number => {
      const serial = nextSerial.get()!;
      deviceLogin.run(nowMs, deviceId);
      userSeen.run(nowMs, userId);
      return serial;
    };
    this.use = sqlite.transaction((a: ChallengeAnswer): ChallengeUse => {
      const locked = lockOf(a.lockKey, a.nowMs);
      if (locked !== null) return { kind: 'locked', lockedUntilMs: locked };
      const taken = takeChallenge.get(a.challenge);
      if (!taken || taken.expires_at_ms < a.nowMs) return { kind: 'unknown' };
      const row = deviceWithUser.get(taken.device_id);
      if (!row) return { kind: 'unknown' };
      if (row.revoked_at_ms !== null) return { kind: 'revoked' };
      if (!Buffer.from(row.signing_key).equals(Buffer.from(a.signingKey)) || !a.signatureValid) return { kind: 'wrong_key' };
      return granted(row, recordLogin(row.d_id, row.id, a.nowMs));
    });
    this.grant = sqlite.transaction(recordLogin);
  }

  /** Runs `work` while holding Kysely's one SQLite connection: no Kysely transaction is open meanwhile. */
  private exclusive<T>(work: () => T): Promise<T> {
    return this.db.connection().execute(async () => work());
  }

  issueChallenge(request: ChallengeRequest): Promise<ChallengeOutcome> {
    return this.exclusive(() => this.issue(request));
  }

  useChallenge(answer: ChallengeAnswer): Promise<ChallengeUse> {
    return this.exclusive(() => this.use(answer));
  }

  recordGrant(deviceId: number, userId: number, nowMs: number): Promise<number> {
    return this.exclusive(() => this.grant(deviceId, userId, nowMs));
  }
}

// PostgreSQL: each step one statement. Its CTEs all see the database as it was when the statement
// began and run once each; a CTE that depends on another's RETURNING runs only with its rows.
const PG_ISSUE_CHALLENGE = {
  name: 'parley_issue_challenge',
  text: `with lock as (
    select coalesce(max(locked_until_ms), 0) as until from throttles where key = $1::text
  ), counted as (
    insert into throttles as t (key, failures, locked_until_ms, updated_at_ms)
    select $2::text, 1, 0, $3::bigint from lock where lock.until <= $3::bigint
    on conflict (key) do update set
      failures = case when $3::bigint - t.updated_at_ms >= $4::bigint or t.failures = 0 then 1 else t.failures + 1 end,
      locked_until_ms = 0,
      updated_at_ms = case when $3::bigint - t.updated_at_ms >= $4::bigint or t.failures = 0 then $3::bigint else t.updated_at_ms end
    where $3::bigint - t.updated_at_ms >= $4::bigint or t.failures = 0 or t.failures < $5::bigint
    returning 1
  ), device as (
    select id from devices where signing_key = $6::bytea and revoked_at_ms is null and exists (select 1 from counted)
  ), evicted as (
    delete from login_challenges where device_id = (select id from device) and id not in (
      select id from login_challenges where device_id = (select id from device) and expires_at_ms >= $3::bigint
      order by case when source = $7::text then 1 else 0 end, id desc limit $8::bigint)
  ), issued as (
    insert into login_challenges (challenge, device_id, source, expires_at_ms)
    select $9::text, id, $7::text, $10::bigint from device returning device_id
  )
  select (select until from lock) as locked_until_ms,
    exists (select 1 from counted) as counted,
    (select updated_at_ms from throttles where key = $2::text) as window_start,
    exists (select 1 from issued) as issued`,
};

// The device and user columns come from before the statement: the grant's own updates (last
// login, last seen) are not in them.
const PG_USE_CHALLENGE = {
  name: 'parley_use_challenge',
  text: `with lock as (
    select coalesce(max(locked_until_ms), 0) as until from throttles where key = $1::text
  ), used as (
    delete from login_challenges where challenge = $2::text and (select until from lock) <= $3::bigint
    returning device_id, expires_at_ms
  ), entitled as (
    select d.id, d.user_id from used join devices d on d.id = used.device_id
    where used.expires_at_ms >= $3::bigint and d.revoked_at_ms is null and d.signing_key = $4::bytea and $5::boolean
  ), serial as (
    insert into counters (name, value) select 'serial', 1 from entitled
    on conflict (name) do update set value = counters.value + 1 returning value
  ), device as (
    update devices set last_login_ms = $3::bigint where id = (select id from entitled)
  ), account as (
    update users set last_seen_ms = $3::bigint where id = (select user_id from entitled)
  )
  select lock.until as locked_until_ms, used.expires_at_ms, (select value from serial) as serial, ${DEVICE_USER_COLUMNS}
  from lock left join used on true left join devices d on d.id = used.device_id left join users u on u.id = d.user_id`,
};

const PG_RECORD_GRANT = {
  name: 'parley_record_grant',
  text: `with serial as (
    insert into counters (name, value) values ('serial', 1) on conflict (name) do update set value = counters.value + 1 returning value
  ), device as (
    update devices set last_login_ms = $1::bigint where id = $2::bigint
  ), account as (
    update users set last_seen_ms = $1::bigint where id = $3::bigint
  )
  select value from serial`,
};

export class PostgresReloginQueries implements ReloginQueries {
  constructor(private readonly pool: pg.Pool) {}

  async issueChallenge(r: ChallengeRequest): Promise<ChallengeOutcome> {
    const values = [r.lockKey, r.windowKey, r.nowMs, r.windowMs, r.maxPerWindow, r.signingKey, r.source, Math.max(0, r.maxPerDevice - 1), r.challenge, r.expiresAtMs];
    const { rows } = await this.pool.query<{ locked_until_ms: number; counted: boolean; window_start: number | null; issued: boolean }>({ ...PG_ISSUE_CHALLENGE, values });
    const row = rows[0]!;
    if (row.locked_until_ms > r.nowMs) return { kind: 'locked', lockedUntilMs: row.locked_until_ms };
    if (!row.counted) return { kind: 'rate_limited', lockedUntilMs: (row.window_start ?? r.nowMs) + r.windowMs };
    return row.issued ? { kind: 'issued' } : { kind: 'unknown_device' };
  }

  async useChallenge(a: ChallengeAnswer): Promise<ChallengeUse> {
    const values = [a.lockKey, a.challenge, a.nowMs, a.signingKey, a.signatureValid];
    const { rows } = await this.pool.query<DeviceUserRow & { locked_until_ms: number; expires_at_ms: number | null; serial: number | null }>({ ...PG_USE_CHALLENGE, values });
    const row = rows[0]!;
    if (row.locked_until_ms > a.nowMs) return { kind: 'locked', lockedUntilMs: row.locked_until_ms };
    if (row.expires_at_ms === null || row.expires_at_ms < a.nowMs || row.d_id === null) return { kind: 'unknown' };
    if (row.revoked_at_ms !== null) return { kind: 'revoked' };
    return row.serial === null ? { kind: 'wrong_key' } : granted(row, row.serial);
  }

  async recordGrant(deviceId: number, userId: number, nowMs: number): Promise<number> {
    const { rows } = await this.pool.query<{ value: number }>({ ...PG_RECORD_GRANT, values: [nowMs, deviceId, userId] });
    return rows[0]!.value;
  }
}
