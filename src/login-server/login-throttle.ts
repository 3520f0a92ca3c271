// Login throttles: how many password guesses and challenges a caller gets. Threat model: a
// stranger who knows a username (or a device's public key, which any buddy can list) and has one
// address, or many, tries to guess the password, to lock the owner out, or to stop the owner's
// device logins. So:
// - A password attempt is reserved (counted as a failure) BEFORE its hash and given back only when
//   the password was right: a concurrent burst meets the lock like a sequence would.
// - Three keys, all shared by replicas through the database: (account, source) is the hard lock;
//   source alone bounds one address's guesses over all accounts; account alone is soft (more
//   free failures, locks of seconds), so many addresses are slowed but a stranger's burst cannot
//   lock the owner out from the owner's own address.
// - Challenges are rate-limited per source (a fixed window): asking costs a database write. That
//   window is counted in the challenge's own step of the store (routes/accounts.ts, store/relogin-queries.ts).
// A source is an IPv4 address or an IPv6 /64 (one subscriber's usual allocation), so an
// attacker cannot take a fresh key per address of the prefix.
import { isIPv6 } from 'node:net';
import { ApiError, type ServerContext, type ThrottlePolicy } from './context.js';

/** Every this many reservations, throttle rows idle for longer than every policy forgets are deleted. */
const PRUNE_EVERY_RESERVATIONS = 1_000;
/**
 * Locks this process has seen, remembered until they end, so that a flood of guesses against a
 * locked key is refused without a database round trip each (a refusal should cost less than
 * the guess). A lock never ends early (only a right password clears a key, and a locked key
 * cannot be tried), so remembering one is safe across replicas.
 */
export const REMEMBERED_LOCKS = 10_000;

/** The throttle key of an address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64. */
export function sourceOf(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('%')[0]!.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = ip.includes('::') ? 8 - headGroups.length - tailGroups.length : 0;
  const groups = [...headGroups, ...Array<string>(Math.max(0, missing)).fill('0'), ...tailGroups];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

type Outcome = 'right' | 'wrong' | 'not_evaluated';

interface Key {
  readonly key: string;
  readonly scope: string;
  readonly policy: ThrottlePolicy;
}

/** Reservations taken for one password attempt; settle once with what the attempt came to. */
export interface PasswordAttempt {
  settle(outcome: Outcome): Promise<void>;
}

export class LoginThrottle {
  private reservations = 0;
  /** Throttle keys known to be locked, with when their lock ends; the oldest first. */
  private readonly knownLocks = new Map<string, number>();

  constructor(private readonly context: ServerContext) {}

  /**
   * Reserves one password attempt for `username` from `source`, or throws 429 with the time
   * until the first lock that holds it. Reservations already taken are given back on refusal.
   */
  async reservePassword(username: string, source: string): Promise<PasswordAttempt> {
    const { config, store } = this.context;
    const now = this.context.clock.wallTimeMs();
    await this.pruneSometimes(now);
    const keys: Key[] = [
      { key: `login-ip:${source}`, scope: 'login-ip', policy: config.loginSourceThrottle },
      { key: `login-account-ip:${username}@${source}`, scope: 'login-account-ip', policy: config.loginThrottle },
      { key: `login-account:${username}`, scope: 'login-account', policy: config.loginAccountThrottle },
    ];
    const refuse = (key: Key, lockedUntilMs: number) => {
      this.context.metrics.throttleRefusals.inc({ scope: key.scope });
      return new ApiError(429, 'throttled', 'too many attempts: wait and try again', lockedUntilMs - now);
    };
    for (const key of keys) {
      const until = this.knownLocks.get(key.key);
      if (until === undefined) continue;
      if (until > now) throw refuse(key, until);
      this.knownLocks.delete(key.key);
    }
    const taken: Key[] = [];
    for (const key of keys) {
      const reserved = await store.reserveAttempt(key.key, now, key.policy);
      if (!reserved.ok) {
        for (const done of taken) await store.refundAttempt(done.key, done.policy);
        this.rememberLock(key.key, reserved.lockedUntilMs);
        throw refuse(key, reserved.lockedUntilMs);
      }
      taken.push(key);
    }
    let settled = false;
    return {
      settle: async (outcome) => {
        if (settled) return;
        settled = true;
        if (outcome === 'wrong') return; // the reservation is the failure
        // The attempt did not count against anyone; a right password also frees its (account, source).
        for (const key of taken) {
          if (outcome === 'right' && key.scope === 'login-account-ip') await store.clearFailures(key.key);
          else await store.refundAttempt(key.key, key.policy);
        }
      },
    };
  }

  private rememberLock(key: string, untilMs: number): void {
    this.knownLocks.delete(key);
    if (this.knownLocks.size >= REMEMBERED_LOCKS) this.knownLocks.delete(this.knownLocks.keys().next().value!);
    this.knownLocks.set(key, untilMs);
  }

  /** Deletes idle throttle rows now and then, so keys a stranger invents do not pile up. */
  private async pruneSometimes(nowMs: number): Promise<void> {
    if (++this.reservations % PRUNE_EVERY_RESERVATIONS !== 0) return;
    const { config } = this.context;
    const policies = [config.loginThrottle, config.loginSourceThrottle, config.loginAccountThrottle, config.registrationThrottle, config.searchThrottle, config.enrolmentThrottle];
    const idleMs = Math.max(config.challengeRate.windowMs, ...policies.map((p) => p.forgetAfterMs));
    await this.context.store.pruneThrottles(nowMs, idleMs);
  }
}
