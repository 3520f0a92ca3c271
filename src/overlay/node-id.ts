// Overlay identifiers: 256-bit, compared by XOR distance (Kademlia). A supernode's id is the
// hash of its Noise static key, so it cannot pick its place in the ring without grinding keys;
// a user's key is the hash of the normalised username.
import { sodium } from '../crypto/sodium.js';

export const ID_BYTES = 32;
export type NodeId = Uint8Array;

const NODE_ID_CONTEXT = new TextEncoder().encode('parley-node-id-v1\0');
const USER_KEY_CONTEXT = new TextEncoder().encode('parley-user-v1\0');
const encoder = new TextEncoder();

/**
 * SHA-256 of `context` then `data`, through libsodium on raw bytes. Ids are hashed again at
 * every contact a supernode learns or answers with; node:crypto's createHash built a hash
 * object and a Buffer per call, about 5 % of a large simulation (docs/sim.md).
 */
function hashWithContext(context: Uint8Array, data: Uint8Array): NodeId {
  const input = new Uint8Array(context.byteLength + data.byteLength);
  input.set(context);
  input.set(data, context.byteLength);
  const id = new Uint8Array(ID_BYTES);
  sodium.crypto_hash_sha256(id, input);
  return id;
}

/**
 * Ids of keys seen lately, by the key's bytes as a latin1 string (a copy of 32 bytes, cheaper
 * than a hash). A supernode works out a contact's id again at every contact it learns or
 * answers with, each time from a key freshly decoded from a message: even through libsodium,
 * that was 3 % of a simulation. Bounded: the oldest key is forgotten first. The ids handed
 * out are shared, like every NodeId: never written to.
 */
const NODE_ID_CACHE_MAX = 16_384;
const nodeIds = new Map<string, NodeId>();

export function supernodeId(dhKey: Uint8Array): NodeId {
  const key = Buffer.from(dhKey.buffer, dhKey.byteOffset, dhKey.byteLength).toString('latin1');
  let id = nodeIds.get(key);
  if (id === undefined) {
    id = hashWithContext(NODE_ID_CONTEXT, dhKey);
    if (nodeIds.size >= NODE_ID_CACHE_MAX) nodeIds.delete(nodeIds.keys().next().value!);
    nodeIds.set(key, id);
  }
  return id;
}

export function userKey(username: string): NodeId {
  return hashWithContext(USER_KEY_CONTEXT, encoder.encode(username));
}

/** Negative when a is closer to target than b, positive when farther, 0 when equal. */
export function compareDistance(target: NodeId, a: NodeId, b: NodeId): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const da = a[i]! ^ target[i]!;
    const db = b[i]! ^ target[i]!;
    if (da !== db) return da - db;
  }
  return 0;
}

/** Length of the common prefix of a and b in bits (256 when equal): the k-bucket index. */
export function commonPrefixBits(a: NodeId, b: NodeId): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const x = a[i]! ^ b[i]!;
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return ID_BYTES * 8;
}

export function sameId(a: NodeId, b: NodeId): boolean {
  for (let i = 0; i < ID_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function idHex(id: NodeId): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex'); // a view, not a copy
}

/**
 * A random id that shares exactly `prefixBits` leading bits with `self`: a target in that
 * k-bucket's range, for refreshing it (`random` gives the other bits).
 */
export function randomIdInBucket(self: NodeId, prefixBits: number, randomBytes: Uint8Array): NodeId {
  const id = Uint8Array.from(randomBytes.subarray(0, ID_BYTES));
  const byte = prefixBits >> 3;
  const bit = 7 - (prefixBits & 7);
  for (let i = 0; i < byte; i++) id[i] = self[i]!;
  const keep = 0xff << (bit + 1) & 0xff; // the prefix bits within this byte
  const flipped = (self[byte]! ^ (1 << bit)) & (keep | (1 << bit));
  id[byte] = flipped | (id[byte]! & ((1 << bit) - 1));
  return id;
}
