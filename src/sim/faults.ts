// The fault schedule as a timeline of actions on the world: each fault starts, and ends (the
// crashed come back, the partition heals). The liveness phase ends every fault still holding.
import { BAD_CLOCK_AHEAD_MS, BAD_CLOCK_BEHIND_MS, type Fault } from './scenario.js';
import type { SimClient, SimSupernode, SimWorld } from './world.js';

export interface FaultRecord {
  readonly fault: Fault;
  /** Run time the fault began and ended (ms since the run started). */
  readonly startMs: number;
  endMs: number | null;
  /** Run time the network was healthy again, first after the start and first after the end. */
  healthyAfterStartMs: number | null;
  healthyAfterEndMs: number | null;
  /** What it struck, in words (how many nodes, how far, how slow). */
  detail: string;
  /** How many nodes (or public addresses, for a partition) it struck; 0 for the login server's. */
  struck: number;
}

/** Milliseconds as seconds for the report, to a tenth. */
const seconds = (ms: number) => (ms / 1000).toFixed(1);

/** A clogged link queues up to this much before it drops datagrams (a bloated home-router buffer). */
const CLOGGED_QUEUE_MS = 1_000;

interface Action {
  readonly atMs: number;
  readonly run: () => void;
}

/** Ends a fault: what it broke comes back. */
type Undo = () => void;

export class FaultSchedule {
  readonly records: FaultRecord[] = [];
  private readonly actions: Action[] = [];
  private readonly active = new Map<FaultRecord, Undo>();

  constructor(
    private readonly world: SimWorld,
    faults: readonly Fault[],
  ) {
    for (const fault of faults) this.actions.push({ atMs: fault.atMs, run: () => this.begin(fault) });
    this.actions.sort((a, b) => a.atMs - b.atMs);
  }

  /** Runs the actions due at run time `runMs`. */
  advance(runMs: number): void {
    while (this.actions.length > 0 && this.actions[0]!.atMs <= runMs) this.actions.shift()!.run();
    this.nowMs = runMs;
  }

  private nowMs = 0;

  /** True while a fault holds. */
  get holding(): boolean {
    return this.active.size > 0;
  }

  /** When the last fault ended (run time), or null if none has. */
  get lastEndMs(): number | null {
    let last: number | null = null;
    for (const r of this.records) if (r.endMs !== null && (last === null || r.endMs > last)) last = r.endMs;
    return last;
  }

  private later(delayMs: number, run: () => void): void {
    this.actions.push({ atMs: this.nowMs + delayMs, run });
    this.actions.sort((a, b) => a.atMs - b.atMs);
  }

  private begin(fault: Fault): void {
    const record: FaultRecord = { fault, startMs: this.nowMs, endMs: null, healthyAfterStartMs: null, healthyAfterEndMs: null, detail: '', struck: 0 };
    this.records.push(record);
    const { world } = this;
    const live = world.supernodes.filter((s) => s.host.up);
    switch (fault.kind) {
      case 'crash':
      case 'outage': {
        const count = fault.kind === 'crash' ? fault.count : Math.round(fault.share * world.supernodes.length);
        // Leave at least one supernode standing: a network with none is not a fault but the end.
        const victims = pickFrom(world, live, Math.min(count, live.length - 1));
        for (const s of victims) world.crashSupernode(s);
        record.struck = victims.length;
        record.detail = `${victims.length} supernodes down for ${seconds(fault.downMs)} s`;
        this.hold(record, fault.downMs, () => victims.forEach((s) => world.restartSupernode(s)));
        break;
      }
      case 'mass-restart': {
        const clients = world.clients.filter((c) => c.host.up);
        for (const c of clients) world.crashClient(c);
        record.struck = clients.length;
        record.detail = `${clients.length} clients back within ${seconds(fault.spreadMs)} s`;
        // Back one by one over the spread, in a seeded order.
        const order = pickFrom(world, clients, clients.length);
        let pending = order.length;
        const undo = () => {
          for (const c of order) world.restartClient(c);
        };
        this.active.set(record, undo);
        order.forEach((c, i) =>
          this.later(Math.round((i / Math.max(1, order.length)) * fault.spreadMs), () => {
            world.restartClient(c);
            if (--pending === 0) this.finish(record);
          }),
        );
        if (order.length === 0) this.finish(record);
        break;
      }
      case 'partition': {
        const side = new Set<number>();
        for (const s of pickFrom(world, world.supernodes, Math.max(1, Math.round(fault.share * world.supernodes.length)))) side.add(s.host.address);
        for (const c of pickFrom(world, world.clients, Math.round(fault.share * world.clients.length))) side.add(c.publicAddress);
        world.network.severed = (a, b) => side.has(a) !== side.has(b);
        record.struck = side.size;
        record.detail = `${side.size} public addresses cut off for ${seconds(fault.healAfterMs)} s`;
        this.hold(record, fault.healAfterMs, () => {
          world.network.severed = null;
        });
        break;
      }
      case 'clock-skew': {
        const nodes = [...world.supernodes, ...world.clients];
        const skewed = pickFrom(world, nodes, Math.max(1, Math.round(fault.share * nodes.length)));
        // Each its own amount, ahead or behind, from a fifth of the most up to the most.
        for (const node of skewed) node.clockSkewMs = Math.round((world.random.float() < 0.5 ? -1 : 1) * (0.2 + 0.8 * world.random.float()) * fault.maxSkewMs);
        const most = Math.max(...skewed.map((node) => Math.abs(node.clockSkewMs)));
        record.struck = skewed.length;
        record.detail = `${skewed.length} nodes' clocks off by up to ${Math.round(most / 1000)} s for ${seconds(fault.forMs)} s`;
        this.hold(record, fault.forMs, () => skewed.forEach((node) => (node.clockSkewMs = 0)));
        break;
      }
      case 'nat-loss': {
        const behindNat = world.clients.filter((c) => c.gateway !== null);
        const struck = pickFrom(world, behindNat, Math.round(fault.share * behindNat.length));
        let mappings = 0;
        for (const c of struck) {
          mappings += c.gateway!.udp.size + c.gateway!.tcp.size;
          c.gateway!.forgetMappings();
        }
        record.struck = struck.length;
        record.detail = `${struck.length} NATs forgot ${mappings} mappings`;
        // Over at once: what it broke (the links through those NATs) must mend on its own.
        this.finish(record);
        break;
      }
      case 'clog': {
        const clogged = pickFrom(world, world.supernodes, Math.max(1, Math.round(fault.share * world.supernodes.length)));
        for (const s of clogged) world.network.clog(s.host, { bandwidthBps: fault.bandwidthBps, queueLimitMs: CLOGGED_QUEUE_MS });
        record.struck = clogged.length;
        record.detail = `${clogged.length} supernodes' links at ${Math.round(fault.bandwidthBps / 1000)} kbit/s for ${seconds(fault.forMs)} s`;
        this.hold(record, fault.forMs, () => clogged.forEach((s) => world.network.clog(s.host, null)));
        break;
      }
      case 'bad-clock': {
        const struck = pickFrom(world, world.clients, Math.min(fault.count, world.clients.length));
        const between = (range: { min: number; max: number }) => Math.round(range.min + world.random.float() * (range.max - range.min));
        // Their machines restart with the clock wrong (a flat CMOS battery, a bad image): the
        // device starts and must attach with records stamped by that clock.
        for (const c of struck) {
          world.crashClient(c);
          c.clockSkewMs = world.random.float() < 0.5 ? between(BAD_CLOCK_AHEAD_MS) : -between(BAD_CLOCK_BEHIND_MS);
          c.badClockSinceMs = world.now;
        }
        // The injected bug: supernodes that believe the first struck client's clock (ahead), as
        // ones that did not check a record's time would. The invariant must catch it.
        const believers = world.scenario.injections.includes('accept-bad-clock') ? world.supernodes : [];
        if (believers.length > 0 && struck[0]) {
          struck[0].clockSkewMs = Math.abs(struck[0].clockSkewMs);
          for (const s of believers) s.clockSkewMs = struck[0].clockSkewMs;
        }
        for (const c of struck) world.restartClient(c);
        const ahead = struck.filter((c) => c.clockSkewMs > 0).length;
        record.struck = struck.length;
        record.detail = `${struck.length} clients restarted with clocks off beyond the tolerance (${ahead} ahead, ${struck.length - ahead} behind) for ${seconds(fault.forMs)} s`;
        this.hold(record, fault.forMs, () => {
          for (const node of [...struck, ...believers]) node.clockSkewMs = 0;
          for (const c of struck) c.badClockSinceMs = null;
        });
        break;
      }
      case 'slow-login': {
        world.login.extraDelayMs = fault.delayMs;
        record.detail = `login server answers ${seconds(fault.delayMs)} s late for ${seconds(fault.forMs)} s`;
        this.hold(record, fault.forMs, () => {
          world.login.extraDelayMs = 0;
        });
        break;
      }
    }
  }

  private hold(record: FaultRecord, forMs: number, undo: Undo): void {
    this.active.set(record, undo);
    this.later(forMs, () => {
      if (!this.active.has(record)) return;
      undo();
      this.finish(record);
    });
  }

  private finish(record: FaultRecord): void {
    this.active.delete(record);
    record.endMs = this.nowMs;
  }

  /** The liveness phase: every fault still holding ends now, and no new one starts. */
  endAll(runMs: number): void {
    this.nowMs = runMs;
    this.actions.length = 0;
    for (const [record, undo] of [...this.active]) {
      undo();
      this.finish(record);
    }
  }
}

function pickFrom<T extends SimSupernode | SimClient>(world: SimWorld, items: readonly T[], count: number): T[] {
  const pool = [...items];
  const picked: T[] = [];
  while (picked.length < count && pool.length > 0) picked.push(pool.splice(world.random.int(pool.length), 1)[0]!);
  return picked;
}
