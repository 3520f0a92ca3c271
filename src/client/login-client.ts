// The client side of the login server's API, over HTTPS. A self-signed server certificate is
// trusted only as pinned by the network descriptor (its PEM, and its SHA-256 checked again);
// otherwise the system's CAs decide. Never `rejectUnauthorized: false`.
import { createHash } from 'node:crypto';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import https from 'node:https';
import type { NetworkDescriptor } from '../crypto/descriptor.js';

export class LoginError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(`${code}: ${message}`);
    this.name = 'LoginError';
  }
}

const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_LOGIN_REQUEST_TIMEOUT_MS = 15_000;

/** Why a connection to the login server failed, in words, by the socket's error code. */
const UNREACHABLE_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is it running?)',
  ECONNRESET: 'the connection was reset',
  ECONNABORTED: 'the connection was aborted',
  EPIPE: 'the connection was closed',
  ETIMEDOUT: 'no answer in time',
  request_timeout: '', // our own timer: its message says how long
  EHOSTUNREACH: 'its host cannot be reached',
  EHOSTDOWN: 'its host is down',
  ENETUNREACH: 'its network cannot be reached',
  ENETDOWN: 'this machine has no network',
  ENOTFOUND: 'its name does not resolve',
  EAI_AGAIN: 'its name does not resolve (DNS did not answer)',
  EAI_FAIL: 'its name does not resolve',
};

/** TLS verdicts that mean "this is not the server the network descriptor names", not "nobody answers". */
const CERTIFICATE_ERRORS = /CERT|SELF_SIGNED|ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_(GET|VERIFY)/;

/**
 * A failure to talk to the login server at all (no HTTP answer), as a LoginError with a stable
 * code and the server's URL in its words: 'unreachable' (refused, unresolved, timed out, reset),
 * 'untrusted_certificate' (TLS did not verify: not the pinned server), 'bad_response' (too large).
 * Status 0: there was no HTTP status.
 */
export function loginServerFailure(error: unknown, url: string): LoginError {
  if (error instanceof LoginError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code ?? '';
  const detail = (error as Error | null)?.message ?? String(error);
  if (code === 'response_too_large') return new LoginError(0, 'bad_response', `the login server at ${url} sent more than ${MAX_RESPONSE_BYTES} bytes`);
  if (CERTIFICATE_ERRORS.test(code) || /certificate/.test(detail)) return new LoginError(0, 'untrusted_certificate', `the login server at ${url} is not the one this network names: ${detail}`);
  const reason = UNREACHABLE_REASONS[code] || (/socket hang up/.test(detail) ? 'the connection was closed before an answer' : detail);
  return new LoginError(0, 'unreachable', `the login server at ${url} does not answer: ${reason}`);
}

/**
 * The login server's answer: its JSON body on a 2xx, else a LoginError with the server's code
 * and words (and its Retry-After, when it sheds load). A body that is not JSON is 'bad_response'.
 */
export function loginAnswer<T>(status: number, body: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new LoginError(status, 'bad_response', 'the login server did not answer with JSON');
  }
  if (status >= 200 && status < 300) return parsed as T;
  const error = (parsed as { error?: { code?: string; message?: string; retryAfterMs?: number } } | null)?.error;
  throw new LoginError(status, error?.code ?? 'http_error', error?.message ?? `HTTP ${status}`, error?.retryAfterMs);
}

/** How often a call refused with 503 + Retry-After is made again, and the longest pause taken. */
export const BUSY_RETRIES = 3;
const MAX_BUSY_PAUSE_MS = 10_000;

/** What an account needs of the login server: one API call (the HTTPS client below, or a test's in-process server). */
export interface LoginRequester {
  request<T = Record<string, unknown>>(method: string, path: string, body?: unknown, token?: string): Promise<T>;
}

export class LoginClient implements LoginRequester {
  private readonly base: URL;
  private readonly agent: https.Agent;

  constructor(
    private readonly descriptor: NetworkDescriptor,
    private readonly requestTimeoutMs = DEFAULT_LOGIN_REQUEST_TIMEOUT_MS,
  ) {
    this.base = new URL(descriptor.loginServerUrl);
    const pin = descriptor.loginServerCertSha256;
    this.agent = new https.Agent({
      keepAlive: true,
      ...(descriptor.loginServerCertificate ? { ca: descriptor.loginServerCertificate } : {}),
      checkServerIdentity: (host: string, cert: PeerCertificate) => {
        if (pin) {
          const actual = createHash('sha256').update(cert.raw).digest('hex');
          return actual === pin ? undefined : new Error(`login server certificate ${actual} is not the pinned ${pin}`);
        }
        return checkServerIdentity(host, cert);
      },
    });
  }

  close(): void {
    this.agent.destroy();
  }

  /**
   * One API call. A server that sheds load (503 with a Retry-After: its password-hash queue is
   * full) is asked again after that pause, stretched by a random half so that clients refused
   * together do not come back together, at most BUSY_RETRIES times; any other answer is final.
   */
  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
    for (let retry = 0; ; retry++) {
      try {
        return await this.requestOnce<T>(method, path, body, token);
      } catch (error) {
        const busy = error instanceof LoginError && error.status === 503 && error.retryAfterMs !== undefined;
        if (!busy || retry >= BUSY_RETRIES) throw error;
        const pauseMs = Math.min(MAX_BUSY_PAUSE_MS, error.retryAfterMs!) * (1 + 0.5 * Math.random());
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    }
  }

  private requestOnce<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
    const url = new URL(path, this.base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const request = https.request(
        url,
        {
          method,
          agent: this.agent,
          timeout: this.requestTimeoutMs,
          headers: {
            accept: 'application/json',
            ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.byteLength;
            if (size > MAX_RESPONSE_BYTES) request.destroy(Object.assign(new Error('response too large'), { code: 'response_too_large' }));
            else chunks.push(chunk);
          });
          response.on('end', () => {
            try {
              resolve(loginAnswer<T>(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
            } catch (error) {
              reject(error);
            }
          });
        },
      );
      request.on('timeout', () => request.destroy(Object.assign(new Error(`no answer within ${this.requestTimeoutMs} ms`), { code: 'request_timeout' })));
      // A raw socket error ("connect ECONNREFUSED 127.0.0.1:9") says nothing of which server; this names it and why.
      request.on('error', (error) => reject(loginServerFailure(error, this.base.origin)));
      request.end(payload);
    });
  }
}
