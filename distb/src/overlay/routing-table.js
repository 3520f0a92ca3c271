// A Kademlia routing table: 256 k-buckets by common-prefix length with our own id. A full
// bucket keeps its old contacts (long-lived nodes tend to stay, and an attacker cannot flush a
// bucket with new ids): the newcomer is refused and the bucket's least recently seen contact is
// returned, for the caller to ping and evict if it is dead.
import { commonPrefixBits, compareDistance, idHex, sameId, ID_BYTES } from './node-id.js';
export const DEFAULT_BUCKET_SIZE = 20; // Kademlia's k
export class RoutingTable {
    self;
    bucketSize;
    buckets = Array.from({ length: ID_BYTES * 8 }, () => []);
    byId = new Map();
    constructor(self, bucketSize = DEFAULT_BUCKET_SIZE) {
        this.self = self;
        this.bucketSize = bucketSize;
    }
    get size() {
        return this.byId.size;
    }
    get(id) {
        return this.byId.get(idHex(id));
    }
    /** Adds or refreshes a contact seen alive at `nowMs`. */
    insert(contact, nowMs) {
        if (sameId(contact.id, this.self))
            return { kind: 'self' };
        const key = idHex(contact.id);
        const bucket = this.buckets[commonPrefixBits(this.self, contact.id)];
        const existing = this.byId.get(key);
        if (existing) {
            // Move to the tail (most recently seen); the address may have changed.
            bucket.splice(bucket.indexOf(existing), 1);
            const updated = { ...contact, lastSeenMs: nowMs, failures: 0 };
            bucket.push(updated);
            this.byId.set(key, updated);
            return { kind: 'updated' };
        }
        if (bucket.length >= this.bucketSize)
            return { kind: 'full', oldest: bucket[0] };
        const added = { ...contact, lastSeenMs: nowMs, failures: 0 };
        bucket.push(added);
        this.byId.set(key, added);
        return { kind: 'added' };
    }
    remove(id) {
        const key = idHex(id);
        const contact = this.byId.get(key);
        if (!contact)
            return false;
        const bucket = this.buckets[commonPrefixBits(this.self, id)];
        bucket.splice(bucket.indexOf(contact), 1);
        this.byId.delete(key);
        return true;
    }
    /** Counts a failed request; a contact that failed `maxFailures` times in a row is removed. */
    recordFailure(id, maxFailures = 3) {
        const contact = this.get(id);
        if (!contact)
            return false;
        contact.failures++;
        if (contact.failures >= maxFailures)
            return this.remove(id);
        return false;
    }
    /** The `count` contacts closest to `target` by XOR distance. */
    closest(target, count) {
        const all = [...this.byId.values()];
        all.sort((a, b) => compareDistance(target, a.id, b.id));
        return all.slice(0, count);
    }
    all() {
        return [...this.byId.values()];
    }
    /** The contacts, without copying. */
    contacts() {
        return this.byId.values();
    }
}
//# sourceMappingURL=routing-table.js.map