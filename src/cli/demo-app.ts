// `parley local --app` (what `npm start` runs): the local network, plus two demo users, alice
// and bob, buddies, each with a daemon and the app, so a newcomer can open the two printed
// addresses and call from one tab to the other. The demo accounts live in <dir>/demo-profile
// with random passwords nobody needs: each device is logged in once and then signs in with its
// own key.
import { join } from 'node:path';
import { realEnv } from '../env/real.js';
import { Account } from '../client/account.js';
import { LoginClient, LoginError } from '../client/login-client.js';
import { toHex } from '../crypto/bytes.js';
import type { NetworkDescriptor } from '../crypto/descriptor.js';
import { startDaemon, type RunningDaemon } from './daemon-command.js';
import { answerBuddyRequest } from './account-commands.js';

const DEMO_USERS = ['alice', 'bob'] as const;

async function demoAccount(client: LoginClient, descriptor: NetworkDescriptor, profile: string, user: string): Promise<Account> {
  const account = new Account(client, descriptor, profile, user, realEnv);
  if (!account.storedSession()) {
    const password = toHex(realEnv.random.bytes(16));
    await account.register(password, { discoverable: true });
    await account.login(async () => password, 'demo');
  }
  return account;
}

/** Makes `a` and `b` buddies unless they are. */
async function befriend(a: Account, b: Account): Promise<void> {
  const list = await a.call<{ entries: { username: string; kind: string }[] }>('GET', '/v1/contacts');
  if (list.entries.some((e) => e.username === b.username && e.kind === 'buddy')) return;
  await a.call('POST', '/v1/buddy-requests', { to: b.username }).catch((error: unknown) => {
    // Asked already (a demo run before): the answer below is what matters. Anything else is said.
    if (!(error instanceof LoginError && error.status === 409)) console.log(`buddy request from ${a.username} not sent: ${(error as Error).message}`);
  });
  await answerBuddyRequest(b, a.username, 'accept');
}

/** Starts the demo users' daemons; resolves with how to stop them. */
export async function startDemoApp(dir: string, descriptor: NetworkDescriptor, apiPorts: readonly number[]): Promise<() => Promise<void>> {
  const client = new LoginClient(descriptor);
  const profile = join(dir, 'demo-profile');
  const accounts: Account[] = [];
  for (const user of DEMO_USERS) accounts.push(await demoAccount(client, descriptor, profile, user));
  await befriend(accounts[0]!, accounts[1]!);
  const daemons: RunningDaemon[] = [];
  for (const [i, account] of accounts.entries()) {
    const daemon = await startDaemon(descriptor, profile, client, { apiPort: apiPorts[i] ?? 0, user: account.username });
    daemons.push(daemon);
    console.log(`  ${account.username}'s app: ${daemon.appUrl}`);
  }
  console.log('Open both addresses (two tabs or two browsers) and call from one to the other.');
  return async () => {
    for (const d of daemons) await d.close();
    client.close();
  };
}
