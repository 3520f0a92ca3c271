// TURN's requests and relaying (RFC 8656), one named function each, behind one dispatcher:
// Allocate (section 7), Refresh (section 7.3-7.4), CreatePermission (section 9), ChannelBind
// (section 12), Send indications (section 11) and ChannelData (section 12.4) from clients, and
// what peers send to a relay (Data indications or ChannelData back to the client). State lives
// in the allocation table (turn-allocations.ts); sockets, timers, the peer policy and counters
// are the driver's (turn-server.ts), reached through `TurnContext`. Answers to requests nobody
// signed spend the source's reply budget.
//
// Relays are IPv4 by default, IPv6 when an Allocate asks so with REQUESTED-ADDRESS-FAMILY (RFC
// 8656 section 7.2; 440 when the server has no IPv6 relay address). Peers are of the relay's
// family: another family is 443 (Peer Address Family Mismatch) for CreatePermission and
// ChannelBind, and drops a Send indication (sections 9.2, 11.2). An IPv4-mapped IPv6 peer is
// an IPv4 peer. A client may reach the server over either family for a relay of either.
//
// TCP relays (RFC 6062) when the server has them (`tcpRelays`, turn-tcp-relay.ts; else 442): an
// Allocate with REQUESTED-TRANSPORT TCP, over TCP or TLS only and without EVEN-PORT,
// RESERVATION-TOKEN or DONT-FRAGMENT (400), gets a listening relay; Connect asks for a
// connection to a peer (judged by the peer policy like any peer; 446, 447); ConnectionBind, on a
// new connection of the client, pairs it with a peer connection by CONNECTION-ID, and the stream
// stops being TURN's. Send indications and ChannelBind have no place on a TCP allocation (a
// dropped indication, 400).
//
// DONT-FRAGMENT (RFC 8656 section 7.2, on UDP relays) is understood only when the server says
// its relay sockets set the DF bit (`dontFragment`: Linux does, see turn-server.ts); otherwise it
// is unknown, 420, as the RFC asks of a server that cannot. ADDITIONAL-ADDRESS-FAMILY
// (comprehension-optional) is ignored: one relay per allocation.
//
// A relay on several threads sends an authenticated Allocate to the user's home thread with a
// signed 300 Try Alternate (RFC 8489 section 10; `TurnContext.homeOf`).
import { encodePeerIndication } from './indications.js';
import type { Endpoint, TcpConnection } from '../env/types.js';
import type { ReplyBudget } from '../stun/reply-budget.js';
import { MAX_CHANNEL, MIN_CHANNEL, decodeChannelData, encodeChannelData, isChannelData } from './channel-data.js';
import { tupleKey, type AddressFamily, type Allocation, type AllocationTable, type RelayTransport, type Reservation } from './turn-allocations.js';
import { decodeConnectionId, type TcpRelays } from './turn-tcp-relay.js';
import { authenticate, challengeAttributes, type TurnAuthority } from './turn-auth.js';
import { userOf } from './turn-credentials.js';
import {
  Attr,
  StunClass,
  StunMethod,
  attribute,
  decodeAddress,
  decodeStun,
  decodeUint32,
  encodeAddress,
  encodeErrorCode,
  encodeStun,
  encodeUint32,
  encodeUnknownAttributes,
  addressFamily,
  unknownRequired,
  type DecodedStun,
  type StunAttribute,
} from '../stun/stun.js';

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
  | 'malformed'
  // TCP relays (RFC 6062, turn-tcp-relay.ts):
  | 'connection_exists'
  | 'connect_failed'
  | 'connection_quota'
  | 'unknown_connection'
  | 'bind_timeout'
  | 'idle_connection';

/** How a client reached the server: a UDP socket of the server, or one TCP connection. */
export interface TurnTransport {
  readonly local: Endpoint;
  readonly protocol?: 'udp' | 'tcp';
  send(bytes: Uint8Array, to: Endpoint): void;
  /**
   * A TCP connection's (turn-streams.ts): takes it out of TURN for a TCP relay (ConnectionBind),
   * with the bytes read past the request; null when it is closed already.
   */
  detach?(): { readonly connection: TcpConnection; readonly pending: Uint8Array } | null;
}

/** Which relay an Allocate wants: any port, an even one, or an even one with the next held (EVEN-PORT's R bit). */
export type RelayKind = 'any' | 'even' | 'pair';

/** What the handlers need from the server that drives them. */
export interface TurnContext {
  readonly table: AllocationTable;
  readonly authority: TurnAuthority;
  readonly replyBudget: ReplyBudget;
  /** The host put in XOR-RELAYED-ADDRESS for a relay of a family; null when the server has no relay of that family. */
  relayHost(family: AddressFamily): string | null;
  /** Datagrams relayed each way, and bytes. */
  readonly relayed: { toPeers: number; toClients: number; bytes: number };
  nowMs(): number;
  wallTimeMs(): number;
  randomBytes(count: number): Uint8Array;
  refuse(why: TurnRefusal): void;
  /** The peer policy's verdict for a relay of `transport` (its reason counted when it refuses). */
  peerAllowed(peer: Endpoint, transport: RelayTransport): boolean;
  /** TCP relays (RFC 6062), or null: an Allocate for TCP gets 442. */
  readonly tcpRelays: TcpRelays | null;
  /** Whether the relay sockets set the DF bit (DONT-FRAGMENT is understood), see turn-server.ts. */
  readonly dontFragment: boolean;
  /** Binds a relay socket of a family (and for `pair` the next port too); their ports, or null when none could be had. */
  bindRelay(kind: RelayKind, family: AddressFamily): Promise<{ relay: number; reserved?: number } | null>;
  /** Closes a relay socket that serves nothing (any more). */
  closeRelay(port: number): void;
  /** An allocation ended (a Refresh of 0): its relay is closed. */
  ended(allocation: Allocation): void;
  /** A reservation was made: the driver wakes when it ends. */
  reserved(reservation: Reservation): void;
  /** An allocation is live (answers to its client go through `via`); the driver wakes when it ends. */
  allocated(allocation: Allocation, via: TurnTransport): void;
  /** An allocation's lifetime changed. */
  refreshed(allocation: Allocation): void;
  sendToPeer(allocation: Allocation, data: Uint8Array, peer: Endpoint): void;
  sendToClient(allocation: Allocation, bytes: Uint8Array): void;
  /** A transaction id for a Data indication (unanswered: a counter will do). */
  indicationId(): Uint8Array;
  /**
   * Where `user`'s allocations live when this server is one of several threads of a relay
   * (relay-workers.ts): another server's address, answered 300 Try Alternate; null for here.
   */
  homeOf(user: string, via: TurnTransport): Endpoint | null;
  /** An Allocate was sent to the user's home server (300). */
  redirected(): void;
}

const UDP = 17;
const TCP = 6;

const KNOWN_ATTRIBUTES: ReadonlySet<number> = new Set<number>([
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
  Attr.CONNECTION_ID,
  // DONT_FRAGMENT only with `dontFragment`: see the header.
]);
const KNOWN_WITH_DONT_FRAGMENT: ReadonlySet<number> = new Set<number>([...KNOWN_ATTRIBUTES, Attr.DONT_FRAGMENT]);

/** One request being handled: where it came from and how to answer it. */
interface Exchange {
  readonly ctx: TurnContext;
  readonly request: DecodedStun;
  readonly from: Endpoint;
  readonly via: TurnTransport;
  readonly key: string;
}

/** A request signed by the holder of an allocation: answers are signed with its key. */
interface Signed extends Exchange {
  readonly username: string;
  readonly integrityKey: Uint8Array;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const errorCode = (code: number, reason: string): StunAttribute => ({ type: Attr.ERROR_CODE, value: encodeErrorCode(code, reason) });

/**
 * Handles a datagram (or a message of a TCP stream) from `from` that came in on `via`: TURN
 * requests, indications and ChannelData. False when it is none of those (a Binding request: the STUN server's).
 */
export function receiveTurn(ctx: TurnContext, bytes: Uint8Array, from: Endpoint, via: TurnTransport): boolean {
  if (isChannelData(bytes)) {
    channelDataFromClient(ctx, bytes, from, via);
    return true;
  }
  const decoded = decodeStun(bytes);
  return decoded.ok && dispatchTurn(ctx, decoded.value, from, via);
}

/** The dispatcher: a decoded STUN message to its handler; false when it is not TURN's (Binding, or classic STUN). */
export function dispatchTurn(ctx: TurnContext, message: DecodedStun, from: Endpoint, via: TurnTransport): boolean {
  if (message.method === StunMethod.BINDING || message.classic) return false;
  const exchange: Exchange = { ctx, request: message, from, via, key: tupleKey(via.protocol ?? 'udp', from, via.local) };
  if (message.cls === StunClass.INDICATION) {
    if (message.method === StunMethod.SEND) sendIndication(exchange);
    return true;
  }
  if (message.cls !== StunClass.REQUEST) return true;
  switch (message.method) {
    case StunMethod.ALLOCATE:
      void allocate(exchange);
      return true;
    case StunMethod.REFRESH:
      withAllocation(exchange, refresh);
      return true;
    case StunMethod.CREATE_PERMISSION:
      withAllocation(exchange, createPermission);
      return true;
    case StunMethod.CHANNEL_BIND:
      withAllocation(exchange, channelBind);
      return true;
    case StunMethod.CONNECT:
      withAllocation(exchange, (signed, allocation) => void connect(signed, allocation));
      return true;
    case StunMethod.CONNECTION_BIND:
      connectionBind(exchange);
      return true;
    default:
      reject(exchange, 400, 'Bad Request', 'bad_request');
      return true;
  }
}

/** Sends an answer; one to a request nobody signed (no `integrityKey`) only within the source's reply budget. */
function answer(x: Exchange, cls: StunClass, attributes: StunAttribute[], integrityKey?: Uint8Array): void {
  const { request, ctx } = x;
  const bytes = encodeStun({ method: request.method, cls, transactionId: request.transactionId, attributes, classic: false }, { ...(integrityKey ? { integrityKey } : {}), fingerprint: attribute(request, Attr.FINGERPRINT) !== undefined });
  if (!integrityKey && !ctx.replyBudget.allow(x.from.host, request.raw.byteLength, bytes.byteLength)) return ctx.refuse('reply_budget');
  x.via.send(bytes, x.from);
}

/** Refuses a request: counted by `why`, answered with the error (signed when the request was). */
function reject(x: Exchange, code: number, reason: string, why: TurnRefusal, integrityKey?: Uint8Array): void {
  x.ctx.refuse(why);
  answer(x, StunClass.ERROR, [errorCode(code, reason)], integrityKey);
}

/** 420 naming the comprehension-required attributes this server does not know; true when there were any. */
function unknownAttributes(x: Exchange): boolean {
  const unknown = unknownRequired(x.request, x.ctx.dontFragment ? KNOWN_WITH_DONT_FRAGMENT : KNOWN_ATTRIBUTES);
  if (unknown.length === 0) return false;
  x.ctx.refuse('unknown_attribute');
  answer(x, StunClass.ERROR, [errorCode(420, 'Unknown Attribute'), { type: Attr.UNKNOWN_ATTRIBUTES, value: encodeUnknownAttributes(unknown.slice(0, 4)) }]);
  return true;
}

/** The authentication step: the signer, or null once the challenge (401 or 438) is answered. */
function authenticated(x: Exchange): Signed | null {
  const { ctx } = x;
  const auth = authenticate(ctx.authority, x.request, x.from.host, ctx.wallTimeMs());
  if (auth.ok) return { ...x, username: auth.username, integrityKey: auth.key };
  ctx.refuse(auth.why);
  answer(x, StunClass.ERROR, challengeAttributes(ctx.authority, auth.code, auth.reason, x.from.host, ctx.wallTimeMs()));
  return null;
}

/** The lifetime a request asks (LIFETIME, or the default), within the server's bounds. */
function lifetimeOf(x: Exchange): number {
  const asked = attribute(x.request, Attr.LIFETIME);
  return x.ctx.table.lifetimeS(asked ? decodeUint32(asked) : null);
}

/** Allocate (RFC 8656 section 7.2): checks in the RFC's order, then a relay bound and the allocation made. */
async function allocate(x: Exchange): Promise<void> {
  const { ctx, request, key } = x;
  const table = ctx.table;
  if (unknownAttributes(x)) return;
  const existing = table.get(key);
  const signed = authenticated(x);
  if (!signed) return;
  const fail = (code: number, reason: string, why: TurnRefusal) => reject(x, code, reason, why, signed.integrityKey);
  const user = userOf(signed.username);
  if (!existing && redirect(signed, user)) return;
  if (existing) {
    // A retransmission gets the same answer; anything else is a mismatch (RFC 8656 section 7.2).
    if (existing.transactionId === hex(request.transactionId)) x.via.send(existing.answer.slice(), x.from);
    else fail(437, 'Allocation Mismatch', 'allocation_mismatch');
    return;
  }
  if (table.isPending(key)) return; // a retransmission while the relay socket is being bound
  const transport = attribute(request, Attr.REQUESTED_TRANSPORT);
  if (!transport || transport.byteLength !== 4) return fail(400, 'Bad Request', 'bad_request');
  const relayTransport: RelayTransport | null = transport[0] === UDP ? 'udp' : transport[0] === TCP && ctx.tcpRelays ? 'tcp' : null;
  if (!relayTransport) return fail(442, 'Unsupported Transport Protocol', 'unsupported_transport');
  // RFC 6062 section 5.1: a TCP relay is asked for over TCP or TLS, without UDP's port and fragment options.
  if (relayTransport === 'tcp' && (x.via.protocol !== 'tcp' || attribute(request, Attr.EVEN_PORT) || attribute(request, Attr.RESERVATION_TOKEN) || attribute(request, Attr.DONT_FRAGMENT))) {
    return fail(400, 'Bad Request', 'bad_request');
  }
  // RFC 8656 section 7.2, in its order: the token, the family, EVEN-PORT, the quota.
  const family = attribute(request, Attr.REQUESTED_ADDRESS_FAMILY);
  const evenPort = attribute(request, Attr.EVEN_PORT);
  const tokenValue = attribute(request, Attr.RESERVATION_TOKEN);
  if (tokenValue) {
    if (evenPort || family || tokenValue.byteLength !== 8) return fail(400, 'Bad Request', 'bad_request');
    // A token names a port held for its user; another user's, or an expired one, is not valid.
    if (!table.heldFor(hex(tokenValue), user)) return fail(508, 'Insufficient Capacity', 'bad_reservation');
  }
  // REQUESTED-ADDRESS-FAMILY: 0x01 IPv4, 0x02 IPv6, then three bytes RFFU; absent means IPv4.
  let relayFamily: AddressFamily = 'ipv4';
  if (family) {
    if (family.byteLength !== 4 || (family[0] !== 0x01 && family[0] !== 0x02)) return fail(400, 'Bad Request', 'bad_request');
    relayFamily = family[0] === 0x02 ? 'ipv6' : 'ipv4';
    if (ctx.relayHost(relayFamily) === null) return fail(440, 'Address Family not Supported', 'unsupported_family');
  }
  if (evenPort && evenPort.byteLength !== 1) return fail(400, 'Bad Request', 'bad_request');
  const reserve = evenPort !== undefined && (evenPort[0]! & 0x80) !== 0;
  if (reserve && !table.canReserve(user)) return fail(508, 'Insufficient Capacity', 'capacity');
  const over = table.begin(key, user);
  if (over === 'quota') return fail(486, 'Allocation Quota Reached', 'quota');
  if (over === 'capacity') return fail(508, 'Insufficient Capacity', 'capacity');
  const claimed = tokenValue ? table.claim(hex(tokenValue), user)! : null;
  if (claimed) relayFamily = claimed.family;
  const relay =
    relayTransport === 'tcp'
      ? await listenTcpRelay(ctx.tcpRelays!, relayFamily)
      : claimed
        ? { port: claimed.port, token: null }
        : await bindRelay(ctx, reserve ? 'pair' : evenPort ? 'even' : 'any', relayFamily, user);
  const relayHost = ctx.relayHost(relayFamily);
  if (!relay || relayHost === null) {
    if (relay) ctx.closeRelay(relay.port);
    table.abandon(key, user);
    return fail(508, 'Insufficient Capacity', 'capacity');
  }
  const lifetimeS = lifetimeOf(x) || table.limits.defaultLifetimeS;
  const relayed = { host: relayHost, port: relay.port };
  const success = encodeStun(
    {
      method: StunMethod.ALLOCATE,
      cls: StunClass.SUCCESS,
      transactionId: request.transactionId,
      attributes: [
        { type: Attr.XOR_RELAYED_ADDRESS, value: encodeAddress(relayed, true, request.transactionId) },
        { type: Attr.LIFETIME, value: encodeUint32(lifetimeS) },
        { type: Attr.XOR_MAPPED_ADDRESS, value: encodeAddress(x.from, true, request.transactionId) },
        ...(relay.token ? [{ type: Attr.RESERVATION_TOKEN, value: relay.token }] : []),
      ],
      classic: false,
    },
    { integrityKey: signed.integrityKey, fingerprint: attribute(request, Attr.FINGERPRINT) !== undefined },
  );
  const allocation = table.commit(
    { key, client: x.from, username: signed.username, user, integrityKey: signed.integrityKey, relayPort: relay.port, relayed, transport: relayTransport, lifetimeS, transactionId: hex(request.transactionId), answer: success },
    ctx.nowMs(),
  );
  ctx.allocated(allocation, x.via);
  x.via.send(success.slice(), x.from);
}

/**
 * Sends an Allocate to the user's home server when that is another thread's (RFC 8489 section
 * 10, RFC 8656 section 7.2): 300 Try Alternate with ALTERNATE-SERVER, signed (only a signed
 * request may be redirected, and the client checks the answer's integrity). True when it did.
 */
function redirect(x: Signed, user: string): boolean {
  const home = x.ctx.homeOf(user, x.via);
  if (home === null) return false;
  x.ctx.redirected();
  answer(x, StunClass.ERROR, [errorCode(300, 'Try Alternate'), { type: Attr.ALTERNATE_SERVER, value: encodeAddress(home, false) }], x.integrityKey);
  return true;
}

/** A relay for an Allocate; for `pair`, the next port held under a token (RFC 8656 section 14.9: 8 bytes). */
async function bindRelay(ctx: TurnContext, kind: RelayKind, family: AddressFamily, user: string): Promise<{ port: number; token: Uint8Array | null } | null> {
  const bound = await ctx.bindRelay(kind, family);
  if (!bound) return null;
  if (bound.reserved === undefined) return { port: bound.relay, token: null };
  // Bounds are checked again: other Allocates may have reserved while this one bound its ports.
  if (!ctx.table.canReserve(user)) {
    ctx.closeRelay(bound.reserved);
    ctx.closeRelay(bound.relay);
    return null;
  }
  const token = ctx.randomBytes(8);
  ctx.reserved(ctx.table.reserve(hex(token), user, bound.reserved, ctx.nowMs(), family));
  return { port: bound.relay, token };
}

/** A TCP relay's listening socket for an Allocate (RFC 6062 section 5.1). */
async function listenTcpRelay(tcpRelays: TcpRelays, family: AddressFamily): Promise<{ port: number; token: null } | null> {
  const port = await tcpRelays.listen(family);
  return port === null ? null : { port, token: null };
}

/** Refresh, CreatePermission, ChannelBind and Connect are about the requester's allocation: signed by its owner. */
function withAllocation(x: Exchange, handle: (signed: Signed, allocation: Allocation) => void): void {
  if (unknownAttributes(x)) return;
  const signed = authenticated(x);
  if (!signed) return;
  const allocation = x.ctx.table.get(x.key);
  if (!allocation) return reject(x, 437, 'Allocation Mismatch', 'no_allocation', signed.integrityKey);
  if (allocation.username !== signed.username) return reject(x, 441, 'Wrong Credentials', 'wrong_credentials', signed.integrityKey);
  handle(signed, allocation);
}

/** Refresh (RFC 8656 section 7.3): a new lifetime, or 0 to end the allocation. */
function refresh(x: Signed, allocation: Allocation): void {
  const { ctx } = x;
  const lifetimeS = lifetimeOf(x);
  const ended = ctx.table.refresh(allocation, lifetimeS, ctx.nowMs());
  if (ended) ctx.ended(ended);
  else ctx.refreshed(allocation);
  answer(x, StunClass.SUCCESS, [{ type: Attr.LIFETIME, value: encodeUint32(lifetimeS) }], x.integrityKey);
}

/** Whether a peer is of the family of the allocation's relay (an IPv4-mapped IPv6 peer is IPv4). */
function sameFamily(allocation: Allocation, peer: Endpoint): boolean {
  return addressFamily(peer.host) === addressFamily(allocation.relayed.host);
}

/** The XOR-PEER-ADDRESS attributes of a request, each allowed; or the refusal of the first that is not. */
function peersOf(x: Signed, allocation: Allocation): Endpoint[] | null {
  const peers: Endpoint[] = [];
  const fail = (code: number, reason: string, why: TurnRefusal) => {
    reject(x, code, reason, why, x.integrityKey);
    return null;
  };
  for (const a of x.request.attributes) {
    if (a.type !== Attr.XOR_PEER_ADDRESS) continue;
    const peer = decodeAddress(a.value, true, x.request.transactionId);
    if (!peer.ok) return fail(400, 'Bad Request', 'bad_request');
    // A relay sends to its own family only (RFC 8656 sections 9.2 and 12.2).
    if (!sameFamily(allocation, peer.value)) return fail(443, 'Peer Address Family Mismatch', 'peer_family_mismatch');
    if (!x.ctx.peerAllowed(peer.value, allocation.transport)) return fail(403, 'Forbidden', 'forbidden_peer');
    peers.push(peer.value);
  }
  return peers.length === 0 ? fail(400, 'Bad Request', 'bad_request') : peers;
}

/** CreatePermission (RFC 8656 section 9): permissions for one or more peer addresses. */
function createPermission(x: Signed, allocation: Allocation): void {
  const peers = peersOf(x, allocation);
  if (!peers) return;
  if (!x.ctx.table.permit(allocation, peers.map((p) => p.host), x.ctx.nowMs())) return reject(x, 508, 'Insufficient Capacity', 'quota', x.integrityKey);
  answer(x, StunClass.SUCCESS, [], x.integrityKey);
}

/** ChannelBind (RFC 8656 section 12.2): one peer, a channel number, neither bound to something else. Not on a TCP relay (RFC 6062 section 5.1). */
function channelBind(x: Signed, allocation: Allocation): void {
  if (allocation.transport !== 'udp') return reject(x, 400, 'Bad Request', 'bad_request', x.integrityKey);
  const peers = peersOf(x, allocation);
  if (!peers) return;
  const value = attribute(x.request, Attr.CHANNEL_NUMBER);
  const channel = value && value.byteLength === 4 ? (value[0]! << 8) | value[1]! : -1;
  if (channel < MIN_CHANNEL || channel > MAX_CHANNEL || peers.length !== 1) return reject(x, 400, 'Bad Request', 'bad_request', x.integrityKey);
  const outcome = x.ctx.table.bindChannel(allocation, channel, peers[0]!, x.ctx.nowMs());
  if (outcome === 'conflict') return reject(x, 400, 'Bad Request', 'bad_request', x.integrityKey);
  if (outcome === 'quota') return reject(x, 508, 'Insufficient Capacity', 'quota', x.integrityKey);
  answer(x, StunClass.SUCCESS, [], x.integrityKey);
}

/**
 * Connect (RFC 6062 section 5.2): a TCP connection from the relay to one peer, which the peer
 * policy allows (403 otherwise); answered with its CONNECTION-ID once open (447 if it cannot be
 * opened, 446 if one to that peer is open or opening, 508 past a bound).
 */
async function connect(x: Signed, allocation: Allocation): Promise<void> {
  const tcpRelays = x.ctx.tcpRelays;
  if (allocation.transport !== 'tcp' || !tcpRelays) return reject(x, 400, 'Bad Request', 'bad_request', x.integrityKey);
  const peers = peersOf(x, allocation);
  if (!peers) return;
  if (peers.length !== 1) return reject(x, 400, 'Bad Request', 'bad_request', x.integrityKey);
  const outcome = await tcpRelays.connect(allocation, peers[0]!);
  if (!outcome.ok) return reject(x, outcome.code, outcome.reason, outcome.why, x.integrityKey);
  answer(x, StunClass.SUCCESS, [{ type: Attr.CONNECTION_ID, value: outcome.id }], x.integrityKey);
}

/**
 * ConnectionBind (RFC 6062 section 5.4), on a new TCP or TLS connection that holds no allocation:
 * pairs it with the peer connection its CONNECTION-ID names (one of an allocation of the same
 * user, waiting for its bind; else 400). After the success answer the connection is no longer
 * TURN's: it carries the peer's bytes as they are.
 */
function connectionBind(x: Exchange): void {
  const { ctx, request } = x;
  if (unknownAttributes(x)) return;
  const signed = authenticated(x);
  if (!signed) return;
  const tcpRelays = ctx.tcpRelays;
  const idValue = attribute(request, Attr.CONNECTION_ID);
  const id = idValue ? decodeConnectionId(idValue) : null;
  if (!tcpRelays || x.via.protocol !== 'tcp' || !x.via.detach || ctx.table.get(x.key) || id === null) return reject(x, 400, 'Bad Request', 'bad_request', signed.integrityKey);
  if (!tcpRelays.bindable(id, signed.username)) return reject(x, 400, 'Bad Request', 'unknown_connection', signed.integrityKey);
  answer(x, StunClass.SUCCESS, [], signed.integrityKey);
  const stream = x.via.detach?.();
  if (stream) tcpRelays.bind(id, stream.connection, stream.pending);
}

/** Spends relay bandwidth of the allocation and the server; false, and counted, when either is out. */
function spend(ctx: TurnContext, allocation: Allocation, bytes: number): boolean {
  if (!ctx.table.spend(allocation, bytes, ctx.nowMs())) {
    ctx.refuse('rate_limited');
    return false;
  }
  ctx.relayed.bytes += bytes;
  return true;
}

/** A Send indication (RFC 8656 section 11.2): its DATA to its peer, if permitted. Never answered. */
function sendIndication(x: Exchange): void {
  const { ctx, request: message } = x;
  const allocation = ctx.table.get(x.key);
  const peerValue = attribute(message, Attr.XOR_PEER_ADDRESS);
  const data = attribute(message, Attr.DATA);
  if (!allocation || !peerValue || !data) return ctx.refuse(allocation ? 'malformed' : 'no_allocation');
  const peer = decodeAddress(peerValue, true, message.transactionId);
  if (!peer.ok) return ctx.refuse('malformed');
  // Indications are never answered: a TCP relay's allocation, a peer of the other family, or
  // DONT-FRAGMENT when this server cannot honour it (see the header), drops it (RFC 8656 section
  // 11.2, RFC 6062 section 5.1).
  if (allocation.transport !== 'udp') return ctx.refuse('bad_request');
  if (!sameFamily(allocation, peer.value)) return ctx.refuse('peer_family_mismatch');
  if (!ctx.dontFragment && attribute(message, Attr.DONT_FRAGMENT)) return ctx.refuse('unknown_attribute');
  if (!ctx.table.permitted(allocation, peer.value.host, ctx.nowMs())) return ctx.refuse('no_permission');
  // Permissions are per address: the port is judged here (a service port of this server, say).
  if (!ctx.peerAllowed(peer.value, 'udp')) return ctx.refuse('forbidden_peer');
  if (!spend(ctx, allocation, data.byteLength)) return;
  ctx.sendToPeer(allocation, data.slice(), peer.value);
  ctx.relayed.toPeers++;
}

/** ChannelData from a client (RFC 8656 section 12.4): to the peer of a live channel. */
function channelDataFromClient(ctx: TurnContext, bytes: Uint8Array, from: Endpoint, via: TurnTransport): void {
  const allocation = ctx.table.get(tupleKey(via.protocol ?? 'udp', from, via.local));
  if (!allocation) return ctx.refuse('no_allocation');
  const decoded = decodeChannelData(bytes);
  if (!decoded) return ctx.refuse('malformed');
  const now = ctx.nowMs();
  const peer = ctx.table.channelPeer(allocation, decoded.channel, now);
  if (!peer) return ctx.refuse('no_permission');
  if (!ctx.table.permitted(allocation, peer.host, now)) return ctx.refuse('no_permission');
  if (!spend(ctx, allocation, decoded.data.byteLength)) return;
  ctx.sendToPeer(allocation, decoded.data.slice(), peer);
  ctx.relayed.toPeers++;
}

/**
 * A datagram a peer sent to the relay on `relayPort` (RFC 8656 sections 11.3, 12.5): to the
 * client as ChannelData when the peer has a live channel, else in a Data indication.
 */
export function fromPeer(ctx: TurnContext, relayPort: number, bytes: Uint8Array, peer: Endpoint): void {
  const allocation = ctx.table.atRelayPort(relayPort);
  if (!allocation) {
    // Nothing is relayed on a reserved port yet: what a peer sends there is dropped, counted.
    if (ctx.table.isReservedPort(relayPort)) ctx.refuse('no_allocation');
    return;
  }
  const now = ctx.nowMs();
  if (!ctx.table.permitted(allocation, peer.host, now)) return ctx.refuse('no_permission');
  if (!spend(ctx, allocation, bytes.byteLength)) return;
  const channel = ctx.table.channelOfPeer(allocation, peer, now);
  if (channel !== null) {
    ctx.sendToClient(allocation, encodeChannelData(channel, bytes));
  } else {
    ctx.sendToClient(allocation, encodePeerIndication(StunMethod.DATA, ctx.indicationId(), peer, bytes));
  }
  ctx.relayed.toClients++;
}
