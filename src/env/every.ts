// A periodic timer on an injected clock, for media: ticks land on `first + n·period`, so one
// late timer does not push every later tick back (a late tick runs at once and the next keeps
// its slot).
import type { Clock, Timer } from './types.js';

/** Calls `fn` every `periodMs`, on the schedule `start + n·period` (timer lateness does not accumulate). */
export function every(clock: Clock, periodMs: number, firstAtMs: number, fn: (scheduledMs: number) => void): Timer {
  let next = firstAtMs;
  let timer: Timer;
  let stopped = false;
  const run = () => {
    if (stopped) return;
    const scheduled = next;
    next += periodMs;
    timer = clock.after(Math.max(0, next - clock.now()), run);
    fn(scheduled);
  };
  timer = clock.after(Math.max(0, firstAtMs - clock.now()), run);
  return {
    cancel: () => {
      stopped = true;
      timer.cancel();
    },
  };
}
