// Kademlia's iterative lookup as a state machine (no I/O): it says whom to ask next, at most
// `alpha` at a time, and digests their answers, until the `k` closest nodes it knows have all
// answered (or failed). The caller sends the requests and reports responses, failures and
// timeouts. Used for finding nodes and, with a value check by the caller, records.
// A request that is slow (no answer within about a round trip) stops counting against `alpha`:
// the lookup asks the next contact as well, and still takes the slow one's answer if it comes
// (Kademlia's "stale" requests), so one dead or distant node does not hold up the others.
// Two more rules for latency, both keeping Kademlia's result (every one of the k closest is
// still asked before the lookup is done):
// - an answer that names contacts closer than those still being asked makes those requests
//   stale at once: the lookup asks the closer ones without waiting for the farther ones (whose
//   answers still count), so each hop starts α requests, not one;
// - among the k closest not yet asked, the cheapest to reach is asked first: an open link (one
//   round trip) before a new one (TCP, Noise IK, request: three), a near supernode before a far
//   one; among equal costs, the closest. The caller says what a contact costs. (Ranking only the
//   closest 6 left a lookup's first hop on three new links whenever none of those 6 was linked:
//   p99 4.1 round trips at 200 supernodes, against 3.5 when any of the 20 may go first.)
import { compareDistance, idHex, type NodeId } from './node-id.js';

export const DEFAULT_ALPHA = 3;

export interface LookupContact {
  readonly id: NodeId;
  readonly host: string;
  readonly port: number;
  readonly dhKey: Uint8Array;
  /** A TCP port (443, say) that also takes links and TURN, for web-only firewalls. */
  readonly webPort?: number;
}

type State = 'new' | 'asked' | 'answered' | 'failed';

/** Bound on contacts a lookup tracks, whatever peers answer. */
const MAX_TRACKED = 1000;

export class Lookup {
  private readonly contacts = new Map<string, { contact: LookupContact; state: State; hops: number; slow: boolean }>();
  private inFlight = 0;
  /** Hops of the path that reached each answered node (1 for nodes we knew at the start). */
  maxHops = 0;
  requestsSent = 0;

  constructor(
    readonly target: NodeId,
    initial: readonly LookupContact[],
    private readonly k: number,
    private readonly alpha: number = DEFAULT_ALPHA,
    /** Contacts never to ask (known not to answer): answers naming them are ignored. */
    private readonly skip: (contact: LookupContact) => boolean = () => false,
    /** The time an answer from `contact` is expected to take (ms); without it, the closest is asked first. */
    private readonly costMs?: (contact: LookupContact) => number,
  ) {
    for (const contact of initial) this.add(contact, 1);
  }

  /** Whether the contact is new to this lookup (and now tracked). */
  private add(contact: LookupContact, hops: number): boolean {
    const key = idHex(contact.id);
    if (this.contacts.has(key) || this.contacts.size >= MAX_TRACKED || this.skip(contact)) return false;
    this.contacts.set(key, { contact, state: 'new', hops, slow: false });
    return true;
  }

  private sorted() {
    return [...this.contacts.values()].sort((a, b) => compareDistance(this.target, a.contact.id, b.contact.id));
  }

  /** The k closest that have not failed: once done, the answer. */
  closest(): LookupContact[] {
    return this.sorted()
      .filter((c) => c.state !== 'failed')
      .slice(0, this.k)
      .map((c) => c.contact);
  }

  /** Done when every one of the k closest live contacts has answered. */
  isDone(): boolean {
    const live = this.sorted().filter((c) => c.state !== 'failed').slice(0, this.k);
    return this.inFlight === 0 && live.every((c) => c.state === 'answered');
  }

  /** Contacts to ask now (none while `alpha` requests are in flight or when done). */
  next(): LookupContact[] {
    const out: LookupContact[] = [];
    if (this.inFlight >= this.alpha) return out;
    const fresh = this.sorted()
      .filter((c) => c.state !== 'failed')
      .slice(0, this.k)
      .filter((c) => c.state === 'new');
    const costMs = this.costMs;
    // By cost (a stable sort: among equal costs, the closer first).
    const ranked = costMs ? fresh.map((entry) => ({ entry, cost: costMs(entry.contact) })).sort((a, b) => a.cost - b.cost).map((r) => r.entry) : fresh;
    for (const entry of ranked) {
      if (this.inFlight >= this.alpha) break;
      entry.state = 'asked';
      this.inFlight++;
      this.requestsSent++;
      out.push(entry.contact);
    }
    return out;
  }

  /** `from` answered with the contacts it knows closest to the target. */
  onResponse(from: NodeId, closer: readonly LookupContact[]): void {
    const entry = this.contacts.get(idHex(from));
    if (!entry || entry.state !== 'asked') return; // unsolicited: ignored
    entry.state = 'answered';
    if (!entry.slow) this.inFlight--;
    this.maxHops = Math.max(this.maxHops, entry.hops);
    let best: LookupContact | null = null;
    for (const contact of closer.slice(0, this.k)) {
      if (this.add(contact, entry.hops + 1) && (!best || compareDistance(this.target, contact.id, best.id) < 0)) best = contact;
    }
    if (!best) return;
    // Requests out to contacts farther than what this answer brought stop holding the lookup back.
    for (const other of this.contacts.values()) {
      if (other.state === 'asked' && !other.slow && compareDistance(this.target, best.id, other.contact.id) < 0) {
        other.slow = true;
        this.inFlight--;
      }
    }
  }

  onFailure(from: NodeId): void {
    const entry = this.contacts.get(idHex(from));
    if (!entry || entry.state !== 'asked') return;
    entry.state = 'failed';
    if (!entry.slow) this.inFlight--;
  }

  /** `from` has not answered within the time an answer should take: ask others too; its answer still counts if it comes. */
  onSlow(from: NodeId): void {
    const entry = this.contacts.get(idHex(from));
    if (!entry || entry.state !== 'asked' || entry.slow) return;
    entry.slow = true;
    this.inFlight--;
  }
}
