// A STUN server (RFC 8489 Binding) with NAT behaviour discovery (RFC 5780): told which address
// a request came from, it answers with that address, and — when the host has a second address
// — with OTHER-ADDRESS and answers a CHANGE-REQUEST from the other address or port. Classic
// RFC 3489 clients get MAPPED-ADDRESS, SOURCE-ADDRESS and CHANGED-ADDRESS.
//
// Abuse: a request's source may be spoofed, so a reply must not be worth sending one: one
// datagram per request, at most MAX_RESPONSE_BYTES, never to another address than the source
// (RESPONSE-PORT picks another port of the same address, which a spoofer could name anyway;
// RFC 3489's RESPONSE-ADDRESS is refused), PADDING (RFC 5780's fragmentation test) only as
// large as the request itself was, a rate per source address and one for the server, and a
// reply budget (reply-budget.ts, shared with TURN's challenges): what answers add beyond their
// requests, per source address, so a flood gets back fewer bytes than it sent. Every refusal is
// counted. Per source means per IPv4 address, or per IPv6 /64 (stun.ts `sourceKey`): a host
// with a prefix of its own gains nothing by rotating through its addresses.
//
// IPv6: a socket bound to an IPv6 address answers IPv6 clients alike, XOR-MAPPED-ADDRESS of
// family 2 (XORed with the transaction id too). Their answers leave out the plain MAPPED-ADDRESS
// (kept for IPv4's RFC 5780 clients): with 16-byte addresses it would outgrow the bound.
import type { Clock, Endpoint, UdpSocket } from '../env/types.js';
import { KeyedTokenBuckets, TokenBucket } from '../util/token-bucket.js';
import { ReplyBudget } from './reply-budget.js';
import {
  Attr,
  StunClass,
  addressFamily,
  sourceKey,
  StunMethod,
  attribute,
  decodeChangeRequest,
  decodeStun,
  encodeAddress,
  encodeErrorCode,
  encodeStun,
  encodeUnknownAttributes,
  looksLikeStun,
  unknownRequired,
  type DecodedStun,
  type StunAttribute,
  type StunError,
  type StunMessage,
} from './stun.js';
import type { Result } from '../result.js';

/** No binding response is larger (unless its request was, with PADDING): a spoofed 20-byte request gets at most this many bytes sent to its victim. */
export const MAX_RESPONSE_BYTES = 80;
/** The same for an answer that holds IPv6 addresses (XOR-MAPPED-ADDRESS, RESPONSE-ORIGIN and OTHER-ADDRESS of 24 bytes each). */
export const MAX_RESPONSE_BYTES_IPV6 = 100;
/** Requests answered per source address: a burst (a client's NAT discovery takes 6), then a rate. */
export const PER_SOURCE_BURST = 40;
export const PER_SOURCE_PER_SECOND = 20;
/** Requests answered by the whole server per second (a burst of as many). */
export const SERVER_PER_SECOND = 10_000;
/** Source addresses whose rate is tracked; the oldest is forgotten beyond. */
const TRACKED_SOURCES = 10_000;

const KNOWN_ATTRIBUTES: ReadonlySet<number> = new Set([Attr.CHANGE_REQUEST, Attr.RESPONSE_PORT, Attr.PADDING, Attr.USERNAME, Attr.MESSAGE_INTEGRITY, Attr.MESSAGE_INTEGRITY_SHA256, Attr.PRIORITY, Attr.USE_CANDIDATE]);

export type StunRefusal = 'malformed' | 'rate_limited' | 'reply_budget' | 'unknown_attribute' | 'no_alternate' | 'not_a_request' | 'unknown_method';

/**
 * The server's sockets as a 2×2 grid: `[address][port]`. `[0][0]` is where clients start;
 * the other three exist when the host has a second address (RFC 5780 needs two addresses and
 * two ports). `advertised` overrides the addresses put in answers (a socket bound to 0.0.0.0).
 */
export interface StunSockets {
  readonly grid: readonly (readonly UdpSocket[])[];
  readonly advertised?: readonly (readonly Endpoint[])[];
}

export class StunServer {
  readonly refused = new Map<StunRefusal, number>();
  answered = 0;
  private readonly sources = new KeyedTokenBuckets(PER_SOURCE_BURST, PER_SOURCE_PER_SECOND, TRACKED_SOURCES);
  private readonly server: TokenBucket;
  private readonly alternates: boolean;

  constructor(
    private readonly clock: Clock,
    private readonly sockets: StunSockets,
    /** Shared with the TURN server on the same port, so that mixing request kinds gains nothing. */
    private readonly budget = new ReplyBudget(clock),
  ) {
    this.alternates = sockets.grid.length === 2 && sockets.grid.every((row) => row.length === 2);
    this.server = new TokenBucket(SERVER_PER_SECOND, SERVER_PER_SECOND, clock.now());
  }

  /** Listens on every socket of the grid (for a port that carries only STUN). */
  listen(): void {
    this.sockets.grid.forEach((row, a) => row.forEach((socket, p) => socket.onMessage((bytes, from) => this.receive(bytes, from, a, p))));
  }

  /** The diagonal address (second address, second port) clients learn as OTHER-ADDRESS; null without one. */
  get otherAddress(): Endpoint | null {
    return this.alternates ? this.endpoint(1, 1) : null;
  }

  private endpoint(address: number, port: number): Endpoint {
    return this.sockets.advertised?.[address]?.[port] ?? this.sockets.grid[address]![port]!.local;
  }

  private refuse(reason: StunRefusal): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }

  private allowed(from: Endpoint): boolean {
    const now = this.clock.now();
    return this.sources.take(sourceKey(from.host), now) && this.server.take(now);
  }


  /**
   * Handles a datagram that came to socket `[address][port]` of the grid; false when it is not a
   * STUN Binding message (the caller may hand it to another protocol on the same port).
   */
  receive(bytes: Uint8Array, from: Endpoint, address = 0, port = 0): boolean {
    if (!looksLikeStun(bytes)) return false;
    return this.receiveDecoded(decodeStun(bytes), from, address, port);
  }

  /** The same for a message its port's dispatcher decoded already (once, for STUN and TURN alike). */
  receiveDecoded(decoded: Result<DecodedStun, StunError>, from: Endpoint, address = 0, port = 0): boolean {
    if (!decoded.ok) {
      this.refuse('malformed');
      return true;
    }
    const request = decoded.value;
    if (request.method !== StunMethod.BINDING) return false;
    if (request.cls !== StunClass.REQUEST) {
      if (request.cls !== StunClass.INDICATION) this.refuse('not_a_request'); // indications keep bindings open: nothing to answer
      return true;
    }
    if (!this.allowed(from)) {
      this.refuse('rate_limited');
      return true;
    }
    // RFC 5780 section 7.5: the reply goes to this port of the source address (filtering tests from a second socket).
    const responsePort = attribute(request, Attr.RESPONSE_PORT);
    if (responsePort && (responsePort.byteLength !== 4 || (responsePort[0]! === 0 && responsePort[1]! === 0))) {
      this.refuse('malformed');
      return true;
    }
    const ipv6 = addressFamily(from.host) === 'ipv6';
    const to = responsePort ? { host: from.host, port: (responsePort[0]! << 8) | responsePort[1]! } : from;
    const reply = (cls: StunClass, attributes: StunAttribute[], via = this.sockets.grid[address]![port]!) => {
      const message: StunMessage = { method: StunMethod.BINDING, cls, transactionId: request.transactionId, attributes, classic: request.classic };
      const out = encodeStun(message, { fingerprint: attribute(request, Attr.FINGERPRINT) !== undefined });
      if (out.byteLength > Math.max(ipv6 ? MAX_RESPONSE_BYTES_IPV6 : MAX_RESPONSE_BYTES, request.raw.byteLength)) throw new Error(`a binding response grew to ${out.byteLength} bytes`);
      if (!this.budget.allow(to.host, request.raw.byteLength, out.byteLength)) {
        this.refuse('reply_budget');
        return;
      }
      this.answered++;
      via.send(out, to);
    };
    const error = (code: number, reason: string, extra: StunAttribute[] = []) => reply(StunClass.ERROR, [{ type: Attr.ERROR_CODE, value: encodeErrorCode(code, reason) }, ...extra]);

    const unknown = unknownRequired(request, KNOWN_ATTRIBUTES);
    if (unknown.length > 0) {
      this.refuse('unknown_attribute');
      error(420, 'Unknown Attribute', [{ type: Attr.UNKNOWN_ATTRIBUTES, value: encodeUnknownAttributes(unknown.slice(0, 4)) }]);
      return true;
    }
    let toAddress = address;
    let toPort = port;
    const change = attribute(request, Attr.CHANGE_REQUEST);
    if (change) {
      const flags = decodeChangeRequest(change);
      if (!flags.ok) {
        this.refuse('malformed');
        error(400, 'Bad Request');
        return true;
      }
      if ((flags.value.changeIp || flags.value.changePort) && !this.alternates) {
        // RFC 5780 section 6.1: a server with one address cannot honour it.
        this.refuse('no_alternate');
        error(420, 'Unknown Attribute', [{ type: Attr.UNKNOWN_ATTRIBUTES, value: encodeUnknownAttributes([Attr.CHANGE_REQUEST]) }]);
        return true;
      }
      if (flags.value.changeIp) toAddress ^= 1;
      if (flags.value.changePort) toPort ^= 1;
    }
    const origin = this.endpoint(toAddress, toPort);
    const other = this.alternates ? this.endpoint(address ^ 1, port ^ 1) : null;
    const attributes: StunAttribute[] = request.classic
      ? [
          { type: Attr.MAPPED_ADDRESS, value: encodeAddress(from, false) },
          { type: Attr.SOURCE_ADDRESS, value: encodeAddress(origin, false) },
          ...(other ? [{ type: Attr.CHANGED_ADDRESS, value: encodeAddress(other, false) }] : []),
        ]
      : [
          { type: Attr.XOR_MAPPED_ADDRESS, value: encodeAddress(from, true, request.transactionId) },
          // Plain too: coturn's natdiscovery and other RFC 5780 clients read it (IPv4 only: see
          // the header). No SOFTWARE: with it the answer would outgrow MAX_RESPONSE_BYTES.
          ...(ipv6 ? [] : [{ type: Attr.MAPPED_ADDRESS, value: encodeAddress(from, false) }]),
          { type: Attr.RESPONSE_ORIGIN, value: encodeAddress(origin, false) },
          ...(other ? [{ type: Attr.OTHER_ADDRESS, value: encodeAddress(other, false) }] : []),
        ];
    // RFC 5780 section 7.6: padded like the request (which tests fragmentation), never beyond its size.
    const padding = attribute(request, Attr.PADDING);
    if (padding && !request.classic) {
      const used = 20 + attributes.reduce((sum, a) => sum + 4 + a.value.byteLength, 0) + 4 + (attribute(request, Attr.FINGERPRINT) ? 8 : 0);
      const room = Math.min(padding.byteLength, request.raw.byteLength - used) & ~3;
      if (room > 0) attributes.push({ type: Attr.PADDING, value: new Uint8Array(room) });
    }
    reply(StunClass.SUCCESS, attributes, this.sockets.grid[toAddress]![toPort]!);
    return true;
  }
}
