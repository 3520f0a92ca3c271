// Kademlia's iterative lookup as a state machine (no I/O): it says whom to ask next, at most
// `alpha` at a time, and digests their answers, until the `k` closest nodes it knows have all
// answered (or failed). The caller sends the requests and reports responses, failures and
// timeouts. Used for finding nodes and, with a value check by the caller, records.
import { compareDistance, idHex } from './node-id.js';
export const DEFAULT_ALPHA = 3;
/** Bound on contacts a lookup tracks, whatever peers answer. */
const MAX_TRACKED = 1000;
export class Lookup {
    target;
    k;
    alpha;
    contacts = new Map();
    inFlight = 0;
    /** Hops of the path that reached each answered node (1 for nodes we knew at the start). */
    maxHops = 0;
    requestsSent = 0;
    constructor(target, initial, k, alpha = DEFAULT_ALPHA) {
        this.target = target;
        this.k = k;
        this.alpha = alpha;
        for (const contact of initial)
            this.add(contact, 1);
    }
    add(contact, hops) {
        const key = idHex(contact.id);
        if (this.contacts.has(key) || this.contacts.size >= MAX_TRACKED)
            return;
        this.contacts.set(key, { contact, state: 'new', hops });
    }
    sorted() {
        return [...this.contacts.values()].sort((a, b) => compareDistance(this.target, a.contact.id, b.contact.id));
    }
    /** The k closest that have not failed: once done, the answer. */
    closest() {
        return this.sorted()
            .filter((c) => c.state !== 'failed')
            .slice(0, this.k)
            .map((c) => c.contact);
    }
    /** Done when every one of the k closest live contacts has answered. */
    isDone() {
        const live = this.sorted().filter((c) => c.state !== 'failed').slice(0, this.k);
        return this.inFlight === 0 && live.every((c) => c.state === 'answered');
    }
    /** Contacts to ask now (none while `alpha` requests are in flight or when done). */
    next() {
        const out = [];
        for (const entry of this.sorted().filter((c) => c.state !== 'failed').slice(0, this.k)) {
            if (this.inFlight >= this.alpha)
                break;
            if (entry.state !== 'new')
                continue;
            entry.state = 'asked';
            this.inFlight++;
            this.requestsSent++;
            out.push(entry.contact);
        }
        return out;
    }
    /** `from` answered with the contacts it knows closest to the target. */
    onResponse(from, closer) {
        const entry = this.contacts.get(idHex(from));
        if (!entry || entry.state !== 'asked')
            return; // unsolicited: ignored
        entry.state = 'answered';
        this.inFlight--;
        this.maxHops = Math.max(this.maxHops, entry.hops);
        for (const contact of closer.slice(0, this.k))
            this.add(contact, entry.hops + 1);
    }
    onFailure(from) {
        const entry = this.contacts.get(idHex(from));
        if (!entry || entry.state !== 'asked')
            return;
        entry.state = 'failed';
        this.inFlight--;
    }
}
//# sourceMappingURL=lookup.js.map