// The operator's supernodes, kept beside the accounts in the same database: single-use
// enrolment tokens (only their hashes) and the enrolled supernodes with their keys, address and
// last renewal. Replicas share it, so any replica can enrol, renew and serve the live list.
import { createHash } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { err, ok, type CodedError, type Result } from '../../result.js';
import type { Schema, SupernodesTable } from './schema.js';

export interface EnrolledSupernode {
  readonly id: number;
  readonly signingKey: Uint8Array;
  readonly dhKey: Uint8Array;
  readonly label: string;
  readonly host: string;
  readonly port: number;
  readonly webPort: number | null;
  readonly enrolledAtMs: number;
  readonly lastSeenMs: number;
  readonly revokedAtMs: number | null;
}

export interface SupernodeAddress {
  readonly host: string;
  readonly port: number;
  readonly webPort: number | null;
}

export type EnrolmentRefusal = CodedError<'bad_token' | 'token_used' | 'token_expired' | 'key_in_use' | 'revoked'>;

/** Tokens and supernode rows a registry holds at most: a bound on what an operator's mistake can fill. */
export const MAX_OPEN_TOKENS = 1000;

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function toSupernode(row: Selectable<SupernodesTable>): EnrolledSupernode {
  return {
    id: Number(row.id),
    signingKey: new Uint8Array(row.signing_key),
    dhKey: new Uint8Array(row.dh_key),
    label: row.label,
    host: row.host,
    port: Number(row.port),
    webPort: row.web_port === null ? null : Number(row.web_port),
    enrolledAtMs: Number(row.enrolled_at_ms),
    lastSeenMs: Number(row.last_seen_ms),
    revokedAtMs: row.revoked_at_ms === null ? null : Number(row.revoked_at_ms),
  };
}

export class SupernodeRegistry {
  private readonly db: Kysely<Schema>;

  /** On the login store's database (its connection, its migrations). */
  constructor(db: Kysely<Schema>) {
    this.db = db;
  }

  /** Keeps the hash of an operator's new token; refuses when too many are open already. */
  async addToken(token: string, label: string, nowMs: number, lifetimeMs: number): Promise<Result<{ expiresAtMs: number }, CodedError<'too_many_tokens'>>> {
    await this.db.deleteFrom('enrolment_tokens').where('expires_at_ms', '<', nowMs).execute();
    const open = await this.db.selectFrom('enrolment_tokens').select((eb) => eb.fn.countAll<number>().as('n')).where('used_at_ms', 'is', null).executeTakeFirstOrThrow();
    if (Number(open.n) >= MAX_OPEN_TOKENS) return err({ code: 'too_many_tokens', message: `${MAX_OPEN_TOKENS} enrolment tokens are open: use or let some expire first` });
    const expiresAtMs = nowMs + lifetimeMs;
    await this.db.insertInto('enrolment_tokens').values({ token_hash: tokenHash(token), label, created_at_ms: nowMs, expires_at_ms: expiresAtMs, used_at_ms: null }).execute();
    return ok({ expiresAtMs });
  }

  /**
   * Uses up `token` and records the supernode, in one transaction: a token enrols one
   * supernode once. The same keys enrolling again with a new token (a reinstalled host that
   * kept its key file) update the row; a revoked key stays revoked.
   */
  async enrol(token: string, supernode: { signingKey: Uint8Array; dhKey: Uint8Array } & SupernodeAddress, nowMs: number): Promise<Result<EnrolledSupernode, EnrolmentRefusal>> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('enrolment_tokens').selectAll().where('token_hash', '=', tokenHash(token)).executeTakeFirst();
      if (!row) return err({ code: 'bad_token' as const, message: 'no such enrolment token' });
      if (row.used_at_ms !== null) return err({ code: 'token_used' as const, message: 'this enrolment token was used already: ask the operator for a new one' });
      if (Number(row.expires_at_ms) <= nowMs) return err({ code: 'token_expired' as const, message: 'this enrolment token has expired: ask the operator for a new one' });
      const claimed = await tx.updateTable('enrolment_tokens').set({ used_at_ms: nowMs }).where('token_hash', '=', row.token_hash).where('used_at_ms', 'is', null).executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) return err({ code: 'token_used' as const, message: 'this enrolment token was used already' });
      const existing = await tx.selectFrom('supernodes').selectAll().where('signing_key', '=', supernode.signingKey).executeTakeFirst();
      if (existing && existing.revoked_at_ms !== null) return err({ code: 'revoked' as const, message: 'this supernode key was revoked: make a new key' });
      const values = { dh_key: supernode.dhKey, label: row.label, host: supernode.host, port: supernode.port, web_port: supernode.webPort, last_seen_ms: nowMs };
      const saved = existing
        ? await tx.updateTable('supernodes').set(values).where('id', '=', existing.id).returningAll().executeTakeFirstOrThrow()
        : await tx.insertInto('supernodes').values({ ...values, signing_key: supernode.signingKey, enrolled_at_ms: nowMs, revoked_at_ms: null }).returningAll().executeTakeFirstOrThrow();
      return ok(toSupernode(saved));
    });
  }

  async find(signingKey: Uint8Array): Promise<EnrolledSupernode | null> {
    const row = await this.db.selectFrom('supernodes').selectAll().where('signing_key', '=', signingKey).executeTakeFirst();
    return row ? toSupernode(row) : null;
  }

  /** A renewal: where the supernode listens now, and that it was alive at `nowMs`. */
  async touch(id: number, address: SupernodeAddress, nowMs: number): Promise<void> {
    await this.db.updateTable('supernodes').set({ host: address.host, port: address.port, web_port: address.webPort, last_seen_ms: nowMs }).where('id', '=', id).execute();
  }

  /** Supernodes that renewed since `sinceMs` and are not revoked, the most recently seen first. */
  async live(sinceMs: number, limit: number): Promise<EnrolledSupernode[]> {
    const rows = await this.db.selectFrom('supernodes').selectAll().where('last_seen_ms', '>=', sinceMs).where('revoked_at_ms', 'is', null).orderBy('last_seen_ms', 'desc').limit(limit).execute();
    return rows.map(toSupernode);
  }

  /** Noise keys of supernodes revoked since `sinceMs` (their certificates may still be in date), the latest first. */
  async revokedSince(sinceMs: number, limit: number): Promise<Uint8Array[]> {
    const rows = await this.db.selectFrom('supernodes').select('dh_key').where('revoked_at_ms', '>=', sinceMs).orderBy('revoked_at_ms', 'desc').limit(limit).execute();
    return rows.map((row) => new Uint8Array(row.dh_key));
  }

  async all(): Promise<EnrolledSupernode[]> {
    const rows = await this.db.selectFrom('supernodes').selectAll().orderBy('id').execute();
    return rows.map(toSupernode);
  }

  /** Revokes the supernode with this id: it renews no more and leaves the live list. */
  async revoke(id: number, nowMs: number): Promise<boolean> {
    const result = await this.db.updateTable('supernodes').set({ revoked_at_ms: nowMs }).where('id', '=', id).where('revoked_at_ms', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
