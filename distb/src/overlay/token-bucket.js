// A token bucket: `burst` requests at once, then `perSecond` on average. Told the time.
export class TokenBucket {
    burst;
    perSecond;
    tokens;
    lastMs;
    constructor(burst, perSecond, nowMs) {
        this.burst = burst;
        this.perSecond = perSecond;
        this.tokens = burst;
        this.lastMs = nowMs;
    }
    /** Takes one token if there is one. */
    take(nowMs) {
        return this.takeMany(1, nowMs);
    }
    /** Takes `count` tokens if there are as many (a bucket counted in bytes spends one per byte). */
    takeMany(count, nowMs) {
        this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) / 1000) * this.perSecond);
        this.lastMs = nowMs;
        if (this.tokens < count)
            return false;
        this.tokens -= count;
        return true;
    }
}
/**
 * A token bucket per key (a source address, a user), for at most `maxKeys` keys: a new key
 * beyond that evicts the oldest, so a flood of fresh keys costs a bounded amount.
 */
export class KeyedTokenBuckets {
    burst;
    perSecond;
    maxKeys;
    buckets = new Map();
    constructor(burst, perSecond, maxKeys) {
        this.burst = burst;
        this.perSecond = perSecond;
        this.maxKeys = maxKeys;
    }
    take(key, nowMs) {
        let bucket = this.buckets.get(key);
        if (!bucket) {
            if (this.buckets.size >= this.maxKeys)
                this.buckets.delete(this.buckets.keys().next().value);
            bucket = new TokenBucket(this.burst, this.perSecond, nowMs);
            this.buckets.set(key, bucket);
        }
        return bucket.take(nowMs);
    }
}
//# sourceMappingURL=token-bucket.js.map