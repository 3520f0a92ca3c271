// Schema migrations, written once for both dialects; the differences (auto-increment keys,
// the bytes type, text collation for prefix search) are in `types`.
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { DialectName } from './schema.js';
import { usernameSkeleton } from '../../wire/confusables.js';

function types(dialect: DialectName) {
  return {
    bytes: dialect === 'postgres' ? sql`bytea` : sql`blob`,
    bigint: sql`bigint`,
    // Prefix search compares byte order: PostgreSQL's "C" collation; SQLite's default BINARY.
    username: dialect === 'postgres' ? sql`text collate "C"` : sql`text`,
  };
}

function migrations(dialect: DialectName): Record<string, Migration> {
  const t = types(dialect);
  /** A table with an auto-increment `id` key, in the dialect's own way. */
  const key = (builder: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
    dialect === 'postgres' ? builder.addColumn('id', 'bigserial', (c) => c.primaryKey()) : builder.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
  return {
    '001-initial': {
      async up(db: Kysely<unknown>) {
        await key(db.schema.createTable('users'))
          .addColumn('username', t.username, (c) => c.notNull().unique())
          .addColumn('display_name', 'text', (c) => c.notNull())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('created_at_ms', t.bigint, (c) => c.notNull())
          .addColumn('discoverable', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('show_last_seen', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('last_seen_ms', t.bigint)
          .execute();
        await key(db.schema.createTable('devices'))
          .addColumn('user_id', t.bigint, (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('signing_key', t.bytes, (c) => c.notNull().unique())
          .addColumn('dh_key', t.bytes, (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('created_at_ms', t.bigint, (c) => c.notNull())
          .addColumn('last_login_ms', t.bigint, (c) => c.notNull())
          .addColumn('revoked_at_ms', t.bigint)
          .execute();
        await db.schema.createIndex('devices_by_user').on('devices').column('user_id').execute();
        await db.schema
          .createTable('challenges')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('device_id', t.bigint, (c) => c.notNull().references('devices.id').onDelete('cascade'))
          .addColumn('expires_at_ms', t.bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('contacts')
          .addColumn('user_id', t.bigint, (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('contact_id', t.bigint, (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('kind', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('contacts_pk', ['user_id', 'contact_id'])
          .execute();
        await db.schema
          .createTable('contact_lists')
          .addColumn('user_id', t.bigint, (c) => c.primaryKey().references('users.id').onDelete('cascade'))
          .addColumn('version', t.bigint, (c) => c.notNull())
          .execute();
        await key(db.schema.createTable('buddy_requests'))
          .addColumn('from_user_id', t.bigint, (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('to_user_id', t.bigint, (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('created_at_ms', t.bigint, (c) => c.notNull())
          .addUniqueConstraint('buddy_requests_pair', ['from_user_id', 'to_user_id'])
          .execute();
        await db.schema.createIndex('buddy_requests_to').on('buddy_requests').column('to_user_id').execute();
        await key(db.schema.createTable('offline_messages'))
          .addColumn('recipient_device_id', t.bigint, (c) => c.notNull().references('devices.id').onDelete('cascade'))
          .addColumn('sender_username', 'text', (c) => c.notNull())
          .addColumn('ciphertext', t.bytes, (c) => c.notNull())
          .addColumn('created_at_ms', t.bigint, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('offline_by_device').on('offline_messages').column('recipient_device_id').execute();
        await db.schema
          .createTable('throttles')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('failures', 'integer', (c) => c.notNull())
          .addColumn('locked_until_ms', t.bigint, (c) => c.notNull())
          .addColumn('updated_at_ms', t.bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('counters')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('value', t.bigint, (c) => c.notNull())
          .execute();
      },
    },
    // Operators' supernodes enrol with a single-use token and renew with their own key; the
    // login server serves the live ones as the bootstrap list.
    '002-supernodes': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('enrolment_tokens')
          .addColumn('token_hash', 'text', (c) => c.primaryKey())
          .addColumn('label', 'text', (c) => c.notNull())
          .addColumn('created_at_ms', t.bigint, (c) => c.notNull())
          .addColumn('expires_at_ms', t.bigint, (c) => c.notNull())
          .addColumn('used_at_ms', t.bigint)
          .execute();
        await key(db.schema.createTable('supernodes'))
          .addColumn('signing_key', t.bytes, (c) => c.notNull().unique())
          .addColumn('dh_key', t.bytes, (c) => c.notNull())
          .addColumn('label', 'text', (c) => c.notNull())
          .addColumn('host', 'text', (c) => c.notNull())
          .addColumn('port', 'integer', (c) => c.notNull())
          .addColumn('web_port', 'integer')
          .addColumn('enrolled_at_ms', t.bigint, (c) => c.notNull())
          .addColumn('last_seen_ms', t.bigint, (c) => c.notNull())
          .addColumn('revoked_at_ms', t.bigint)
          .execute();
        await db.schema.createIndex('supernodes_by_last_seen').on('supernodes').column('last_seen_ms').execute();
      },
    },
    // Each sender gets a share of a device's offline store; messages from people the recipient
    // has not accepted as buddies share a smaller part (issue 19). Rows from before count as
    // buddies' (no way to tell now, and they leave once fetched).
    '003-offline-shares': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('offline_messages').addColumn('from_stranger', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      },
    },
    // Several outstanding challenges per device (a stranger asking for challenges must not replace
    // the one the device is about to sign), evicted oldest first: hence an ordered key. The old
    // table held only challenges that live a minute; they are dropped, not copied. Throttle rows
    // are pruned by age: hence the index.
    '004-login-challenges': {
      async up(db: Kysely<unknown>) {
        await key(db.schema.createTable('login_challenges'))
          .addColumn('challenge', 'text', (c) => c.notNull().unique())
          .addColumn('device_id', t.bigint, (c) => c.notNull().references('devices.id').onDelete('cascade'))
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('expires_at_ms', t.bigint, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('login_challenges_by_device').on('login_challenges').columns(['device_id', 'id']).execute();
        await db.schema.dropTable('challenges').execute();
        await db.schema.createIndex('throttles_by_age').on('throttles').column('updated_at_ms').execute();
      },
    },
    // Look-alike usernames (issue 19): each name's skeleton (confusables.ts), unique, so a new name
    // that reads like an existing one is refused as taken. Existing names that already look
    // alike keep working: the oldest holds the skeleton, the later ones are left without (NULL
    // is never a duplicate).
    '005-username-skeletons': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('users').addColumn('username_skeleton', t.username).execute();
        const users = db as unknown as Kysely<{ users: { id: number; username: string; username_skeleton: string | null } }>;
        const rows = await users.selectFrom('users').select(['id', 'username']).orderBy('id').execute();
        const taken = new Set<string>();
        for (const row of rows) {
          const skeleton = usernameSkeleton(row.username);
          if (taken.has(skeleton)) continue;
          taken.add(skeleton);
          await users.updateTable('users').set({ username_skeleton: skeleton }).where('id', '=', row.id).execute();
        }
        await db.schema.createIndex('users_by_skeleton').unique().on('users').column('username_skeleton').execute();
      },
    },
  };
}

class InlineProvider implements MigrationProvider {
  constructor(private readonly dialect: DialectName) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.dialect);
  }
}

export async function migrate<S>(db: Kysely<S>, dialect: DialectName): Promise<void> {
  const migrator = new Migrator({ db: db as unknown as Kysely<unknown>, provider: new InlineProvider(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${(error as Error).message}`);
  }
}
