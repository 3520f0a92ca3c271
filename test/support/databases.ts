// Fresh databases for store tests: a SQLite file in a temp folder, or a new database in the
// PostgreSQL server named by PARLEY_TEST_POSTGRES_URL (scripts/test.mjs starts one). Without
// that server the PostgreSQL tests fail: they are never skipped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type StoreDatabase } from '../../src/login-server/store/database.js';
import type { DialectName } from '../../src/login-server/store/schema.js';

export const DIALECTS: readonly DialectName[] = ['sqlite', 'postgres'];

let counter = 0;

export function postgresAdminUrl(): string {
  const url = process.env.PARLEY_TEST_POSTGRES_URL;
  if (!url) throw new Error('PARLEY_TEST_POSTGRES_URL is not set: run the tests with `npm test` (it starts PostgreSQL)');
  return url;
}

/** A new empty database; `location` can be opened again (replicas, restarts). */
export async function freshDatabase(dialect: DialectName): Promise<{ location: string; open: () => Promise<StoreDatabase>; drop: () => Promise<void> }> {
  const name = `parley_test_${process.pid}_${Date.now()}_${counter++}`;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'parley-db-'));
    const location = join(dir, 'login.db');
    return { location, open: () => openDatabase(location), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = new pg.Client(postgresAdminUrl());
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const location = postgresAdminUrl().replace(/\/[^/]*$/, `/${name}`);
  return {
    location,
    open: () => openDatabase(location, { poolSize: 4 }),
    drop: async () => {
      const client = new pg.Client(postgresAdminUrl());
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
