// The challenge every 401 carries (RFC 9110 §11.6.1 requires one; RFC 6750 §3 gives its form for
// bearer tokens). The API's credentials are bearer access tokens from a login: a request without
// one is told the scheme and realm; a request whose token failed is told `invalid_token`, so a
// client knows to log in again rather than show the user a password prompt. 401s of the login
// routes themselves (a wrong password, a bad device signature) carry the plain challenge.

export const REALM = 'parley';

/** Codes of 401s meaning "the access token you sent is no good" (tokens.ts, context.ts). */
const TOKEN_FAILURES = new Set(['invalid_token', 'expired_token', 'device_revoked', 'account_deleted']);

/** The WWW-Authenticate value for a 401 with this error code and message. */
export function bearerChallenge(code: string, message: string): string {
  if (!TOKEN_FAILURES.has(code)) return `Bearer realm="${REALM}"`;
  // A quoted-string holds no '"' or '\' unescaped; our messages are plain, but make sure.
  const description = message.replace(/[^\x20-\x7e]|["\\]/g, '');
  return `Bearer realm="${REALM}", error="invalid_token", error_description="${description}"`;
}
