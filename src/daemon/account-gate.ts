// Who is signed in on this daemon. It starts with nobody (the app shows sign up and log in) or
// resumes a device already logged in; signing up registers the name with the login server and
// logs this device in with the password; logging out closes the session and forgets it, keeping
// the device keys. One of these at a time: a second while one runs is a 409, not a race.
import { availableParallelism, hostname } from 'node:os';
import { realEnv } from '../env/real.js';
import { connectTlsUnverified } from '../env/tls.js';
import { Account } from '../client/account.js';
import type { LoginClient } from '../client/login-client.js';
import type { NetworkDescriptor } from '../crypto/descriptor.js';
import { LocalApiError } from './api-error.js';
import type { AccountView, DaemonCore, DaemonEvent, DaemonGate } from './api-types.js';
import { ClientSession } from './session.js';
import { DeviceBusyError, holdDevice } from '../client/profile-files.js';
import { readSettings, writeSettings } from './settings.js';

export interface GateHooks {
  /** A session began (the daemon says where it listens, for this user's CLI). */
  readonly signedIn?: (account: Account) => void;
  readonly signedOut?: (account: Account) => void;
}

export class AccountGate implements DaemonGate {
  private session: { account: Account; core: ClientSession; stopForwarding: () => void; release: () => void } | null = null;
  private busy = false;
  private readonly listeners = new Set<(event: DaemonEvent) => void>();

  constructor(
    private readonly descriptor: NetworkDescriptor,
    private readonly profileDir: string,
    private readonly client: LoginClient,
    private readonly hooks: GateHooks = {},
  ) {}

  account(): AccountView {
    return { user: this.session?.account.username ?? null };
  }

  core(): DaemonCore | null {
    return this.session?.core ?? null;
  }

  onEvent(listener: (event: DaemonEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: DaemonEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** Signs `username` in with the device's stored session (no password); false when there is none. */
  resume(username: string): Promise<boolean> {
    return this.exclusive(async () => {
      const account = this.accountOf(username);
      if (!account.storedSession()) return false;
      await this.begin(account);
      return true;
    });
  }

  signUp(username: string, password: string, discoverable: boolean): Promise<AccountView> {
    return this.exclusive(async () => {
      const account = this.accountOf(username);
      await account.register(password, { discoverable });
      writeSettings(account.settingsPath, { ...readSettings(account.settingsPath), discoverable });
      await account.loginWithPassword(password, hostname());
      await this.begin(account);
      return this.account();
    });
  }

  logIn(username: string, password: string): Promise<AccountView> {
    return this.exclusive(async () => {
      const account = this.accountOf(username);
      // The password always: a device key alone would let anyone at this machine pick any user logged in before.
      await account.loginWithPassword(password, hostname());
      await this.begin(account);
      return this.account();
    });
  }

  logOut(): Promise<void> {
    return this.exclusive(async () => {
      const account = await this.end();
      if (!account) return;
      account.forgetSession();
      this.emit({ type: 'account', user: null });
    }, true);
  }

  /** Closes the session, keeping it stored (the daemon stops; the next start resumes it). */
  async close(): Promise<void> {
    await this.end();
  }

  /** Ends the session (if one runs); resolves with whose it was. */
  private async end(): Promise<Account | null> {
    const session = this.session;
    this.session = null;
    if (!session) return null;
    session.stopForwarding();
    await session.core.close();
    session.release();
    this.hooks.signedOut?.(session.account);
    return session.account;
  }

  private accountOf(username: string): Account {
    return new Account(this.client, this.descriptor, this.profileDir, username, realEnv);
  }

  private async begin(account: Account): Promise<void> {
    // One process at a time brings a device online (a `parley online` of the same profile would fight it for its supernode session).
    let release: () => void;
    try {
      release = holdDevice(account, 'parley daemon', realEnv.clock.wallTimeMs());
    } catch (error) {
      if (error instanceof DeviceBusyError) throw new LocalApiError(409, 'device_busy', error.message);
      throw error;
    }
    let core: ClientSession;
    try {
      core = await ClientSession.start(realEnv, account, this.descriptor, { cpuCores: availableParallelism(), webTls: connectTlsUnverified });
    } catch (error) {
      release();
      throw error;
    }
    const stopForwarding = core.onEvent((event) => this.emit(event));
    this.session = { account, core, stopForwarding, release };
    this.hooks.signedIn?.(account);
    this.emit({ type: 'account', user: account.username });
  }

  private async exclusive<T>(work: () => Promise<T>, whileSignedIn = false): Promise<T> {
    if (this.busy) throw new LocalApiError(409, 'busy', 'signing in or out is already under way');
    if (this.session && !whileSignedIn) throw new LocalApiError(409, 'signed_in', `${this.session.account.username} is signed in here: sign out first`);
    this.busy = true;
    try {
      return await work();
    } finally {
      this.busy = false;
    }
  }
}
