// Key re-logins alone, for profiling and before/after comparisons of the login server's hot
// path: `node dist/bench/login-relogins.js sqlite|postgres [total] [concurrency] [rounds]`.
// PostgreSQL comes from PARLEY_TEST_POSTGRES_URL (an admin URL; a fresh database is made in
// it). With PARLEY_BENCH_COUNT_QUERIES=1 it first runs a few re-logins one at a time and prints
// the statements (round trips, BEGIN and COMMIT included) that one re-login sends.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

/** CPU seconds (user + system) of the PostgreSQL server listening on `port`: its postmaster and backends. */
function postgresCpuSeconds(port: string): number {
  const stats = readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .map((pid) => {
      try {
        return { pid, stat: readFileSync(`/proc/${pid}/stat`, 'utf8'), cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8') };
      } catch {
        return null; // ended meanwhile
      }
    })
    .filter((p) => p !== null);
  const postmaster = stats.find((p) => p.cmdline.split('\0').join(' ').includes(` -p ${port} `));
  if (!postmaster) return NaN;
  const fields = (stat: string) => stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  let ticks = 0;
  for (const p of stats) {
    const f = fields(p.stat);
    // Backends that ended (the pool closes with the server) are in the postmaster's children's times.
    if (p.pid === postmaster.pid) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    else if (f[1] === postmaster.pid) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / 100; // USER_HZ
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
    // Besides the rate (which a busy machine lowers), the CPU each re-login costs this process and
    // the PostgreSQL server: 2 000/s on two cores needs at most 1 ms for both together.
    const port = /:(\d+)\//.exec(process.env.PARLEY_TEST_POSTGRES_URL ?? '')?.[1] ?? '';
    const database = await target.database();
    let cpuBefore = process.cpuUsage();
    let pgBefore = 0;
    const rounds = Number(roundsText);
    let cpu = { user: 0, system: 0 };
    let pgCpuS = 0;
    const rates = await relogins(database, Number(totalText), Number(concurrencyText), rounds, {
      warmedUp: () => {
        cpuBefore = process.cpuUsage();
        pgBefore = kind === 'postgres' ? postgresCpuSeconds(port) : 0;
      },
      finished: () => {
        cpu = process.cpuUsage(cpuBefore);
        pgCpuS = kind === 'postgres' ? postgresCpuSeconds(port) - pgBefore : 0;
      },
    });
    // From the end of the warm-up round (setup and round 0 are not counted) to the end of the last.
    const count = Number(totalText) * rounds;
    const nodeMs = (cpu.user + cpu.system) / 1000 / count;
    const pgMs = (pgCpuS * 1000) / count;
    console.log(JSON.stringify({ kind, rates: rates.map((r) => Math.round(r)), cpuMsPerRelogin: { node: +nodeMs.toFixed(3), postgres: +pgMs.toFixed(3) } }));
  }
} finally {
  target.done();
}
