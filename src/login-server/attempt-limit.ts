// Limits on attempts that count whether or not they succeed (registrations, directory searches):
// the attempt is counted before the work it is a limit on, in one atomic step of the store, and
// refused when that count is over the free ones. Checking first and counting after the work
// (as before issue 19) let every request of a burst pass the check before any was counted: 11 of
// 25 concurrent registrations got through a limit of 10. Counting first is a semaphore: the
// store hands out the free attempts one by one, however many requests arrive at once.
import { ApiError, checkThrottle, type ServerContext, type ThrottlePolicy } from './context.js';

/** Takes one attempt under `key` (`<scope>:<who>`) or refuses with 429 `throttled`. */
export async function spendAttempt(context: ServerContext, key: string, policy: ThrottlePolicy): Promise<void> {
  // While locked, refuse without counting: a refused attempt does not lengthen the lock.
  await checkThrottle(context, key);
  const nowMs = context.clock.wallTimeMs();
  const lockedUntilMs = await context.store.recordFailure(key, nowMs, policy);
  if (lockedUntilMs > nowMs) {
    context.metrics.throttleRefusals.inc({ scope: key.slice(0, key.indexOf(':')) });
    throw new ApiError(429, 'throttled', 'too many attempts: wait and try again', lockedUntilMs - nowMs);
  }
}
