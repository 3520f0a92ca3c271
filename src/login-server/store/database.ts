// Opens the login server's database: SQLite in a file (the embedded default: 7 ms to open,
// ~55 MB RSS, measured against PGlite's 5 s and ~800 MB, see docs/login-server.md) or
// PostgreSQL from a postgres:// URL. Kysely gives both one code path.
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { preparePrivateDatabase } from '../../env/private-files.js';
import type { DialectName, Schema } from './schema.js';
import { migrate } from './migrations.js';
import { PostgresReloginQueries, SqliteReloginQueries, type ReloginQueries } from './relogin-queries.js';

export interface StoreDatabase {
  readonly db: Kysely<Schema>;
  readonly dialect: DialectName;
  /** The key re-login's statements, prepared on this database's own driver. */
  readonly relogin: ReloginQueries;
  close(): Promise<void>;
}

const PG_INT8 = 20;

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location);
}

/** Opens (and migrates) the database at `location`: a postgres:// URL or a SQLite file path. */
export async function openDatabase(location: string, options: { poolSize?: number } = {}): Promise<StoreDatabase> {
  if (isPostgresUrl(location)) {
    const pool = new pg.Pool({
      connectionString: location,
      max: options.poolSize ?? 10,
      // int8 columns hold milliseconds and ids, all far below 2^53: read them as numbers.
      types: { getTypeParser: ((oid: number, format?: string) => (oid === PG_INT8 ? Number : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
    });
    // An idle connection that the server ends (a restart, a failover, an operator's kill) is an
    // 'error' on the pool; unheard, it would crash the process. The pool drops that connection
    // and the next query opens another, so there is nothing else to do.
    pool.on('error', () => {});
    const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
    await migrate(db, 'postgres');
    return { db, dialect: 'postgres', relogin: new PostgresReloginQueries(pool), close: () => db.destroy() };
  }
  // Password hashes and sealed messages: owner-only, and so are the -wal and -shm files.
  if (location !== ':memory:') preparePrivateDatabase(location);
  const sqlite = new Database(location);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrate(db, 'sqlite'); // before the re-login statements are prepared against its tables
  return { db, dialect: 'sqlite', relogin: new SqliteReloginQueries(db, sqlite), close: () => db.destroy() };
}
