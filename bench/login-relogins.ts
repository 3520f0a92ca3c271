// Key re-logins alone, for profiling and before/after comparisons of the login server's hot
// path: `node dist/bench/login-relogins.js sqlite|postgres [total] [concurrency] [rounds]`.
// PostgreSQL comes from PARLEY_TEST_POSTGRES_URL (an admin URL; a fresh database is made in
// it). With PARLEY_BENCH_COUNT_QUERIES=1 it first runs a few re-logins one at a time and prints
// the statements (round trips, BEGIN and COMMIT included) that one re-login sends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openDatabase, type StoreDatabase } from '../src/login-server/store/database.js';
import { freshPostgres, relogins } from './login-server.js';

const [kind = 'sqlite', totalText = '2000', concurrencyText = '32', roundsText = '3'] = process.argv.slice(2);

/** Every statement sent to either database, while `logging` is on. */
const statements: string[] = [];
let logging = false;
function countStatements(): void {
  const clientQuery = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    if (logging) {
      const first = args[0] as string | { text: string };
      statements.push(typeof first === 'string' ? first : first.text);
    }
    return clientQuery.apply(this, args);
  } as typeof pg.Client.prototype.query;
  const statementPrototype = Object.getPrototypeOf(new Database(':memory:').prepare('select 1')) as Record<string, (...args: unknown[]) => unknown>;
  for (const method of ['run', 'get', 'all', 'iterate']) {
    const original = statementPrototype[method]!;
    statementPrototype[method] = function (this: { source: string }, ...args: unknown[]) {
      if (logging) statements.push(this.source);
      return original.apply(this, args);
    };
  }
}

async function open(): Promise<{ database: () => Promise<StoreDatabase>; done: () => void }> {
  if (kind === 'postgres') {
    const url = process.env.PARLEY_TEST_POSTGRES_URL;
    if (!url) throw new Error('set PARLEY_TEST_POSTGRES_URL');
    let n = 0;
    return { database: async () => openDatabase(await freshPostgres(url, `bench_relogin_${process.pid}_${n++}`)), done: () => {} };
  }
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  let n = 0;
  return { database: () => openDatabase(join(dir, `db${n++}`)), done: () => rmSync(dir, { recursive: true, force: true }) };
}

const target = await open();
try {
  if (process.env.PARLEY_BENCH_COUNT_QUERIES === '1') {
    countStatements();
    // Warm up (device registered, first login done), then log exactly three sequential re-logins.
    const { TestDevice, testServer } = await import('../test/support/login-server.js');
    const server = await testServer(await target.database());
    const device = new TestDevice(server.app, server.ca, 'counted');
    await device.register();
    await device.passwordLogin();
    await device.deviceLogin();
    logging = true;
    for (let i = 0; i < 3; i++) if ((await device.deviceLogin()).status !== 200) throw new Error('re-login failed');
    logging = false;
    await server.close();
    console.log(`${kind}: ${statements.length / 3} statements per re-login`);
    for (const s of statements.slice(0, statements.length / 3)) console.log(`  ${s.replace(/\s+/g, ' ').slice(0, 200)}`);
  } else {
    const rates = await relogins(await target.database(), Number(totalText), Number(concurrencyText), Number(roundsText));
    console.log(JSON.stringify({ kind, rates: rates.map((r) => Math.round(r)) }));
  }
} finally {
  target.done();
}
