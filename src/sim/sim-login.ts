// A lightweight stand-in for the login server, for runs with thousands of devices: the network
// CA issues device certificates in process, and the few API calls a running device makes
// (`/v1/info`, `/v1/contacts`, `/v1/users/:name/devices`, `/v1/offline…`) are answered from
// memory after a virtual round trip. The real login server's answers have the same shapes
// (src/login-server/routes); what it adds (passwords, rate limits, the database) is tested on the
// virtual network with the real server in test/support/device-world.ts.
import { toBase64Url, fromBase64Url } from '../crypto/bytes.js';
import { Role, type NetworkCa } from '../crypto/certificate.js';
import { issueIdentity, type NodeIdentity } from '../crypto/identity.js';
import type { DeviceAccount } from '../client/device.js';
import { LoginError } from '../client/login-client.js';
import type { Clock, Random } from '../env/types.js';

/** Messages the stand-in keeps per device while it is offline (the real server bounds its store too). */
export const MAX_OFFLINE_PER_DEVICE = 1_000;
/** A page of offline messages, as the real API gives. */
const OFFLINE_PAGE = 100;

interface StoredOffline {
  readonly id: number;
  readonly sender: string;
  readonly ciphertext: string;
  readonly createdAtMs: number;
}

interface SimUser {
  readonly deviceId: number;
  readonly identity: NodeIdentity;
  readonly buddies: readonly string[];
  readonly mailbox: StoredOffline[];
}

/**
 * What the simulated world needs of a login server: its users made (each with one device and
 * its buddies), each device's account, the slow-login fault's knob, and the offline store's
 * state for a violation's detail. The stand-in below answers from memory; real-login.ts runs
 * the real server.
 */
export interface SimLogin {
  /** Creates the users, their devices and contact lists (virtual time passes: drive it). */
  addUsers(users: readonly { readonly name: string; readonly buddies: readonly string[] }[]): Promise<void>;
  account(username: string): DeviceAccount;
  /** Extra time each answer takes (the slow-login fault: an overloaded server). */
  extraDelayMs: number;
  /** Calls answered. */
  readonly calls: number;
  /** Offline messages stored in all. */
  readonly offlineStored: number;
  /** Offline messages stored and not yet fetched and acknowledged. */
  readonly offlineWaiting: number;
  /** Offline messages the server refused to store. */
  readonly refusedOffline: number;
  close(): Promise<void>;
}

export class SimLoginServer implements SimLogin {
  private readonly users = new Map<string, SimUser>();
  private readonly byDeviceId = new Map<number, SimUser>();
  private nextOfflineId = 1;
  /** Offline messages refused because a mailbox was full (a loss the sim's ledger will see). */
  refusedOffline = 0;
  /** Calls answered, for the report. */
  calls = 0;
  offlineStored = 0;
  /** Extra time each answer takes (the slow-login fault: an overloaded server). */
  extraDelayMs = 0;

  constructor(
    private readonly ca: NetworkCa,
    private readonly random: Random,
    private readonly clock: Clock,
    /** One-way delay to the login server: each call takes two. */
    private readonly delayMs: number,
    private readonly issuedAtMs: number,
  ) {}

  /** Creates `username` with one device, certified by the CA, and these buddies. */
  addUser(username: string, buddies: readonly string[]): void {
    const deviceId = this.users.size + 1;
    const identity = issueIdentity(this.ca, this.random, { username, role: Role.DEVICE, serial: 100_000 + deviceId, issuedAtMs: this.issuedAtMs });
    const user: SimUser = { deviceId, identity, buddies, mailbox: [] };
    this.users.set(username, user);
    this.byDeviceId.set(deviceId, user);
  }

  async addUsers(users: readonly { readonly name: string; readonly buddies: readonly string[] }[]): Promise<void> {
    for (const { name, buddies } of users) this.addUser(name, buddies);
  }

  async close(): Promise<void> {}

  /** Messages waiting at the login server, all devices together. */
  get offlineWaiting(): number {
    let total = 0;
    for (const user of this.users.values()) total += user.mailbox.length;
    return total;
  }

  /** The account of `username`, as its device sees the login server. */
  account(username: string): DeviceAccount {
    const user = this.users.get(username);
    if (!user) throw new Error(`no sim user ${username}`);
    return {
      username,
      identity: () => Promise.resolve(user.identity),
      call: <T>(method: string, path: string, body?: unknown) =>
        new Promise<T>((resolve, reject) => {
          this.clock.after(2 * this.delayMs + this.extraDelayMs, () => {
            try {
              resolve(this.answer(user, username, method, path, body) as T);
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          });
        }),
    };
  }

  private answer(user: SimUser, username: string, method: string, path: string, body: unknown): unknown {
    this.calls++;
    const [route, query = ''] = path.split('?') as [string, string?];
    if (method === 'GET' && route === '/v1/info') {
      return { networkId: toBase64Url(this.ca.networkId), bootstrap: [], revokedSupernodes: [] };
    }
    if (method === 'GET' && route === '/v1/contacts') {
      // The list never changes in a run: version 1, unchanged when the device has it.
      if (new URLSearchParams(query).get('since') === '1') return { version: 1, unchanged: true };
      return { version: 1, entries: user.buddies.map((name) => ({ username: name, kind: 'buddy' })) };
    }
    const devices = /^\/v1\/users\/([^/]+)\/devices$/.exec(route);
    if (method === 'GET' && devices) {
      const other = this.users.get(decodeURIComponent(devices[1]!));
      if (!other) throw new LoginError(404, 'not_found', 'no such user');
      return { devices: [{ id: other.deviceId, dhKey: toBase64Url(other.identity.dh.publicKey) }] };
    }
    const store = /^\/v1\/offline\/(\d+)$/.exec(route);
    if (method === 'POST' && store) {
      const target = this.byDeviceId.get(Number(store[1]));
      const ciphertext = (body as { ciphertext?: unknown } | undefined)?.ciphertext;
      if (!target || typeof ciphertext !== 'string' || !fromBase64Url(ciphertext)) throw new LoginError(400, 'bad_request', 'bad offline message');
      if (target.mailbox.length >= MAX_OFFLINE_PER_DEVICE) {
        this.refusedOffline++;
        throw new LoginError(429, 'mailbox_full', 'too many offline messages for this device');
      }
      target.mailbox.push({ id: this.nextOfflineId++, sender: username, ciphertext, createdAtMs: this.clock.wallTimeMs() });
      this.offlineStored++;
      return {};
    }
    if (method === 'GET' && route === '/v1/offline') return { messages: user.mailbox.slice(0, OFFLINE_PAGE) };
    if (method === 'POST' && route === '/v1/offline/ack') {
      const ids = new Set((body as { ids?: unknown } | undefined)?.ids as number[] | undefined);
      for (let i = user.mailbox.length - 1; i >= 0; i--) if (ids.has(user.mailbox[i]!.id)) user.mailbox.splice(i, 1);
      return {};
    }
    throw new LoginError(404, 'not_found', `the sim's login server does not serve ${method} ${route}`);
  }
}
