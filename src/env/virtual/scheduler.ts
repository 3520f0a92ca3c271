// The virtual clock: a priority queue of events in virtual milliseconds. Events at the same
// time run in the order they were scheduled, so a run is a pure function of its seed.
import type { Clock, Timer } from '../types.js';

/** A handler called with the two arguments it was scheduled with (no closure per event). */
export type EventHandler<A, B> = (a: A, b: B) => void;

/**
 * Who an event's work is charged to (a virtual host: the node that runs there), when the
 * scheduler measures (`measureCpu`): the wall time its handlers take is added to `cpuMs`.
 */
export interface CpuAccount {
  cpuMs: number;
}

interface ScheduledEvent {
  run: EventHandler<unknown, unknown> | null; // null once cancelled
  a: unknown;
  b: unknown;
  /** Internal events are recycled after they run; timers handed out are not. */
  recyclable: boolean;
  account: CpuAccount | null;
}

const POOL_MAX = 1 << 16;

export class StalledError extends Error {
  constructor(readonly atMs: number) {
    super(`virtual network stalled at t=${atMs} ms: no event left and the awaited work is not done`);
    this.name = 'StalledError';
  }
}

export class Scheduler implements Clock {
  // A binary min-heap ordered by (time, seq). The keys live in typed arrays beside the event
  // records, so sifting compares numbers without touching the records (measured: the heap was
  // most of the simulator's time with 10 000 events pending).
  private times = new Float64Array(1024);
  private seqs = new Float64Array(1024);
  private events: (ScheduledEvent | undefined)[] = new Array(1024);
  private size = 0;
  private pool: ScheduledEvent[] = [];
  private seq = 0;
  private currentMs = 0;
  /** Events run since creation: the simulator's unit of work. */
  eventsRun = 0;
  /** Instants `drive` ran (each a turn of the event loop, for promise continuations to run). */
  instantsRun = 0;
  /** Real work under way outside the virtual world (see `outside`): virtual time waits for it. */
  private outsideWork = 0;
  /**
   * When true, each event's handler is timed (performance.now() before and after: well under a
   * microsecond an event) and the time charged to its account, or to `unaccountedCpuMs`; and
   * the promise continuations `drive` lets run after each instant are charged, in equal
   * shares, to the accounts of that instant's events (or to `continuationsCpuMs` when they
   * had none). Measurement only: nothing the virtual world does depends on it.
   */
  measureCpu = false;
  /** Handler time of events with no account (gateways, the network's own work, plain timers). */
  unaccountedCpuMs = 0;
  /**
   * Wall time `drive` spent outside event handlers that no node was charged: the driver's own
   * turns, and continuations after instants whose events had no account.
   */
  continuationsCpuMs = 0;
  /** The accounts of the events of the instant just run (for its continuations). */
  private readonly instantAccounts: CpuAccount[] = [];

  constructor(private readonly epochMs: number = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.currentMs;
  }

  /** Whole milliseconds, like Date.now(): link jitter makes virtual time fractional. */
  wallTimeMs(): number {
    return Math.floor(this.epochMs + this.currentMs);
  }

  /** A timer; with `account`, its callback's time is charged there (see `measureCpu`). */
  after(delayMs: number, fn: () => void, account: CpuAccount | null = null): Timer {
    const event = this.push(this.currentMs + Math.max(0, delayMs), fn, undefined, undefined, false, account);
    return { cancel: () => (event.run = null) };
  }

  /** Schedules `run(a, b)` at virtual time `time` (the simulator's hot path: no allocation when pooled). */
  schedule<A, B>(time: number, run: EventHandler<A, B>, a: A, b: B, account: CpuAccount | null = null): void {
    this.push(time, run as EventHandler<unknown, unknown>, a, b, true, account);
  }

  private grow(): void {
    const capacity = this.times.length * 2;
    const times = new Float64Array(capacity);
    times.set(this.times);
    const seqs = new Float64Array(capacity);
    seqs.set(this.seqs);
    this.times = times;
    this.seqs = seqs;
    this.events.length = capacity;
  }

  private push(time: number, run: EventHandler<unknown, unknown>, a: unknown, b: unknown, recyclable: boolean, account: CpuAccount | null): ScheduledEvent {
    let event = recyclable ? this.pool.pop() : undefined;
    if (event) {
      event.run = run;
      event.a = a;
      event.b = b;
      event.account = account;
    } else {
      event = { run, a, b, recyclable, account };
    }
    if (this.size === this.times.length) this.grow();
    const seq = this.seq++;
    const times = this.times;
    const seqs = this.seqs;
    const events = this.events;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt < time || (pt === time && seqs[parent]! < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[parent]!;
      events[i] = events[parent];
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    events[i] = event;
    return event;
  }

  /** Removes the earliest event; the caller reads its time first from `times[0]`. */
  private pop(): ScheduledEvent {
    const times = this.times;
    const seqs = this.seqs;
    const events = this.events;
    const top = events[0]!;
    const n = --this.size;
    const lastTime = times[n]!;
    const lastSeq = seqs[n]!;
    const last = events[n];
    events[n] = undefined;
    let i = 0;
    while (true) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && (times[r]! < times[l]! || (times[r] === times[l] && seqs[r]! < seqs[l]!))) c = r;
      const ct = times[c]!;
      if (lastTime < ct || (lastTime === ct && lastSeq < seqs[c]!)) break;
      times[i] = ct;
      seqs[i] = seqs[c]!;
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

  get pending(): number {
    return this.size;
  }

  /** Runs one event; false when none is left. */
  step(): boolean {
    if (this.size === 0) return false;
    this.currentMs = this.times[0]!;
    const event = this.pop();
    const run = event.run;
    if (run) {
      this.eventsRun++;
      if (this.measureCpu) {
        const startMs = performance.now();
        run(event.a, event.b);
        const tookMs = performance.now() - startMs;
        if (event.account) {
          event.account.cpuMs += tookMs;
          this.instantAccounts.push(event.account);
        } else {
          this.unaccountedCpuMs += tookMs;
        }
      } else {
        run(event.a, event.b);
      }
    }
    if (event.recyclable && this.pool.length < POOL_MAX) {
      event.a = event.b = event.run = event.account = null;
      this.pool.push(event);
    }
    return true;
  }

  /** Runs every event up to and including `untilMs`, then sets the clock to `untilMs`. */
  runUntil(untilMs: number): void {
    while (this.size > 0 && this.times[0]! <= untilMs) this.step();
    if (untilMs > this.currentMs) this.currentMs = untilMs;
  }

  runFor(durationMs: number): void {
    this.runUntil(this.currentMs + durationMs);
  }

  /** Runs until no event is left or `maxEvents` ran. Synchronous code only. */
  runUntilIdle(maxEvents = Number.MAX_SAFE_INTEGER): void {
    for (let i = 0; i < maxEvents && this.step(); i++);
  }

  /**
   * Marks `work` as real work outside the virtual world (a service run in-process, such as a
   * login server answering through `inject`): while it is under way, `drive` lets real time pass
   * but not virtual time, so what it costs in real time is none of the virtual world's business
   * and a seeded run stays the same however busy the machine is.
   */
  outside<T>(work: Promise<T>): Promise<T> {
    this.outsideWork++;
    return work.finally(() => this.outsideWork--);
  }

  private chargeContinuations(tookMs: number): void {
    const accounts = this.instantAccounts;
    if (accounts.length === 0) {
      this.continuationsCpuMs += tookMs;
      return;
    }
    const share = tookMs / accounts.length;
    for (const account of accounts) account.cpuMs += share;
    accounts.length = 0;
  }

  /**
   * Drives the virtual clock until `work` settles, letting promise continuations run between
   * instants (so async/await code runs unchanged on virtual time). Rejects with StalledError if
   * the queue empties while `work` is still pending, and gives up after `maxVirtualMs`.
   */
  async drive<T>(work: Promise<T>, maxVirtualMs = 3_600_000): Promise<T> {
    let settled = false;
    const watched = work.finally(() => {
      settled = true;
    });
    // Not dropped: `work` itself is awaited below, so its rejection reaches the caller; this
    // copy only tells when it settled, and must not count as an unhandled rejection.
    watched.catch(() => {});
    const deadline = this.currentMs + maxVirtualMs;
    this.instantAccounts.length = 0;
    while (!settled) {
      // What runs from here to the next instant's events is the promise continuations of the
      // instant just run: charged to the accounts of its events (with link jitter an instant
      // is mostly one event, so mostly to the one node whose packet or timer it was).
      const yieldedMs = this.measureCpu ? performance.now() : 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.measureCpu) this.chargeContinuations(performance.now() - yieldedMs);
      if (settled) break;
      // Virtual time stands still while real work outside the world is under way.
      if (this.outsideWork > 0) continue;
      if (this.size === 0 || this.times[0]! > deadline) throw new StalledError(this.currentMs);
      // Run every event of the next instant, then let continuations react.
      const instant = this.times[0]!;
      this.instantsRun++;
      while (this.size > 0 && this.times[0] === instant) this.step();
    }
    return watched;
  }
}
