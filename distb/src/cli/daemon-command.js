// `parley daemon`: this device online for good, with its local API on 127.0.0.1 (HTTP for
// commands and queries, WebSockets for events and audio; docs/daemon.md) and the app at /. It
// starts signed in when a user is named or only one is logged in on the profile; otherwise the
// app signs up or logs in. The token is per install, in the profile (owner-only); where the API
// listens is written next to the signed-in user's files for the CLI.
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { writePrivate } from '../env/private-files.js';
import { fileURLToPath } from 'node:url';
import { AccountGate } from '../daemon/account-gate.js';
import { loadOrCreateToken } from '../daemon/api-token.js';
import { buildLocalApi } from '../daemon/local-api.js';
import { terminalError } from './terminal-text.js';
/** The built app (npm run build puts it in dist/ui). */
const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));
/** Starts the API on `profileDir`'s install; resolves with the app's address (token in its fragment) and how to stop. */
export async function startDaemon(descriptor, profileDir, client, options) {
    const tokenPath = join(profileDir, 'api-token');
    const token = loadOrCreateToken(tokenPath);
    let port = options.apiPort;
    const gate = new AccountGate(descriptor, profileDir, client, {
        signedIn: (account) => writePrivate(account.daemonPath, `${JSON.stringify({ port, pid: process.pid })}\n`),
        signedOut: (account) => rmSync(account.daemonPath, { force: true }),
    });
    const app = await buildLocalApi(gate, { token, uiDir: UI_DIR });
    await app.listen({ host: '127.0.0.1', port: options.apiPort });
    const address = app.server.address();
    port = typeof address === 'object' && address ? address.port : options.apiPort;
    if (options.user) {
        const resumed = await gate.resume(options.user).catch((error) => {
            console.log(`${options.user} could not sign in with this device's key (${terminalError(error)}): log in from the app`);
            return false;
        });
        if (!resumed)
            console.log(`${options.user} is not logged in on this device: log in from the app`);
    }
    return {
        appUrl: `http://127.0.0.1:${port}/#token=${token}`,
        apiUrl: `http://127.0.0.1:${port}/v1`,
        tokenPath,
        user: gate.account().user,
        close: async () => {
            await app.close();
            await gate.close();
        },
    };
}
export async function runDaemon(descriptor, profileDir, client, options) {
    const daemon = await startDaemon(descriptor, profileDir, client, options);
    console.log(`daemon API on ${daemon.apiUrl} (token in ${daemon.tokenPath})`);
    console.log(daemon.user ? `${daemon.user}'s app: ${daemon.appUrl}` : `app (sign up or log in there): ${daemon.appUrl}`);
    await new Promise((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
    });
    await daemon.close();
}
//# sourceMappingURL=daemon-command.js.map