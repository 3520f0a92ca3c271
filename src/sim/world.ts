// The simulated world: a virtual network, the network CA, supernodes (the real
// `startSupernode`) and client devices (the real `startDevice`) behind NATs, with the login
// server's stand-in (sim-login.ts). It can crash and restart any node; what a node keeps on
// disk (identity, host cache, chat history and its outbox) outlives a crash, as on a real
// machine. Nothing here checks anything: invariants.ts watches, faults.ts decides what breaks.
import { createNetworkCa, CertificateVerifier, Role, type NetworkCa } from '../crypto/certificate.js';
import { issueIdentity, type NodeIdentity } from '../crypto/identity.js';
import type { NetworkDescriptor } from '../crypto/descriptor.js';
import type { Clock, Env } from '../env/types.js';
import { SeededRandom } from '../env/prng.js';
import { VirtualNetwork, type Gateway, type VirtualHost } from '../env/virtual/index.js';
import { startSupernode, type RunningSupernode } from '../supernode/supernode.js';
import { startDevice, type Device, type DeviceStore } from '../client/device.js';
import { ChatHistory } from '../chat/history.js';
import { HostCache, parseHostCache } from '../overlay/host-cache.js';
import { DEFAULT_STATUS, type OwnStatus } from '../client/own-status.js';
import { natOf, type Scenario } from './scenario.js';
import { SimLoginServer, type SimLogin } from './sim-login.js';
import { RealSimLogin } from './real-login.js';
import { addressToText } from '../env/virtual/address.js';

/** The virtual epoch: certificates are issued an hour before it. */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);
const SUPERNODE_PORT = 33033;
/** Supernodes each client's descriptor lists (a real descriptor lists a handful). */
const BOOTSTRAP_PER_CLIENT = 6;
/** Seeds a (re)starting supernode joins through. */
const JOIN_SEEDS = 5;
/** One-way delay to the login server's stand-in. */
const LOGIN_DELAY_MS = 20;

export interface SupernodeRef {
  readonly host: string;
  readonly port: number;
  readonly dhKey: Uint8Array;
}

export interface SimSupernode {
  readonly index: number;
  readonly host: VirtualHost;
  readonly identity: NodeIdentity;
  readonly ref: SupernodeRef;
  running: RunningSupernode | null;
  /** How far its wall clock is off (the clock-skew fault): certificates and records are judged by it. */
  clockSkewMs: number;
  /** A forger (see forger.ts): not one of the scenario's honest supernodes. */
  readonly forger: boolean;
}

export interface SimClient {
  readonly index: number;
  readonly name: string;
  readonly host: VirtualHost;
  /** Its NAT (null: on the internet itself). */
  readonly gateway: Gateway | null;
  /** The address it is known by on the internet (its gateway's, behind a NAT): partitions split on it. */
  readonly publicAddress: number;
  readonly store: DeviceStore;
  readonly descriptor: NetworkDescriptor;
  device: Device | null;
  /** Virtual time since when it has been attached without a break (null: not attached). */
  attachedSinceMs: number | null;
  /** Starts made so far (a crashed start that is still under way is not counted twice). */
  starts: number;
  clockSkewMs: number;
  /** Virtual time since when its clock is off beyond the tolerance (the bad-clock fault), or null. */
  badClockSinceMs: number | null;
}

/**
 * The environment of a node whose wall clock may be off: monotonic time and timers are the
 * network's, wall time is off by the node's `clockSkewMs` as it is now (set and cleared while
 * the node runs). Its timers are charged to its host's CPU account (see Scheduler.measureCpu).
 */
function skewableEnv(host: VirtualHost, node: { clockSkewMs: number }): Env {
  const scheduler = host.clock;
  const clock: Clock = {
    now: () => scheduler.now(),
    wallTimeMs: () => scheduler.wallTimeMs() + node.clockSkewMs,
    after: (delayMs, fn) => scheduler.after(delayMs, fn, host),
  };
  return { ...host.env(), clock };
}

/** A history whose `close` leaves the database open: the profile outlives the process. */
function durableHistory(history: ChatHistory): ChatHistory {
  return Object.create(history, { close: { value: () => {} } }) as ChatHistory;
}

function memoryStore(histories: ChatHistory[]): DeviceStore {
  let hostCacheJson: string | null = null;
  let status: OwnStatus = DEFAULT_STATUS;
  const history = ChatHistory.open(':memory:');
  histories.push(history);
  return {
    loadHostCache: (nowWallMs) => {
      if (hostCacheJson === null) return new HostCache();
      const parsed = parseHostCache(hostCacheJson, nowWallMs);
      return parsed.ok ? parsed.value : new HostCache();
    },
    saveHostCache: (cache) => {
      hostCacheJson = cache.toJSON();
    },
    openHistory: () => durableHistory(history),
    loadStatus: () => status,
    saveStatus: (next) => {
      status = next;
    },
  };
}

export class SimWorld {
  readonly network: VirtualNetwork;
  readonly random: SeededRandom;
  readonly ca: NetworkCa;
  readonly verifier: CertificateVerifier;
  /** The stand-in, or the real login server once `buildClients` started it (scenario.login). */
  login: SimLogin;
  readonly supernodes: SimSupernode[] = [];
  readonly clients: SimClient[] = [];
  /** Forging supernodes (scenario.forgers), built after the honest ones. */
  readonly forgers: SimSupernode[] = [];
  /** Called with each client's device as it starts, before anything runs (the sim subscribes here). */
  onDevice: (client: SimClient, device: Device) => void = () => {};
  /** Failures of starts and restarts, by what failed (a start the device keeps retrying is not one). */
  readonly startFailures = new Map<string, number>();
  private readonly histories: ChatHistory[] = [];
  /** Builds one node at a time, as the simulator first did (to measure what the waves save). */
  serialBuild = false;
  /** Progress lines while building (each wave of supernodes, each thousand clients). */
  log: (line: string) => void = () => {};

  constructor(readonly scenario: Scenario) {
    this.random = new SeededRandom(scenario.seed);
    this.network = new VirtualNetwork(scenario.seed, { epochMs: SIM_EPOCH_MS });
    this.ca = createNetworkCa(this.random);
    this.verifier = new CertificateVerifier(this.ca.keyPair.publicKey);
    this.login = new SimLoginServer(this.ca, this.random, this.network.scheduler, LOGIN_DELAY_MS, SIM_EPOCH_MS - 3_600_000);
  }

  get now(): number {
    return this.network.scheduler.now();
  }

  /** Runs virtual time forward by `ms`, letting async code react at each instant. */
  elapse(ms: number): Promise<void> {
    const scheduler = this.network.scheduler;
    return scheduler.drive(new Promise<void>((resolve) => scheduler.after(ms, resolve)), ms + 1);
  }

  private linkSpec() {
    const { latencyMinMs, latencyMaxMs, jitterMs, lossRate } = this.scenario.link;
    return { latencyMs: latencyMinMs + this.random.float() * (latencyMaxMs - latencyMinMs), jitterMs, lossRate };
  }

  /** Builds the supernodes and has each join through a few that came before it. */
  async buildSupernodes(): Promise<void> {
    const { supernodes, forgers } = this.scenario;
    const all: SimSupernode[] = [];
    for (let index = 0; index < supernodes + forgers; index++) {
      const host = this.network.addHost({ link: this.linkSpec() });
      const identity = issueIdentity(this.ca, this.random, { username: '', role: Role.SUPERNODE, serial: index + 1, issuedAtMs: SIM_EPOCH_MS - 3_600_000 });
      const forger = index >= supernodes;
      all.push({ index, host, identity, ref: { host: host.addressText, port: SUPERNODE_PORT, dhKey: identity.dh.publicKey }, running: null, clockSkewMs: 0, forger });
    }
    // Joins in waves, each a quarter as large as the network already running (one at a time
    // while it is small): the network grows by a quarter per wave instead of by one, so the
    // virtual time the build takes (during which every node's timers run) grows as log N, not N.
    for (let next = 0; next < all.length; ) {
      const wave = this.serialBuild ? 1 : Math.max(1, Math.floor(next / 4));
      const joining = all.slice(next, next + wave);
      next += joining.length;
      for (const supernode of joining) (supernode.forger ? this.forgers : this.supernodes).push(supernode);
      await this.network.scheduler.drive(Promise.all(joining.map((s) => this.startSupernode(s))));
      if (wave > 1) this.log(`${next} supernodes joined (${(this.now / 1000).toFixed(1)} s virtual)`);
    }
  }

  private async startSupernode(supernode: SimSupernode): Promise<void> {
    const running = await startSupernode(skewableEnv(supernode.host, supernode), {
      identity: supernode.identity,
      verifier: this.verifier,
      port: SUPERNODE_PORT,
      attachment: { maxClients: this.maxClientsPerSupernode },
    });
    supernode.running = running;
    // Forgers join through honest supernodes; honest ones never pick a forger as a seed.
    const others = this.supernodes.filter((s) => s !== supernode && s.running);
    const seeds = this.pick(others, JOIN_SEEDS).map((s) => s.ref);
    if (seeds.length > 0) await running.join(seeds);
  }

  /** The attachment limit each supernode is given: room for three times its share of clients. */
  get maxClientsPerSupernode(): number {
    return Math.max(8, Math.ceil((3 * this.scenario.clients) / this.scenario.supernodes));
  }

  private pick<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    const picked: T[] = [];
    while (picked.length < count && pool.length > 0) picked.push(pool.splice(this.random.int(pool.length), 1)[0]!);
    return picked;
  }

  /**
   * Creates every client (user, host, NAT) and starts their devices, as many at once as there
   * are supernodes (each wave done before the next; one at a time with `serialBuild`).
   */
  async buildClients(): Promise<void> {
    const { clients, buddies } = this.scenario;
    const names = Array.from({ length: clients }, (_, i) => `user${i}`);
    const users = names.map((name, i) => {
      const ring = Array.from({ length: buddies }, (_, k) => names[(i + k + 1) % clients]!);
      const back = Array.from({ length: buddies }, (_, k) => names[(i - k - 1 + clients) % clients]!);
      return { name, buddies: [...new Set([...ring, ...back])].filter((n) => n !== name) };
    });
    if (this.scenario.login === 'real') {
      const byName = new Map<string, SimClient>();
      this.onClientCreated = (client) => byName.set(client.name, client);
      this.login = await RealSimLogin.start({
        ca: this.ca,
        scheduler: this.network.scheduler,
        descriptor: this.descriptorWith([]),
        random: this.random.fork(),
        delayMs: LOGIN_DELAY_MS,
        addressOf: (name) => {
          const client = byName.get(name);
          return client ? addressToText(client.publicAddress) : null;
        },
      });
    }
    await this.network.scheduler.drive(this.login.addUsers(users));
    const starting: SimClient[] = [];
    const wave = this.serialBuild ? 1 : Math.max(1, this.scenario.supernodes);
    for (let index = 0; index < clients; index++) {
      const nat = natOf(this.scenario, index);
      const gateway = nat === 'open' ? null : this.network.addGateway({ nat, link: this.linkSpec() });
      const host = gateway ? this.network.addHost({ behind: gateway, link: { latencyMs: 1 } }) : this.network.addHost({ link: this.linkSpec() });
      const descriptor = this.descriptorWith(this.pick(this.supernodes, BOOTSTRAP_PER_CLIENT).map((s) => s.ref));
      const client: SimClient = { index, name: names[index]!, host, gateway, publicAddress: (gateway ?? host).address, store: memoryStore(this.histories), descriptor, device: null, attachedSinceMs: null, starts: 0, clockSkewMs: 0, badClockSinceMs: null };
      this.clients.push(client);
      this.onClientCreated(client);
      starting.push(client);
      if (starting.length === wave || index === clients - 1) {
        await this.network.scheduler.drive(Promise.all(starting.splice(0).map((c) => this.startClient(c))));
        if ((index + 1) % 1000 < wave) this.log(`${index + 1} clients started (${(this.now / 1000).toFixed(1)} s virtual)`);
      }
    }
  }

  private onClientCreated: (client: SimClient) => void = () => {};

  /** The network's descriptor as a device is given it, with these supernodes to start from. */
  private descriptorWith(bootstrap: NetworkDescriptor['bootstrap']): NetworkDescriptor {
    return { version: 1, name: 'sim', caPublicKey: this.ca.keyPair.publicKey, networkId: this.ca.networkId, loginServerUrl: 'https://login.sim', bootstrap };
  }

  /** Starts `client`'s device; it keeps trying to attach on its own ('persist'). */
  async startClient(client: SimClient): Promise<void> {
    client.starts++;
    const start = client.starts;
    try {
      const device = await startDevice(skewableEnv(client.host, client), {
        account: this.login.account(client.name),
        descriptor: client.descriptor,
        store: client.store,
        policy: { callsFrom: 'buddies', readReceipts: false },
        attach: 'persist',
        listen: (device) => {
          client.device = device;
          device.onEvent((event) => {
            if (event.kind !== 'attachment' || client.device !== device) return;
            if (event.event.kind === 'attached') client.attachedSinceMs = this.now;
            else if (event.event.kind === 'lost' || event.event.kind === 'unreachable') client.attachedSinceMs = null;
          });
          this.onDevice(client, device);
        },
      });
      // Crashed while starting: this start's device is already replaced or gone.
      if (client.starts !== start || !client.host.up) await device.close();
    } catch (error) {
      const what = error instanceof Error ? error.message : String(error);
      this.startFailures.set(what, (this.startFailures.get(what) ?? 0) + 1);
    }
  }

  /** A client's machine crashes: its sockets vanish without a word, its process stops. */
  crashClient(client: SimClient): void {
    if (!client.host.up) return;
    client.host.crash();
    const device = client.device;
    client.device = null;
    client.attachedSinceMs = null;
    if (device) void device.close().catch(() => {});
  }

  /** The machine comes back and the device starts again from its profile. */
  restartClient(client: SimClient): void {
    if (client.host.up) return;
    client.host.up = true;
    void this.startClient(client);
  }

  crashSupernode(supernode: SimSupernode): void {
    if (!supernode.host.up) return;
    supernode.host.crash();
    supernode.running?.close();
    supernode.running = null;
  }

  restartSupernode(supernode: SimSupernode): void {
    if (supernode.host.up) return;
    supernode.host.up = true;
    void this.startSupernode(supernode).catch((error: unknown) => {
      const what = `supernode restart: ${error instanceof Error ? error.message : String(error)}`;
      this.startFailures.set(what, (this.startFailures.get(what) ?? 0) + 1);
    });
  }

  /** Stops everything (at the end of a run, also a failed one). */
  async close(): Promise<void> {
    for (const client of this.clients) {
      const device = client.device;
      client.device = null;
      if (device) await device.close().catch(() => {});
    }
    for (const supernode of [...this.supernodes, ...this.forgers]) supernode.running?.close();
    for (const history of this.histories) history.close();
    await this.login.close();
  }
}
