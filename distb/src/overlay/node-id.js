// Overlay identifiers: 256-bit, compared by XOR distance (Kademlia). A supernode's id is the
// hash of its Noise static key, so it cannot pick its place in the ring without grinding keys;
// a user's key is the hash of the normalised username.
import { createHash } from 'node:crypto';
export const ID_BYTES = 32;
export function supernodeId(dhKey) {
    return new Uint8Array(createHash('sha256').update('parley-node-id-v1\0').update(dhKey).digest());
}
export function userKey(username) {
    return new Uint8Array(createHash('sha256').update('parley-user-v1\0').update(username, 'utf8').digest());
}
/** Negative when a is closer to target than b, positive when farther, 0 when equal. */
export function compareDistance(target, a, b) {
    for (let i = 0; i < ID_BYTES; i++) {
        const da = a[i] ^ target[i];
        const db = b[i] ^ target[i];
        if (da !== db)
            return da - db;
    }
    return 0;
}
/** Length of the common prefix of a and b in bits (256 when equal): the k-bucket index. */
export function commonPrefixBits(a, b) {
    for (let i = 0; i < ID_BYTES; i++) {
        const x = a[i] ^ b[i];
        if (x !== 0)
            return i * 8 + Math.clz32(x) - 24;
    }
    return ID_BYTES * 8;
}
export function sameId(a, b) {
    for (let i = 0; i < ID_BYTES; i++)
        if (a[i] !== b[i])
            return false;
    return true;
}
export function idHex(id) {
    return Buffer.from(id).toString('hex');
}
/**
 * A random id that shares exactly `prefixBits` leading bits with `self`: a target in that
 * k-bucket's range, for refreshing it (`random` gives the other bits).
 */
export function randomIdInBucket(self, prefixBits, randomBytes) {
    const id = Uint8Array.from(randomBytes.subarray(0, ID_BYTES));
    const byte = prefixBits >> 3;
    const bit = 7 - (prefixBits & 7);
    for (let i = 0; i < byte; i++)
        id[i] = self[i];
    const keep = 0xff << (bit + 1) & 0xff; // the prefix bits within this byte
    const flipped = (self[byte] ^ (1 << bit)) & (keep | (1 << bit));
    id[byte] = flipped | (id[byte] & ((1 << bit) - 1));
    return id;
}
//# sourceMappingURL=node-id.js.map