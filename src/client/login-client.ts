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
const REQUEST_TIMEOUT_MS = 15_000;

export class LoginClient {
  private readonly base: URL;
  private readonly agent: https.Agent;

  constructor(private readonly descriptor: NetworkDescriptor) {
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

  request<T = Record<string, unknown>>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
    const url = new URL(path, this.base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const request = https.request(
        url,
        {
          method,
          agent: this.agent,
          timeout: REQUEST_TIMEOUT_MS,
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
            if (size > MAX_RESPONSE_BYTES) request.destroy(new Error('response too large'));
            else chunks.push(chunk);
          });
          response.on('end', () => {
            let parsed: unknown;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              return reject(new LoginError(response.statusCode ?? 0, 'bad_response', 'the login server did not answer with JSON'));
            }
            const status = response.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(parsed as T);
            const error = (parsed as { error?: { code?: string; message?: string; retryAfterMs?: number } }).error;
            reject(new LoginError(status, error?.code ?? 'http_error', error?.message ?? `HTTP ${status}`, error?.retryAfterMs));
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error('the login server did not answer in time')));
      request.on('error', reject);
      request.end(payload);
    });
  }
}
