// Pauses between attempts to reach something again (today: a client re-attaching to the overlay,
// a supernode rejoining it): exponential, capped, and jittered, so that nodes cut off together
// (a supernode or a network outage) do not all come back in the same instant and knock it over
// again.
import type { Random } from '../env/types.js';

/**
 * The pause before attempt `attempt` (0 first): `firstMs · 2^attempt`, at most `maxMs`, then
 * drawn uniformly from its upper half ("equal jitter": never less than half the step, so the
 * pauses still grow, and spread over a range as wide as that half).
 */
export function jitteredBackoffMs(attempt: number, firstMs: number, maxMs: number, random: Random): number {
  const stepMs = Math.min(maxMs, firstMs * 2 ** Math.min(Math.max(0, attempt), 30));
  return stepMs / 2 + random.float() * (stepMs / 2);
}
