const POOL_MAX = 1 << 16;
export class StalledError extends Error {
    atMs;
    constructor(atMs) {
        super(`virtual network stalled at t=${atMs} ms: no event left and the awaited work is not done`);
        this.atMs = atMs;
        this.name = 'StalledError';
    }
}
export class Scheduler {
    epochMs;
    // A binary min-heap ordered by (time, seq). The keys live in typed arrays beside the event
    // records, so sifting compares numbers without touching the records (measured: the heap was
    // most of the simulator's time with 10 000 events pending).
    times = new Float64Array(1024);
    seqs = new Float64Array(1024);
    events = new Array(1024);
    size = 0;
    pool = [];
    seq = 0;
    currentMs = 0;
    /** Events run since creation: the simulator's unit of work. */
    eventsRun = 0;
    constructor(epochMs = Date.UTC(2026, 0, 1)) {
        this.epochMs = epochMs;
    }
    now() {
        return this.currentMs;
    }
    /** Whole milliseconds, like Date.now(): link jitter makes virtual time fractional. */
    wallTimeMs() {
        return Math.floor(this.epochMs + this.currentMs);
    }
    after(delayMs, fn) {
        const event = this.push(this.currentMs + Math.max(0, delayMs), fn, undefined, undefined, false);
        return { cancel: () => (event.run = null) };
    }
    /** Schedules `run(a, b)` at virtual time `time` (the simulator's hot path: no allocation when pooled). */
    schedule(time, run, a, b) {
        this.push(time, run, a, b, true);
    }
    grow() {
        const capacity = this.times.length * 2;
        const times = new Float64Array(capacity);
        times.set(this.times);
        const seqs = new Float64Array(capacity);
        seqs.set(this.seqs);
        this.times = times;
        this.seqs = seqs;
        this.events.length = capacity;
    }
    push(time, run, a, b, recyclable) {
        let event = recyclable ? this.pool.pop() : undefined;
        if (event) {
            event.run = run;
            event.a = a;
            event.b = b;
        }
        else {
            event = { run, a, b, recyclable };
        }
        if (this.size === this.times.length)
            this.grow();
        const seq = this.seq++;
        const times = this.times;
        const seqs = this.seqs;
        const events = this.events;
        let i = this.size++;
        while (i > 0) {
            const parent = (i - 1) >> 1;
            const pt = times[parent];
            if (pt < time || (pt === time && seqs[parent] < seq))
                break;
            times[i] = pt;
            seqs[i] = seqs[parent];
            events[i] = events[parent];
            i = parent;
        }
        times[i] = time;
        seqs[i] = seq;
        events[i] = event;
        return event;
    }
    /** Removes the earliest event; the caller reads its time first from `times[0]`. */
    pop() {
        const times = this.times;
        const seqs = this.seqs;
        const events = this.events;
        const top = events[0];
        const n = --this.size;
        const lastTime = times[n];
        const lastSeq = seqs[n];
        const last = events[n];
        events[n] = undefined;
        let i = 0;
        while (true) {
            const l = 2 * i + 1;
            if (l >= n)
                break;
            const r = l + 1;
            let c = l;
            if (r < n && (times[r] < times[l] || (times[r] === times[l] && seqs[r] < seqs[l])))
                c = r;
            const ct = times[c];
            if (lastTime < ct || (lastTime === ct && lastSeq < seqs[c]))
                break;
            times[i] = ct;
            seqs[i] = seqs[c];
            events[i] = events[c];
            i = c;
        }
        if (n > 0) {
            times[i] = lastTime;
            seqs[i] = lastSeq;
            events[i] = last;
        }
        return top;
    }
    get pending() {
        return this.size;
    }
    /** Runs one event; false when none is left. */
    step() {
        if (this.size === 0)
            return false;
        this.currentMs = this.times[0];
        const event = this.pop();
        const run = event.run;
        if (run) {
            this.eventsRun++;
            run(event.a, event.b);
        }
        if (event.recyclable && this.pool.length < POOL_MAX) {
            event.a = event.b = event.run = null;
            this.pool.push(event);
        }
        return true;
    }
    /** Runs every event up to and including `untilMs`, then sets the clock to `untilMs`. */
    runUntil(untilMs) {
        while (this.size > 0 && this.times[0] <= untilMs)
            this.step();
        if (untilMs > this.currentMs)
            this.currentMs = untilMs;
    }
    runFor(durationMs) {
        this.runUntil(this.currentMs + durationMs);
    }
    /** Runs until no event is left or `maxEvents` ran. Synchronous code only. */
    runUntilIdle(maxEvents = Number.MAX_SAFE_INTEGER) {
        for (let i = 0; i < maxEvents && this.step(); i++)
            ;
    }
    /**
     * Drives the virtual clock until `work` settles, letting promise continuations run between
     * instants (so async/await code runs unchanged on virtual time). Rejects with StalledError if
     * the queue empties while `work` is still pending, and gives up after `maxVirtualMs`.
     */
    async drive(work, maxVirtualMs = 3_600_000) {
        let settled = false;
        const watched = work.finally(() => {
            settled = true;
        });
        watched.catch(() => { });
        const deadline = this.currentMs + maxVirtualMs;
        while (!settled) {
            await new Promise((resolve) => setImmediate(resolve));
            if (settled)
                break;
            if (this.size === 0 || this.times[0] > deadline)
                throw new StalledError(this.currentMs);
            // Run every event of the next instant, then let continuations react.
            const instant = this.times[0];
            while (this.size > 0 && this.times[0] === instant)
                this.step();
        }
        return watched;
    }
}
//# sourceMappingURL=scheduler.js.map