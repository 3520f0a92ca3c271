// TURN's allocation table (RFC 8656 sections 7-9, 12), as pure state told the time: allocations
// keyed by their 5-tuple, their permissions and channel bindings with lifetimes, the ports held
// for a later Allocate (EVEN-PORT's R bit), and the bounds on all of them: allocations per user
// and for the server (an Allocate in progress counts), reservations per user and for the server,
// permissions and channels per allocation, relayed bytes per second per allocation and for the
// server. No sockets and no timers: an allocation names its relay by port, the driver
// (turn-server.ts) owns the sockets, asks `nextDeadlineMs` when to wake, and calls `expire`.
import type { Endpoint } from '../env/types.js';
import { TokenBucket } from '../util/token-bucket.js';

/** A relay's address family (REQUESTED-ADDRESS-FAMILY, RFC 8656 section 18.1). */
export type AddressFamily = 'ipv4' | 'ipv6';

/** How a relay talks to peers (REQUESTED-TRANSPORT): UDP datagrams, or TCP connections (RFC 6062). */
export type RelayTransport = 'udp' | 'tcp';

export interface TurnLimits {
  readonly allocationsPerUser: number;
  readonly allocations: number;
  readonly permissionsPerAllocation: number;
  readonly channelsPerAllocation: number;
  /** Relayed bytes per second per allocation, both directions together (a burst of one second). */
  readonly bytesPerSecondPerAllocation: number;
  /** Relayed bytes per second for the whole server. */
  readonly bytesPerSecond: number;
  readonly defaultLifetimeS: number;
  readonly maxLifetimeS: number;
  /** Ports held for a later allocation (EVEN-PORT with the R bit), per user and for the server. */
  readonly reservationsPerUser: number;
  readonly reservations: number;
}

export const DEFAULT_TURN_LIMITS: TurnLimits = {
  allocationsPerUser: 16,
  allocations: 2_000,
  permissionsPerAllocation: 32,
  channelsPerAllocation: 32,
  // 2 Mbit/s: a video call with room; a voice call needs 5 KB/s.
  bytesPerSecondPerAllocation: 256_000,
  bytesPerSecond: 50_000_000,
  defaultLifetimeS: 600,
  maxLifetimeS: 3_600,
  // A call reserves one RTCP port, released within 30 s.
  reservationsPerUser: 4,
  reservations: 500,
};

/** How long a reserved port waits for the Allocate that claims it (RFC 8656 section 7.2: at least 30 s). */
export const RESERVATION_LIFETIME_MS = 30_000;
/** RFC 8656 section 9: a permission lasts 5 minutes unless refreshed. */
export const PERMISSION_LIFETIME_MS = 300_000;
/** RFC 8656 section 12: a channel binding lasts 10 minutes unless refreshed. */
export const CHANNEL_LIFETIME_MS = 600_000;

export interface ChannelBinding {
  readonly peer: Endpoint;
  readonly expiresAtMs: number;
}

export interface Allocation {
  /** The 5-tuple (see `tupleKey`). */
  readonly key: string;
  readonly client: Endpoint;
  readonly username: string;
  /** Whom the allocation counts against (turn-credentials.ts `userOf`). */
  readonly user: string;
  readonly integrityKey: Uint8Array;
  /** The relay's local port: the driver's handle on its socket. */
  readonly relayPort: number;
  /** The relayed transport address told to the client (XOR-RELAYED-ADDRESS). */
  readonly relayed: Endpoint;
  /** UDP relay (a socket on `relayPort`), or TCP relay (a listening socket there, RFC 6062). */
  readonly transport: RelayTransport;
  expiresAtMs: number;
  /** Peer host → when its permission ends. */
  readonly permissions: Map<string, number>;
  readonly channels: Map<number, ChannelBinding>;
  /** Peer `host:port` → its channel. */
  readonly channelOf: Map<string, number>;
  readonly bandwidth: TokenBucket;
  /** The successful Allocate answer, for a retransmitted request (same transaction id, hex). */
  readonly transactionId: string;
  readonly answer: Uint8Array;
}

/** A port held for a later Allocate of `user` that brings `token` (hex). */
export interface Reservation {
  readonly token: string;
  readonly user: string;
  readonly port: number;
  /** The family of the reserved relay: the Allocate that claims it gets a relay of that family. */
  readonly family: AddressFamily;
  readonly expiresAtMs: number;
}

/** What an Allocate brings once its relay is bound (see `AllocationTable.commit`). */
export type NewAllocation = Pick<Allocation, 'key' | 'client' | 'username' | 'user' | 'integrityKey' | 'relayPort' | 'relayed' | 'transactionId' | 'answer'> & {
  readonly lifetimeS: number;
  /** Default UDP. */
  readonly transport?: RelayTransport;
};

export type BindOutcome = 'bound' | 'conflict' | 'quota';

/** What `expire` (or `clear`) freed: the driver closes their sockets. */
export interface Freed {
  readonly allocations: Allocation[];
  readonly reservations: Reservation[];
}

export const endpointKey = (e: Endpoint): string => `${e.host}:${e.port}`;

/** The 5-tuple an allocation belongs to: transport, client address, server address. */
export const tupleKey = (protocol: 'udp' | 'tcp', client: Endpoint, server: Endpoint): string => `${protocol}|${endpointKey(client)}|${endpointKey(server)}`;

export class AllocationTable {
  readonly limits: TurnLimits;
  private readonly allocations = new Map<string, Allocation>();
  private readonly byRelayPort = new Map<number, Allocation>();
  /** 5-tuples with an Allocate in progress (its relay being bound). */
  private readonly pending = new Set<string>();
  /** Allocations and Allocates in progress per user. */
  private readonly perUser = new Map<string, number>();
  private readonly reservations = new Map<string, Reservation>();
  private readonly reservedPorts = new Map<number, Reservation>();
  private readonly reservationsPerUser = new Map<string, number>();
  private readonly serverBandwidth: TokenBucket;

  constructor(limits: Partial<TurnLimits>, nowMs: number) {
    this.limits = { ...DEFAULT_TURN_LIMITS, ...limits };
    this.serverBandwidth = new TokenBucket(this.limits.bytesPerSecond, this.limits.bytesPerSecond, nowMs);
  }

  get size(): number {
    return this.allocations.size;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  get reservationCount(): number {
    return this.reservations.size;
  }

  /** Allocations and Allocates in progress of `user`. */
  allocationsOf(user: string): number {
    return this.perUser.get(user) ?? 0;
  }

  reservationsOf(user: string): number {
    return this.reservationsPerUser.get(user) ?? 0;
  }

  get(key: string): Allocation | undefined {
    return this.allocations.get(key);
  }

  /** The allocation relaying on `port`, if any. */
  atRelayPort(port: number): Allocation | undefined {
    return this.byRelayPort.get(port);
  }

  isPending(key: string): boolean {
    return this.pending.has(key);
  }

  /** The lifetime a request asking `askedS` seconds gets (0 stays 0: a Refresh that deletes). */
  lifetimeS(askedS: number | null): number {
    const seconds = askedS ?? this.limits.defaultLifetimeS;
    return seconds === 0 ? 0 : Math.min(this.limits.maxLifetimeS, Math.max(this.limits.defaultLifetimeS, seconds));
  }

  /** Whether `user` may hold one more reserved port. */
  canReserve(user: string): boolean {
    return this.reservationsOf(user) < this.limits.reservationsPerUser && this.reservations.size < this.limits.reservations;
  }

  /**
   * Starts an Allocate on `key` for `user`: counts it against the quotas while its relay is
   * bound, or says which quota it would pass (`quota`: the user's, `capacity`: the server's).
   */
  begin(key: string, user: string): 'quota' | 'capacity' | null {
    if (this.allocationsOf(user) >= this.limits.allocationsPerUser) return 'quota';
    if (this.allocations.size + this.pending.size >= this.limits.allocations) return 'capacity';
    this.pending.add(key);
    this.perUser.set(user, this.allocationsOf(user) + 1);
    return null;
  }

  /** An Allocate begun that got no relay: its quota back. */
  abandon(key: string, user: string): void {
    if (!this.pending.delete(key)) return;
    this.release(user);
  }

  /** An Allocate begun that got its relay: the allocation, live for its lifetime. */
  commit(fresh: NewAllocation, nowMs: number): Allocation {
    if (!this.pending.delete(fresh.key)) throw new Error(`no Allocate in progress on ${fresh.key}`);
    const allocation: Allocation = {
      key: fresh.key,
      client: fresh.client,
      username: fresh.username,
      user: fresh.user,
      integrityKey: fresh.integrityKey,
      relayPort: fresh.relayPort,
      relayed: fresh.relayed,
      transport: fresh.transport ?? 'udp',
      expiresAtMs: nowMs + fresh.lifetimeS * 1000,
      permissions: new Map(),
      channels: new Map(),
      channelOf: new Map(),
      bandwidth: new TokenBucket(this.limits.bytesPerSecondPerAllocation, this.limits.bytesPerSecondPerAllocation, nowMs),
      transactionId: fresh.transactionId,
      answer: fresh.answer,
    };
    this.allocations.set(allocation.key, allocation);
    this.byRelayPort.set(allocation.relayPort, allocation);
    return allocation;
  }

  /** A Refresh: a new lifetime from now, or (0) the end of the allocation, returned for its socket. */
  refresh(allocation: Allocation, lifetimeS: number, nowMs: number): Allocation | null {
    if (lifetimeS === 0) return this.remove(allocation.key);
    allocation.expiresAtMs = nowMs + lifetimeS * 1000;
    return null;
  }

  /** Ends an allocation (its lifetime, a Refresh of 0, its TCP connection closed); null when there is none. */
  remove(key: string): Allocation | null {
    const allocation = this.allocations.get(key);
    if (!allocation) return null;
    this.allocations.delete(key);
    this.byRelayPort.delete(allocation.relayPort);
    this.release(allocation.user);
    return allocation;
  }

  /** Installs or refreshes permissions for `hosts`; false (nothing changed) when the new ones would pass the bound. */
  permit(allocation: Allocation, hosts: readonly string[], nowMs: number): boolean {
    const fresh = new Set(hosts.filter((h) => !allocation.permissions.has(h)));
    if (allocation.permissions.size + fresh.size > this.limits.permissionsPerAllocation) return false;
    for (const host of hosts) allocation.permissions.set(host, nowMs + PERMISSION_LIFETIME_MS);
    return true;
  }

  /** Whether `host` has a live permission (an ended one is forgotten here). */
  permitted(allocation: Allocation, host: string, nowMs: number): boolean {
    const until = allocation.permissions.get(host);
    if (until === undefined) return false;
    if (until <= nowMs) {
      allocation.permissions.delete(host);
      return false;
    }
    return true;
  }

  /**
   * Binds (or refreshes) `channel` to `peer`, which also installs or refreshes the peer's
   * permission (RFC 8656 section 12.2). A channel bound to another peer, or a peer bound to
   * another channel, is a `conflict`; a new channel, or a new permission, past its bound is `quota`.
   */
  bindChannel(allocation: Allocation, channel: number, peer: Endpoint, nowMs: number): BindOutcome {
    const bound = allocation.channels.get(channel);
    const peerKey = endpointKey(peer);
    const peerChannel = allocation.channelOf.get(peerKey);
    if ((bound && endpointKey(bound.peer) !== peerKey) || (peerChannel !== undefined && peerChannel !== channel)) return 'conflict';
    if (!bound && allocation.channels.size >= this.limits.channelsPerAllocation) return 'quota';
    // The permission it installs counts against the permissions' bound too.
    if (!allocation.permissions.has(peer.host) && allocation.permissions.size >= this.limits.permissionsPerAllocation) return 'quota';
    allocation.channels.set(channel, { peer, expiresAtMs: nowMs + CHANNEL_LIFETIME_MS });
    allocation.channelOf.set(peerKey, channel);
    allocation.permissions.set(peer.host, nowMs + PERMISSION_LIFETIME_MS);
    return 'bound';
  }

  /** The peer of a live channel, or null. */
  channelPeer(allocation: Allocation, channel: number, nowMs: number): Endpoint | null {
    const binding = allocation.channels.get(channel);
    return binding && binding.expiresAtMs > nowMs ? binding.peer : null;
  }

  /** The live channel bound to `peer`, or null (then data goes to the client in a Data indication). */
  channelOfPeer(allocation: Allocation, peer: Endpoint, nowMs: number): number | null {
    const channel = allocation.channelOf.get(endpointKey(peer));
    return channel !== undefined && this.channelPeer(allocation, channel, nowMs) ? channel : null;
  }

  /** Spends relay bandwidth (a token per byte) of the allocation and of the server; false when either is out. */
  spend(allocation: Allocation, bytes: number, nowMs: number): boolean {
    return allocation.bandwidth.takeMany(bytes, nowMs) && this.serverBandwidth.takeMany(bytes, nowMs);
  }

  /**
   * Spends bandwidth for bytes of a TCP relay, which are relayed whatever the buckets hold (a
   * stream cannot drop them): the milliseconds the relay must stop reading to pay them back.
   */
  spendStream(allocation: Allocation, bytes: number, nowMs: number): number {
    return Math.max(allocation.bandwidth.takeOwing(bytes, nowMs), this.serverBandwidth.takeOwing(bytes, nowMs));
  }

  /** Holds `port` for a later Allocate of `user` that brings `token` (hex); the caller checked `canReserve`. */
  reserve(token: string, user: string, port: number, nowMs: number, family: AddressFamily = 'ipv4'): Reservation {
    const reservation: Reservation = { token, user, port, family, expiresAtMs: nowMs + RESERVATION_LIFETIME_MS };
    this.reservations.set(token, reservation);
    this.reservedPorts.set(port, reservation);
    this.reservationsPerUser.set(user, this.reservationsOf(user) + 1);
    return reservation;
  }

  /** Whether `token` names a live reservation of `user`. */
  heldFor(token: string, user: string): boolean {
    return this.reservations.get(token)?.user === user;
  }

  /** A live reservation by its token, if `user` holds it: taken out (its port becomes the caller's relay). */
  claim(token: string, user: string): Reservation | null {
    const reservation = this.reservations.get(token);
    if (!reservation || reservation.user !== user) return null;
    this.unreserve(reservation);
    return reservation;
  }

  /** Whether `port` is held by a reservation. */
  isReservedPort(port: number): boolean {
    return this.reservedPorts.has(port);
  }

  /** The earliest time something ends (an allocation or a reservation), or null when nothing is held. */
  nextDeadlineMs(): number | null {
    let next: number | null = null;
    for (const a of this.allocations.values()) if (next === null || a.expiresAtMs < next) next = a.expiresAtMs;
    for (const r of this.reservations.values()) if (next === null || r.expiresAtMs < next) next = r.expiresAtMs;
    return next;
  }

  /** Ends every allocation and reservation whose time is up at `nowMs`, with all they hold. */
  expire(nowMs: number): Freed {
    const allocations: Allocation[] = [];
    const reservations: Reservation[] = [];
    for (const a of [...this.allocations.values()]) if (a.expiresAtMs <= nowMs) allocations.push(this.remove(a.key)!);
    for (const r of [...this.reservations.values()]) {
      if (r.expiresAtMs > nowMs) continue;
      this.unreserve(r);
      reservations.push(r);
    }
    return { allocations, reservations };
  }

  /** Ends everything (the server is closing). Allocates in progress are abandoned by their own ends. */
  clear(): Freed {
    const allocations = [...this.allocations.keys()].map((key) => this.remove(key)!);
    const reservations = [...this.reservations.values()];
    for (const r of reservations) this.unreserve(r);
    return { allocations, reservations };
  }

  private unreserve(reservation: Reservation): void {
    this.reservations.delete(reservation.token);
    this.reservedPorts.delete(reservation.port);
    const left = this.reservationsOf(reservation.user) - 1;
    if (left <= 0) this.reservationsPerUser.delete(reservation.user);
    else this.reservationsPerUser.set(reservation.user, left);
  }

  private release(user: string): void {
    const left = this.allocationsOf(user) - 1;
    if (left <= 0) this.perUser.delete(user);
    else this.perUser.set(user, left);
  }
}
