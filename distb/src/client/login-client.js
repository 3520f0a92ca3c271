// The client side of the login server's API, over HTTPS. A self-signed server certificate is
// trusted only as pinned by the network descriptor (its PEM, and its SHA-256 checked again);
// otherwise the system's CAs decide. Never `rejectUnauthorized: false`.
import { createHash } from 'node:crypto';
import { checkServerIdentity } from 'node:tls';
import https from 'node:https';
export class LoginError extends Error {
    status;
    code;
    retryAfterMs;
    constructor(status, code, message, retryAfterMs) {
        super(`${code}: ${message}`);
        this.status = status;
        this.code = code;
        this.retryAfterMs = retryAfterMs;
        this.name = 'LoginError';
    }
}
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_LOGIN_REQUEST_TIMEOUT_MS = 15_000;
/** Why a connection to the login server failed, in words, by the socket's error code. */
const UNREACHABLE_REASONS = {
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
export function loginServerFailure(error, url) {
    if (error instanceof LoginError)
        return error;
    const code = error?.code ?? '';
    const detail = error?.message ?? String(error);
    if (code === 'response_too_large')
        return new LoginError(0, 'bad_response', `the login server at ${url} sent more than ${MAX_RESPONSE_BYTES} bytes`);
    if (CERTIFICATE_ERRORS.test(code) || /certificate/.test(detail))
        return new LoginError(0, 'untrusted_certificate', `the login server at ${url} is not the one this network names: ${detail}`);
    const reason = UNREACHABLE_REASONS[code] || (/socket hang up/.test(detail) ? 'the connection was closed before an answer' : detail);
    return new LoginError(0, 'unreachable', `the login server at ${url} does not answer: ${reason}`);
}
export class LoginClient {
    descriptor;
    requestTimeoutMs;
    base;
    agent;
    constructor(descriptor, requestTimeoutMs = DEFAULT_LOGIN_REQUEST_TIMEOUT_MS) {
        this.descriptor = descriptor;
        this.requestTimeoutMs = requestTimeoutMs;
        this.base = new URL(descriptor.loginServerUrl);
        const pin = descriptor.loginServerCertSha256;
        this.agent = new https.Agent({
            keepAlive: true,
            ...(descriptor.loginServerCertificate ? { ca: descriptor.loginServerCertificate } : {}),
            checkServerIdentity: (host, cert) => {
                if (pin) {
                    const actual = createHash('sha256').update(cert.raw).digest('hex');
                    return actual === pin ? undefined : new Error(`login server certificate ${actual} is not the pinned ${pin}`);
                }
                return checkServerIdentity(host, cert);
            },
        });
    }
    close() {
        this.agent.destroy();
    }
    request(method, path, body, token) {
        const url = new URL(path, this.base);
        const payload = body === undefined ? undefined : JSON.stringify(body);
        return new Promise((resolve, reject) => {
            const request = https.request(url, {
                method,
                agent: this.agent,
                timeout: this.requestTimeoutMs,
                headers: {
                    accept: 'application/json',
                    ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
                    ...(token ? { authorization: `Bearer ${token}` } : {}),
                },
            }, (response) => {
                const chunks = [];
                let size = 0;
                response.on('data', (chunk) => {
                    size += chunk.byteLength;
                    if (size > MAX_RESPONSE_BYTES)
                        request.destroy(Object.assign(new Error('response too large'), { code: 'response_too_large' }));
                    else
                        chunks.push(chunk);
                });
                response.on('end', () => {
                    let parsed;
                    try {
                        parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
                    }
                    catch {
                        return reject(new LoginError(response.statusCode ?? 0, 'bad_response', 'the login server did not answer with JSON'));
                    }
                    const status = response.statusCode ?? 0;
                    if (status >= 200 && status < 300)
                        return resolve(parsed);
                    const error = parsed.error;
                    reject(new LoginError(status, error?.code ?? 'http_error', error?.message ?? `HTTP ${status}`, error?.retryAfterMs));
                });
            });
            request.on('timeout', () => request.destroy(Object.assign(new Error(`no answer within ${this.requestTimeoutMs} ms`), { code: 'request_timeout' })));
            // A raw socket error ("connect ECONNREFUSED 127.0.0.1:9") says nothing of which server; this names it and why.
            request.on('error', (error) => reject(loginServerFailure(error, this.base.origin)));
            request.end(payload);
        });
    }
}
//# sourceMappingURL=login-client.js.map