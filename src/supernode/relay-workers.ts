// A TURN relay on every core: worker threads (relay-worker.ts), each a TURN server over UDP with
// its own socket on its own port, owning its allocations and relay sockets. Node 20's dgram has
// no SO_REUSEPORT, so the threads do not share the advertised port: the supernode's own port
// (the main thread) answers an Allocate with 300 Try Alternate to the user's home thread
// (turn/relay-home.ts: a hash of the user), as RFC 8489 section 10 allows and coturn's
// turnutils_uclient, Chromium and Parley's TurnClient follow. A user always lands on the same
// thread, so per-user quotas hold as they did in one thread; the server-wide bounds (allocations,
// reservations, bytes per second) are shared out evenly. The threads share a port board
// (turn/port-board.ts) so that relay to relay works across threads and no thread relays into
// another's service port.
//
// A thread that dies takes its allocations with it (its sockets close with it): its clients'
// next Refresh or ChannelData gets nothing, and they allocate again. Its row of the board is
// cleared, its counters stay in the sums, and it is started again on the same port when it can
// be, after a pause that doubles while it keeps dying young (at most MAX_RESTART_DELAY_MS).
import { Worker } from 'node:worker_threads';
import type { Endpoint } from '../env/types.js';
import type { Cidr } from '../turn/peer-policy.js';
import { PortBoard } from '../turn/port-board.js';
import { homeIndexOf } from '../turn/relay-home.js';
import { DEFAULT_TURN_LIMITS, type TurnLimits } from '../turn/turn-allocations.js';
import { NO_TURN_TOTALS, retired, sumTotals, type TurnTotals } from '../turn/turn-totals.js';

/** How often a worker posts its counters (what the metrics show is at most this old). */
export const TURN_COUNTERS_INTERVAL_MS = 1_000;
/** How long a worker may take to start. */
export const WORKER_START_TIMEOUT_MS = 10_000;
/** A worker that lived this long before it died is restarted at once; a younger one waits, longer each time. */
const HEALTHY_LIFETIME_MS = 10_000;
const FIRST_RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 30_000;
/** Bounds on how many threads one relay runs. */
export const MAX_RELAY_WORKERS = 64;

/** What a worker is started with (structured-cloned, but for the board's shared memory). */
export interface RelayWorkerData {
  readonly index: number;
  /** Servers on the board: the main thread's and every worker's. */
  readonly servers: number;
  readonly board: SharedArrayBuffer;
  /** Where to bind (default every IPv4 address). */
  readonly host?: string;
  /** The main thread's TURN port as advertised: where to send a user whose home is not known yet. */
  readonly primary: Endpoint;
  /** Every worker's port as advertised (port 0: not known yet). */
  readonly homes: readonly Endpoint[];
  /** The port to bind again after a restart. */
  readonly preferredPort: number | null;
  readonly realm: string;
  readonly secret: Uint8Array;
  readonly relayHost: string;
  readonly ipv6Relay?: { readonly host: string; readonly bindHost: string };
  /** This worker's slice of the relay port range. */
  readonly relayPorts?: { readonly min: number; readonly max: number };
  readonly allowPeers?: readonly Cidr[];
  readonly serviceEndpoints: readonly Endpoint[];
  readonly limits: TurnLimits;
}

export type ToRelayWorker = { readonly type: 'homes'; readonly homes: readonly Endpoint[] } | { readonly type: 'totals'; readonly ask: number } | { readonly type: 'close' };
export type FromRelayWorker = { readonly type: 'ready'; readonly port: number } | { readonly type: 'totals'; readonly totals: TurnTotals; readonly ask?: number };

export interface RelayWorkersOptions {
  readonly count: number;
  readonly host?: string;
  /** The host put in ALTERNATE-SERVER: the workers' ports at the supernode's public address. */
  readonly advertisedHost: string;
  readonly primary: Endpoint;
  readonly realm: string;
  readonly secret: Uint8Array;
  readonly relayHost: string;
  readonly ipv6Relay?: { readonly host: string; readonly bindHost: string };
  readonly relayPorts?: { readonly min: number; readonly max: number };
  readonly allowPeers?: readonly Cidr[];
  readonly serviceEndpoints: readonly Endpoint[];
  readonly limits?: Partial<TurnLimits>;
  /** Lines for the operator (a worker died, was restarted). */
  readonly log?: (line: string) => void;
}

/** Worker `index`'s share of the relay ports: the range cut in `count` slices. */
export function relayPortSlice(range: { min: number; max: number }, index: number, count: number): { min: number; max: number } {
  const size = range.max - range.min + 1;
  return { min: range.min + Math.floor((index * size) / count), max: range.min + Math.floor(((index + 1) * size) / count) - 1 };
}

/** The server-wide bounds shared out over `count` threads; the per-user and per-allocation ones unchanged (a user lives in one thread). */
export function limitsPerWorker(limits: Partial<TurnLimits>, count: number): TurnLimits {
  const all = { ...DEFAULT_TURN_LIMITS, ...limits };
  return { ...all, allocations: Math.ceil(all.allocations / count), reservations: Math.ceil(all.reservations / count), bytesPerSecond: all.bytesPerSecond / count };
}

interface Slot {
  worker: Worker | null;
  port: number;
  startedAtMs: number;
  /** Consecutive deaths young. */
  youngDeaths: number;
  totals: TurnTotals;
  restart: NodeJS.Timeout | null;
}

export class RelayWorkers {
  /** The main thread's server is 0 on the board; worker i is i + 1. */
  readonly board: PortBoard;
  /** Workers that died and were started again. */
  restarts = 0;
  private readonly slots: Slot[];
  /** Counters of workers that ended, kept in the sums. */
  private retiredTotals: TurnTotals[] = [];
  private readonly waiters = new Map<number, () => void>();
  private readonly restartWaiters: ((index: number) => void)[] = [];
  private asks = 0;
  /** Once every worker first started: from then on, one that dies (or fails to start again) is started again. */
  private running = false;
  private closed = false;
  private closing: Promise<void> | null = null;

  private constructor(private readonly options: RelayWorkersOptions) {
    this.board = PortBoard.create(options.count + 1);
    this.slots = Array.from({ length: options.count }, () => ({ worker: null, port: 0, startedAtMs: 0, youngDeaths: 0, totals: NO_TURN_TOTALS, restart: null }));
  }

  /** Starts `count` workers and resolves once every one has bound its port. */
  static async start(options: RelayWorkersOptions): Promise<RelayWorkers> {
    if (!(Number.isInteger(options.count) && options.count >= 2 && options.count <= MAX_RELAY_WORKERS)) throw new RangeError(`relay workers: 2-${MAX_RELAY_WORKERS}, not ${options.count}`);
    const workers = new RelayWorkers(options);
    try {
      await Promise.all(workers.slots.map((_, index) => workers.spawn(index)));
    } catch (error) {
      await workers.close();
      throw error;
    }
    workers.running = true;
    workers.tellHomes();
    return workers;
  }

  get count(): number {
    return this.slots.length;
  }

  /** Every worker's port as advertised (port 0 while one is starting). */
  homes(): Endpoint[] {
    return this.slots.map((slot) => ({ host: this.options.advertisedHost, port: slot.port }));
  }

  /** The worker that holds `user`'s allocations. */
  homeOf(user: string): Endpoint {
    return { host: this.options.advertisedHost, port: this.slots[homeIndexOf(user, this.slots.length)]!.port };
  }

  /** Every worker's counters as last posted (at most TURN_COUNTERS_INTERVAL_MS old), with those of ended ones. */
  totals(): TurnTotals {
    return sumTotals([...this.retiredTotals, ...this.slots.map((slot) => slot.totals)]);
  }

  /** Asks every live worker for its counters now; resolves once all answered (or ended). */
  async sync(): Promise<TurnTotals> {
    await Promise.all(
      this.slots.map((slot) => {
        const worker = slot.worker;
        if (!worker) return Promise.resolve();
        const ask = ++this.asks;
        return new Promise<void>((resolve) => {
          const done = () => {
            worker.off('exit', done);
            this.waiters.delete(ask);
            resolve();
          };
          this.waiters.set(ask, done);
          worker.once('exit', done);
          worker.postMessage({ type: 'totals', ask } satisfies ToRelayWorker);
        });
      }),
    );
    return this.totals();
  }

  /** Ends worker `index` at once, as a crash would (its allocations are gone); it is started again like after one. */
  async crash(index: number): Promise<void> {
    await this.slots[index]?.worker?.terminate();
  }

  /** Resolves when a worker was started again after it died; with its index. */
  nextRestart(): Promise<number> {
    return new Promise((resolve) => this.restartWaiters.push(resolve));
  }

  /** Ends every worker; resolves once all have (the same promise for every call). */
  close(): Promise<void> {
    this.closing ??= this.end();
    return this.closing;
  }

  private async end(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.restart) clearTimeout(slot.restart);
        const worker = slot.worker;
        slot.worker = null;
        if (!worker) return;
        const ended = new Promise((resolve) => worker.once('exit', resolve));
        worker.postMessage({ type: 'close' } satisfies ToRelayWorker);
        // A worker that does not end by itself (stuck) is ended.
        const timer = setTimeout(() => void worker.terminate(), 1_000);
        await ended;
        clearTimeout(timer);
      }),
    );
  }

  private spawn(index: number): Promise<void> {
    const slot = this.slots[index]!;
    const o = this.options;
    const data: RelayWorkerData = {
      index,
      servers: this.board.servers,
      board: this.board.buffer,
      ...(o.host ? { host: o.host } : {}),
      primary: o.primary,
      homes: this.homes(),
      preferredPort: slot.port === 0 ? null : slot.port,
      realm: o.realm,
      secret: o.secret,
      relayHost: o.relayHost,
      ...(o.ipv6Relay ? { ipv6Relay: o.ipv6Relay } : {}),
      ...(o.relayPorts ? { relayPorts: relayPortSlice(o.relayPorts, index, this.slots.length) } : {}),
      ...(o.allowPeers ? { allowPeers: o.allowPeers } : {}),
      serviceEndpoints: o.serviceEndpoints,
      limits: limitsPerWorker(o.limits ?? {}, this.slots.length),
    };
    const worker = new Worker(new URL('./relay-worker.js', import.meta.url), { workerData: data });
    slot.worker = worker;
    slot.startedAtMs = Date.now();
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        reject(new Error(`relay worker ${index} did not start within ${WORKER_START_TIMEOUT_MS} ms`));
        void worker.terminate();
      }, WORKER_START_TIMEOUT_MS);
      worker.on('message', (message: FromRelayWorker) => {
        if (message.type === 'ready') {
          ready = true;
          clearTimeout(timer);
          if (slot.port !== 0 && slot.port !== message.port) this.board.unmarkService(slot.port);
          slot.port = message.port;
          this.board.markService(message.port);
          resolve();
          return;
        }
        slot.totals = message.totals;
        if (message.ask !== undefined) this.waiters.get(message.ask)?.();
      });
      // The 'exit' that follows does the rest.
      worker.on('error', (error) => o.log?.(`relay worker ${index} failed: ${error.message}`));
      worker.on('exit', (code) => {
        clearTimeout(timer);
        if (!ready) reject(new Error(`relay worker ${index} ended (code ${code}) before it started`));
        this.ended(index, worker);
      });
    });
  }

  /** A worker ended: its relays are gone from the board, its counters retired; unless closing, it is started again. */
  private ended(index: number, worker: Worker): void {
    const slot = this.slots[index]!;
    this.board.clearRelays(index + 1);
    if (slot.worker !== worker) return; // closing: close() let go of it
    slot.worker = null;
    this.retiredTotals = [sumTotals([...this.retiredTotals, retired(slot.totals)])];
    slot.totals = NO_TURN_TOTALS;
    if (this.closed || !this.running) return;
    const young = Date.now() - slot.startedAtMs < HEALTHY_LIFETIME_MS;
    slot.youngDeaths = young ? slot.youngDeaths + 1 : 0;
    const delayMs = young ? Math.min(MAX_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** (slot.youngDeaths - 1)) : 0;
    this.options.log?.(`relay worker ${index} (port ${slot.port}) ended; starting it again in ${delayMs} ms`);
    slot.restart = setTimeout(() => {
      slot.restart = null;
      if (this.closed) return;
      this.spawn(index).then(
        () => {
          this.restarts++;
          this.tellHomes();
          for (const waiter of this.restartWaiters.splice(0)) waiter(index);
        },
        // Its 'exit' schedules the next try.
        (error: unknown) => this.options.log?.(`relay worker ${index} could not start again: ${(error as Error).message}`),
      );
    }, delayMs);
  }

  /** Every worker learns every worker's port (a restarted one may have a new one). */
  private tellHomes(): void {
    const homes = this.homes();
    for (const slot of this.slots) slot.worker?.postMessage({ type: 'homes', homes } satisfies ToRelayWorker);
  }
}
