// A TURN server (RFC 8656) for clients over UDP, relaying UDP: allocations with lifetimes and
// refresh, permissions, channels, Send/Data indications and ChannelData, long-term credentials
// (see turn-credentials.ts) with stateless nonces. Told the time and given its sockets: the
// socket requests arrive on, and a way to bind relay sockets.
//
// Bounds, because every allocation costs a socket and bandwidth: allocations per user and per
// server, permissions and channels per allocation, a byte rate per allocation and for the
// server, lifetimes of at most an hour. Peers that make no sense (unspecified, multicast,
// broadcast, or what `allowPeer` refuses) get 403. Every refusal and drop is counted.
import type { Clock, Endpoint, TcpConnection, Timer, UdpSocket } from '../env/types.js';
import { StunStreamDecoder, padForStream } from './turn-tcp.js';
import { MAX_CHANNEL, MIN_CHANNEL, decodeChannelData, encodeChannelData, isChannelData } from './channel-data.js';
import { TokenBucket } from '../overlay/token-bucket.js';
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
};

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
  | 'no_allocation'
  | 'no_permission'
  | 'rate_limited'
  | 'malformed';

/** How a client reached the server: a UDP socket of the server, or one TCP connection. */
export interface TurnTransport {
  readonly local: Endpoint;
  readonly protocol?: 'udp' | 'tcp';
  send(bytes: Uint8Array, to: Endpoint): void;
}

/** TCP connections a server keeps for TURN at once (each can hold one allocation). */
export const MAX_STREAMS = 4_096;

export interface TurnServerOptions {
  readonly realm: string;
  /** Signs nonces. */
  readonly secret: Uint8Array;
  /** The password of a username (long-term credentials), or null for none. */
  readonly passwordFor: (username: string, nowMs: number) => string | null;
  /** Binds a relay socket (port 0: any free port). */
  readonly bindRelay: () => Promise<UdpSocket>;
  /** The host put in XOR-RELAYED-ADDRESS (the relay sockets' public address). */
  readonly relayHost: string;
  /** Peers a client may relay to, beyond the built-in refusals. */
  readonly allowPeer?: (peer: Endpoint) => boolean;
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

const endpointKey = (e: Endpoint) => `${e.host}:${e.port}`;
/** The 5-tuple an allocation belongs to: transport, client address, server address. */
const tupleKey = (from: Endpoint, via: TurnTransport) => `${via.protocol ?? 'udp'}|${endpointKey(from)}|${endpointKey(via.local)}`;

/** Unspecified, multicast, broadcast and "this network" addresses are never peers. */
function plausiblePeer(peer: Endpoint): boolean {
  const first = Number(peer.host.split('.')[0]);
  return peer.port > 0 && first !== 0 && first < 224 && peer.host !== '255.255.255.255';
}

export class TurnServer {
  readonly refused = new Map<TurnRefusal, number>();
  /** Datagrams relayed each way, and bytes. */
  readonly relayed = { toPeers: 0, toClients: 0, bytes: 0 };
  /** Allocations made since the start (`allocationCount` is how many live now). */
  allocationsCreated = 0;
  private readonly allocations = new Map<string, Allocation>();
  /** 5-tuples with an Allocate in progress (binding its socket). */
  private readonly pending = new Set<string>();
  private readonly perUser = new Map<string, number>();
  private streams = 0;
  private readonly limits: TurnLimits;
  private readonly serverBandwidth: TokenBucket;

  constructor(
    private readonly clock: Clock,
    private readonly options: TurnServerOptions,
  ) {
    this.limits = { ...DEFAULT_TURN_LIMITS, ...options.limits };
    this.serverBandwidth = new TokenBucket(this.limits.bytesPerSecond, this.limits.bytesPerSecond, clock.now());
  }

  get allocationCount(): number {
    return this.allocations.size;
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

  private answer(via: TurnTransport, to: Endpoint, request: DecodedStun, cls: StunClass, attributes: StunAttribute[], integrityKey?: Uint8Array): Uint8Array {
    const bytes = encodeStun({ method: request.method, cls, transactionId: request.transactionId, attributes, classic: false }, { ...(integrityKey ? { integrityKey } : {}), fingerprint: attribute(request, Attr.FINGERPRINT) !== undefined });
    via.send(bytes.slice(), to);
    return bytes;
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
    const family = attribute(request, Attr.REQUESTED_ADDRESS_FAMILY);
    if (family && family[0] !== 0x01) return this.reject(via, from, request, 440, 'Address Family not Supported', 'bad_request', auth.key);
    // EVEN-PORT (RTP on an even port): honoured; reserving the next port for RTCP (the R bit) is not offered.
    const evenPort = attribute(request, Attr.EVEN_PORT);
    if (evenPort && (evenPort.byteLength !== 1 || (evenPort[0]! & 0x80) !== 0)) return this.reject(via, from, request, 508, 'Insufficient Capacity', 'capacity', auth.key);
    const user = userOf(auth.username);
    if ((this.perUser.get(user) ?? 0) >= this.limits.allocationsPerUser) return this.reject(via, from, request, 486, 'Allocation Quota Reached', 'quota', auth.key);
    if (this.allocations.size + this.pending.size >= this.limits.allocations) return this.reject(via, from, request, 508, 'Insufficient Capacity', 'capacity', auth.key);
    this.pending.add(key);
    this.perUser.set(user, (this.perUser.get(user) ?? 0) + 1);
    const relay = await this.bindRelay(evenPort !== undefined);
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
          { type: Attr.XOR_MAPPED_ADDRESS, value: encodeAddress(from, true) },
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
    this.allocationsCreated++;
    this.schedule(allocation);
    relay.onMessage((bytes, peer) => this.fromPeer(allocation, bytes, peer));
    via.send(answer.slice(), from);
  }

  /** A relay socket (on an even port when asked: a few tries, the odd ones closed again); null when none could be bound. */
  private async bindRelay(even: boolean): Promise<UdpSocket | null> {
    for (let tries = 0; tries < 16; tries++) {
      const relay = await this.options.bindRelay().catch(() => null);
      if (!relay || !even || relay.local.port % 2 === 0) return relay;
      relay.close();
    }
    return null;
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
      const peer = decodeAddress(a.value, true);
      if (!peer.ok) return fail(400, 'Bad Request', 'bad_request');
      if (!plausiblePeer(peer.value) || (this.options.allowPeer && !this.options.allowPeer(peer.value))) return fail(403, 'Forbidden', 'forbidden_peer');
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
    const peer = decodeAddress(peerValue, true);
    if (!peer.ok) return this.refuse('malformed');
    if (!this.permitted(allocation, peer.value.host)) return this.refuse('no_permission');
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
    if (this.streams >= MAX_STREAMS) {
      this.refuse('capacity');
      connection.close();
      return;
    }
    this.streams++;
    const transport: TurnTransport = { local: connection.local, protocol: 'tcp', send: (bytes) => connection.write(padForStream(bytes)) };
    const decoder = new StunStreamDecoder();
    const take = (bytes: Uint8Array) => {
      const messages = decoder.push(bytes);
      if (!messages) {
        this.refuse('malformed');
        connection.close();
        return;
      }
      for (const m of messages) if (!this.receive(m, connection.remote, transport)) this.refuse('malformed');
    };
    connection.onData(take);
    connection.onClose(() => {
      this.streams--;
      const allocation = this.allocations.get(tupleKey(connection.remote, transport));
      if (allocation) this.remove(allocation);
    });
    take(firstBytes);
  }

  close(): void {
    for (const allocation of [...this.allocations.values()]) this.remove(allocation);
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
