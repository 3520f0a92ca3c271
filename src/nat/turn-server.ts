// A TURN server (RFC 8656) for clients over UDP, relaying UDP: allocations with lifetimes and
// refresh, permissions, channels, Send/Data indications and ChannelData, long-term credentials
// (see turn-credentials.ts) with stateless nonces. Told the time and given its sockets: the
// socket requests arrive on, and a way to bind relay sockets.
//
// Bounds, because every allocation costs a socket and bandwidth: allocations per user and per
// server, permissions and channels per allocation, a byte rate per allocation and for the
// server, lifetimes of at most an hour; port reservations (EVEN-PORT's R bit) per user and per
// server, each held 30 s. Peers are judged by peer-policy.ts (no relaying into the host's own
// networks or into this server itself, unless the operator's allow list says so): 403 for a
// CreatePermission or ChannelBind, a dropped Send. Answers to requests nobody signed (401 and
// 438 challenges, early errors) spend the source's reply budget (reply-budget.ts): a spoofed
// flood is not reflected larger than it came. TURN over TCP: connections per source address
// and for the server, at most one message buffered (MAX_STREAM_MESSAGE_BYTES), and a connection
// that completes no message for STREAM_STALL_MS is closed unless it holds an allocation and
// nothing half-sent. Every refusal and drop is counted.
//
// Not supported, and answered as the RFC asks: DONT-FRAGMENT (420: Node's dgram cannot set the
// DF bit, and RFC 8656 section 7.2 says a server that cannot treats the attribute as unknown),
// IPv6 relays (440) and peers (443), TCP relays (RFC 6062: 442).
import type { Clock, Endpoint, Random, TcpConnection, Timer, UdpSocket } from '../env/types.js';
import { StunStreamDecoder, padForStream } from './turn-tcp.js';
import { MAX_CHANNEL, MIN_CHANNEL, decodeChannelData, encodeChannelData, isChannelData } from './channel-data.js';
import { TokenBucket } from '../util/token-bucket.js';
import { PeerPolicy, type Cidr, type PeerRefusal } from './peer-policy.js';
import { ReplyBudget } from './reply-budget.js';
import {
  Attr,
  StunClass,
  StunMethod,
  attribute,
  checkIntegrity,
  decodeAddress,
  decodeStun,
  decodeUint32,
  encodeAddress,
  encodeErrorCode,
  encodeStun,
  encodeUint32,
  encodeUnknownAttributes,
  isIpv4,
  unknownRequired,
  type DecodedStun,
  type StunAttribute,
} from './stun.js';
import { issueNonce, longTermKey, nonceValid, userOf } from './turn-credentials.js';

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
/** Ports tried for one relay before answering 508. */
export const RELAY_PORT_TRIES = 16;

const PERMISSION_LIFETIME_MS = 300_000;
const CHANNEL_LIFETIME_MS = 600_000;
const NONCE_LIFETIME_MS = 600_000;
const UDP = 17;

export type TurnRefusal =
  | 'unauthenticated'
  | 'wrong_credentials'
  | 'stale_nonce'
  | 'allocation_mismatch'
  | 'quota'
  | 'capacity'
  | 'forbidden_peer'
  | 'bad_request'
  | 'unknown_attribute'
  | 'unsupported_transport'
  | 'unsupported_family'
  | 'peer_family_mismatch'
  | 'bad_reservation'
  | 'no_allocation'
  | 'no_permission'
  | 'rate_limited'
  | 'reply_budget'
  | 'stalled_stream'
  | 'streams_per_source'
  | 'malformed';

/** How a client reached the server: a UDP socket of the server, or one TCP connection. */
export interface TurnTransport {
  readonly local: Endpoint;
  readonly protocol?: 'udp' | 'tcp';
  send(bytes: Uint8Array, to: Endpoint): void;
}

/** TCP connections a server keeps for TURN at once (each can hold one allocation). */
export const MAX_STREAMS = 4_096;
/** …and from one source address (a NAT with many web-only users behind it shares one). */
export const MAX_STREAMS_PER_SOURCE = 32;
/** A TCP connection that completes no message for this long is closed (unless it holds an allocation and no half-sent message). */
export const STREAM_STALL_MS = 10_000;

export interface TurnServerOptions {
  readonly realm: string;
  /** Signs nonces. */
  readonly secret: Uint8Array;
  /** The password of a username (long-term credentials), or null for none. */
  readonly passwordFor: (username: string, nowMs: number) => string | null;
  /** Binds a relay socket on `port` (0: any free port); rejects when the port is taken. */
  readonly bindRelay: (port: number) => Promise<UdpSocket>;
  /** The host put in XOR-RELAYED-ADDRESS: the relay sockets' public address (behind a 1:1 NAT, the public one). */
  readonly relayHost: string;
  /** Relay ports, both ends included (RFC 8656 section 7.2 suggests 49152-65535); default: any port the system gives. */
  readonly relayPorts?: { readonly min: number; readonly max: number };
  /** Draws relay ports in `relayPorts` and reservation tokens. */
  readonly random: Random;
  /** Special-purpose addresses a client may relay to nonetheless (see peer-policy.ts): loopback for `parley local`, a lab's ranges. */
  readonly allowPeers?: readonly Cidr[];
  /** Where this server answers STUN/TURN (bound and advertised): never a peer, nor other ports of these addresses but relays. */
  readonly serviceEndpoints?: readonly Endpoint[];
  /** Shared with the STUN server on the same port; default: one of its own. */
  readonly replyBudget?: ReplyBudget;
  readonly limits?: Partial<TurnLimits>;
}

interface Allocation {
  readonly key: string;
  readonly client: Endpoint;
  readonly via: TurnTransport;
  readonly username: string;
  readonly user: string;
  readonly integrityKey: Uint8Array;
  readonly relay: UdpSocket;
  readonly relayed: Endpoint;
  expiresAtMs: number;
  timer: Timer | null;
  readonly permissions: Map<string, number>;
  readonly channels: Map<number, { peer: Endpoint; expiresAtMs: number }>;
  readonly channelOf: Map<string, number>;
  readonly bandwidth: TokenBucket;
  /** The successful Allocate answer, for a retransmitted request (same transaction id). */
  readonly transactionId: string;
  readonly answer: Uint8Array;
}

/** A port held for a later Allocate that brings its token (EVEN-PORT with the R bit: RTCP beside RTP). */
interface Reservation {
  readonly token: string;
  readonly socket: UdpSocket;
  readonly user: string;
  readonly timer: Timer;
}

const endpointKey = (e: Endpoint) => `${e.host}:${e.port}`;
/** The 5-tuple an allocation belongs to: transport, client address, server address. */
const tupleKey = (from: Endpoint, via: TurnTransport) => `${via.protocol ?? 'udp'}|${endpointKey(from)}|${endpointKey(via.local)}`;

export class TurnServer {
  readonly refused = new Map<TurnRefusal, number>();
  /** Datagrams relayed each way, and bytes. */
  readonly relayed = { toPeers: 0, toClients: 0, bytes: 0 };
  /** Allocations made since the start (`allocationCount` is how many live now). */
  allocationsCreated = 0;
  /** Peers refused by the policy, by why (each also counts as `forbidden_peer`). */
  readonly forbiddenPeers = new Map<PeerRefusal, number>();
  private readonly allocations = new Map<string, Allocation>();
  /** 5-tuples with an Allocate in progress (binding its socket). */
  private readonly pending = new Set<string>();
  private readonly perUser = new Map<string, number>();
  private readonly reservations = new Map<string, Reservation>();
  private readonly reservationsPerUser = new Map<string, number>();
  private streams = 0;
  private readonly streamsPerSource = new Map<string, number>();
  /** Ends each open TCP connection (on close). */
  private readonly streamClosers = new Set<() => void>();
  /** Ports of live relays: at the server's own address, the only ports that are peers. */
  private readonly relayPorts = new Set<number>();
  private readonly peerPolicy: PeerPolicy;
  private readonly replyBudget: ReplyBudget;
  private readonly limits: TurnLimits;
  private readonly serverBandwidth: TokenBucket;

  constructor(
    private readonly clock: Clock,
    private readonly options: TurnServerOptions,
  ) {
    this.limits = { ...DEFAULT_TURN_LIMITS, ...options.limits };
    const range = options.relayPorts;
    if (range && !(Number.isInteger(range.min) && Number.isInteger(range.max) && range.min >= 1 && range.min <= range.max && range.max <= 65_535)) {
      throw new RangeError(`relay ports ${range.min}-${range.max}: two ports 1-65535, the first not above the second`);
    }
    this.serverBandwidth = new TokenBucket(this.limits.bytesPerSecond, this.limits.bytesPerSecond, clock.now());
    const services = options.serviceEndpoints ?? [];
    this.peerPolicy = new PeerPolicy({ ownHosts: [options.relayHost, ...services.map((e) => e.host)], servicePorts: services.map((e) => e.port), ...(options.allowPeers ? { allow: options.allowPeers } : {}) });
    this.replyBudget = options.replyBudget ?? new ReplyBudget(clock);
  }

  get allocationCount(): number {
    return this.allocations.size;
  }

  get reservationCount(): number {
    return this.reservations.size;
  }

  private refuse(reason: TurnRefusal): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }

  /**
   * Handles a datagram from `from` that came in on `via`: TURN requests, indications and
   * ChannelData. False when it is none of those (a Binding request: the STUN server's).
   */
  receive(bytes: Uint8Array, from: Endpoint, via: TurnTransport): boolean {
    if (isChannelData(bytes)) {
      this.channelDataFromClient(bytes, from, via);
      return true;
    }
    const decoded = decodeStun(bytes);
    return decoded.ok && this.receiveMessage(decoded.value, from, via);
  }

  /** A STUN message the caller decoded already; false when it is not TURN's (Binding, or classic STUN). */
  receiveMessage(message: DecodedStun, from: Endpoint, via: TurnTransport): boolean {
    if (message.method === StunMethod.BINDING || message.classic) return false;
    const key = tupleKey(from, via);
    if (message.cls === StunClass.INDICATION) {
      if (message.method === StunMethod.SEND) this.sendIndication(message, key);
      return true;
    }
    if (message.cls !== StunClass.REQUEST) return true;
    switch (message.method) {
      case StunMethod.ALLOCATE:
        void this.allocate(message, from, via, key);
        return true;
      case StunMethod.REFRESH:
      case StunMethod.CREATE_PERMISSION:
      case StunMethod.CHANNEL_BIND:
        this.onAllocation(message, from, via, key);
        return true;
      default:
        this.answer(via, from, message, StunClass.ERROR, [this.errorCode(400, 'Bad Request')]);
        this.refuse('bad_request');
        return true;
    }
  }

  private errorCode(code: number, reason: string): StunAttribute {
    return { type: Attr.ERROR_CODE, value: encodeErrorCode(code, reason) };
  }

  /** Refuses a request: counted by `why`, answered with the error (signed when the request was). */
  private reject(via: TurnTransport, from: Endpoint, request: DecodedStun, code: number, reason: string, why: TurnRefusal, key?: Uint8Array): void {
    this.refuse(why);
    this.answer(via, from, request, StunClass.ERROR, [this.errorCode(code, reason)], key);
  }

  /** Sends an answer; one to a request nobody signed (no `integrityKey`) only within the source's reply budget. */
  private answer(via: TurnTransport, to: Endpoint, request: DecodedStun, cls: StunClass, attributes: StunAttribute[], integrityKey?: Uint8Array): void {
    const bytes = encodeStun({ method: request.method, cls, transactionId: request.transactionId, attributes, classic: false }, { ...(integrityKey ? { integrityKey } : {}), fingerprint: attribute(request, Attr.FINGERPRINT) !== undefined });
    if (!integrityKey && !this.replyBudget.allow(to.host, request.raw.byteLength, bytes.byteLength)) return this.refuse('reply_budget');
    via.send(bytes, to);
  }

  /** The policy's verdict on a peer, its reason counted when it refuses (the caller counts `forbidden_peer`). */
  private peerAllowed(peer: Endpoint): boolean {
    const refusal = this.peerPolicy.check(peer, (port) => this.relayPorts.has(port));
    if (refusal === null) return true;
    this.forbiddenPeers.set(refusal, (this.forbiddenPeers.get(refusal) ?? 0) + 1);
    return false;
  }

  private challenge(via: TurnTransport, from: Endpoint, request: DecodedStun, code: 401 | 438, reason: string): void {
    this.answer(via, from, request, StunClass.ERROR, [
      this.errorCode(code, reason),
      { type: Attr.REALM, value: new TextEncoder().encode(this.options.realm) },
      { type: Attr.NONCE, value: new TextEncoder().encode(issueNonce(this.options.secret, from.host, this.clock.wallTimeMs(), NONCE_LIFETIME_MS)) },
    ]);
  }

  /** Checks the long-term credentials of a request; answers the challenge itself and returns null when they fail. */
  private authenticate(request: DecodedStun, from: Endpoint, via: TurnTransport): { username: string; key: Uint8Array } | null {
    const username = attribute(request, Attr.USERNAME);
    const nonce = attribute(request, Attr.NONCE);
    const realm = attribute(request, Attr.REALM);
    if (request.integrityOffset < 0 || !username || !nonce || !realm) {
      this.refuse('unauthenticated');
      this.challenge(via, from, request, 401, 'Unauthenticated');
      return null;
    }
    const decoder = new TextDecoder();
    const name = decoder.decode(username);
    if (!nonceValid(this.options.secret, decoder.decode(nonce), from.host, this.clock.wallTimeMs())) {
      this.refuse('stale_nonce');
      this.challenge(via, from, request, 438, 'Stale Nonce');
      return null;
    }
    const password = decoder.decode(realm) === this.options.realm ? this.options.passwordFor(name, this.clock.wallTimeMs()) : null;
    const key = password === null ? null : longTermKey(name, this.options.realm, password);
    if (!key || !checkIntegrity(request, key)) {
      this.refuse('wrong_credentials');
      this.challenge(via, from, request, 401, 'Unauthenticated');
      return null;
    }
    return { username: name, key };
  }

  private known = new Set<number>([
    Attr.USERNAME,
    Attr.MESSAGE_INTEGRITY,
    Attr.REALM,
    Attr.NONCE,
    Attr.LIFETIME,
    Attr.REQUESTED_TRANSPORT,
    Attr.XOR_PEER_ADDRESS,
    Attr.CHANNEL_NUMBER,
    Attr.DATA,
    Attr.REQUESTED_ADDRESS_FAMILY,
    Attr.EVEN_PORT,
    Attr.RESERVATION_TOKEN,
    // Not DONT_FRAGMENT: see the header.
  ]);

  private unknownAttributes(request: DecodedStun, from: Endpoint, via: TurnTransport): boolean {
    const unknown = unknownRequired(request, this.known);
    if (unknown.length === 0) return false;
    this.refuse('unknown_attribute');
    this.answer(via, from, request, StunClass.ERROR, [this.errorCode(420, 'Unknown Attribute'), { type: Attr.UNKNOWN_ATTRIBUTES, value: encodeUnknownAttributes(unknown.slice(0, 4)) }]);
    return true;
  }

  private lifetimeOf(request: DecodedStun): number {
    const asked = attribute(request, Attr.LIFETIME);
    const seconds = asked ? (decodeUint32(asked) ?? this.limits.defaultLifetimeS) : this.limits.defaultLifetimeS;
    return seconds === 0 ? 0 : Math.min(this.limits.maxLifetimeS, Math.max(this.limits.defaultLifetimeS, seconds));
  }

  private async allocate(request: DecodedStun, from: Endpoint, via: TurnTransport, key: string): Promise<void> {
    if (this.unknownAttributes(request, from, via)) return;
    const existing = this.allocations.get(key);
    const auth = this.authenticate(request, from, via);
    if (!auth) return;
    if (existing) {
      // A retransmission gets the same answer; anything else is a mismatch (RFC 8656 section 7.2).
      if (existing.transactionId === Buffer.from(request.transactionId).toString('hex')) via.send(existing.answer.slice(), from);
      else this.reject(via, from, request, 437, 'Allocation Mismatch', 'allocation_mismatch', auth.key);
      return;
    }
    if (this.pending.has(key)) return; // a retransmission while the relay socket is being bound
    const transport = attribute(request, Attr.REQUESTED_TRANSPORT);
    if (!transport || transport.byteLength !== 4) return this.reject(via, from, request, 400, 'Bad Request', 'bad_request', auth.key);
    if (transport[0] !== UDP) return this.reject(via, from, request, 442, 'Unsupported Transport Protocol', 'unsupported_transport', auth.key);
    // RFC 8656 section 7.2, in its order: the token, the family, EVEN-PORT, the quota.
    const family = attribute(request, Attr.REQUESTED_ADDRESS_FAMILY);
    const evenPort = attribute(request, Attr.EVEN_PORT);
    const tokenValue = attribute(request, Attr.RESERVATION_TOKEN);
    const user = userOf(auth.username);
    let reservation: Reservation | null = null;
    if (tokenValue) {
      if (evenPort || family || tokenValue.byteLength !== 8) return this.reject(via, from, request, 400, 'Bad Request', 'bad_request', auth.key);
      // A token names a port held for its user; another user's, or an expired one, is not valid.
      const held = this.reservations.get(Buffer.from(tokenValue).toString('hex'));
      if (!held || held.user !== user) return this.reject(via, from, request, 508, 'Insufficient Capacity', 'bad_reservation', auth.key);
      reservation = held;
    }
    if (family && (family.byteLength !== 4 || family[0] !== 0x01)) {
      const code = family.byteLength === 4 && family[0] === 0x02 ? 440 : 400;
      return this.reject(via, from, request, code, code === 440 ? 'Address Family not Supported' : 'Bad Request', code === 440 ? 'unsupported_family' : 'bad_request', auth.key);
    }
    if (evenPort && evenPort.byteLength !== 1) return this.reject(via, from, request, 400, 'Bad Request', 'bad_request', auth.key);
    const reserve = evenPort !== undefined && (evenPort[0]! & 0x80) !== 0;
    if (reserve && ((this.reservationsPerUser.get(user) ?? 0) >= this.limits.reservationsPerUser || this.reservations.size >= this.limits.reservations)) {
      return this.reject(via, from, request, 508, 'Insufficient Capacity', 'capacity', auth.key);
    }
    if ((this.perUser.get(user) ?? 0) >= this.limits.allocationsPerUser) return this.reject(via, from, request, 486, 'Allocation Quota Reached', 'quota', auth.key);
    if (this.allocations.size + this.pending.size >= this.limits.allocations) return this.reject(via, from, request, 508, 'Insufficient Capacity', 'capacity', auth.key);
    this.pending.add(key);
    this.perUser.set(user, (this.perUser.get(user) ?? 0) + 1);
    let relay: UdpSocket | null;
    let reservedToken: Uint8Array | null = null;
    if (reservation) {
      this.unreserve(reservation);
      relay = reservation.socket;
    } else {
      const bound = await this.bindRelay(reserve ? 'pair' : evenPort ? 'even' : 'any');
      relay = bound?.relay ?? null;
      // Bounds are checked again: other Allocates may have reserved while this one bound its ports.
      if (bound?.reserved && ((this.reservationsPerUser.get(user) ?? 0) >= this.limits.reservationsPerUser || this.reservations.size >= this.limits.reservations)) {
        bound.reserved.close();
        bound.relay.close();
        relay = null;
      } else if (bound?.reserved) reservedToken = this.reservePort(bound.reserved, user);
    }
    this.pending.delete(key);
    if (!relay) {
      this.release(user);
      return this.reject(via, from, request, 508, 'Insufficient Capacity', 'capacity', auth.key);
    }
    const lifetimeS = this.lifetimeOf(request) || this.limits.defaultLifetimeS;
    const relayed = { host: this.options.relayHost, port: relay.local.port };
    const answer = encodeStun(
      {
        method: StunMethod.ALLOCATE,
        cls: StunClass.SUCCESS,
        transactionId: request.transactionId,
        attributes: [
          { type: Attr.XOR_RELAYED_ADDRESS, value: encodeAddress(relayed, true) },
          { type: Attr.LIFETIME, value: encodeUint32(lifetimeS) },
          { type: Attr.XOR_MAPPED_ADDRESS, value: encodeAddress(from, true, request.transactionId) },
          ...(reservedToken ? [{ type: Attr.RESERVATION_TOKEN, value: reservedToken }] : []),
        ],
        classic: false,
      },
      { integrityKey: auth.key, fingerprint: attribute(request, Attr.FINGERPRINT) !== undefined },
    );
    const now = this.clock.now();
    const allocation: Allocation = {
      key,
      client: from,
      via,
      username: auth.username,
      user,
      integrityKey: auth.key,
      relay,
      relayed,
      expiresAtMs: now + lifetimeS * 1000,
      timer: null,
      permissions: new Map(),
      channels: new Map(),
      channelOf: new Map(),
      bandwidth: new TokenBucket(this.limits.bytesPerSecondPerAllocation, this.limits.bytesPerSecondPerAllocation, now),
      transactionId: Buffer.from(request.transactionId).toString('hex'),
      answer,
    };
    this.allocations.set(key, allocation);
    this.relayPorts.add(relay.local.port);
    this.allocationsCreated++;
    this.schedule(allocation);
    relay.onMessage((bytes, peer) => this.fromPeer(allocation, bytes, peer));
    via.send(answer.slice(), from);
  }

  /**
   * Relay sockets: on any port, an even one, or an even one with the next (odd) port bound too
   * for a reservation (`pair`). Ports come from the operator's range when set (random, so that
   * relay addresses are not guessed), else from the system; at most RELAY_PORT_TRIES tries.
   */
  private async bindRelay(kind: 'any' | 'even' | 'pair'): Promise<{ relay: UdpSocket; reserved?: UdpSocket } | null> {
    const bind = (port: number) => this.options.bindRelay(port).catch(() => null);
    for (let tries = 0; tries < RELAY_PORT_TRIES; tries++) {
      const port = this.candidatePort(kind);
      if (port === null) return null;
      const socket = await bind(port);
      if (!socket) continue;
      const got = socket.local.port;
      if (kind === 'any' || (kind === 'even' && got % 2 === 0)) return { relay: socket };
      if (kind === 'pair') {
        // The system's port may be odd: then it is the reserved one, and the even one below it is tried.
        const partnerPort = got % 2 === 0 ? got + 1 : got - 1;
        const partner = partnerPort >= 1 && partnerPort <= 65_535 ? await bind(partnerPort) : null;
        if (partner) return got % 2 === 0 ? { relay: socket, reserved: partner } : { relay: partner, reserved: socket };
      }
      socket.close();
    }
    return null;
  }

  /** A port to try: 0 (the system's choice) without a range; in the range, an even one for `even`, and one below the top for `pair`. */
  private candidatePort(kind: 'any' | 'even' | 'pair'): number | null {
    const range = this.options.relayPorts;
    if (!range) return 0;
    if (kind === 'any') return range.min + this.options.random.int(range.max - range.min + 1);
    const firstEven = range.min + (range.min % 2);
    const lastEven = kind === 'pair' ? (range.max - 1) & ~1 : range.max & ~1;
    if (lastEven < firstEven) return null;
    return firstEven + 2 * this.options.random.int((lastEven - firstEven) / 2 + 1);
  }

  /** Holds `socket` for a later Allocate of `user` with the token returned (RFC 8656 section 14.9: 8 bytes). */
  private reservePort(socket: UdpSocket, user: string): Uint8Array {
    const token = this.options.random.bytes(8);
    const hex = Buffer.from(token).toString('hex');
    // Nothing is relayed on a reserved port yet: what a peer sends there is dropped, counted.
    socket.onMessage(() => this.refuse('no_allocation'));
    const reservation: Reservation = {
      token: hex,
      socket,
      user,
      timer: this.clock.after(RESERVATION_LIFETIME_MS, () => {
        if (this.reservations.get(hex) !== reservation) return;
        this.unreserve(reservation);
        socket.close();
      }),
    };
    this.reservations.set(hex, reservation);
    this.reservationsPerUser.set(user, (this.reservationsPerUser.get(user) ?? 0) + 1);
    return token;
  }

  /** Forgets a reservation (claimed or expired); the caller keeps or closes its socket. */
  private unreserve(reservation: Reservation): void {
    reservation.timer.cancel();
    this.reservations.delete(reservation.token);
    const left = (this.reservationsPerUser.get(reservation.user) ?? 1) - 1;
    if (left <= 0) this.reservationsPerUser.delete(reservation.user);
    else this.reservationsPerUser.set(reservation.user, left);
  }

  private release(user: string): void {
    const left = (this.perUser.get(user) ?? 1) - 1;
    if (left <= 0) this.perUser.delete(user);
    else this.perUser.set(user, left);
  }

  private schedule(allocation: Allocation): void {
    allocation.timer?.cancel();
    allocation.timer = this.clock.after(Math.max(0, allocation.expiresAtMs - this.clock.now()), () => this.remove(allocation));
  }

  private remove(allocation: Allocation): void {
    if (this.allocations.get(allocation.key) !== allocation) return;
    this.allocations.delete(allocation.key);
    this.relayPorts.delete(allocation.relay.local.port);
    allocation.timer?.cancel();
    allocation.relay.close();
    this.release(allocation.user);
  }

  /** Refresh, CreatePermission and ChannelBind: requests about an existing allocation. */
  private onAllocation(request: DecodedStun, from: Endpoint, via: TurnTransport, key: string): void {
    if (this.unknownAttributes(request, from, via)) return;
    const auth = this.authenticate(request, from, via);
    if (!auth) return;
    const allocation = this.allocations.get(key);
    if (!allocation) return this.reject(via, from, request, 437, 'Allocation Mismatch', 'no_allocation', auth.key);
    if (allocation.username !== auth.username) return this.reject(via, from, request, 441, 'Wrong Credentials', 'wrong_credentials', auth.key);
    const ok = (attributes: StunAttribute[] = []) => this.answer(via, from, request, StunClass.SUCCESS, attributes, auth.key);
    const fail = (code: number, reason: string, why: TurnRefusal) => this.reject(via, from, request, code, reason, why, auth.key);
    const now = this.clock.now();
    if (request.method === StunMethod.REFRESH) {
      const lifetimeS = this.lifetimeOf(request);
      if (lifetimeS === 0) this.remove(allocation);
      else {
        allocation.expiresAtMs = now + lifetimeS * 1000;
        this.schedule(allocation);
      }
      ok([{ type: Attr.LIFETIME, value: encodeUint32(lifetimeS) }]);
      return;
    }
    const peers: Endpoint[] = [];
    for (const a of request.attributes) {
      if (a.type !== Attr.XOR_PEER_ADDRESS) continue;
      const peer = decodeAddress(a.value, true, request.transactionId);
      if (!peer.ok) return fail(400, 'Bad Request', 'bad_request');
      // Relays are IPv4 only: an IPv6 peer is of the other family (RFC 8656 sections 9.2 and 11.2).
      if (!isIpv4(peer.value.host)) return fail(443, 'Peer Address Family Mismatch', 'peer_family_mismatch');
      if (!this.peerAllowed(peer.value)) return fail(403, 'Forbidden', 'forbidden_peer');
      peers.push(peer.value);
    }
    if (peers.length === 0) return fail(400, 'Bad Request', 'bad_request');
    if (request.method === StunMethod.CREATE_PERMISSION) {
      const fresh = peers.filter((p) => !allocation.permissions.has(p.host));
      if (allocation.permissions.size + new Set(fresh.map((p) => p.host)).size > this.limits.permissionsPerAllocation) return fail(508, 'Insufficient Capacity', 'quota');
      for (const p of peers) allocation.permissions.set(p.host, now + PERMISSION_LIFETIME_MS);
      ok();
      return;
    }
    // ChannelBind: one peer, a channel number, neither bound to something else.
    const channelValue = attribute(request, Attr.CHANNEL_NUMBER);
    const channel = channelValue && channelValue.byteLength === 4 ? (channelValue[0]! << 8) | channelValue[1]! : -1;
    const peer = peers[0]!;
    if (channel < MIN_CHANNEL || channel > MAX_CHANNEL || peers.length !== 1) return fail(400, 'Bad Request', 'bad_request');
    const bound = allocation.channels.get(channel);
    const peerChannel = allocation.channelOf.get(endpointKey(peer));
    if ((bound && endpointKey(bound.peer) !== endpointKey(peer)) || (peerChannel !== undefined && peerChannel !== channel)) return fail(400, 'Bad Request', 'bad_request');
    if (!bound && allocation.channels.size >= this.limits.channelsPerAllocation) return fail(508, 'Insufficient Capacity', 'quota');
    allocation.channels.set(channel, { peer, expiresAtMs: now + CHANNEL_LIFETIME_MS });
    allocation.channelOf.set(endpointKey(peer), channel);
    // A channel also installs or refreshes the permission for its peer's address.
    allocation.permissions.set(peer.host, now + PERMISSION_LIFETIME_MS);
    ok();
  }

  private permitted(allocation: Allocation, host: string): boolean {
    const until = allocation.permissions.get(host);
    if (until === undefined) return false;
    if (until <= this.clock.now()) {
      allocation.permissions.delete(host);
      return false;
    }
    return true;
  }

  /** Spends relay bandwidth (a token per byte) of the allocation and of the server; false, and counted, when either is out. */
  private spend(allocation: Allocation, bytes: number): boolean {
    const now = this.clock.now();
    if (!allocation.bandwidth.takeMany(bytes, now) || !this.serverBandwidth.takeMany(bytes, now)) {
      this.refuse('rate_limited');
      return false;
    }
    this.relayed.bytes += bytes;
    return true;
  }

  private sendIndication(message: DecodedStun, key: string): void {
    const allocation = this.allocations.get(key);
    const peerValue = attribute(message, Attr.XOR_PEER_ADDRESS);
    const data = attribute(message, Attr.DATA);
    if (!allocation || !peerValue || !data) return this.refuse(allocation ? 'malformed' : 'no_allocation');
    const peer = decodeAddress(peerValue, true, message.transactionId);
    if (!peer.ok) return this.refuse('malformed');
    // Indications are never answered: a peer of the other family, or DONT-FRAGMENT (which this
    // server cannot honour, see the header), drops it (RFC 8656 section 11.2).
    if (!isIpv4(peer.value.host)) return this.refuse('peer_family_mismatch');
    if (attribute(message, Attr.DONT_FRAGMENT)) return this.refuse('unknown_attribute');
    if (!this.permitted(allocation, peer.value.host)) return this.refuse('no_permission');
    // Permissions are per address: the port is judged here (a service port of this server, say).
    if (!this.peerAllowed(peer.value)) return this.refuse('forbidden_peer');
    if (!this.spend(allocation, data.byteLength)) return;
    allocation.relay.send(data.slice(), peer.value);
    this.relayed.toPeers++;
  }

  private channelDataFromClient(bytes: Uint8Array, from: Endpoint, via: TurnTransport): void {
    const allocation = this.allocations.get(tupleKey(from, via));
    if (!allocation) return this.refuse('no_allocation');
    const decoded = decodeChannelData(bytes);
    if (!decoded) return this.refuse('malformed');
    const binding = allocation.channels.get(decoded.channel);
    if (!binding || binding.expiresAtMs <= this.clock.now()) return this.refuse('no_permission');
    if (!this.permitted(allocation, binding.peer.host)) return this.refuse('no_permission');
    if (!this.spend(allocation, decoded.data.byteLength)) return;
    allocation.relay.send(decoded.data.slice(), binding.peer);
    this.relayed.toPeers++;
  }

  private fromPeer(allocation: Allocation, bytes: Uint8Array, peer: Endpoint): void {
    if (this.allocations.get(allocation.key) !== allocation) return;
    if (!this.permitted(allocation, peer.host)) return this.refuse('no_permission');
    if (!this.spend(allocation, bytes.byteLength)) return;
    const channel = allocation.channelOf.get(endpointKey(peer));
    const binding = channel === undefined ? undefined : allocation.channels.get(channel);
    if (channel !== undefined && binding && binding.expiresAtMs > this.clock.now()) {
      allocation.via.send(encodeChannelData(channel, bytes), allocation.client);
    } else {
      const indication = encodeStun({
        method: StunMethod.DATA,
        cls: StunClass.INDICATION,
        transactionId: indicationId(),
        attributes: [
          { type: Attr.XOR_PEER_ADDRESS, value: encodeAddress(peer, true) },
          { type: Attr.DATA, value: bytes },
        ],
        classic: false,
      });
      allocation.via.send(indication, allocation.client);
    }
    this.relayed.toClients++;
  }

  /**
   * A client's TCP connection (RFC 8656 section 12.5 framing): its messages are handled like
   * datagrams, answers go back on it, and its allocation ends with it.
   */
  acceptStream(connection: TcpConnection, firstBytes: Uint8Array): void {
    const source = connection.remote.host;
    const fromSource = this.streamsPerSource.get(source) ?? 0;
    if (this.streams >= MAX_STREAMS || fromSource >= MAX_STREAMS_PER_SOURCE) {
      this.refuse(this.streams >= MAX_STREAMS ? 'capacity' : 'streams_per_source');
      connection.close();
      return;
    }
    this.streams++;
    this.streamsPerSource.set(source, fromSource + 1);
    const transport: TurnTransport = { local: connection.local, protocol: 'tcp', send: (bytes) => connection.write(padForStream(bytes)) };
    const decoder = new StunStreamDecoder();
    let open = true;
    let stall: Timer | null = null;
    const end = () => {
      if (!open) return;
      open = false;
      stall?.cancel();
      this.streamClosers.delete(end);
      connection.close();
    };
    // The stall clock restarts with every whole message, and when a message begins (bytes left
    // over where none were): a peer that trickles a message, or sends nothing, is closed.
    const arm = () => {
      stall?.cancel();
      stall = this.clock.after(STREAM_STALL_MS, () => {
        stall = null;
        // A quiet client with an allocation is bounded by its lifetime (and must refresh it).
        if (decoder.bufferedBytes === 0 && this.allocations.has(tupleKey(connection.remote, transport))) return arm();
        this.refuse('stalled_stream');
        end();
      });
    };
    const take = (bytes: Uint8Array) => {
      if (!open) return;
      const wasBuffering = decoder.bufferedBytes > 0;
      const messages = decoder.push(bytes);
      if (!messages) {
        this.refuse('malformed');
        end();
        return;
      }
      if (messages.length > 0 || (!wasBuffering && decoder.bufferedBytes > 0)) arm();
      for (const m of messages) if (!this.receive(m, connection.remote, transport)) this.refuse('malformed');
    };
    this.streamClosers.add(end);
    connection.onData(take);
    connection.onClose(() => {
      open = false;
      stall?.cancel();
      this.streamClosers.delete(end);
      this.streams--;
      const left = (this.streamsPerSource.get(source) ?? 1) - 1;
      if (left <= 0) this.streamsPerSource.delete(source);
      else this.streamsPerSource.set(source, left);
      const allocation = this.allocations.get(tupleKey(connection.remote, transport));
      if (allocation) this.remove(allocation);
    });
    arm();
    take(firstBytes);
  }

  close(): void {
    for (const end of [...this.streamClosers]) end();
    for (const allocation of [...this.allocations.values()]) this.remove(allocation);
    for (const reservation of [...this.reservations.values()]) {
      this.unreserve(reservation);
      reservation.socket.close();
    }
  }
}

let indicationCounter = 0;
/** Indications need a transaction id but no randomness: nothing answers them. */
function indicationId(): Uint8Array {
  const id = new Uint8Array(12);
  const n = ++indicationCounter;
  id[8] = n >>> 24;
  id[9] = (n >>> 16) & 0xff;
  id[10] = (n >>> 8) & 0xff;
  id[11] = n & 0xff;
  return id;
}
