/**
 * Calls `fn(scheduledMs, skipped)` every `periodMs`, on the schedule `start + n·period` (timer
 * lateness does not accumulate); `skipped` is how many ticks before this one were too late to run.
 */
export function every(clock, periodMs, firstAtMs, fn, options = {}) {
    let next = firstAtMs;
    let timer;
    let stopped = false;
    const maxCatchUpMs = options.maxCatchUpMs ?? Infinity;
    const run = () => {
        // Every tick that is due runs now, in this one callback: a second timer per missed tick
        // would let I/O in between (Node runs the poll phase before the next timers), so a player
        // would see the burst of packets before playing the frames it owed.
        let skipped = Number.isFinite(maxCatchUpMs) ? Math.max(0, Math.floor((clock.now() - maxCatchUpMs - next) / periodMs) + 1) : 0;
        next += skipped * periodMs;
        while (!stopped && next <= clock.now()) {
            const scheduled = next;
            next += periodMs;
            fn(scheduled, skipped);
            skipped = 0;
        }
        if (!stopped)
            timer = clock.after(next - clock.now(), run);
    };
    timer = clock.after(Math.max(0, firstAtMs - clock.now()), run);
    return {
        cancel: () => {
            stopped = true;
            timer.cancel();
        },
    };
}
//# sourceMappingURL=every.js.map