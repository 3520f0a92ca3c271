// Access tokens for the login server's API: issued at login, signed with the network CA's key,
// checked by any replica without shared session state. Short-lived; every request also checks
// that the device is not revoked, so revocation takes effect at once.
import { err, ok, type CodedError, type Result } from '../result.js';
import { concatBytes, fromBase64Url, toBase64Url } from '../crypto/bytes.js';
import { signBytes, verifySignature, type SigningKeyPair } from '../crypto/ed25519.js';

const CONTEXT = new TextEncoder().encode('parley-access-token-v1\0');
export const DEFAULT_TOKEN_LIFETIME_MS = 3_600_000;
const MAX_TOKEN_CHARS = 512;

export interface TokenClaims {
  readonly userId: number;
  readonly deviceId: number;
  readonly expiresAtMs: number;
}

export type TokenError = CodedError<'invalid_token' | 'expired_token'>;

export function issueToken(key: SigningKeyPair, claims: TokenClaims): string {
  const payload = new TextEncoder().encode(JSON.stringify({ u: claims.userId, d: claims.deviceId, e: claims.expiresAtMs }));
  return `${toBase64Url(payload)}.${toBase64Url(signBytes(key, concatBytes(CONTEXT, payload)))}`;
}

export function verifyToken(publicKey: Uint8Array, token: string, nowMs: number): Result<TokenClaims, TokenError> {
  const invalid = err({ code: 'invalid_token' as const, message: 'the access token is not valid' });
  if (token.length > MAX_TOKEN_CHARS) return invalid;
  const [payloadText, signatureText, ...rest] = token.split('.');
  if (rest.length > 0 || !payloadText || !signatureText) return invalid;
  const payload = fromBase64Url(payloadText);
  const signature = fromBase64Url(signatureText);
  if (!payload || !signature || !verifySignature(publicKey, concatBytes(CONTEXT, payload), signature)) return invalid;
  let claims: { u?: unknown; d?: unknown; e?: unknown };
  try {
    claims = JSON.parse(new TextDecoder().decode(payload)) as typeof claims;
  } catch {
    return invalid; // signed by us but not JSON cannot happen; treated as any bad token
  }
  const { u, d, e } = claims;
  if (!Number.isSafeInteger(u) || !Number.isSafeInteger(d) || !Number.isSafeInteger(e)) return invalid;
  if ((e as number) <= nowMs) return err({ code: 'expired_token', message: 'the access token expired: log in again' });
  return ok({ userId: u as number, deviceId: d as number, expiresAtMs: e as number });
}
