// A login server on a fresh database with a cheap password hash and a settable clock, and a
// device that talks to it the way a client does.
import type { FastifyInstance } from 'fastify';
import { cryptoRandom } from '../../src/env/real.js';
import type { Clock } from '../../src/env/types.js';
import { createNetworkCa, type NetworkCa } from '../../src/crypto/certificate.js';
import { fromBase64Url, toBase64Url } from '../../src/crypto/bytes.js';
import { signBytes } from '../../src/crypto/ed25519.js';
import { generateDeviceKeys, type DeviceKeys } from '../../src/crypto/identity.js';
import { createServerContext, DEFAULT_CONFIG, type LoginServerConfig, type ServerContext } from '../../src/login-server/context.js';
import { PasswordHasher } from '../../src/login-server/passwords.js';
import { challengeMessage, deviceProofMessage } from '../../src/crypto/login-proofs.js';
import { buildLoginServer, type ServerOptions } from '../../src/login-server/server.js';
import { LoginStore, type StoreLimits } from '../../src/login-server/store/login-store.js';
import type { StoreDatabase } from '../../src/login-server/store/database.js';

export class ManualClock implements Clock {
  constructor(public wallMs: number) {}
  now(): number {
    return this.wallMs;
  }
  wallTimeMs(): number {
    return this.wallMs;
  }
  after(): { cancel(): void } {
    throw new Error('the login server sets no timers');
  }
}

/** A clock for a login server under real load: throttles and Retry-After pauses pass in real time. */
export class RealClock extends ManualClock {
  constructor() {
    super(0);
  }
  override now(): number {
    return performance.now();
  }
  override wallTimeMs(): number {
    return Date.now();
  }
}

export const FAST_HASH = new PasswordHasher({ logN: 10, r: 8, p: 1 });

export async function testServer(database: StoreDatabase, options: { ca?: NetworkCa; clock?: ManualClock; config?: Partial<LoginServerConfig>; hasher?: PasswordHasher; server?: ServerOptions; limits?: Partial<StoreLimits> } = {}) {
  const ca = options.ca ?? createNetworkCa(cryptoRandom);
  const clock = options.clock ?? new ManualClock(Date.UTC(2026, 0, 1));
  const context: ServerContext = createServerContext({
    store: new LoginStore(database, options.limits),
    ca,
    hasher: options.hasher ?? FAST_HASH,
    clock,
    random: cryptoRandom,
    config: { ...DEFAULT_CONFIG, ...options.config },
  });
  const app = await buildLoginServer(context, options.server);
  return { app, context, ca, clock, close: async () => { await app.close(); await context.store.close(); } };
}

export interface Response {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
  headers: Record<string, unknown>;
}

export async function call(app: FastifyInstance, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, token?: string, ip = '10.1.1.1'): Promise<Response> {
  const response = await app.inject({
    method,
    url,
    remoteAddress: ip,
    ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } } : token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
  return { status: response.statusCode, body: response.json() as Response['body'], headers: response.headers };
}

/** A device with its own keys, as a client keeps them. */
export class TestDevice {
  readonly keys: DeviceKeys = generateDeviceKeys(cryptoRandom);
  token = '';
  certificate: Uint8Array = new Uint8Array(0);
  deviceId = 0;

  constructor(
    readonly app: FastifyInstance,
    readonly ca: NetworkCa,
    readonly username: string,
    readonly password = 'correct horse battery',
  ) {}

  register(extra: Record<string, unknown> = {}) {
    return call(this.app, 'POST', '/v1/accounts', { username: this.username, password: this.password, ...extra });
  }

  private adopt(response: Response): Response {
    if (response.status === 200) {
      this.token = response.body.accessToken as string;
      this.certificate = fromBase64Url(response.body.certificate as string)!;
      this.deviceId = response.body.deviceId as number;
    }
    return response;
  }

  /** The body of a password login from this device: the password, the device's keys and its proof of them. */
  passwordLoginBody(password = this.password) {
    const proof = signBytes(this.keys.signing, deviceProofMessage(this.ca.networkId, this.username.toLowerCase(), this.keys.dh.publicKey));
    const device = { signingKey: toBase64Url(this.keys.signing.publicKey), dhKey: toBase64Url(this.keys.dh.publicKey), name: 'test device', proof: toBase64Url(proof) };
    return { username: this.username, password, device };
  }

  async passwordLogin(password = this.password, ip?: string): Promise<Response> {
    return this.adopt(await call(this.app, 'POST', '/v1/login/password', this.passwordLoginBody(password), undefined, ip));
  }

  async challenge(ip?: string): Promise<string> {
    const response = await call(this.app, 'POST', '/v1/login/challenge', { signingKey: toBase64Url(this.keys.signing.publicKey) }, undefined, ip);
    if (response.status !== 200) throw new Error(`challenge: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.challenge as string;
  }

  async deviceLogin(challenge?: string, ip?: string): Promise<Response> {
    const c = challenge ?? (await this.challenge(ip));
    const signature = signBytes(this.keys.signing, challengeMessage(this.ca.networkId, fromBase64Url(c)!));
    return this.adopt(await call(this.app, 'POST', '/v1/login/device', { signingKey: toBase64Url(this.keys.signing.publicKey), challenge: c, signature: toBase64Url(signature) }, undefined, ip));
  }

  get(url: string) {
    return call(this.app, 'GET', url, undefined, this.token);
  }

  send(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown) {
    return call(this.app, method, url, body, this.token);
  }
}
