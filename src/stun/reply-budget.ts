// How many bytes a STUN/TURN server may send, unasked for by anyone who proved their address, to
// an address. A UDP request's source can be spoofed, so each answer sent before the sender has
// authenticated (a Binding response, a 401 or 438 challenge, an error to a request nobody signed)
// is a reflection towards whoever the source names, and most are larger than their request (a
// 20-byte Binding request gets 68 bytes; a 20-byte Refresh gets an 84-byte 401). The budget
// charges each such answer what it adds beyond its request, per source address and for the
// whole server, so that towards any address: bytes sent ≤ bytes received from it + a burst +
// a slow rate. A flood, then, gets back less than it sent; a client that asks a few times
// (NAT discovery, an Allocate's challenge) never notices. A source is an IPv4 address or an
// IPv6 /64 (stun.ts `sourceKey`). Told the time.
import type { Clock } from '../env/types.js';
import { KeyedTokenBuckets, TokenBucket } from '../util/token-bucket.js';
import { sourceKey } from './stun.js';

export interface ReplyBudgetLimits {
  /** Bytes answers may add beyond their requests to one source address at once (≈ 85 Binding answers: a NAT's worth of clients starting). */
  readonly perSourceBurstBytes: number;
  /** …and per second after that (between two and three Binding answers or 401 challenges). */
  readonly perSourceBytesPerSecond: number;
  /** For the whole server, per second (a burst of as many): about 10 000 Binding answers. */
  readonly serverBytesPerSecond: number;
  /** Source addresses tracked; the oldest is forgotten beyond. */
  readonly trackedSources: number;
}

export const DEFAULT_REPLY_BUDGET: ReplyBudgetLimits = {
  perSourceBurstBytes: 4_096,
  perSourceBytesPerSecond: 128,
  serverBytesPerSecond: 500_000,
  trackedSources: 10_000,
};

export class ReplyBudget {
  private readonly sources: KeyedTokenBuckets;
  private readonly server: TokenBucket;

  constructor(
    private readonly clock: Clock,
    limits: Partial<ReplyBudgetLimits> = {},
  ) {
    const l = { ...DEFAULT_REPLY_BUDGET, ...limits };
    this.sources = new KeyedTokenBuckets(l.perSourceBurstBytes, l.perSourceBytesPerSecond, l.trackedSources);
    this.server = new TokenBucket(l.serverBytesPerSecond, l.serverBytesPerSecond, clock.now());
  }

  /** Whether an answer of `answerBytes` to a request of `requestBytes` from `host` may go; its excess is spent when it may. */
  allow(host: string, requestBytes: number, answerBytes: number): boolean {
    const excess = answerBytes - requestBytes;
    if (excess <= 0) return true;
    const now = this.clock.now();
    return this.sources.takeMany(sourceKey(host), excess, now) && this.server.takeMany(excess, now);
  }
}
