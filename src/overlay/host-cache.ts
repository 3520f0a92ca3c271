// The client's host cache (the seed's "HC"): up to 200 supernodes it knows, with when it last
// reached each, how often it failed since, and the round-trip time. Startup tries the best
// few first; entries that failed recently wait out a backoff; gossip from supernodes adds
// entries without overwriting what the client measured itself. Persisted as JSON.
//
// Every time here is wall-clock time (milliseconds since the Unix epoch): the cache is saved
// and read again by the next process, whose monotonic clock starts afresh, so a monotonic
// time from one process means nothing (or "far in the future") to the next. What is loaded is
// checked: a time in the future beyond a small skew, or before Parley existed, is dropped, so
// no saved number can keep an entry waiting. And a cache whose every entry is waiting still
// offers them (soonest ready first): a cache must heal, not leave startup with nothing to try.
import { err, ok, type CodedError, type Result } from '../result.js';
import { equalBytes, fromBase64Url, toBase64Url } from '../crypto/bytes.js';

export const HOST_CACHE_MAX_ENTRIES = 200;
const MAX_BACKOFF_MS = 3_600_000;
const RTT_SMOOTHING = 0.25;
/** How far ahead of this machine's clock a saved time may be (clocks of one machine drift, NTP steps). */
export const HOST_CACHE_CLOCK_SKEW_MS = 5 * 60_000;
/** Saved times before this (2020-01-01) are not wall-clock times: older versions saved monotonic ones. */
const EARLIEST_PLAUSIBLE_WALL_MS = Date.UTC(2020, 0, 1);

export type HostSource = 'bootstrap' | 'gossip' | 'used';

export interface HostEntry {
  readonly host: string;
  readonly port: number;
  readonly dhKey: Uint8Array;
  /** A TCP port (443, say) that also takes links, for when the first port cannot be reached. */
  webPort?: number;
  /** Wall-clock time (ms since the Unix epoch) of the last attachment here. */
  lastSuccessMs: number | null;
  /** Wall-clock time (ms since the Unix epoch) of the last failure here. */
  lastFailureMs: number | null;
  failures: number;
  rttMs: number | null;
  source: HostSource;
}

function key(entry: { host: string; port: number }): string {
  return `${entry.host}:${entry.port}`;
}

/** How long after its last failure an entry waits before it is tried again. */
export function backoffMs(failures: number): number {
  return failures === 0 ? 0 : Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(failures - 1, 30));
}

export class HostCache {
  private readonly entries = new Map<string, HostEntry>();

  constructor(readonly maxEntries: number = HOST_CACHE_MAX_ENTRIES) {}

  get size(): number {
    return this.entries.size;
  }

  get(host: string, port: number): HostEntry | undefined {
    return this.entries.get(key({ host, port }));
  }

  all(): HostEntry[] {
    return [...this.entries.values()];
  }

  /** Adds entries not yet known (from gossip or the bootstrap list); known ones keep their measurements. */
  merge(hosts: readonly { host: string; port: number; dhKey: Uint8Array; webPort?: number }[], source: HostSource): number {
    let added = 0;
    for (const h of hosts) {
      const webPort = h.webPort !== undefined && Number.isInteger(h.webPort) && h.webPort >= 1 && h.webPort <= 65535 ? h.webPort : undefined;
      const known = this.entries.get(key(h));
      if (known) {
        // What the supernode says now about its web port beats what was said before.
        if (webPort !== undefined) known.webPort = webPort;
        continue;
      }
      this.entries.set(key(h), { host: h.host, port: h.port, dhKey: h.dhKey, ...(webPort ? { webPort } : {}), lastSuccessMs: null, lastFailureMs: null, failures: 0, rttMs: null, source });
      added++;
    }
    this.evict();
    return added;
  }

  /** `nowWallMs` is wall-clock time (env.clock.wallTimeMs()), as is every time the cache keeps. */
  recordSuccess(host: string, port: number, rttMs: number, nowWallMs: number): void {
    const entry = this.get(host, port);
    if (!entry) return;
    entry.lastSuccessMs = nowWallMs;
    entry.failures = 0;
    entry.rttMs = entry.rttMs === null ? rttMs : entry.rttMs + RTT_SMOOTHING * (rttMs - entry.rttMs);
    entry.source = 'used';
  }

  recordFailure(host: string, port: number, nowWallMs: number): void {
    const entry = this.get(host, port);
    if (!entry) return;
    entry.failures++;
    entry.lastFailureMs = nowWallMs;
  }

  /** When `entry` may be tried again (wall-clock ms); 0 when it is not waiting at all. */
  private readyAtMs(entry: HostEntry): number {
    return entry.lastFailureMs === null || entry.failures === 0 ? 0 : entry.lastFailureMs + backoffMs(entry.failures);
  }

  private score(entry: HostEntry): number {
    // Reached before beats never reached; fewer failures first; then the faster.
    return (entry.lastSuccessMs === null ? 1e12 : 0) + entry.failures * 1e9 + (entry.rttMs ?? 5_000);
  }

  /** The `count` best entries that are not waiting out a backoff at `nowWallMs`. */
  best(count: number, nowWallMs: number): HostEntry[] {
    return this.all()
      .filter((e) => this.readyAtMs(e) <= nowWallMs)
      .sort((a, b) => this.score(a) - this.score(b))
      .slice(0, count);
  }

  /**
   * The entries still waiting out a backoff at `nowWallMs`, soonest ready first (for equal
   * failure counts: the least recently failed). Startup tries them after every ready one, so a
   * cache whose entries all failed lately (an outage, a laptop off the network) still heals.
   */
  waiting(nowWallMs: number): HostEntry[] {
    return this.all()
      .filter((e) => this.readyAtMs(e) > nowWallMs)
      .sort((a, b) => this.readyAtMs(a) - this.readyAtMs(b));
  }

  /** Forgets every entry for these Noise keys (supernodes the operator revoked); returns how many went. */
  forgetKeys(dhKeys: readonly Uint8Array[]): number {
    let gone = 0;
    for (const entry of this.all()) {
      if (dhKeys.some((k) => equalBytes(k, entry.dhKey)) && this.entries.delete(key(entry))) gone++;
    }
    return gone;
  }

  /** Drops the worst entries beyond the bound; bootstrap entries go last. */
  private evict(): void {
    if (this.entries.size <= this.maxEntries) return;
    const ranked = this.all().sort((a, b) => (a.source === 'bootstrap' ? -1 : 0) - (b.source === 'bootstrap' ? -1 : 0) || this.score(a) - this.score(b));
    for (const entry of ranked.slice(this.maxEntries)) this.entries.delete(key(entry));
  }

  toJSON(): string {
    return `${JSON.stringify(
      {
        version: 1,
        entries: this.all().map((e) => ({ ...e, dhKey: toBase64Url(e.dhKey) })),
      },
      null,
      1,
    )}\n`;
  }
}

export type HostCacheError = CodedError<'malformed' | 'unsupported_version'>;

/**
 * Parses a persisted cache strictly; invalid entries are dropped, the bound applies. A saved
 * time later than `nowWallMs` plus HOST_CACHE_CLOCK_SKEW_MS, or earlier than any wall-clock
 * time Parley could have written, is dropped (null): it can neither keep an entry waiting nor
 * rank it as recently reached.
 */
export function parseHostCache(text: string, nowWallMs: number, maxEntries = HOST_CACHE_MAX_ENTRIES): Result<HostCache, HostCacheError> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return err({ code: 'malformed', message: 'the host cache is not JSON' });
  }
  if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as { entries?: unknown }).entries)) return err({ code: 'malformed', message: 'the host cache has no entries list' });
  if ((raw as { version?: unknown }).version !== 1) return err({ code: 'unsupported_version', message: 'unknown host cache version' });
  const cache = new HostCache(maxEntries);
  const number = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);
  const wallTime = (v: unknown) => {
    const ms = number(v);
    return ms !== null && ms >= EARLIEST_PLAUSIBLE_WALL_MS && ms <= nowWallMs + HOST_CACHE_CLOCK_SKEW_MS ? ms : null;
  };
  for (const item of (raw as { entries: unknown[] }).entries.slice(0, maxEntries * 2)) {
    const e = item as Record<string, unknown>;
    const dhKey = typeof e.dhKey === 'string' ? fromBase64Url(e.dhKey) : null;
    if (typeof e.host !== 'string' || e.host.length > 253 || typeof e.port !== 'number' || !Number.isInteger(e.port) || e.port < 1 || e.port > 65535 || !dhKey || dhKey.byteLength !== 32) continue;
    const source: HostSource = e.source === 'bootstrap' || e.source === 'gossip' ? e.source : 'used';
    cache.merge([{ host: e.host, port: e.port, dhKey, ...(typeof e.webPort === 'number' ? { webPort: e.webPort } : {}) }], source);
    const entry = cache.get(e.host, e.port)!;
    entry.lastSuccessMs = wallTime(e.lastSuccessMs);
    entry.lastFailureMs = wallTime(e.lastFailureMs);
    entry.failures = Math.min(number(e.failures) ?? 0, 1000);
    entry.rttMs = number(e.rttMs);
  }
  return ok(cache);
}

/**
 * Tries `attempt` on up to `parallel` candidates at once and resolves with the first success;
 * later successes are handed to `discard` (to close them). Rejects with every error when all fail.
 */
export function raceFirst<C, T>(candidates: readonly C[], attempt: (candidate: C) => Promise<T>, discard: (value: T) => void, parallel = 3): Promise<{ value: T; candidate: C }> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let running = 0;
    let won = false;
    const errors: unknown[] = [];
    const launch = (): void => {
      while (!won && running < parallel && next < candidates.length) {
        const candidate = candidates[next++]!;
        running++;
        attempt(candidate).then(
          (value) => {
            running--;
            if (won) return discard(value);
            won = true;
            resolve({ value, candidate });
          },
          (error: unknown) => {
            running--;
            errors.push(error);
            if (!won && running === 0 && next >= candidates.length) reject(new AggregateError(errors, 'no candidate could be reached'));
            else launch();
          },
        );
      }
      if (candidates.length === 0) reject(new AggregateError([], 'no candidates'));
    };
    launch();
  });
}
