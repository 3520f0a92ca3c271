// A user's account as a client device sees it: device keys kept in a profile folder (0600),
// first login with the password, later logins by signing a challenge, and the session it got.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, Random } from '../env/types.js';
import { fromBase64Url, toBase64Url } from '../crypto/bytes.js';
import { signBytes } from '../crypto/ed25519.js';
import { loadOrCreateKeys } from '../crypto/key-files.js';
import { makePrivateDir, writePrivate } from '../env/private-files.js';
import type { DeviceKeys, NodeIdentity } from '../crypto/identity.js';
import type { NetworkDescriptor } from '../crypto/descriptor.js';
import { challengeMessage, deviceProofMessage } from '../crypto/login-proofs.js';
import { normaliseNewUsername, normaliseUsername } from '../wire/usernames.js';
import { checkUserText } from '../wire/user-text.js';
import { LoginError, type LoginRequester } from './login-client.js';

export interface Session {
  readonly username: string;
  readonly deviceId: number;
  readonly certificate: Uint8Array;
  readonly certificateExpiresAtMs: number;
  readonly accessToken: string;
  readonly accessTokenExpiresAtMs: number;
  /** How this session was obtained. */
  readonly method: 'password' | 'challenge';
}

interface GrantBody {
  username: string;
  deviceId: number;
  certificate: string;
  certificateExpiresAtMs: number;
  accessToken: string;
  accessTokenExpiresAtMs: number;
}

export class Account {
  readonly username: string;
  private readonly dir: string;
  readonly keys: DeviceKeys;

  private readonly clock: Pick<Clock, 'wallTimeMs'>;

  constructor(
    private readonly client: LoginRequester,
    private readonly descriptor: NetworkDescriptor,
    profileDir: string,
    username: string,
    env: { readonly random: Random; readonly clock: Pick<Clock, 'wallTimeMs'> },
  ) {
    this.clock = env.clock;
    const name = normaliseUsername(username);
    if (!name.ok) throw new LoginError(400, name.error.code, name.error.message);
    this.username = name.value;
    this.dir = join(profileDir, this.username);
    makePrivateDir(this.dir); // the profile and this user's folder in it
    this.keys = loadOrCreateKeys(join(this.dir, 'device.key.json'), env.random);
  }

  private sessionPath(): string {
    return join(this.dir, 'session.json');
  }

  /** The stored session, if any (it may have expired). */
  storedSession(): Session | null {
    if (!existsSync(this.sessionPath())) return null;
    const raw = JSON.parse(readFileSync(this.sessionPath(), 'utf8')) as Omit<Session, 'certificate'> & { certificate: string };
    return { ...raw, certificate: fromBase64Url(raw.certificate) ?? new Uint8Array(0) };
  }

  private adopt(body: GrantBody, method: Session['method']): Session {
    const session: Session = { ...body, certificate: fromBase64Url(body.certificate)!, method };
    writePrivate(this.sessionPath(), `${JSON.stringify({ ...body, method }, null, 2)}\n`);
    return session;
  }

  register(password: string, options: { discoverable?: boolean; showLastSeen?: boolean; displayName?: string } = {}): Promise<{ username: string }> {
    // The server's rules for a new name and a display name, here too: the user hears at once
    // why, without a round trip (the server checks them again; this is no defence).
    const name = normaliseNewUsername(this.username);
    if (!name.ok) return Promise.reject(new LoginError(400, name.error.code, name.error.message));
    const displayName = options.displayName === undefined ? null : checkUserText(options.displayName, 'name');
    if (displayName && !displayName.ok) return Promise.reject(new LoginError(400, displayName.error.code, displayName.error.message));
    return this.client.request('POST', '/v1/accounts', { username: this.username, password, ...options });
  }

  async loginWithPassword(password: string, deviceName: string): Promise<Session> {
    const proof = signBytes(this.keys.signing, deviceProofMessage(this.descriptor.networkId, this.username, this.keys.dh.publicKey));
    const body = await this.client.request<GrantBody>('POST', '/v1/login/password', {
      username: this.username,
      password,
      device: { signingKey: toBase64Url(this.keys.signing.publicKey), dhKey: toBase64Url(this.keys.dh.publicKey), name: deviceName, proof: toBase64Url(proof) },
    });
    return this.adopt(body, 'password');
  }

  async loginWithChallenge(): Promise<Session> {
    const { challenge } = await this.client.request<{ challenge: string }>('POST', '/v1/login/challenge', { signingKey: toBase64Url(this.keys.signing.publicKey) });
    const signature = signBytes(this.keys.signing, challengeMessage(this.descriptor.networkId, fromBase64Url(challenge)!));
    const body = await this.client.request<GrantBody>('POST', '/v1/login/device', { signingKey: toBase64Url(this.keys.signing.publicKey), challenge, signature: toBase64Url(signature) });
    return this.adopt(body, 'challenge');
  }

  /** Challenge login when this device is known to the server; otherwise asks for the password. */
  async login(password: () => Promise<string>, deviceName: string): Promise<Session> {
    if (this.storedSession()) {
      try {
        return await this.loginWithChallenge();
      } catch (error) {
        if (!(error instanceof LoginError) || error.code !== 'unknown_device') throw error;
      }
    }
    return this.loginWithPassword(await password(), deviceName);
  }

  /** This device's certified identity, logging in again by challenge when the certificate is near its end. */
  async identity(nowMs = this.clock.wallTimeMs()): Promise<NodeIdentity> {
    let session = this.storedSession();
    if (!session) throw new LoginError(401, 'not_logged_in', `log in as ${this.username} first`);
    if (session.certificateExpiresAtMs <= nowMs + 5 * 60_000) session = await this.loginWithChallenge();
    return { ...this.keys, certificate: session.certificate };
  }

  /** Where this device keeps its host cache. */
  /** The presence this user chose (`parley status`), read by `parley online`. */
  get statusPath(): string {
    return join(this.dir, 'status.json');
  }

  /** This device's chat history (an embedded database). */
  get historyPath(): string {
    return join(this.dir, 'history.sqlite');
  }

  get hostCachePath(): string {
    return join(this.dir, 'hosts.json');
  }

  /** The app's settings for this user on this device (who may call, supernode, discoverable). */
  get settingsPath(): string {
    return join(this.dir, 'settings.json');
  }

  /** Forgets this device's session (sign out): the next login asks for the password again. The device keys stay. */
  forgetSession(): void {
    rmSync(this.sessionPath(), { force: true });
  }

  /** The lock of the process that has this device online (one at a time: client/device-lock.ts). */
  get onlineLockPath(): string {
    return join(this.dir, 'online.lock');
  }

  /** Where this user's daemon listens now (its local API). */
  get daemonPath(): string {
    return join(this.dir, 'daemon.json');
  }

  /** A call with this device's access token, logging in again by challenge when it expired. */
  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown, nowMs = this.clock.wallTimeMs()): Promise<T> {
    let session = this.storedSession();
    if (!session) throw new LoginError(401, 'not_logged_in', `log in as ${this.username} first`);
    if (session.accessTokenExpiresAtMs <= nowMs + 30_000) session = await this.loginWithChallenge();
    return this.client.request<T>(method, path, body, session.accessToken);
  }
}
