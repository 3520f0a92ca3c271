// The UAC side of digest authentication (RFC 3261 section 22.2, RFC 8760): answering a 401
// (WWW-Authenticate, answered in Authorization) or a 407 (Proxy-Authenticate, answered in
// Proxy-Authorization). Of several challenges the strongest algorithm we support wins (SHA-256
// over MD5, RFC 8760 section 2.4). The client nonce comes from the caller (injected randomness).
import { err, ok, type Result } from '../result.js';
import { formatCredentials, digestResponse, parseChallenge, type DigestChallenge, type DigestError } from './digest.js';
import { headerValues, type SipResponse } from './message.js';

export interface DigestAnswer {
  /** "authorization" for a 401, "proxy-authorization" for a 407. */
  readonly headerName: 'authorization' | 'proxy-authorization';
  readonly headerValue: string;
  readonly challenge: DigestChallenge;
}

export interface AnswerInput {
  readonly username: string;
  readonly password: string;
  readonly method: string;
  readonly uri: string;
  /** A fresh unpredictable token (hex or base64 without quotes). */
  readonly cnonce: string;
  /** How many requests this nonce has answered before, counting this one (1 for the first). */
  readonly nonceCount: number;
}

const STRENGTH = { 'SHA-256': 2, MD5: 1 } as const;

/** The Authorization or Proxy-Authorization header that answers a 401 or 407. */
export function answerChallenge(response: SipResponse, input: AnswerInput): Result<DigestAnswer, DigestError> {
  if (response.status !== 401 && response.status !== 407) return err({ code: 'malformed', message: `status ${response.status} is not a challenge` });
  const values = headerValues(response, response.status === 401 ? 'www-authenticate' : 'proxy-authenticate');
  let best: DigestChallenge | null = null;
  let lastError: DigestError = { code: 'malformed', message: 'the response carries no challenge' };
  for (const value of values) {
    const challenge = parseChallenge(value);
    if (!challenge.ok) {
      lastError = challenge.error;
      continue;
    }
    if (!best || STRENGTH[challenge.value.algorithm] > STRENGTH[best.algorithm]) best = challenge.value;
  }
  if (!best) return err(lastError);
  if (!Number.isInteger(input.nonceCount) || input.nonceCount < 1 || input.nonceCount > 0xffffffff) return err({ code: 'malformed', message: 'nonce count outside 1..2**32-1' });
  const qop = best.qopAuth ? { cnonce: input.cnonce, nc: input.nonceCount.toString(16).padStart(8, '0') } : null;
  const responseDigest = digestResponse({ algorithm: best.algorithm, username: input.username, realm: best.realm, password: input.password, method: input.method, uri: input.uri, nonce: best.nonce, qop });
  const headerValue = formatCredentials({ username: input.username, realm: best.realm, nonce: best.nonce, uri: input.uri, response: responseDigest, algorithm: best.algorithm, qop, opaque: best.opaque });
  return ok({ headerName: response.status === 401 ? 'authorization' : 'proxy-authorization', headerValue, challenge: best });
}
