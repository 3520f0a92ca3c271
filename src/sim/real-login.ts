// The real login server inside a simulation (`parley sim --login real`): src/login-server on an
// in-memory database, answering through Fastify's inject on the virtual clock, and each device
// with the real client account (src/client/account.ts: device keys in a profile folder, first
// login with the password, later ones by challenge, the access token renewed when it ends).
// Users sign up and set their buddies through the API, as the app does.
//
// Every call takes a virtual round trip (LOGIN_DELAY_MS each way, plus the slow-login fault's
// delay), and the server's real work is held outside virtual time (Scheduler.outside), one
// call at a time in the order they were made: a seeded run stays the same however long the
// server takes on this machine. It costs far more than the stand-in (sim-login.ts) per call, so
// it is for small sizes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Account } from '../client/account.js';
import { loginAnswer, type LoginRequester } from '../client/login-client.js';
import type { NetworkCa } from '../crypto/certificate.js';
import type { NetworkDescriptor } from '../crypto/descriptor.js';
import type { Clock } from '../env/types.js';
import type { SeededRandom } from '../env/prng.js';
import type { Scheduler } from '../env/virtual/index.js';
import { createServerContext, DEFAULT_CONFIG, type ServerContext } from '../login-server/context.js';
import { PasswordHasher } from '../login-server/passwords.js';
import { buildLoginServer } from '../login-server/server.js';
import { openDatabase } from '../login-server/store/database.js';
import { LoginStore } from '../login-server/store/login-store.js';
import type { SimLogin } from './sim-login.js';

/**
 * The password hash's cost here: scrypt at 2^10, not the 2^17 a real deployment uses (a
 * thousandth of the work; the hash queue and throttles work the same). Each user hashes twice.
 */
const SIM_SCRYPT_COST = { logN: 10, r: 8, p: 1 } as const;
const PASSWORD = 'correct horse battery staple';
/**
 * Where user `index` signs up from: its machine is not on the virtual network yet then, and
 * the server counts every sign-up per address (each user its own, in 100.64.0.0/10).
 */
function signUpAddress(index: number): string {
  return `100.${64 + ((index >> 16) & 63)}.${(index >> 8) & 255}.${index & 255}`;
}

/** The login server's clock: the virtual network's (it sets no timers of its own). */
function serverClock(scheduler: Scheduler): Clock {
  return {
    now: () => scheduler.now(),
    wallTimeMs: () => scheduler.wallTimeMs(),
    after: () => {
      throw new Error('the login server sets no timers');
    },
  };
}

export class RealSimLogin implements SimLogin {
  extraDelayMs = 0;
  calls = 0;
  offlineStored = 0;
  private offlineDelivered = 0;
  refusedOffline = 0;
  private readonly accounts = new Map<string, Account>();
  private readonly signUpAddresses = new Map<string, string>();
  /** Calls to the server run one at a time, in the order they were made (see the header). */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly app: FastifyInstance,
    private readonly context: ServerContext,
    private readonly scheduler: Scheduler,
    private readonly descriptor: NetworkDescriptor,
    private readonly random: SeededRandom,
    /** One-way delay to the server. */
    private readonly delayMs: number,
    /** The address a user's calls come from (its NAT's, once its machine exists). */
    private readonly addressOf: (username: string) => string | null,
    private readonly profileDir: string,
  ) {}

  static async start(options: {
    ca: NetworkCa;
    scheduler: Scheduler;
    descriptor: NetworkDescriptor;
    random: SeededRandom;
    delayMs: number;
    addressOf: (username: string) => string | null;
  }): Promise<RealSimLogin> {
    const profileDir = mkdtempSync(join(tmpdir(), 'parley-sim-login-'));
    try {
      const store = new LoginStore(await openDatabase(':memory:'));
      const context = createServerContext({
        store,
        ca: options.ca,
        hasher: new PasswordHasher(SIM_SCRYPT_COST),
        clock: serverClock(options.scheduler),
        random: options.random.fork(),
        config: DEFAULT_CONFIG,
      });
      const app = await buildLoginServer(context);
      return new RealSimLogin(app, context, options.scheduler, options.descriptor, options.random, options.delayMs, options.addressOf, profileDir);
    } catch (error) {
      rmSync(profileDir, { recursive: true, force: true });
      throw error;
    }
  }

  get offlineWaiting(): number {
    return this.offlineStored - this.offlineDelivered;
  }

  /** `username`'s calls: a virtual round trip around the server's real answer. */
  private requester(username: string): LoginRequester {
    return {
      request: <T>(method: string, path: string, body?: unknown, token?: string) =>
        new Promise<T>((resolve, reject) => {
          this.scheduler.after(this.delayMs + this.extraDelayMs, () => {
            const address = this.addressOf(username) ?? this.signUpAddresses.get(username) ?? signUpAddress(0);
            const answered = this.queue.then(() =>
              this.app.inject({
                method: method as 'GET',
                url: path,
                remoteAddress: address,
                headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
                ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
              }),
            );
            this.queue = answered.catch(() => {});
            // Held outside virtual time from now (queued included) until the server answered.
            void this.scheduler.outside(answered).then(
              (response) => {
                this.calls++;
                this.count(method, path, response.statusCode, response.body);
                this.scheduler.after(this.delayMs, () => {
                  try {
                    resolve(loginAnswer<T>(response.statusCode, response.body));
                  } catch (error) {
                    reject(error as Error);
                  }
                });
              },
              (error: unknown) => this.scheduler.after(this.delayMs, () => reject(error instanceof Error ? error : new Error(String(error)))),
            );
          });
        }),
    };
  }

  /** The offline store's traffic, from the answers (for a violation's detail). */
  private count(method: string, path: string, status: number, body: string): void {
    if (method !== 'POST') return;
    if (/^\/v1\/offline\/\d+$/.test(path)) {
      if (status >= 200 && status < 300) this.offlineStored++;
      else this.refusedOffline++;
    } else if (path === '/v1/offline/ack' && status >= 200 && status < 300) {
      this.offlineDelivered += (JSON.parse(body) as { deleted?: number }).deleted ?? 0;
    }
  }

  /** Signs every user up, logs its device in with the password, then each sets its buddies. */
  async addUsers(users: readonly { readonly name: string; readonly buddies: readonly string[] }[]): Promise<void> {
    for (const { name } of users) {
      this.signUpAddresses.set(name, signUpAddress(this.signUpAddresses.size));
      const account = new Account(this.requester(name), this.descriptor, this.profileDir, name, { random: this.random.fork(), clock: this.scheduler });
      await account.register(PASSWORD);
      await account.loginWithPassword(PASSWORD, `${name}'s simulated machine`);
      this.accounts.set(name, account);
    }
    for (const { name, buddies } of users) {
      await this.account(name).call('PUT', '/v1/contacts', { expectedVersion: 0, entries: buddies.map((username) => ({ username, kind: 'buddy' })) });
    }
  }

  account(username: string): Account {
    const account = this.accounts.get(username);
    if (!account) throw new Error(`no sim user ${username}`);
    return account;
  }

  async close(): Promise<void> {
    try {
      await this.app.close();
      await this.context.store.close();
    } finally {
      rmSync(this.profileDir, { recursive: true, force: true });
    }
  }
}
