export function stallingClock(clock, stalls) {
    const released = (dueMs) => {
        for (const s of stalls)
            if (dueMs >= s.atMs && dueMs < s.atMs + s.forMs)
                return s.atMs + s.forMs;
        return dueMs;
    };
    return {
        now: () => clock.now(),
        wallTimeMs: () => clock.wallTimeMs(),
        after: (delayMs, fn) => clock.after(released(clock.now() + Math.max(0, delayMs)) - clock.now(), fn),
    };
}
//# sourceMappingURL=stalling-clock.js.map