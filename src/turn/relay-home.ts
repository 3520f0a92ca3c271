// Which of a relay's threads serves a user's UDP allocations (relay-workers.ts): always the same
// one, so that everything the quotas count per user (allocations, reserved ports and the
// Allocate that claims one) lives in one allocation table, and a per-user quota holds across
// threads without any shared counter. FNV-1a of the user's name, spread over the threads:
// stable across restarts and processes, cheap, and not worth gaming (a user's quota is the same
// wherever it lands).
const encoder = new TextEncoder();

/** The index (0 to `servers` - 1) of the server that holds `user`'s allocations. */
export function homeIndexOf(user: string, servers: number): number {
  if (!(Number.isInteger(servers) && servers >= 1)) throw new RangeError(`${servers} servers: at least one`);
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(user)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash % servers;
}
