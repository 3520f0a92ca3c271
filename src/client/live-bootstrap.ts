// The login server's live bootstrap list (/v1/info): the supernodes the operator pinned and
// the enrolled ones that renewed lately, with their keys. Clients merge it into their host
// cache at startup; `parley network descriptor` writes it into a fresh descriptor.
import { equalBytes, fromBase64Url } from '../crypto/bytes.js';
import { parseBootstrapEntries, parseRevokedKeys, type BootstrapEntry } from '../crypto/descriptor.js';

export type KeyedBootstrapEntry = BootstrapEntry & { dhKey: Uint8Array };

/** Checks /v1/info's answer: the network must be ours, every entry well formed; entries without a key are left out. */
export function liveBootstrapFrom(info: unknown, networkId: Uint8Array): KeyedBootstrapEntry[] {
  const raw = info as { networkId?: unknown; bootstrap?: unknown } | null;
  const id = typeof raw?.networkId === 'string' ? fromBase64Url(raw.networkId) : null;
  if (!id || !equalBytes(id, networkId)) throw new Error('the login server answered for another network');
  const parsed = parseBootstrapEntries(raw?.bootstrap);
  if (!parsed.ok) throw new Error(`the login server's bootstrap list: ${parsed.error.message}`);
  return parsed.value.filter((b): b is KeyedBootstrapEntry => b.dhKey !== undefined);
}

/** The Noise keys of supernodes the operator revoked, from the same answer: to refuse and to forget. */
export function revokedSupernodesFrom(info: unknown): Uint8Array[] {
  const parsed = parseRevokedKeys((info as { revokedSupernodes?: unknown } | null)?.revokedSupernodes);
  if (!parsed.ok) throw new Error(`the login server's revoked supernodes: ${parsed.error.message}`);
  return parsed.value;
}
