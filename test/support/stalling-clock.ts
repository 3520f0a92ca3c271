// A clock whose event loop is busy at given times: a timer that falls due inside a stall fires
// when the stall ends (as Node's timers do when a long synchronous task holds the loop), and all
// such timers fire at that moment, in the order they fell due. The time itself runs on.
import type { Clock, Timer } from '../../src/env/types.js';

export interface Stall {
  /** When the loop stops running timers, on the wrapped clock's time. */
  readonly atMs: number;
  readonly forMs: number;
}

export function stallingClock(clock: Clock, stalls: readonly Stall[]): Clock {
  const released = (dueMs: number) => {
    for (const s of stalls) if (dueMs >= s.atMs && dueMs < s.atMs + s.forMs) return s.atMs + s.forMs;
    return dueMs;
  };
  return {
    now: () => clock.now(),
    wallTimeMs: () => clock.wallTimeMs(),
    after: (delayMs: number, fn: () => void): Timer => clock.after(released(clock.now() + Math.max(0, delayMs)) - clock.now(), fn),
  };
}
