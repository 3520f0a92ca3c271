// A device's IPv6 side for ICE: whether an address can be a host candidate or a STUN server, and
// which of this machine's IPv6 addresses faces its supernode. The routing table answers the
// second (`Net.sourceAddressFor`: no packet is sent), so a machine with several IPv6 addresses
// (temporary privacy addresses, a ULA beside a global one) offers the one that reaches the
// supernode, as its IPv4 host candidate is the address of its link to the supernode.
import type { Endpoint, Net } from '../env/types.js';
import { addressFamily } from '../stun/stun.js';
import { specialRange } from '../turn/peer-policy.js';

/**
 * An IPv6 unicast address in text, usable without a zone: not IPv4-mapped (that is IPv4), not
 * unspecified or multicast, not link-local (meaningless on another link, and the wire carries
 * no zone). Loopback and unique-local addresses pass: they work where the other end is too.
 */
export function isUsableIpv6(host: string): boolean {
  if (addressFamily(host) !== 'ipv6') return false;
  const range = specialRange(host);
  return range !== 'not_unicast' && range !== 'link_local';
}

/**
 * This device's IPv6 address toward `server6` (its supernode's STUN service over IPv6), or null
 * when it has none that routes there, or only an unusable one.
 */
export async function localIpv6Toward(net: Net, server6: Endpoint): Promise<string | null> {
  const local = await net.sourceAddressFor(server6.host);
  return local !== null && isUsableIpv6(local) ? local : null;
}
