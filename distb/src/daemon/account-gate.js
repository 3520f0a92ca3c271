// Who is signed in on this daemon. It starts with nobody (the app shows sign up and log in) or
// resumes a device already logged in; signing up registers the name with the login server and
// logs this device in with the password; logging out closes the session and forgets it, keeping
// the device keys. One of these at a time: a second while one runs is a 409, not a race.
import { hostname } from 'node:os';
import { realEnv } from '../env/real.js';
import { Account } from '../client/account.js';
import { LocalApiError } from './api-error.js';
import { ClientSession } from './session.js';
import { readSettings, writeSettings } from './settings.js';
export class AccountGate {
    descriptor;
    profileDir;
    client;
    hooks;
    session = null;
    busy = false;
    listeners = new Set();
    constructor(descriptor, profileDir, client, hooks = {}) {
        this.descriptor = descriptor;
        this.profileDir = profileDir;
        this.client = client;
        this.hooks = hooks;
    }
    account() {
        return { user: this.session?.account.username ?? null };
    }
    core() {
        return this.session?.core ?? null;
    }
    onEvent(listener) {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
    }
    emit(event) {
        for (const listener of this.listeners)
            listener(event);
    }
    /** Signs `username` in with the device's stored session (no password); false when there is none. */
    resume(username) {
        return this.exclusive(async () => {
            const account = this.accountOf(username);
            if (!account.storedSession())
                return false;
            await this.begin(account);
            return true;
        });
    }
    signUp(username, password, discoverable) {
        return this.exclusive(async () => {
            const account = this.accountOf(username);
            await account.register(password, { discoverable });
            writeSettings(account.settingsPath, { ...readSettings(account.settingsPath), discoverable });
            await account.loginWithPassword(password, hostname());
            await this.begin(account);
            return this.account();
        });
    }
    logIn(username, password) {
        return this.exclusive(async () => {
            const account = this.accountOf(username);
            // The password always: a device key alone would let anyone at this machine pick any user logged in before.
            await account.loginWithPassword(password, hostname());
            await this.begin(account);
            return this.account();
        });
    }
    logOut() {
        return this.exclusive(async () => {
            const account = await this.end();
            if (!account)
                return;
            account.forgetSession();
            this.emit({ type: 'account', user: null });
        }, true);
    }
    /** Closes the session, keeping it stored (the daemon stops; the next start resumes it). */
    async close() {
        await this.end();
    }
    /** Ends the session (if one runs); resolves with whose it was. */
    async end() {
        const session = this.session;
        this.session = null;
        if (!session)
            return null;
        session.stopForwarding();
        await session.core.close();
        this.hooks.signedOut?.(session.account);
        return session.account;
    }
    accountOf(username) {
        return new Account(this.client, this.descriptor, this.profileDir, username, realEnv.random);
    }
    async begin(account) {
        const core = await ClientSession.start(account, this.descriptor);
        const stopForwarding = core.onEvent((event) => this.emit(event));
        this.session = { account, core, stopForwarding };
        this.hooks.signedIn?.(account);
        this.emit({ type: 'account', user: account.username });
    }
    async exclusive(work, whileSignedIn = false) {
        if (this.busy)
            throw new LocalApiError(409, 'busy', 'signing in or out is already under way');
        if (this.session && !whileSignedIn)
            throw new LocalApiError(409, 'signed_in', `${this.session.account.username} is signed in here: sign out first`);
        this.busy = true;
        try {
            return await work();
        }
        finally {
            this.busy = false;
        }
    }
}
//# sourceMappingURL=account-gate.js.map