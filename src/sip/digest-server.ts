// The UAS (registrar, proxy) side of digest authentication: challenges with fresh nonces and
// checks credentials. Threat model: anyone can send requests, so a challenge costs no memory
// (a nonce is its issue time, randomness and a MAC under our secret, checked without a table).
// Memory is spent only on nonces that a correct password has used: their last nonce count, to
// refuse a replayed response (RFC 7616 section 3.3), in a table of at most `maxTrackedNonces`.
// When the table is full the oldest entry goes, and every nonce issued up to then is treated
// as stale (the client retries with a fresh one), so eviction never opens a replay.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Random } from '../env/types.js';
import { digestResponse, formatChallenge, parseCredentials, type DigestAlgorithm } from './digest.js';

export interface DigestAuthorityOptions {
  readonly realm: string;
  /** Keys the nonce MACs (32 random bytes, kept for the process's life). */
  readonly secret: Uint8Array;
  /** The password of a user of this realm, or null for no such user. */
  readonly passwordFor: (username: string) => string | null;
  readonly nonceLifetimeMs?: number;
  readonly maxTrackedNonces?: number;
  /** Algorithms to offer, strongest first (RFC 8760: SHA-256 before MD5). */
  readonly algorithms?: readonly DigestAlgorithm[];
}

export const DEFAULT_NONCE_LIFETIME_MS = 300_000;
export const DEFAULT_MAX_TRACKED_NONCES = 10_000;

export type DigestRefusal = 'no_credentials' | 'malformed' | 'wrong_realm' | 'stale_nonce' | 'uri_mismatch' | 'wrong_credentials' | 'replayed';
export type DigestVerdict = { readonly ok: true; readonly username: string } | { readonly ok: false; readonly why: DigestRefusal };

export class DigestAuthority {
  readonly realm: string;
  private readonly lifetimeMs: number;
  private readonly maxTracked: number;
  private readonly algorithms: readonly DigestAlgorithm[];
  /** nonce → the last nonce count accepted with it, oldest first (Map keeps insertion order). */
  private readonly used = new Map<string, { issuedMs: number; lastCount: number }>();
  /** Nonces issued at or before this time are stale unless still in `used` (their entry was evicted). */
  private forgottenUpToMs = -Infinity;
  /** Refusals by reason, for metrics. */
  readonly refused = new Map<DigestRefusal, number>();

  constructor(private readonly options: DigestAuthorityOptions) {
    this.realm = options.realm;
    this.lifetimeMs = options.nonceLifetimeMs ?? DEFAULT_NONCE_LIFETIME_MS;
    this.maxTracked = options.maxTrackedNonces ?? DEFAULT_MAX_TRACKED_NONCES;
    this.algorithms = options.algorithms ?? ['SHA-256', 'MD5'];
  }

  /** WWW-Authenticate (or Proxy-Authenticate) values for a 401/407, one per algorithm; `stale` when the client's nonce expired. */
  challenge(nowMs: number, random: Random, stale = false): string[] {
    const nonce = this.issueNonce(nowMs, random);
    return this.algorithms.map((algorithm) => formatChallenge({ realm: this.realm, nonce, algorithm, qopAuth: true, opaque: null, stale }));
  }

  /** Checks an Authorization value for a request with this method and Request-URI, cheapest checks first. */
  verify(method: string, requestUri: string, authorization: string | null, nowMs: number): DigestVerdict {
    if (authorization === null) return this.refuse('no_credentials');
    const parsed = parseCredentials(authorization);
    if (!parsed.ok) return this.refuse('malformed');
    const c = parsed.value;
    const qop = c.qop;
    if (!qop) return this.refuse('malformed'); // without qop a response cannot be protected from replay
    if (c.realm !== this.realm) return this.refuse('wrong_realm');
    if (!this.algorithms.includes(c.algorithm)) return this.refuse('malformed');
    const issuedMs = this.nonceIssuedMs(c.nonce);
    const tracked = this.used.get(c.nonce);
    if (issuedMs === null || nowMs - issuedMs > this.lifetimeMs || issuedMs > nowMs || (!tracked && issuedMs <= this.forgottenUpToMs)) return this.refuse('stale_nonce');
    if (c.uri !== requestUri) return this.refuse('uri_mismatch');
    const password = this.options.passwordFor(c.username);
    const expected = password === null ? null : digestResponse({ algorithm: c.algorithm, username: c.username, realm: this.realm, password, method, uri: c.uri, nonce: c.nonce, qop });
    if (expected === null || expected.length !== c.response.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(c.response))) return this.refuse('wrong_credentials');
    const count = parseInt(qop.nc, 16);
    if (tracked && count <= tracked.lastCount) return this.refuse('replayed');
    this.remember(c.nonce, issuedMs, count);
    return { ok: true, username: c.username };
  }

  /** Nonces whose counts are held (bounded by maxTrackedNonces). */
  get trackedNonces(): number {
    return this.used.size;
  }

  private refuse(why: DigestRefusal): DigestVerdict {
    this.refused.set(why, (this.refused.get(why) ?? 0) + 1);
    return { ok: false, why };
  }

  private remember(nonce: string, issuedMs: number, count: number): void {
    this.used.delete(nonce);
    this.used.set(nonce, { issuedMs, lastCount: count });
    while (this.used.size > this.maxTracked) {
      const [oldest, entry] = this.used.entries().next().value as [string, { issuedMs: number }];
      this.used.delete(oldest);
      this.forgottenUpToMs = Math.max(this.forgottenUpToMs, entry.issuedMs);
    }
  }

  private mac(body: string): string {
    return createHmac('sha256', this.options.secret).update(body).digest('base64url').slice(0, 22);
  }

  private issueNonce(nowMs: number, random: Random): string {
    const body = `${Math.floor(nowMs).toString(36)}.${Buffer.from(random.bytes(9)).toString('base64url')}`;
    return `${body}.${this.mac(body)}`;
  }

  /** The issue time of a nonce this authority made, or null for any other string. */
  private nonceIssuedMs(nonce: string): number | null {
    const match = /^([0-9a-z]{1,11})\.([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{22})$/.exec(nonce);
    if (!match) return null;
    const expected = this.mac(`${match[1]}.${match[2]}`);
    if (!timingSafeEqual(Buffer.from(expected), Buffer.from(match[3]!))) return null;
    return parseInt(match[1]!, 36);
  }
}
