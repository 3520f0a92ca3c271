// What a TURN server counts, as one plain value: a snapshot a worker thread posts to the main
// thread (structured-cloneable), and the sum over the threads of one relay that the metrics show.
import type { PeerRefusal } from './peer-policy.js';
import type { TurnRefusal, TurnServer } from './turn-server.js';

export interface TurnTotals {
  /** Live now. */
  readonly allocations: number;
  readonly reservations: number;
  /** Since the start (counters). */
  readonly allocationsCreated: number;
  readonly ipv6AllocationsCreated: number;
  readonly redirected: number;
  readonly relayPortsBusy: number;
  readonly relayed: { readonly toPeers: number; readonly toClients: number; readonly bytes: number };
  readonly refused: ReadonlyMap<TurnRefusal, number>;
  readonly forbiddenPeers: ReadonlyMap<PeerRefusal, number>;
}

export const NO_TURN_TOTALS: TurnTotals = { allocations: 0, reservations: 0, allocationsCreated: 0, ipv6AllocationsCreated: 0, redirected: 0, relayPortsBusy: 0, relayed: { toPeers: 0, toClients: 0, bytes: 0 }, refused: new Map(), forbiddenPeers: new Map() };

export function totalsOf(server: TurnServer): TurnTotals {
  return {
    allocations: server.allocationCount,
    reservations: server.reservationCount,
    allocationsCreated: server.allocationsCreated,
    ipv6AllocationsCreated: server.ipv6AllocationsCreated,
    redirected: server.redirected,
    relayPortsBusy: server.relayPortsBusy,
    relayed: { ...server.relayed },
    refused: new Map(server.refused),
    forbiddenPeers: new Map(server.forbiddenPeers),
  };
}

function addCounts<K>(into: Map<K, number>, from: ReadonlyMap<K, number>): void {
  for (const [key, count] of from) into.set(key, (into.get(key) ?? 0) + count);
}

export function sumTotals(all: readonly TurnTotals[]): TurnTotals {
  const refused = new Map<TurnRefusal, number>();
  const forbiddenPeers = new Map<PeerRefusal, number>();
  const sum = (pick: (t: TurnTotals) => number) => all.reduce((total, t) => total + pick(t), 0);
  for (const t of all) {
    addCounts(refused, t.refused);
    addCounts(forbiddenPeers, t.forbiddenPeers);
  }
  return {
    allocations: sum((t) => t.allocations),
    reservations: sum((t) => t.reservations),
    allocationsCreated: sum((t) => t.allocationsCreated),
    ipv6AllocationsCreated: sum((t) => t.ipv6AllocationsCreated),
    redirected: sum((t) => t.redirected),
    relayPortsBusy: sum((t) => t.relayPortsBusy),
    relayed: { toPeers: sum((t) => t.relayed.toPeers), toClients: sum((t) => t.relayed.toClients), bytes: sum((t) => t.relayed.bytes) },
    refused,
    forbiddenPeers,
  };
}

/** A thread's totals once it ended: its counters stay in the sums (they only grow), its live figures are gone with it. */
export function retired(t: TurnTotals): TurnTotals {
  return { ...t, allocations: 0, reservations: 0 };
}
