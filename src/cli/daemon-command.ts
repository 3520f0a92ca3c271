// `parley daemon`: the signed-in device online for good, with its local API on 127.0.0.1 (HTTP
// for commands and queries, WebSockets for events and audio; docs/daemon.md) and the app at /.
// The token is in the profile (owner-only); where the API listens is written next to it for the
// CLI and the app.
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Account } from '../client/account.js';
import type { NetworkDescriptor } from '../crypto/descriptor.js';
import { loadOrCreateToken } from '../daemon/api-token.js';
import { buildLocalApi } from '../daemon/local-api.js';
import { ClientSession } from '../daemon/session.js';

export interface DaemonOptions {
  /** Where the API listens (0: any free port). */
  readonly apiPort: number;
}

/** The built app (npm run build puts it in dist/ui). */
const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

/** Starts `account`'s session and its API; resolves with the app's address (token in its fragment) and how to stop. */
export async function startDaemon(account: Account, descriptor: NetworkDescriptor, options: DaemonOptions): Promise<{ appUrl: string; apiUrl: string; close: () => Promise<void> }> {
  const token = loadOrCreateToken(account.apiTokenPath);
  const session = await ClientSession.start(account, descriptor, {});
  const app = await buildLocalApi(session, { token, uiDir: UI_DIR });
  await app.listen({ host: '127.0.0.1', port: options.apiPort });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.apiPort;
  writeFileSync(account.daemonPath, `${JSON.stringify({ port, pid: process.pid })}\n`, { mode: 0o600 });
  return {
    appUrl: `http://127.0.0.1:${port}/#token=${token}`,
    apiUrl: `http://127.0.0.1:${port}/v1`,
    close: async () => {
      rmSync(account.daemonPath, { force: true });
      await app.close();
      await session.close();
    },
  };
}

export async function runDaemon(account: Account, descriptor: NetworkDescriptor, options: DaemonOptions): Promise<void> {
  const daemon = await startDaemon(account, descriptor, options);
  console.log(`${account.username}'s daemon: API on ${daemon.apiUrl} (token in ${account.apiTokenPath})`);
  console.log(`${account.username}'s app: ${daemon.appUrl}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await daemon.close();
}
