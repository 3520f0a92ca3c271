// The virtual clock: a priority queue of events in virtual milliseconds. Events at the same
// time run in the order they were scheduled, so a run is a pure function of its seed.
import type { Clock, Timer } from '../types.js';

interface ScheduledEvent {
  time: number;
  seq: number;
  run: (() => void) | null; // null once cancelled
}

export class StalledError extends Error {
  constructor(readonly atMs: number) {
    super(`virtual network stalled at t=${atMs} ms: no event left and the awaited work is not done`);
    this.name = 'StalledError';
  }
}

export class Scheduler implements Clock {
  private heap: ScheduledEvent[] = [];
  private seq = 0;
  private currentMs = 0;
  /** Events run since creation: the simulator's unit of work. */
  eventsRun = 0;

  constructor(private readonly epochMs: number = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.currentMs;
  }

  wallTimeMs(): number {
    return this.epochMs + this.currentMs;
  }

  after(delayMs: number, fn: () => void): Timer {
    const event = this.schedule(this.currentMs + Math.max(0, delayMs), fn);
    return { cancel: () => (event.run = null) };
  }

  schedule(time: number, run: () => void): ScheduledEvent {
    const event: ScheduledEvent = { time, seq: this.seq++, run };
    const heap = this.heap;
    let i = heap.length;
    heap.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (p.time < time || (p.time === time && p.seq < event.seq)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = event;
    return event;
  }

  get pending(): number {
    return this.heap.length;
  }

  private pop(): ScheduledEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    const n = heap.length;
    while (true) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      let child = heap[l]!;
      if (r < n) {
        const right = heap[r]!;
        if (right.time < child.time || (right.time === child.time && right.seq < child.seq)) {
          c = r;
          child = right;
        }
      }
      if (last.time < child.time || (last.time === child.time && last.seq < child.seq)) break;
      heap[i] = child;
      i = c;
    }
    heap[i] = last;
    return top;
  }

  /** Runs one event; false when none is left. */
  step(): boolean {
    const event = this.pop();
    if (!event) return false;
    this.currentMs = event.time;
    if (event.run) {
      this.eventsRun++;
      event.run();
    }
    return true;
  }

  /** Runs every event up to and including `untilMs`, then sets the clock to `untilMs`. */
  runUntil(untilMs: number): void {
    while (this.heap.length > 0 && this.heap[0]!.time <= untilMs) this.step();
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
   * Drives the virtual clock until `work` settles, letting promise continuations run between
   * instants (so async/await code runs unchanged on virtual time). Rejects with StalledError if
   * the queue empties while `work` is still pending, and gives up after `maxVirtualMs`.
   */
  async drive<T>(work: Promise<T>, maxVirtualMs = 3_600_000): Promise<T> {
    let settled = false;
    const watched = work.finally(() => {
      settled = true;
    });
    watched.catch(() => {});
    const deadline = this.currentMs + maxVirtualMs;
    while (!settled) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (settled) break;
      const next = this.heap[0];
      if (!next) throw new StalledError(this.currentMs);
      if (next.time > deadline) throw new StalledError(this.currentMs);
      // Run every event of the next instant, then let continuations react.
      const instant = next.time;
      while (this.heap.length > 0 && this.heap[0]!.time === instant) this.step();
    }
    return watched;
  }
}
