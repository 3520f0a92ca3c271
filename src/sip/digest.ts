// HTTP digest authentication as SIP uses it (RFC 3261 section 22.4, RFC 2617, RFC 7616 for
// the algorithms, RFC 8760 for SHA-256 in SIP): the auth-param syntax of the challenge
// (WWW-Authenticate, Proxy-Authenticate) and of the credentials (Authorization,
// Proxy-Authorization), and the response computation for qop=auth and for no qop (RFC 2069,
// which old UAs still answer with). auth-int and the -sess variants are refused as unsupported.
import { createHash } from 'node:crypto';
import { err, ok, type CodedError, type Result } from '../result.js';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

export type DigestErrorCode = 'malformed' | 'not_digest' | 'unsupported';
export type DigestError = CodedError<DigestErrorCode>;

const fail = (code: DigestErrorCode, message: string) => err<DigestError>({ code, message });

/** Bounds on one header's parameters (a challenge or credentials is a handful). */
const MAX_PARAMS = 16;
const MAX_PARAM_BYTES = 1024;

/** Parses 'Digest a="b", c=d' into its scheme and lower-case-named parameters. */
export function parseAuthParams(value: string): Result<{ scheme: string; params: Map<string, string> }, DigestError> {
  const match = /^\s*([A-Za-z][A-Za-z0-9-]*)\s+(.*)$/s.exec(value);
  if (!match) return fail('malformed', 'no auth scheme');
  const params = new Map<string, string>();
  let rest = match[2]!;
  const param = /^\s*([A-Za-z0-9\-_]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s,"]+)\s*(,|$)/s;
  while (rest.trim().length > 0) {
    const p = param.exec(rest);
    if (!p) return fail('malformed', 'bad auth parameter');
    const name = p[1]!.toLowerCase();
    const raw = p[3] !== undefined ? p[3].replace(/\\(.)/g, '$1') : p[2]!;
    if (raw.length > MAX_PARAM_BYTES) return fail('malformed', `auth parameter ${name} longer than ${MAX_PARAM_BYTES} bytes`);
    if (params.has(name)) return fail('malformed', `auth parameter ${name} twice`);
    if (params.size >= MAX_PARAMS) return fail('malformed', `more than ${MAX_PARAMS} auth parameters`);
    params.set(name, raw);
    rest = rest.slice(p[0].length);
  }
  return ok({ scheme: match[1]!, params });
}

function parseAlgorithm(text: string | undefined): Result<DigestAlgorithm, DigestError> {
  const upper = (text ?? 'MD5').toUpperCase();
  if (upper === 'MD5' || upper === 'SHA-256') return ok(upper);
  return fail('unsupported', `digest algorithm ${text} is not supported`);
}

export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly algorithm: DigestAlgorithm;
  /** Whether the challenge offers qop=auth (if not, the answer uses RFC 2069's form). */
  readonly qopAuth: boolean;
  readonly opaque: string | null;
  readonly stale: boolean;
}

export function parseChallenge(value: string): Result<DigestChallenge, DigestError> {
  const parsed = parseAuthParams(value);
  if (!parsed.ok) return parsed;
  if (parsed.value.scheme.toLowerCase() !== 'digest') return fail('not_digest', `auth scheme ${parsed.value.scheme}`);
  const p = parsed.value.params;
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  if (realm === undefined || nonce === undefined) return fail('malformed', 'a challenge needs realm and nonce');
  const algorithm = parseAlgorithm(p.get('algorithm'));
  if (!algorithm.ok) return algorithm;
  const qops = p.get('qop')?.split(',').map((q) => q.trim().toLowerCase());
  if (qops && !qops.includes('auth')) return fail('unsupported', 'the challenge offers only qop=auth-int');
  return ok({ realm, nonce, algorithm: algorithm.value, qopAuth: qops !== undefined, opaque: p.get('opaque') ?? null, stale: p.get('stale')?.toLowerCase() === 'true' });
}

export function formatChallenge(challenge: DigestChallenge): string {
  const parts = [`realm="${challenge.realm}"`, `nonce="${challenge.nonce}"`, `algorithm=${challenge.algorithm}`];
  if (challenge.qopAuth) parts.push('qop="auth"');
  if (challenge.opaque !== null) parts.push(`opaque="${challenge.opaque}"`);
  if (challenge.stale) parts.push('stale=TRUE');
  return `Digest ${parts.join(', ')}`;
}

export interface DigestCredentials {
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  readonly uri: string;
  /** Hex digest. */
  readonly response: string;
  readonly algorithm: DigestAlgorithm;
  /** Present together with qop=auth: the client nonce and the nonce count (8 hex digits). */
  readonly qop: { readonly cnonce: string; readonly nc: string } | null;
  readonly opaque: string | null;
}

export function parseCredentials(value: string): Result<DigestCredentials, DigestError> {
  const parsed = parseAuthParams(value);
  if (!parsed.ok) return parsed;
  if (parsed.value.scheme.toLowerCase() !== 'digest') return fail('not_digest', `auth scheme ${parsed.value.scheme}`);
  const p = parsed.value.params;
  const [username, realm, nonce, uri, response] = ['username', 'realm', 'nonce', 'uri', 'response'].map((name) => p.get(name));
  if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined) return fail('malformed', 'credentials need username, realm, nonce, uri and response');
  if (!/^[0-9a-fA-F]+$/.test(response)) return fail('malformed', 'the response is not hex');
  const algorithm = parseAlgorithm(p.get('algorithm'));
  if (!algorithm.ok) return algorithm;
  const qop = p.get('qop');
  let qopValue: DigestCredentials['qop'] = null;
  if (qop !== undefined) {
    if (qop.toLowerCase() !== 'auth') return fail('unsupported', `qop=${qop}`);
    const cnonce = p.get('cnonce');
    const nc = p.get('nc');
    if (cnonce === undefined || nc === undefined || !/^[0-9a-fA-F]{8}$/.test(nc)) return fail('malformed', 'qop=auth needs cnonce and an 8-digit nc');
    qopValue = { cnonce, nc: nc.toLowerCase() };
  }
  return ok({ username, realm, nonce, uri, response: response.toLowerCase(), algorithm: algorithm.value, qop: qopValue, opaque: p.get('opaque') ?? null });
}

export function formatCredentials(credentials: DigestCredentials): string {
  const c = credentials;
  const parts = [`username="${c.username}"`, `realm="${c.realm}"`, `nonce="${c.nonce}"`, `uri="${c.uri}"`, `response="${c.response}"`, `algorithm=${c.algorithm}`];
  if (c.qop) parts.push(`qop=auth`, `cnonce="${c.qop.cnonce}"`, `nc=${c.qop.nc}`);
  if (c.opaque !== null) parts.push(`opaque="${c.opaque}"`);
  return `Digest ${parts.join(', ')}`;
}

const hash = (algorithm: DigestAlgorithm, text: string) => createHash(algorithm === 'MD5' ? 'md5' : 'sha256').update(text, 'utf8').digest('hex');

/** The request-digest of RFC 7616 section 3.4.1 (qop=auth) or RFC 2069 (no qop). */
export function digestResponse(input: {
  readonly algorithm: DigestAlgorithm;
  readonly username: string;
  readonly realm: string;
  readonly password: string;
  readonly method: string;
  readonly uri: string;
  readonly nonce: string;
  readonly qop: { readonly cnonce: string; readonly nc: string } | null;
}): string {
  const ha1 = hash(input.algorithm, `${input.username}:${input.realm}:${input.password}`);
  const ha2 = hash(input.algorithm, `${input.method}:${input.uri}`);
  return input.qop ? hash(input.algorithm, `${ha1}:${input.nonce}:${input.qop.nc}:${input.qop.cnonce}:auth:${ha2}`) : hash(input.algorithm, `${ha1}:${input.nonce}:${ha2}`);
}
