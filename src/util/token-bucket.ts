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

  /**
   * Takes `count` tokens even past zero, for what cannot be refused once read (bytes of a TCP
   * stream): the milliseconds until the bucket is out of debt again, 0 when it is not in debt.
   * The caller stops reading for that long, so the debt stays within one read.
   */
  takeOwing(count: number, nowMs: number): number {
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) / 1000) * this.perSecond);
    this.lastMs = nowMs;
    this.tokens -= count;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.perSecond) * 1000);
  }
}

/**
 * A token bucket per key (a source address, a user), for at most `maxKeys` keys: a new key
 * beyond that evicts the oldest, so a flood of fresh keys costs a bounded amount.
 */
export class KeyedTokenBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly maxKeys: number,
  ) {}

  take(key: string, nowMs: number): boolean {
    return this.takeMany(key, 1, nowMs);
  }

  /** Takes `count` tokens from the key's bucket if it has as many. */
  takeMany(key: string, count: number, nowMs: number): boolean {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
      bucket = new TokenBucket(this.burst, this.perSecond, nowMs);
      this.buckets.set(key, bucket);
    }
    return bucket.takeMany(count, nowMs);
  }
}
