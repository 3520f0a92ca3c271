// What every route of the login server is given: the store, the CA, the password hasher, the
// injected clock and randomness, the configuration, and the counters of its metrics. No other
// state: replicas share only the database (and the CA key file); each counts its own metrics.
import type { FastifyRequest } from 'fastify';
import type { Clock, Random } from '../env/types.js';
import type { NetworkCa } from '../crypto/certificate.js';
import type { BootstrapEntry } from '../crypto/descriptor.js';
import type { PasswordHasher } from './passwords.js';
import { FairQueue, type FairQueueLimits } from './hash-queue.js';
import type { Device, LoginStore, User } from './store/login-store.js';
import { verifyToken } from './tokens.js';
import { SupernodeRegistry } from './store/supernode-registry.js';
import { LoginMetrics } from './metrics.js';

export interface ThrottlePolicy {
  readonly freeFailures: number;
  readonly baseLockMs: number;
  readonly maxLockMs: number;
  readonly forgetAfterMs: number;
}

export interface LoginServerConfig {
  readonly networkName: string;
  readonly certificateLifetimeMs: number;
  readonly tokenLifetimeMs: number;
  readonly challengeLifetimeMs: number;
  readonly latestVersion: string;
  /** Supernodes the operator pinned (with keys); enrolled supernodes that renew are served beside them. */
  readonly bootstrap: readonly BootstrapEntry[];
  /** How long an enrolled supernode's certificate lasts; it renews long before. */
  readonly supernodeCertificateLifetimeMs: number;
  /** An enrolled supernode that has not renewed for this long leaves the live bootstrap list. */
  readonly supernodeLiveWindowMs: number;
  /** Failed enrolments and renewals (bad token, bad signature) per IP address. */
  readonly enrolmentThrottle: ThrottlePolicy;
  /**
   * Password logins per (account, source address): the hard lock. Every attempt is reserved
   * before its hash and given back only if the password was right.
   */
  readonly loginThrottle: ThrottlePolicy;
  /** Password logins per source address over all accounts, and failed device logins per address. */
  readonly loginSourceThrottle: ThrottlePolicy;
  /**
   * Password logins per account over all addresses: soft (more free failures, short locks), so
   * guesses from many addresses are slowed, but a stranger cannot lock the owner out for long.
   */
  readonly loginAccountThrottle: ThrottlePolicy;
  /** Challenges per source address: at most `maxPerWindow` in each window of `windowMs`. */
  readonly challengeRate: { readonly maxPerWindow: number; readonly windowMs: number };
  /** Outstanding challenges per device; a new one replaces the oldest (the same address's first). */
  readonly maxChallengesPerDevice: number;
  /** The password hash queue: hashes at once, hashes waiting, and hashes per source address. */
  readonly hashQueue: FairQueueLimits;
  /** The Retry-After of a 503 when the hash queue is full. */
  readonly hashQueueRetryAfterMs: number;
  /** Registrations per IP address (every registration counts). */
  readonly registrationThrottle: ThrottlePolicy;
  /** Directory searches per IP address (every search counts). */
  readonly searchThrottle: ThrottlePolicy;
  readonly maxBodyBytes: number;
}

export const DEFAULT_CONFIG: LoginServerConfig = {
  networkName: 'parley',
  certificateLifetimeMs: 24 * 3_600_000,
  tokenLifetimeMs: 3_600_000,
  challengeLifetimeMs: 60_000,
  latestVersion: '0.1.0',
  bootstrap: [],
  supernodeCertificateLifetimeMs: 3 * 24 * 3_600_000,
  supernodeLiveWindowMs: 15 * 60_000,
  enrolmentThrottle: { freeFailures: 10, baseLockMs: 60_000, maxLockMs: 3_600_000, forgetAfterMs: 3_600_000 },
  loginThrottle: { freeFailures: 5, baseLockMs: 1_000, maxLockMs: 15 * 60_000, forgetAfterMs: 3_600_000 },
  loginSourceThrottle: { freeFailures: 30, baseLockMs: 1_000, maxLockMs: 15 * 60_000, forgetAfterMs: 3_600_000 },
  loginAccountThrottle: { freeFailures: 20, baseLockMs: 1_000, maxLockMs: 30_000, forgetAfterMs: 3_600_000 },
  challengeRate: { maxPerWindow: 120, windowMs: 60_000 },
  maxChallengesPerDevice: 8,
  // Two scrypt hashes at once (2 × 128 MiB at the default cost); 16 waiting is ~2.5 s of work.
  hashQueue: { maxRunning: 2, maxWaiting: 16, maxPerSource: 3, reservedForTrusted: 8 },
  hashQueueRetryAfterMs: 2_000,
  registrationThrottle: { freeFailures: 10, baseLockMs: 60_000, maxLockMs: 3_600_000, forgetAfterMs: 3_600_000 },
  searchThrottle: { freeFailures: 60, baseLockMs: 1_000, maxLockMs: 60_000, forgetAfterMs: 60_000 },
  maxBodyBytes: 96 * 1024,
};

export interface ServerContext {
  readonly store: LoginStore;
  readonly supernodes: SupernodeRegistry;
  readonly ca: NetworkCa;
  readonly hasher: QueuedHasher;
  readonly clock: Clock;
  readonly random: Random;
  readonly config: LoginServerConfig;
  readonly metrics: LoginMetrics;
}

/**
 * The context for a store and a CA: the supernode registry is derived, not passed; metrics are
 * fresh unless given; the hasher gets this server's own queue.
 */
export function createServerContext(parts: Omit<ServerContext, 'metrics' | 'supernodes' | 'hasher'> & { readonly hasher: PasswordHasher; readonly metrics?: LoginMetrics }): ServerContext {
  const metrics = parts.metrics ?? new LoginMetrics();
  return {
    ...parts,
    hasher: new QueuedHasher(parts.clock, parts.hasher, parts.config, metrics),
    supernodes: new SupernodeRegistry(parts.store.db),
    metrics,
  };
}

/** A refusal the client can act on: an HTTP status, a stable code, a message for people. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * The password hasher as routes use it: every hash waits its turn in this server's bounded, fair
 * queue, and a hash that does not fit is refused at once with 503 and a Retry-After. `source` is
 * the caller's address (see login-throttle.ts `sourceOf`); without one, only the global bounds apply.
 */
/** Addresses remembered as trusted (they logged in lately), and for how long after their last login. */
export const TRUSTED_SOURCES_KEPT = 100_000;
export const TRUSTED_SOURCE_MS = 30 * 24 * 3_600_000;

export class QueuedHasher {
  private readonly queue: FairQueue;
  /** Sources that logged in, by the wall time of their last login; the least recent first. */
  private readonly trusted = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly hasher: PasswordHasher,
    private readonly config: Pick<LoginServerConfig, 'hashQueue' | 'hashQueueRetryAfterMs'>,
    private readonly metrics: LoginMetrics,
  ) {
    this.queue = new FairQueue(config.hashQueue, {
      refused: (reason) => metrics.hashRefusals.inc({ reason }),
      changed: (running, waiting) => {
        metrics.hashesRunning.set(running);
        metrics.hashesWaiting.set(waiting);
      },
    });
  }

  get cost() {
    return this.hasher.cost;
  }

  get unknownUserHash(): string {
    return this.hasher.unknownUserHash;
  }

  /**
   * Remembers that `source` logged in (right password, or device key): its hashes may wait in
   * the places reserved for trusted sources. Per process, at most TRUSTED_SOURCES_KEPT, each
   * for TRUSTED_SOURCE_MS after its last login.
   */
  trust(source: string): void {
    this.trusted.delete(source);
    if (this.trusted.size >= TRUSTED_SOURCES_KEPT) this.trusted.delete(this.trusted.keys().next().value!);
    this.trusted.set(source, this.clock.wallTimeMs());
  }

  private isTrusted(source: string | null): boolean {
    const at = source === null ? undefined : this.trusted.get(source);
    return at !== undefined && this.clock.wallTimeMs() - at < TRUSTED_SOURCE_MS;
  }

  /** Refuses now, before the caller writes anything, if a hash for `source` would be refused. */
  ensureRoom(source: string | null): void {
    const reason = this.queue.refusal(source, this.isTrusted(source));
    if (reason) {
      this.metrics.hashRefusals.inc({ reason });
      throw this.busy();
    }
  }

  async hash(password: string, source: string | null = null): Promise<string> {
    return this.queued(source, () => this.hasher.hash(password));
  }

  async verify(password: string, stored: string, source: string | null = null): Promise<boolean> {
    return this.queued(source, () => this.hasher.verify(password, stored));
  }

  needsRehash(stored: string): boolean {
    return this.hasher.needsRehash(stored);
  }

  private async queued<T>(source: string | null, work: () => Promise<T>): Promise<T> {
    const result = await this.queue.run(source, work, this.isTrusted(source));
    if (!result.ok) throw this.busy();
    return result.value;
  }

  private busy(): ApiError {
    return new ApiError(503, 'overloaded', 'the server is busy checking passwords: try again shortly', this.config.hashQueueRetryAfterMs);
  }
}

export interface Caller {
  readonly user: User;
  readonly device: Device;
}

/** The user and device behind the request's bearer token, or a 401. */
export async function authenticate(context: ServerContext, request: FastifyRequest): Promise<Caller> {
  const header = request.headers.authorization;
  if (!header?.startsWith('Bearer ')) throw new ApiError(401, 'unauthenticated', 'send Authorization: Bearer <access token from login>');
  const claims = verifyToken(context.ca.keyPair.publicKey, header.slice(7), context.clock.wallTimeMs());
  if (!claims.ok) throw new ApiError(401, claims.error.code, claims.error.message);
  const device = await context.store.findDevice(claims.value.deviceId);
  if (!device || device.userId !== claims.value.userId || device.revokedAtMs !== null) throw new ApiError(401, 'device_revoked', 'this device is no longer allowed');
  const user = await context.store.findUserById(claims.value.userId);
  if (!user) throw new ApiError(401, 'account_deleted', 'this account no longer exists');
  return { user, device };
}

/** Refuses with 429 while `key` (`<scope>:<who>`) is locked; counted by scope. */
export async function checkThrottle(context: ServerContext, key: string): Promise<void> {
  const until = await context.store.lockedUntil(key);
  if (until > context.clock.wallTimeMs()) throw throttled(context, key.slice(0, key.indexOf(':')), until, 'too many attempts: wait and try again');
}

/** The 429 for a throttle of `scope` that holds until `lockedUntilMs`, counted. */
export function throttled(context: ServerContext, scope: string, lockedUntilMs: number, message: string): ApiError {
  context.metrics.throttleRefusals.inc({ scope });
  return new ApiError(429, 'throttled', message, lockedUntilMs - context.clock.wallTimeMs());
}
