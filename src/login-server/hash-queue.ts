// A bounded, fair queue for expensive work a peer can ask for (password hashes: ~0.3 s of a core
// and 128 MiB each). At most `maxRunning` jobs run at once; at most `maxWaiting` wait in all, and
// at most `maxPerSource` (running or waiting) belong to one source. Waiting jobs are served
// round-robin across sources (the source served longest ago first), so one source's burst waits
// behind itself, not in front of everyone. `maxWaiting` bounds the lanes, so a pick is cheap.
// A job that does not fit is refused at once (no allocation, no waiting): the caller answers
// "busy, retry after" and the server never builds a backlog it cannot clear.
import { err, ok, type Result } from '../result.js';

export interface FairQueueLimits {
  readonly maxRunning: number;
  readonly maxWaiting: number;
  /** Running plus waiting jobs of one source; jobs without a source share only the global bounds. */
  readonly maxPerSource: number;
  /**
   * Waiting places only trusted sources may take (addresses that logged in lately): a botnet of
   * fresh addresses fills the rest, and the people who use the server still get in, first.
   */
  readonly reservedForTrusted?: number;
}

/** `queue_full`: the global bound; `source_busy`: this source's fair share. */
export type QueueRefusal = 'queue_full' | 'source_busy';

export interface FairQueueObserver {
  refused(reason: QueueRefusal): void;
  changed(running: number, waiting: number): void;
}

const NO_SOURCE = '';

export class FairQueue {
  private running = 0;
  private waiting = 0;
  /** Running plus waiting jobs by source. */
  private readonly held = new Map<string, number>();
  /** Waiting jobs by source. */
  private readonly lanes = new Map<string, (() => void)[]>();
  /** Sources whose waiting jobs are trusted ones (served before the others). */
  private readonly trustedLanes = new Set<string>();
  /** When each source with jobs last had one start (a tick, not a time): the next job is the longest-unserved source's. */
  private readonly lastStart = new Map<string, number>();
  private ticks = 0;

  constructor(
    readonly limits: FairQueueLimits,
    private readonly observer: FairQueueObserver = { refused: () => {}, changed: () => {} },
  ) {
    if (!(limits.maxRunning >= 1 && limits.maxWaiting >= 0 && limits.maxPerSource >= 1)) throw new Error('FairQueue limits must be positive');
  }

  /** Why a job from `source` would be refused now, or null if it would be taken. Cheap: no state changes. */
  refusal(source: string | null, trusted = false): QueueRefusal | null {
    if (source !== null && (this.held.get(source) ?? 0) >= this.limits.maxPerSource) return 'source_busy';
    const places = trusted ? this.limits.maxWaiting : Math.max(0, this.limits.maxWaiting - (this.limits.reservedForTrusted ?? 0));
    if (this.running >= this.limits.maxRunning && this.waiting >= places) return 'queue_full';
    return null;
  }

  /** Runs `work` when a slot is free, or refuses at once. A trusted job may wait in the reserved places and is served first. */
  async run<T>(source: string | null, work: () => Promise<T>, trusted = false): Promise<Result<T, QueueRefusal>> {
    const refusal = this.refusal(source, trusted);
    if (refusal) {
      this.observer.refused(refusal);
      return err(refusal);
    }
    const key = source ?? NO_SOURCE;
    this.held.set(key, (this.held.get(key) ?? 0) + 1);
    if (this.running < this.limits.maxRunning) {
      this.running++;
    } else {
      // The slot is handed over by the job that finishes (see `release`): `running` never exceeds its bound.
      this.waiting++;
      this.report();
      await new Promise<void>((resolve) => {
        const lane = this.lanes.get(key);
        if (lane) lane.push(resolve);
        else this.lanes.set(key, [resolve]);
        if (trusted) this.trustedLanes.add(key);
      });
    }
    this.lastStart.set(key, ++this.ticks);
    this.report();
    try {
      return ok(await work());
    } finally {
      this.release(key);
    }
  }

  private release(key: string): void {
    const left = (this.held.get(key) ?? 1) - 1;
    if (left > 0) this.held.set(key, left);
    else {
      this.held.delete(key);
      this.lastStart.delete(key);
    }
    // Trusted sources first; among them (or, without any, among the others) round robin: the
    // waiting source whose last job started longest ago (or never) goes next.
    let next: string | null = null;
    for (const lane of this.lanes.keys()) {
      const better = next === null || (this.trustedLanes.has(lane) && !this.trustedLanes.has(next)) || (this.trustedLanes.has(lane) === this.trustedLanes.has(next) && (this.lastStart.get(lane) ?? 0) < (this.lastStart.get(next) ?? 0));
      if (better) next = lane;
    }
    if (next === null) {
      this.running--;
    } else {
      const waiters = this.lanes.get(next)!;
      const wake = waiters.shift()!;
      if (waiters.length === 0) {
        this.lanes.delete(next);
        this.trustedLanes.delete(next);
      }
      this.waiting--;
      wake();
    }
    this.report();
  }

  private report(): void {
    this.observer.changed(this.running, this.waiting);
  }
}
