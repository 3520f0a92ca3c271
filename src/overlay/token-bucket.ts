// A token bucket: `burst` requests at once, then `perSecond` on average. Told the time.
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    return this.takeMany(1, nowMs);
  }

  /** Takes `count` tokens if there are as many (a bucket counted in bytes spends one per byte). */
  takeMany(count: number, nowMs: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) / 1000) * this.perSecond);
    this.lastMs = nowMs;
    if (this.tokens < count) return false;
    this.tokens -= count;
    return true;
  }
}
