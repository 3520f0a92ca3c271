// A Kademlia routing table: 256 k-buckets by common-prefix length with our own id. A full
// bucket keeps its old contacts (long-lived nodes tend to stay, and an attacker cannot flush a
// bucket with new ids): the newcomer is refused and the bucket's least recently seen contact is
// returned, for the caller to ping and evict if it is dead. The newcomer waits in the bucket's
// replacement cache (Kademlia §4.1): when a contact fails to answer, the freshest replacement
// takes its place at once. A contact that failed is "suspect": it is not handed out (to lookups
// or in answers to other supernodes) until it answers again.
import { commonPrefixBits, compareDistance, idHex, sameId, ID_BYTES, type NodeId } from './node-id.js';

export const DEFAULT_BUCKET_SIZE = 20; // Kademlia's k
/** Replacements waiting per bucket (the most recently seen are kept). */
export const REPLACEMENTS_PER_BUCKET = 8;

export interface Contact {
  readonly id: NodeId;
  readonly host: string;
  readonly port: number;
  readonly dhKey: Uint8Array;
  /** A TCP port (443, say) that also takes links and TURN, for web-only firewalls. */
  readonly webPort?: number;
  lastSeenMs: number;
  failures: number;
}

/** `closest` keeps up to this many in order as it goes; asked for more, it sorts the table. */
const SELECT_AT_MOST = 64;

/** The first 32 bits of an id, as an unsigned number. */
function prefix32(id: NodeId): number {
  return ((id[0]! << 24) | (id[1]! << 16) | (id[2]! << 8) | id[3]!) >>> 0;
}

export type InsertOutcome = { readonly kind: 'added' | 'updated' | 'self' } | { readonly kind: 'full'; readonly oldest: Contact };

export class RoutingTable {
  private readonly buckets: Contact[][] = Array.from({ length: ID_BYTES * 8 }, () => []);
  private readonly byId = new Map<string, Contact>();
  /** Per bucket index, contacts that found it full (oldest first); only buckets that filled have one. */
  private readonly replacements = new Map<number, Contact[]>();

  constructor(
    readonly self: NodeId,
    readonly bucketSize: number = DEFAULT_BUCKET_SIZE,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  /** Whether any contact is not suspect. */
  get hasLive(): boolean {
    for (const c of this.byId.values()) if (c.failures === 0) return true;
    return false;
  }

  get(id: NodeId): Contact | undefined {
    return this.byId.get(idHex(id));
  }

  /** Adds or refreshes a contact seen alive at `nowMs`. */
  insert(contact: Omit<Contact, 'lastSeenMs' | 'failures'>, nowMs: number): InsertOutcome {
    if (sameId(contact.id, this.self)) return { kind: 'self' };
    const key = idHex(contact.id);
    const bucket = this.buckets[commonPrefixBits(this.self, contact.id)]!;
    const existing = this.byId.get(key);
    if (existing) {
      // Move to the tail (most recently seen); the address may have changed.
      bucket.splice(bucket.indexOf(existing), 1);
      const updated: Contact = { ...contact, lastSeenMs: nowMs, failures: 0 };
      bucket.push(updated);
      this.byId.set(key, updated);
      return { kind: 'updated' };
    }
    if (bucket.length >= this.bucketSize) {
      this.addReplacement(commonPrefixBits(this.self, contact.id), { ...contact, lastSeenMs: nowMs, failures: 0 });
      return { kind: 'full', oldest: bucket[0]! };
    }
    const added: Contact = { ...contact, lastSeenMs: nowMs, failures: 0 };
    bucket.push(added);
    this.byId.set(key, added);
    return { kind: 'added' };
  }

  private addReplacement(index: number, contact: Contact): void {
    let waiting = this.replacements.get(index);
    if (!waiting) this.replacements.set(index, (waiting = []));
    const at = waiting.findIndex((c) => sameId(c.id, contact.id));
    if (at >= 0) waiting.splice(at, 1);
    else if (waiting.length >= REPLACEMENTS_PER_BUCKET) waiting.shift();
    waiting.push(contact);
  }

  /** Replacements waiting in all buckets. */
  get replacementCount(): number {
    let n = 0;
    for (const waiting of this.replacements.values()) n += waiting.length;
    return n;
  }

  /** Removes a contact (and any replacement with its id); the freshest replacement takes its place. */
  remove(id: NodeId): boolean {
    const key = idHex(id);
    const index = commonPrefixBits(this.self, id);
    const waiting = this.replacements.get(index);
    const at = waiting ? waiting.findIndex((c) => sameId(c.id, id)) : -1;
    if (at >= 0) waiting!.splice(at, 1);
    const contact = this.byId.get(key);
    if (!contact) return false;
    const bucket = this.buckets[index]!;
    bucket.splice(bucket.indexOf(contact), 1);
    this.byId.delete(key);
    const replacement = waiting?.pop();
    if (replacement) {
      bucket.push(replacement);
      this.byId.set(idHex(replacement.id), replacement);
    }
    if (waiting && waiting.length === 0) this.replacements.delete(index);
    return true;
  }

  /**
   * Counts a failed request. The contact is removed when a replacement is waiting for its
   * bucket, or when it failed `maxFailures` times in a row; until then it stays, suspect.
   * Returns whether it was removed.
   */
  recordFailure(id: NodeId, maxFailures = 3): boolean {
    const contact = this.get(id);
    if (!contact) return false;
    contact.failures++;
    if (contact.failures >= maxFailures || (this.replacements.get(commonPrefixBits(this.self, id))?.length ?? 0) > 0) return this.remove(id);
    return false;
  }

  /**
   * The `count` contacts closest to `target` by XOR distance; suspects (failed since they last
   * answered) only with `withSuspects` (a probe that gives them their chance to answer).
   */
  closest(target: NodeId, count: number, withSuspects = false): Contact[] {
    if (count > SELECT_AT_MOST) {
      const all: Contact[] = [];
      for (const c of this.byId.values()) if (withSuspects || c.failures === 0) all.push(c);
      all.sort((a, b) => compareDistance(target, a.id, b.id));
      return all.slice(0, count);
    }
    // Every answer to another supernode asks this (sorting the whole table each time was 1.5 %
    // of a simulation): keep the best `count` seen so far in order, compared by the first 32
    // bits of the XOR distance as one number, the rest of it only where those are equal. The
    // same contacts in the same order as sorting by compareDistance.
    const best: Contact[] = [];
    const keys: number[] = [];
    if (count <= 0) return best;
    const t = prefix32(target);
    // Whether `id` at prefix distance `d` is closer to the target than the kept contact `i`.
    const closer = (id: NodeId, d: number, i: number) => keys[i]! > d || (keys[i] === d && compareDistance(target, id, best[i]!.id) < 0);
    for (const c of this.byId.values()) {
      if (!withSuspects && c.failures !== 0) continue;
      const d = (prefix32(c.id) ^ t) >>> 0;
      if (best.length === count && !closer(c.id, d, count - 1)) continue;
      let at = best.length;
      while (at > 0 && closer(c.id, d, at - 1)) at--;
      best.splice(at, 0, c);
      keys.splice(at, 0, d);
      if (best.length > count) {
        best.pop();
        keys.pop();
      }
    }
    return best;
  }

  all(): Contact[] {
    return [...this.byId.values()];
  }

  /** The contacts, without copying. */
  contacts(): IterableIterator<Contact> {
    return this.byId.values();
  }
}
