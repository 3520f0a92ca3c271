// Login server figures: re-logins per second, password login latency, prefix search over a
// million users, idle memory. Requests go through the whole HTTP stack in-process
// (Fastify inject: routing, validation, handlers, database), without TLS or sockets.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type StoreDatabase } from '../src/login-server/store/database.js';
import { PasswordHasher, RECOMMENDED_SCRYPT_COST } from '../src/login-server/passwords.js';
import { call, testServer, TestDevice } from '../test/support/login-server.js';
import type { Measurement } from './measure.js';
import { startParley, stopParley } from '../test/support/processes.js';

export interface LoginServerResults {
  reloginsPerSecond: { sqlite: Measurement; postgres: Measurement };
  passwordLoginMs: { p50: number; p90: number; count: number };
  prefixSearchMs: { p50: number; p99: number; users: number; searches: number };
  idleRssMb: { sqlite: number; postgres: number };
}

interface Postgres {
  url: string;
  stop(): void;
}

const ROUNDS = 3;
const UNTHROTTLED = { freeFailures: 1e9, baseLockMs: 1, maxLockMs: 1, forgetAfterMs: 1 };
// The bench measures the server's work, not its limits: every throttle open (one address asks for all challenges).
const BENCH_CONFIG = { loginThrottle: UNTHROTTLED, loginSourceThrottle: UNTHROTTLED, loginAccountThrottle: UNTHROTTLED, registrationThrottle: UNTHROTTLED, searchThrottle: UNTHROTTLED, challengeRate: { maxPerWindow: 1e9, windowMs: 1 } };

async function ready(device: TestDevice): Promise<void> {
  const registered = await device.register();
  const login = await device.passwordLogin();
  if (registered.status !== 201 || login.status !== 200) throw new Error(`setup failed: ${JSON.stringify(registered.body)} ${JSON.stringify(login.body)}`);
}

function stats(values: number[]): Measurement {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function freshPostgres(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  return adminUrl.replace(/\/[^/]*$/, `/${name}`);
}

/** Challenge + signed login, `total` times over `concurrency` devices at once. */
export async function relogins(database: StoreDatabase, total: number, concurrency: number, rounds = ROUNDS, hooks: { warmedUp?: () => void; finished?: () => void } = {}): Promise<number[]> {
  const server = await testServer(database, { config: BENCH_CONFIG });
  const devices = Array.from({ length: concurrency }, (_, i) => new TestDevice(server.app, server.ca, `bench${i}`));
  for (const d of devices) await ready(d);
  const rates: number[] = [];
  for (let round = 0; round <= rounds; round++) {
    let left = total;
    const start = performance.now();
    await Promise.all(
      devices.map(async (d) => {
        while (left-- > 0) {
          const response = await d.deviceLogin();
          if (response.status !== 200) throw new Error(`re-login failed: ${JSON.stringify(response.body)}`);
        }
      }),
    );
    if (round > 0) rates.push((total * 1000) / (performance.now() - start)); // round 0 warms up
    else hooks.warmedUp?.();
  }
  hooks.finished?.();
  await server.close();
  return rates;
}

async function passwordLogins(count: number): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  const server = await testServer(await openDatabase(join(dir, 'db')), { config: BENCH_CONFIG, hasher: new PasswordHasher(RECOMMENDED_SCRYPT_COST) });
  const device = new TestDevice(server.app, server.ca, 'hashy');
  await device.register();
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const response = await device.passwordLogin();
    if (response.status !== 200) throw new Error('password login failed');
    times.push(performance.now() - start);
  }
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  return times;
}

async function prefixSearch(url: string, users: number, searches: number): Promise<number[]> {
  const database = await openDatabase(url);
  // A million accounts, made in SQL: names are 'u' + 12 hex digits, a third of them discoverable.
  await database.db.executeQuery({
    sql: `insert into users (username, display_name, password_hash, created_at_ms, discoverable, show_last_seen)
          select 'u' || substr(md5(i::text), 1, 12), 'User ' || i, 'x', 0, (i % 3 = 0)::int, 0 from generate_series(1, $1) as i
          on conflict do nothing`,
    parameters: [users],
  } as never);
  await database.db.executeQuery({ sql: 'analyze users', parameters: [] } as never);
  const server = await testServer(database, { config: BENCH_CONFIG });
  const searcher = new TestDevice(server.app, server.ca, 'searcher');
  await ready(searcher);
  const hex = '0123456789abcdef';
  const times: number[] = [];
  for (let i = 0; i < searches; i++) {
    const prefix = `u${hex[i % 16]}${hex[(i * 7) % 16]}${i % 2 === 0 ? hex[(i * 5) % 16] : ''}`;
    const start = performance.now();
    const response = await call(server.app, 'GET', `/v1/directory/search?q=${prefix}*&limit=20`, undefined, searcher.token);
    times.push(performance.now() - start);
    if (response.status !== 200 || (response.body.users as unknown[]).length === 0) throw new Error(`search ${prefix} failed`);
  }
  await server.close();
  return times;
}

/** Resident memory of an idle `parley login-server` process, once it is ready. */
async function idleRss(args: string[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-rss-'));
  const { child } = await startParley(['login-server', '--data', dir, '--port', '0', ...args], 'descriptor:');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
  await stopParley(child);
  rmSync(dir, { recursive: true, force: true });
  return rssKb / 1024;
}

export async function benchLoginServer(): Promise<LoginServerResults> {
  const { startPostgres } = (await import(new URL('../../scripts/postgres.mjs', import.meta.url).href)) as { startPostgres: () => Promise<Postgres> };
  const postgres = await startPostgres();
  try {
    const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
    const sqliteRates = await relogins(await openDatabase(join(dir, 'db')), 2000, 32);
    rmSync(dir, { recursive: true, force: true });
    const postgresRates = await relogins(await openDatabase(await freshPostgres(postgres.url, 'bench_relogin')), 2000, 32);
    const passwordTimes = await passwordLogins(15);
    const users = 1_000_000;
    const searchTimes = await prefixSearch(await freshPostgres(postgres.url, 'bench_search'), users, 1000);
    const idleRssMb = {
      sqlite: await idleRss([]),
      postgres: await idleRss(['--database', await freshPostgres(postgres.url, 'bench_rss')]),
    };
    return {
      reloginsPerSecond: { sqlite: stats(sqliteRates), postgres: stats(postgresRates) },
      passwordLoginMs: { p50: percentile(passwordTimes, 50), p90: percentile(passwordTimes, 90), count: passwordTimes.length },
      prefixSearchMs: { p50: percentile(searchTimes, 50), p99: percentile(searchTimes, 99), users, searches: searchTimes.length },
      idleRssMb,
    };
  } finally {
    postgres.stop();
  }
}
