// `parley daemon`: the signed-in device online for good, with its local API on 127.0.0.1 (HTTP
// for commands and queries, a WebSocket for events; docs/daemon.md). The token is in the
// profile (owner-only); where the API listens is written next to it for the CLI and the app.
import { rmSync, writeFileSync } from 'node:fs';
import type { Account } from '../client/account.js';
import type { NetworkDescriptor } from '../crypto/descriptor.js';
import { loadOrCreateToken } from '../daemon/api-token.js';
import { buildLocalApi } from '../daemon/local-api.js';
import { ClientSession } from '../daemon/session.js';

export interface DaemonOptions {
  /** Where the API listens (0: any free port). */
  readonly apiPort: number;
}

export async function runDaemon(account: Account, descriptor: NetworkDescriptor, options: DaemonOptions): Promise<void> {
  const token = loadOrCreateToken(account.apiTokenPath);
  const session = await ClientSession.start(account, descriptor, {});
  const app = await buildLocalApi(session, { token });
  await app.listen({ host: '127.0.0.1', port: options.apiPort });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.apiPort;
  writeFileSync(account.daemonPath, `${JSON.stringify({ port, pid: process.pid })}\n`, { mode: 0o600 });
  console.log(`${account.username}'s daemon: API on http://127.0.0.1:${port}/v1 (token in ${account.apiTokenPath})`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  rmSync(account.daemonPath, { force: true });
  await app.close();
  await session.close();
}
