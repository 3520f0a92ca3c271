// Which peers a TURN relay may send to (RFC 8656 section 21.3: a relay must not become a way into
// the network it stands in). A user with credentials chooses any XOR-PEER-ADDRESS; without this
// policy the relay, inside the supernode's network, would carry that user's datagrams to the
// host's loopback services, its LAN, a cloud's metadata address (169.254.169.254), a carrier's
// shared space, or the supernode's own STUN/TURN port — also on a user's machine promoted to
// supernode, whose LAN is somebody's home.
//
// The policy, in order (a refusal names its reason, for a counter):
//   1. Never a peer: not a unicast address (unspecified, "this network" 0/8, multicast,
//      broadcast, 240/4). No allow list changes that.
//   2. Never a peer: a port this server serves STUN/TURN on, at one of its own addresses or any
//      loopback address (a relay into itself: loops, and requests that seem to come from us).
//   3. A live relay port of this server at its own address is a peer: two clients of one
//      supernode that both need a relay talk relay to relay.
//   4. The operator's allow list (CIDRs) admits what the next two rules refuse: `parley local`
//      runs a network on 127.0.0.1, the network lab on private and documentation addresses.
//   5. Any other port at one of the server's own addresses is refused (services of the host).
//   6. Addresses not reachable on the internet are refused: loopback, private (RFC 1918, IPv6
//      unique-local and site-local, NAT64 local use), shared (100.64/10), link-local, reserved
//      (IETF assignments, benchmarking, 6to4 anycast, IPv4-compatible IPv6, discard), and
//      documentation ranges. IPv6 forms that carry an IPv4 address (::ffff:a.b.c.d, NAT64
//      64:ff9b::/96, 6to4 2002::/16) are judged by the IPv4 address inside.
// Pure: given addresses in text, answers from tables; the TURN server calls it on every
// CreatePermission, ChannelBind and Send (permissions are per address, but rules 2, 3 and 5
// depend on the port).
import type { Endpoint } from '../env/types.js';
import { err, ok, type CodedError, type Result } from '../result.js';
import { addressBytes } from '../stun/stun.js';

export type PeerRefusal = 'not_unicast' | 'own_service' | 'own_address' | 'loopback' | 'private' | 'shared' | 'link_local' | 'reserved' | 'documentation';
type RangeClass = Exclude<PeerRefusal, 'own_service' | 'own_address'>;

export type CidrError = CodedError<'bad_cidr'>;

/** A block of addresses, IPv4 ones held as IPv4-mapped IPv6 (so one table serves both families). */
export interface Cidr {
  /** 16 bytes. */
  readonly bytes: Uint8Array;
  /** Leading bits that must match, 0-128 (an IPv4 /n is 96 + n). */
  readonly prefixBits: number;
  /** As the operator wrote it. */
  readonly text: string;
}

/** 16 bytes of an address: IPv4 becomes ::ffff:a.b.c.d. */
function asIpv6(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength === 16) return bytes;
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(bytes, 12);
  return out;
}

/** `a.b.c.d/n`, `x:y::/n`, or an address alone (every bit counts). */
export function parseCidr(text: string): Result<Cidr, CidrError> {
  const [address, prefix, extra] = text.trim().split('/');
  const bytes = address === undefined ? null : addressBytes(address);
  if (bytes === null || extra !== undefined) return err({ code: 'bad_cidr', message: `${text}: not an address or address/prefix` });
  const family = bytes.byteLength * 8;
  const bits = prefix === undefined ? family : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  if (!(bits >= 0 && bits <= family)) return err({ code: 'bad_cidr', message: `${text}: the prefix is 0-${family} bits` });
  return ok({ bytes: asIpv6(bytes), prefixBits: bits + (128 - family), text: text.trim() });
}

/** A comma-separated list (a command-line flag); empty entries are skipped. */
export function parseCidrList(text: string): Result<Cidr[], CidrError> {
  const out: Cidr[] = [];
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const cidr = parseCidr(part);
    if (!cidr.ok) return cidr;
    out.push(cidr.value);
  }
  return ok(out);
}

function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

function contains(block: Cidr, address: Uint8Array): boolean {
  const whole = block.prefixBits >> 3;
  for (let i = 0; i < whole; i++) if (block.bytes[i] !== address[i]) return false;
  const rest = block.prefixBits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (block.bytes[whole]! & mask) === (address[whole]! & mask);
}

/** The loopback blocks, for a network run on one machine (`parley local`, tests on real sockets). */
export const LOOPBACK_PEERS: readonly Cidr[] = [cidr('127.0.0.0/8'), cidr('::1/128')];

/** IPv6 blocks that carry an IPv4 address, and where it sits: judged by that address. */
const EMBEDDING: ReadonlyArray<readonly [Cidr, number]> = [
  [cidr('::ffff:0:0/96'), 12],
  [cidr('64:ff9b::/96'), 12],
  [cidr('2002::/16'), 2],
];

/** Special-purpose blocks (IANA's registries, RFC 6890), most specific first. */
const SPECIAL: ReadonlyArray<readonly [Cidr, RangeClass]> = (
  [
    ['0.0.0.0/8', 'not_unicast'],
    ['224.0.0.0/4', 'not_unicast'],
    ['240.0.0.0/4', 'not_unicast'], // reserved, and 255.255.255.255
    ['127.0.0.0/8', 'loopback'],
    ['10.0.0.0/8', 'private'],
    ['172.16.0.0/12', 'private'],
    ['192.168.0.0/16', 'private'],
    ['100.64.0.0/10', 'shared'],
    ['169.254.0.0/16', 'link_local'],
    ['192.0.0.0/24', 'reserved'],
    ['192.88.99.0/24', 'reserved'],
    ['198.18.0.0/15', 'reserved'],
    ['192.0.2.0/24', 'documentation'],
    ['198.51.100.0/24', 'documentation'],
    ['203.0.113.0/24', 'documentation'],
    ['::/128', 'not_unicast'],
    ['ff00::/8', 'not_unicast'],
    ['::1/128', 'loopback'],
    ['::/96', 'reserved'], // IPv4-compatible (deprecated)
    ['fc00::/7', 'private'],
    ['fec0::/10', 'private'],
    ['64:ff9b:1::/48', 'private'],
    ['fe80::/10', 'link_local'],
    ['100::/64', 'reserved'],
    ['2001::/23', 'reserved'],
    ['2001:db8::/32', 'documentation'],
    ['3fff::/20', 'documentation'],
  ] as const
).map(([text, kind]) => [cidr(text), kind] as const);

/** The address a peer really is: an embedded IPv4 address as its IPv4-mapped form. */
function effective(address: Uint8Array): Uint8Array {
  for (const [block, at] of EMBEDDING) if (contains(block, address)) return asIpv6(address.subarray(at, at + 4));
  return address;
}

function classify(address: Uint8Array): RangeClass | null {
  for (const [block, kind] of SPECIAL) if (contains(block, address)) return kind;
  return null;
}

/** Why an address is not one of the internet's (its special-purpose block), or null for a global one. */
export function specialRange(host: string): RangeClass | null {
  const bytes = addressBytes(host);
  return bytes === null ? 'not_unicast' : classify(effective(asIpv6(bytes)));
}

export interface PeerPolicyOptions {
  /** Blocks admitted although special (rule 4); never a non-unicast address or a service port. */
  readonly allow?: readonly Cidr[];
  /** This server's addresses: where it listens, what it advertises, its relays' public address. */
  readonly ownHosts: readonly string[];
  /** UDP ports this server answers STUN/TURN on. */
  readonly servicePorts: readonly number[];
  /** More of them, known elsewhere (the other threads of one relay: port-board.ts). */
  readonly isServicePort?: (port: number) => boolean;
}

const key = (address: Uint8Array) => Buffer.from(address).toString('hex');

export class PeerPolicy {
  private readonly allow: readonly Cidr[];
  private readonly own: ReadonlySet<string>;
  private readonly servicePorts: ReadonlySet<number>;
  private readonly isServicePort: (port: number) => boolean;

  constructor(options: PeerPolicyOptions) {
    this.allow = options.allow ?? [];
    const own = new Set<string>();
    for (const host of options.ownHosts) {
      const bytes = addressBytes(host);
      // A wildcard bind (0.0.0.0) is no address of its own: loopback stands for it in rule 2.
      if (bytes !== null) own.add(key(effective(asIpv6(bytes))));
    }
    this.own = own;
    this.servicePorts = new Set(options.servicePorts);
    this.isServicePort = options.isServicePort ?? (() => false);
  }

  /** Null when `peer` may be relayed to; else why not. `isRelayPort` says whether a port is one of this server's live relays. */
  check(peer: Endpoint, isRelayPort: (port: number) => boolean): PeerRefusal | null {
    const bytes = addressBytes(peer.host);
    if (bytes === null || !(peer.port >= 1 && peer.port <= 65_535)) return 'not_unicast';
    const address = effective(asIpv6(bytes));
    const kind = classify(address);
    if (kind === 'not_unicast') return kind;
    const own = this.own.has(key(address));
    if ((own || kind === 'loopback') && (this.servicePorts.has(peer.port) || this.isServicePort(peer.port))) return 'own_service';
    if (own && isRelayPort(peer.port)) return null;
    if (this.allow.some((block) => contains(block, address))) return null;
    if (own) return 'own_address';
    return kind;
  }
}
