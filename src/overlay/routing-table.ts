// A Kademlia routing table: 256 k-buckets by common-prefix length with our own id. A full
// bucket keeps its old contacts (long-lived nodes tend to stay, and an attacker cannot flush a
// bucket with new ids): the newcomer is refused and the bucket's least recently seen contact is
// returned, for the caller to ping and evict if it is dead.
import { commonPrefixBits, compareDistance, idHex, sameId, ID_BYTES, type NodeId } from './node-id.js';

export const DEFAULT_BUCKET_SIZE = 20; // Kademlia's k

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

export type InsertOutcome = { readonly kind: 'added' | 'updated' | 'self' } | { readonly kind: 'full'; readonly oldest: Contact };

export class RoutingTable {
  private readonly buckets: Contact[][] = Array.from({ length: ID_BYTES * 8 }, () => []);
  private readonly byId = new Map<string, Contact>();

  constructor(
    readonly self: NodeId,
    readonly bucketSize: number = DEFAULT_BUCKET_SIZE,
  ) {}

  get size(): number {
    return this.byId.size;
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
    if (bucket.length >= this.bucketSize) return { kind: 'full', oldest: bucket[0]! };
    const added: Contact = { ...contact, lastSeenMs: nowMs, failures: 0 };
    bucket.push(added);
    this.byId.set(key, added);
    return { kind: 'added' };
  }

  remove(id: NodeId): boolean {
    const key = idHex(id);
    const contact = this.byId.get(key);
    if (!contact) return false;
    const bucket = this.buckets[commonPrefixBits(this.self, id)]!;
    bucket.splice(bucket.indexOf(contact), 1);
    this.byId.delete(key);
    return true;
  }

  /** Counts a failed request; a contact that failed `maxFailures` times in a row is removed. */
  recordFailure(id: NodeId, maxFailures = 3): boolean {
    const contact = this.get(id);
    if (!contact) return false;
    contact.failures++;
    if (contact.failures >= maxFailures) return this.remove(id);
    return false;
  }

  /** The `count` contacts closest to `target` by XOR distance. */
  closest(target: NodeId, count: number): Contact[] {
    const all = [...this.byId.values()];
    all.sort((a, b) => compareDistance(target, a.id, b.id));
    return all.slice(0, count);
  }

  all(): Contact[] {
    return [...this.byId.values()];
  }

  /** The contacts, without copying. */
  contacts(): IterableIterator<Contact> {
    return this.byId.values();
  }
}
