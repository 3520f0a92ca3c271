// Round-trip time of requests to other supernodes, smoothed as TCP does (RFC 6298: SRTT and
// RTTVAR, gains 1/8 and 1/4), so that how long to wait for an answer follows the network instead
// of a fixed guess: a dead supernode costs a few round trips, not seconds. Pure: told samples.

/** Until a first answer is timed, or at most: the old fixed timeout. */
export const MAX_TIMEOUT_MS = 3_000;
/**
 * A request is given up (and its contact blamed) after no less than this: a busy supernode's
 * event loop, not only the wire, sits between a request and its answer.
 */
export const MIN_GIVE_UP_MS = 500;
/** Waiting this long without an answer, a lookup asks someone else as well (never less). */
export const MIN_SLOW_MS = 30;

export class RttEstimator {
  private srttMs = 0;
  private rttvarMs = 0;
  /** Answers timed. */
  samples = 0;

  sample(rttMs: number): void {
    if (!(rttMs >= 0) || !Number.isFinite(rttMs)) return;
    if (this.samples++ === 0) {
      this.srttMs = rttMs;
      this.rttvarMs = rttMs / 2;
      return;
    }
    this.rttvarMs = 0.75 * this.rttvarMs + 0.25 * Math.abs(this.srttMs - rttMs);
    this.srttMs = 0.875 * this.srttMs + 0.125 * rttMs;
  }

  /** RFC 6298's retransmission timeout (SRTT + 4·RTTVAR), or null before any sample. */
  private rtoMs(): number | null {
    return this.samples === 0 ? null : this.srttMs + Math.max(1, 4 * this.rttvarMs);
  }

  get smoothedMs(): number | null {
    return this.samples === 0 ? null : this.srttMs;
  }

  /** How long an answer may take before the asker stops waiting and blames the peer: 2 RTOs, within [MIN_GIVE_UP_MS, MAX_TIMEOUT_MS]. */
  giveUpMs(roundTrips = 1): number {
    const rto = this.rtoMs();
    return rto === null ? MAX_TIMEOUT_MS : Math.min(MAX_TIMEOUT_MS, Math.max(MIN_GIVE_UP_MS, 2 * rto * roundTrips));
  }

  /** How long an answer may take before a lookup asks another contact too (one RTO per round trip). */
  slowAfterMs(roundTrips = 1): number {
    const rto = this.rtoMs();
    return rto === null ? MAX_TIMEOUT_MS : Math.min(MAX_TIMEOUT_MS, Math.max(MIN_SLOW_MS, rto * roundTrips));
  }
}
