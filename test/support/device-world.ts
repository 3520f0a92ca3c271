// The whole device on the virtual network: supernodes, the real login server (in process,
// answering through Fastify's inject on the virtual clock, its real work held outside virtual
// time), and users who sign up, log in and go online with the daemon's own session
// (`ClientSession`, the device core under the local API), each behind its own NAT.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Account } from '../../src/client/account.js';
import { loginAnswer, type LoginRequester } from '../../src/client/login-client.js';
import type { NetworkDescriptor } from '../../src/crypto/descriptor.js';
import { SeededRandom } from '../../src/env/prng.js';
import type { NatClass } from '../../src/env/virtual/index.js';
import { openDatabase } from '../../src/login-server/store/database.js';
import { ClientSession } from '../../src/daemon/session.js';
import type { DaemonEvent } from '../../src/daemon/api-types.js';
import { ManualClock, testServer } from './login-server.js';
import { overlayWorld } from './supernodes.js';

/** The login server's clock: the virtual network's. */
class VirtualClock extends ManualClock {
  constructor(private readonly scheduler: { now(): number; wallTimeMs(): number }) {
    super(0);
  }
  override now(): number {
    return this.scheduler.now();
  }
  override wallTimeMs(): number {
    return this.scheduler.wallTimeMs();
  }
}

export interface OnlineUser {
  readonly name: string;
  readonly session: ClientSession;
  readonly account: Account;
  readonly events: DaemonEvent[];
}

/** A seeded world of `supernodes` supernodes (5 ms links), a login server, and a way to bring users online. */
export async function deviceWorld(seed: number, supernodes = 3) {
  const world = await overlayWorld(seed, supernodes, { link: () => ({ latencyMs: 5 }) });
  const { network, net, scheduler } = world;
  const dir = mkdtempSync(join(tmpdir(), 'parley-device-world-'));
  const login = await testServer(await openDatabase(join(dir, 'login.db')), { ca: net.ca, clock: new VirtualClock(scheduler) });
  const requester: LoginRequester = {
    request: async <T>(method: string, path: string, body?: unknown, token?: string) => {
      const response = await scheduler.outside(
        login.app.inject({
          method: method as 'GET',
          url: path,
          remoteAddress: '10.9.0.1',
          headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
          ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
        }),
      );
      return loginAnswer<T>(response.statusCode, response.body);
    },
  };
  const descriptor: NetworkDescriptor = {
    version: 1,
    name: 'virtual',
    caPublicKey: net.ca.keyPair.publicKey,
    networkId: net.ca.networkId,
    loginServerUrl: 'https://login.virtual',
    bootstrap: world.supernodes.map((s) => s.ref),
  };
  const sessions: ClientSession[] = [];
  const random = new SeededRandom(seed ^ 0x5eed);

  /**
   * Signs `name` up, logs this device in with the password, and starts the daemon's session on a
   * host behind `nat`; with `login: 'again'`, the same device (its profile: keys, session, files)
   * comes back online on a new host, as after a restart.
   */
  async function online(name: string, options: { nat?: NatClass; login?: 'again' } = {}): Promise<OnlineUser> {
    const gateway = network.addGateway({ nat: options.nat ?? 'port-restricted', link: { latencyMs: 5 } });
    const host = network.addHost({ behind: gateway, link: { latencyMs: 5 } });
    const env = host.env();
    const account = new Account(requester, descriptor, join(dir, 'profiles'), name, { random, clock: env.clock });
    if (options.login !== 'again') {
      await account.register('correct horse battery staple', { discoverable: true });
      await account.loginWithPassword('correct horse battery staple', `${name}'s virtual machine`);
    }
    const session = await world.drive(ClientSession.start(env, account, descriptor, { cpuCores: 2 }));
    sessions.push(session);
    const events: DaemonEvent[] = [];
    session.onEvent((event) => events.push(event));
    return { name, session, account, events };
  }

  /** Ends every session (as the daemon does at sign-out), then the supernodes and the login server. */
  async function close(): Promise<void> {
    try {
      await world.drive(Promise.all(sessions.map((s) => s.close())));
    } finally {
      for (const s of world.supernodes) s.running.close();
      await login.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  return { ...world, login, descriptor, online, close };
}
