// ICE candidates (RFC 8445 section 5.1) and what a chosen pair of them is called: the types the
// check list (ice-checklist.ts), the agent that drives it (ice-agent.ts) and the connector share.
import type { Endpoint } from '../env/types.js';
import { addressFamily } from '../stun/stun.js';

export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

export interface IceCandidate {
  readonly type: CandidateType;
  readonly address: Endpoint;
  readonly priority: number;
  /** A relayed candidate whose device reaches its TURN server over TCP (its UDP is blocked). */
  readonly relayTcp?: boolean;
}

/** What one side tells the other (over the end-to-end session, which keeps `pwd` secret). */
export interface IceParameters {
  readonly ufrag: string;
  readonly pwd: string;
  readonly candidates: readonly IceCandidate[];
}

/** How the chosen path runs, for people and for benchmarks. */
export type PathKind = 'direct' | 'hole-punched' | 'relayed-udp' | 'relayed-tcp';

export interface SelectedPath {
  readonly kind: PathKind;
  readonly local: IceCandidate;
  readonly remote: IceCandidate;
  /** From `connect` to the pair being chosen. */
  readonly setupMs: number;
  readonly rttMs: number;
}

const TYPE_PREFERENCE: Record<CandidateType, number> = { host: 126, prflx: 110, srflx: 100, relay: 0 };

/**
 * Local preferences (RFC 8445 section 5.1.2.1): the highest for an agent with one interface.
 * A dual-stack agent gives its IPv4 candidates one less (RFC 8421 section 4, IPv6 first): when
 * pairs of both families work, the IPv6 one is nominated (it seldom crosses a NAT), and type
 * still outranks family (an IPv4 host pair beats an IPv6 relayed one).
 */
export const LOCAL_PREFERENCE_MAX = 65_535;
export const LOCAL_PREFERENCE_IPV4_DUAL_STACK = 65_534;

/** RFC 8445 section 5.1.2.1, one component: the local preference is the highest unless given. */
export function candidatePriority(type: CandidateType, localPreference = LOCAL_PREFERENCE_MAX): number {
  return TYPE_PREFERENCE[type] * 2 ** 24 + localPreference * 2 ** 8 + 255;
}

/** RFC 8445 section 6.1.2.3: the same on both sides. */
export function pairPriority(controlling: number, controlled: number): bigint {
  const g = BigInt(controlling);
  const d = BigInt(controlled);
  return (1n << 32n) * (g < d ? g : d) + 2n * (g > d ? g : d) + (g > d ? 1n : 0n);
}

/**
 * What kind of path a pair is. Direct: host to host (one LAN, or both public), or one end public
 * (its host address is reachable as it is: the other end's NAT opens on its own first packet,
 * nothing to punch). A side is public when it gathered no server-reflexive candidate.
 */
export function pathKind(local: IceCandidate, remote: IceCandidate, locals: readonly IceCandidate[], remotes: readonly IceCandidate[]): PathKind {
  const relayed = local.type === 'relay' || remote.type === 'relay';
  if (relayed) {
    const overTcp = (local.type === 'relay' && local.relayTcp === true) || (remote.type === 'relay' && remote.relayTcp === true);
    return overTcp ? 'relayed-tcp' : 'relayed-udp';
  }
  const isPublic = (candidates: readonly IceCandidate[]) => !candidates.some((c) => c.type === 'srflx');
  const direct = (local.type === 'host' && remote.type === 'host') || (local.type === 'host' && isPublic(locals)) || (remote.type === 'host' && isPublic(remotes));
  return direct ? 'direct' : 'hole-punched';
}

/** Whether two addresses are of one family (an IPv4-mapped IPv6 address is IPv4): ICE pairs only those (RFC 8445 section 6.1.2.2). */
export function sameFamily(a: Endpoint, b: Endpoint): boolean {
  return addressFamily(a.host) === addressFamily(b.host);
}

/** The local candidate a datagram from `from` came to: through our relay, or on the host socket (the host candidate of its family: a dual-stack socket has two). */
export function localFor(locals: readonly IceCandidate[], via: 'host' | 'relay', from: Endpoint): IceCandidate | undefined {
  return locals.find((c) => c.type === via && sameFamily(c.address, from));
}
