// TURN's authentication step (RFC 8656 section 5, RFC 8489 section 9.2: long-term credentials),
// apart from the requests it guards: a request must carry USERNAME, REALM, a NONCE this server
// issued to its address and that has not expired, and MESSAGE-INTEGRITY under the key of the
// user's password (turn-credentials.ts: passwords a supernode derives for its devices). Nonces
// are stateless (an expiry and a MAC), so a challenge costs no memory. Pure: told the time.
import { Attr, checkIntegrity, attribute, encodeErrorCode, type DecodedStun, type StunAttribute } from '../stun/stun.js';
import { issueNonce, longTermKey, nonceValid } from './turn-credentials.js';

/** How long a nonce stays good; an older one gets 438 and a fresh nonce. */
export const NONCE_LIFETIME_MS = 600_000;

export interface TurnAuthority {
  readonly realm: string;
  /** Signs nonces. */
  readonly secret: Uint8Array;
  /** The password of a username (long-term credentials), or null for none. */
  readonly passwordFor: (username: string, nowMs: number) => string | null;
}

export type AuthOutcome =
  | { readonly ok: true; readonly username: string; readonly key: Uint8Array }
  | { readonly ok: false; readonly code: 401 | 438; readonly reason: string; readonly why: 'unauthenticated' | 'stale_nonce' | 'wrong_credentials' };

const text = new TextDecoder();

/** Checks a request's credentials, cheapest checks first; `wallTimeMs` judges nonces and credential expiry. */
export function authenticate(authority: TurnAuthority, request: DecodedStun, clientHost: string, wallTimeMs: number): AuthOutcome {
  const username = attribute(request, Attr.USERNAME);
  const nonce = attribute(request, Attr.NONCE);
  const realm = attribute(request, Attr.REALM);
  if (request.integrityOffset < 0 || !username || !nonce || !realm) return { ok: false, code: 401, reason: 'Unauthenticated', why: 'unauthenticated' };
  if (!nonceValid(authority.secret, text.decode(nonce), clientHost, wallTimeMs)) return { ok: false, code: 438, reason: 'Stale Nonce', why: 'stale_nonce' };
  const name = text.decode(username);
  const password = text.decode(realm) === authority.realm ? authority.passwordFor(name, wallTimeMs) : null;
  const key = password === null ? null : longTermKey(name, authority.realm, password);
  if (!key || !checkIntegrity(request, key)) return { ok: false, code: 401, reason: 'Unauthenticated', why: 'wrong_credentials' };
  return { ok: true, username: name, key };
}

/** The attributes of a 401 or 438 answer: the error, the realm and a fresh nonce for the client's address. */
export function challengeAttributes(authority: TurnAuthority, code: 401 | 438, reason: string, clientHost: string, wallTimeMs: number): StunAttribute[] {
  const encoder = new TextEncoder();
  return [
    { type: Attr.ERROR_CODE, value: encodeErrorCode(code, reason) },
    { type: Attr.REALM, value: encoder.encode(authority.realm) },
    { type: Attr.NONCE, value: encoder.encode(issueNonce(authority.secret, clientHost, wallTimeMs, NONCE_LIFETIME_MS)) },
  ];
}
