// STUN messages (RFC 8489), with the attributes of NAT behaviour discovery (RFC 5780) and of
// TURN (RFC 8656): a decoder for untrusted bytes that returns typed errors, and an encoder that
// adds MESSAGE-INTEGRITY and FINGERPRINT. Classic RFC 3489 messages (no magic cookie) decode
// too, so old clients such as Debian's `stun` get answers. Pure: no sockets, no timers.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { err, ok, type CodedError, type Result } from '../result.js';
import type { Endpoint } from '../env/types.js';

export const MAGIC_COOKIE = 0x2112a442;
const HEADER_BYTES = 20;
const FINGERPRINT_XOR = 0x5354554e;
/** Attributes a message may carry; more is an attack, not a client. */
const MAX_ATTRIBUTES = 32;
/** A STUN message over UDP fits a datagram; over TCP we take no more than this either. */
export const MAX_STUN_BYTES = 4096;

export const StunClass = { REQUEST: 0, INDICATION: 1, SUCCESS: 2, ERROR: 3 } as const;
export type StunClass = (typeof StunClass)[keyof typeof StunClass];

/** RFC 8489 and 8656; CONNECT, CONNECTION_BIND and CONNECTION_ATTEMPT are TCP relaying's (RFC 6062 section 6.1). */
export const StunMethod = {
  BINDING: 0x001,
  ALLOCATE: 0x003,
  REFRESH: 0x004,
  SEND: 0x006,
  DATA: 0x007,
  CREATE_PERMISSION: 0x008,
  CHANNEL_BIND: 0x009,
  CONNECT: 0x00a,
  CONNECTION_BIND: 0x00b,
  CONNECTION_ATTEMPT: 0x00c,
} as const;

export const Attr = {
  MAPPED_ADDRESS: 0x0001,
  CHANGE_REQUEST: 0x0003,
  SOURCE_ADDRESS: 0x0004,
  CHANGED_ADDRESS: 0x0005,
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  UNKNOWN_ATTRIBUTES: 0x000a,
  CHANNEL_NUMBER: 0x000c,
  LIFETIME: 0x000d,
  XOR_PEER_ADDRESS: 0x0012,
  DATA: 0x0013,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_RELAYED_ADDRESS: 0x0016,
  REQUESTED_ADDRESS_FAMILY: 0x0017,
  EVEN_PORT: 0x0018,
  REQUESTED_TRANSPORT: 0x0019,
  DONT_FRAGMENT: 0x001a,
  MESSAGE_INTEGRITY_SHA256: 0x001c,
  XOR_MAPPED_ADDRESS: 0x0020,
  RESERVATION_TOKEN: 0x0022,
  /** RFC 6062 section 6.2: 4 opaque bytes naming a peer data connection. */
  CONNECTION_ID: 0x002a,
  PRIORITY: 0x0024,
  USE_CANDIDATE: 0x0025,
  PADDING: 0x0026,
  RESPONSE_PORT: 0x0027,
  SOFTWARE: 0x8022,
  ALTERNATE_SERVER: 0x8023,
  FINGERPRINT: 0x8028,
  ICE_CONTROLLED: 0x8029,
  ICE_CONTROLLING: 0x802a,
  RESPONSE_ORIGIN: 0x802b,
  OTHER_ADDRESS: 0x802c,
} as const;

/** Attribute types below 0x8000 must be understood by the receiver (RFC 8489 section 14). */
export function comprehensionRequired(type: number): boolean {
  return type < 0x8000;
}

export interface StunAttribute {
  readonly type: number;
  readonly value: Uint8Array;
}

export interface StunMessage {
  readonly method: number;
  readonly cls: StunClass;
  /** 12 bytes; 16 for a classic (RFC 3489) message, whose cookie field is part of its id. */
  readonly transactionId: Uint8Array;
  readonly attributes: readonly StunAttribute[];
  /** An RFC 3489 message: no magic cookie, no XOR addresses, no fingerprint. */
  readonly classic: boolean;
}

export interface DecodedStun extends StunMessage {
  /** The bytes it came in, for checking MESSAGE-INTEGRITY. */
  readonly raw: Uint8Array;
  /** Where MESSAGE-INTEGRITY starts in `raw`, or -1. */
  readonly integrityOffset: number;
}

export type StunErrorCode = 'not_stun' | 'truncated' | 'bad_length' | 'bad_attribute' | 'too_many_attributes' | 'bad_fingerprint' | 'too_large';
export type StunError = CodedError<StunErrorCode>;

const fail = (code: StunErrorCode, message: string): { ok: false; error: StunError } => err({ code, message });

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function messageType(method: number, cls: StunClass): number {
  return (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7);
}

/**
 * Whether these bytes may be STUN (the first two bits are zero, RFC 7983): a port shared with
 * other protocols (Parley datagrams, RTP, TURN channel data) is demultiplexed on this.
 */
export function looksLikeStun(bytes: Uint8Array): boolean {
  return bytes.byteLength >= HEADER_BYTES && (bytes[0]! & 0xc0) === 0;
}

/** The whole length of the STUN message that starts `bytes` (for TCP streams), or null if the header is incomplete. */
export function stunMessageLength(bytes: Uint8Array): number | null {
  if (bytes.byteLength < 4) return null;
  return HEADER_BYTES + view(bytes).getUint16(2);
}

/** Decodes one STUN message that fills `bytes` exactly. Never throws. */
export function decodeStun(bytes: Uint8Array): Result<DecodedStun, StunError> {
  if (bytes.byteLength < HEADER_BYTES) return fail('truncated', `a STUN header is ${HEADER_BYTES} bytes, got ${bytes.byteLength}`);
  if (bytes.byteLength > MAX_STUN_BYTES) return fail('too_large', `a STUN message here holds at most ${MAX_STUN_BYTES} bytes`);
  const v = view(bytes);
  const type = v.getUint16(0);
  if ((type & 0xc000) !== 0) return fail('not_stun', 'the first two bits of a STUN message are zero');
  const length = v.getUint16(2);
  if (length % 4 !== 0) return fail('bad_length', 'a STUN message length is a multiple of 4');
  if (HEADER_BYTES + length !== bytes.byteLength) return fail('bad_length', `the header says ${length} bytes of attributes, ${bytes.byteLength - HEADER_BYTES} came`);
  const classic = v.getUint32(4) !== MAGIC_COOKIE;
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const cls = (((type & 0x0010) >> 4) | ((type & 0x0100) >> 7)) as StunClass;
  const attributes: StunAttribute[] = [];
  let offset = HEADER_BYTES;
  let integrityOffset = -1;
  let afterIntegrity = false;
  while (offset < bytes.byteLength) {
    if (attributes.length >= MAX_ATTRIBUTES) return fail('too_many_attributes', `more than ${MAX_ATTRIBUTES} attributes`);
    if (offset + 4 > bytes.byteLength) return fail('bad_attribute', 'an attribute header runs past the end');
    const attrType = v.getUint16(offset);
    const attrLength = v.getUint16(offset + 2);
    const padded = (attrLength + 3) & ~3;
    if (offset + 4 + padded > bytes.byteLength) return fail('bad_attribute', `attribute 0x${attrType.toString(16)} runs past the end`);
    const value = bytes.subarray(offset + 4, offset + 4 + attrLength);
    if (attrType === Attr.FINGERPRINT) {
      if (offset + 4 + padded !== bytes.byteLength) return fail('bad_fingerprint', 'FINGERPRINT must be the last attribute');
      if (attrLength !== 4) return fail('bad_fingerprint', 'FINGERPRINT holds 4 bytes');
      const expected = (crc32(bytes.subarray(0, offset)) ^ FINGERPRINT_XOR) >>> 0;
      if (view(value).getUint32(0) !== expected) return fail('bad_fingerprint', 'FINGERPRINT does not match the message');
    }
    // Attributes after MESSAGE-INTEGRITY are ignored, except FINGERPRINT (RFC 8489 section 14.5).
    if (!afterIntegrity || attrType === Attr.FINGERPRINT || attrType === Attr.MESSAGE_INTEGRITY_SHA256) attributes.push({ type: attrType, value });
    if (attrType === Attr.MESSAGE_INTEGRITY && !afterIntegrity) {
      integrityOffset = offset;
      afterIntegrity = true;
    }
    offset += 4 + padded;
  }
  const transactionId = classic ? bytes.slice(4, 20) : bytes.slice(8, 20);
  return ok({ method, cls, transactionId, attributes, classic, raw: bytes, integrityOffset });
}

export function attribute(message: StunMessage, type: number): Uint8Array | undefined {
  return message.attributes.find((a) => a.type === type)?.value;
}

/** Comprehension-required attributes this receiver does not know (to answer 420 with). */
export function unknownRequired(message: StunMessage, known: ReadonlySet<number>): number[] {
  return message.attributes.filter((a) => comprehensionRequired(a.type) && !known.has(a.type)).map((a) => a.type);
}

export interface EncodeOptions {
  /** Adds MESSAGE-INTEGRITY (HMAC-SHA1) keyed with this. */
  readonly integrityKey?: Uint8Array;
  /** Adds FINGERPRINT (not for classic messages). */
  readonly fingerprint?: boolean;
}

export function encodeStun(message: StunMessage, options: EncodeOptions = {}): Uint8Array {
  let bodyLength = 0;
  for (const a of message.attributes) bodyLength += 4 + ((a.value.byteLength + 3) & ~3);
  const integrity = options.integrityKey ? 24 : 0;
  const fingerprint = options.fingerprint && !message.classic ? 8 : 0;
  const out = new Uint8Array(HEADER_BYTES + bodyLength + integrity + fingerprint);
  const v = view(out);
  v.setUint16(0, messageType(message.method, message.cls));
  if (message.classic) out.set(message.transactionId.subarray(0, 16), 4);
  else {
    v.setUint32(4, MAGIC_COOKIE);
    out.set(message.transactionId.subarray(0, 12), 8);
  }
  let offset = HEADER_BYTES;
  for (const a of message.attributes) {
    v.setUint16(offset, a.type);
    v.setUint16(offset + 2, a.value.byteLength);
    out.set(a.value, offset + 4);
    offset += 4 + ((a.value.byteLength + 3) & ~3);
  }
  if (options.integrityKey) {
    // The length covers the attribute being added, not what comes after it.
    v.setUint16(2, offset + 24 - HEADER_BYTES);
    const mac = createHmac('sha1', options.integrityKey).update(out.subarray(0, offset)).digest();
    v.setUint16(offset, Attr.MESSAGE_INTEGRITY);
    v.setUint16(offset + 2, 20);
    out.set(mac, offset + 4);
    offset += 24;
  }
  v.setUint16(2, out.byteLength - HEADER_BYTES);
  if (fingerprint) {
    v.setUint16(offset, Attr.FINGERPRINT);
    v.setUint16(offset + 2, 4);
    v.setUint32(offset + 4, (crc32(out.subarray(0, offset)) ^ FINGERPRINT_XOR) >>> 0);
  }
  return out;
}

/** Checks MESSAGE-INTEGRITY (HMAC-SHA1) of a decoded message with `key`; false when absent or wrong. */
export function checkIntegrity(message: DecodedStun, key: Uint8Array): boolean {
  if (message.integrityOffset < 0) return false;
  const covered = Uint8Array.from(message.raw.subarray(0, message.integrityOffset));
  view(covered).setUint16(2, message.integrityOffset + 24 - HEADER_BYTES);
  const mac = createHmac('sha1', key).update(covered).digest();
  const given = message.raw.subarray(message.integrityOffset + 4, message.integrityOffset + 24);
  return given.byteLength === 20 && timingSafeEqual(mac, given);
}

// --- Address attributes -------------------------------------------------------------------

const FAMILY_IPV4 = 0x01;
const FAMILY_IPV6 = 0x02;

function ipv4Bytes(host: string): number | null {
  const parts = host.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    value = value * 256 + Number(part);
  }
  return value;
}

/** The 16 bytes of an IPv6 address in text (RFC 4291 section 2.2: `::` once, a dotted IPv4 tail), or null. */
function ipv6Bytes(host: string): Uint8Array | null {
  const halves = host.split('::');
  if (halves.length > 2) return null;
  const groups = (text: string): number[] | null => {
    if (text === '') return [];
    const out: number[] = [];
    const parts = text.split(':');
    for (const [i, part] of parts.entries()) {
      const tail = i === parts.length - 1 ? ipv4Bytes(part) : null;
      if (tail !== null) out.push(tail >>> 16, tail & 0xffff);
      else if (/^[0-9a-fA-F]{1,4}$/.test(part)) out.push(parseInt(part, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !rest) return null;
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...rest];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >>> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** IPv6 text as RFC 5952 writes it: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
function ipv6Text(bytes: Uint8Array): string {
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** Whether `host` is a dotted IPv4 address (each part 0-255). */
export function isIpv4(host: string): boolean {
  return ipv4Bytes(host) !== null;
}

/** Whether `host` is an IPv6 address in text. */
export function isIpv6(host: string): boolean {
  return ipv6Bytes(host) !== null;
}

/**
 * The family an address is of on the wire: an IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a
 * dual-stack socket reports for an IPv4 peer) is IPv4. Null when `host` is no address.
 */
export function addressFamily(host: string): 'ipv4' | 'ipv6' | null {
  if (ipv4Bytes(host) !== null) return 'ipv4';
  const v6 = ipv6Bytes(host);
  if (v6 === null) return null;
  return isMapped(v6) ? 'ipv4' : 'ipv6';
}

/** Whether 16 bytes are an IPv4-mapped IPv6 address (::ffff:0:0/96). */
function isMapped(v6: Uint8Array): boolean {
  return v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
}

/**
 * What a per-source limit counts an address under: IPv4 as it is (also IPv4-mapped), IPv6 by its
 * /64 (one subscriber's usual prefix: whoever has one address of it has them all, and would
 * otherwise take a fresh budget per address).
 */
export function sourceKey(host: string): string {
  const v6 = ipv6Bytes(host);
  if (v6 === null) return host;
  if (isMapped(v6)) return `${v6[12]}.${v6[13]}.${v6[14]}.${v6[15]}`;
  const prefix = new Uint8Array(16);
  prefix.set(v6.subarray(0, 8));
  return `${ipv6Text(prefix)}/64`;
}

/** An IP address in text as bytes: 4 for IPv4, 16 for IPv6; null when it is neither. */
export function addressBytes(host: string): Uint8Array | null {
  const v4 = ipv4Bytes(host);
  if (v4 !== null) return Uint8Array.of(v4 >>> 24, (v4 >>> 16) & 0xff, (v4 >>> 8) & 0xff, v4 & 0xff);
  return ipv6Bytes(host);
}

/** The address a message says its receiver was seen at: XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS; null without a readable one. */
export function mappedAddress(message: StunMessage): Endpoint | null {
  const xor = attribute(message, Attr.XOR_MAPPED_ADDRESS);
  const plain = attribute(message, Attr.MAPPED_ADDRESS);
  const decoded = xor ? decodeAddress(xor, true, message.transactionId) : plain ? decodeAddress(plain, false) : null;
  return decoded?.ok ? decoded.value : null;
}

/** What an IPv6 address is XORed with (RFC 8489 section 14.2): the magic cookie, then the transaction id. */
function xorMask(transactionId: Uint8Array): Uint8Array {
  const mask = new Uint8Array(16);
  view(mask).setUint32(0, MAGIC_COOKIE);
  mask.set(transactionId.subarray(transactionId.byteLength - 12), 4);
  return mask;
}

/**
 * MAPPED-ADDRESS and its kin (plain), or XOR-MAPPED-ADDRESS and its kin (`xor`), IPv4 or IPv6.
 * An XORed IPv6 address needs the message's transaction id. Throws on a host that is not an
 * address (a bug of the caller: hosts here come from sockets or from decoding).
 */
export function encodeAddress(endpoint: Endpoint, xor: boolean, transactionId?: Uint8Array): Uint8Array {
  const v4 = ipv4Bytes(endpoint.host);
  const port = xor ? endpoint.port ^ (MAGIC_COOKIE >>> 16) : endpoint.port;
  if (v4 !== null) {
    const out = new Uint8Array(8);
    const v = view(out);
    v.setUint8(1, FAMILY_IPV4);
    v.setUint16(2, port);
    v.setUint32(4, xor ? (v4 ^ MAGIC_COOKIE) >>> 0 : v4);
    return out;
  }
  const v6 = ipv6Bytes(endpoint.host);
  if (v6 === null) throw new Error(`not an IP address: ${endpoint.host}`);
  if (xor && !transactionId) throw new Error('an XORed IPv6 address needs the transaction id');
  const out = new Uint8Array(20);
  const v = view(out);
  v.setUint8(1, FAMILY_IPV6);
  v.setUint16(2, port);
  const mask = xor ? xorMask(transactionId!) : new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[4 + i] = v6[i]! ^ mask[i]!;
  return out;
}

/** An address attribute (see encodeAddress); an XORed IPv6 address needs the message's transaction id. */
export function decodeAddress(value: Uint8Array, xor: boolean, transactionId?: Uint8Array): Result<Endpoint, StunError> {
  if (value.byteLength < 4) return fail('bad_attribute', 'an address attribute holds at least 4 bytes');
  const v = view(value);
  const family = v.getUint8(1);
  const port = xor ? v.getUint16(2) ^ (MAGIC_COOKIE >>> 16) : v.getUint16(2);
  if (family === FAMILY_IPV4) {
    if (value.byteLength !== 8) return fail('bad_attribute', 'an IPv4 address attribute holds 8 bytes');
    const address = xor ? (v.getUint32(4) ^ MAGIC_COOKIE) >>> 0 : v.getUint32(4);
    return ok({ host: `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`, port });
  }
  if (family !== FAMILY_IPV6) return fail('bad_attribute', `address family ${family} is neither IPv4 (1) nor IPv6 (2)`);
  if (value.byteLength !== 20) return fail('bad_attribute', 'an IPv6 address attribute holds 20 bytes');
  if (xor && (!transactionId || transactionId.byteLength < 12)) return fail('bad_attribute', 'an XORed IPv6 address needs the transaction id');
  const mask = xor ? xorMask(transactionId!) : new Uint8Array(16);
  const address = value.slice(4, 20).map((b, i) => b ^ mask[i]!);
  return ok({ host: ipv6Text(address), port });
}

// --- Other small attributes ---------------------------------------------------------------

export const CHANGE_IP = 0x04;
export const CHANGE_PORT = 0x02;

export function encodeChangeRequest(flags: number): Uint8Array {
  return Uint8Array.of(0, 0, 0, flags & (CHANGE_IP | CHANGE_PORT));
}

export function decodeChangeRequest(value: Uint8Array): Result<{ changeIp: boolean; changePort: boolean }, StunError> {
  if (value.byteLength !== 4) return fail('bad_attribute', 'CHANGE-REQUEST holds 4 bytes');
  return ok({ changeIp: (value[3]! & CHANGE_IP) !== 0, changePort: (value[3]! & CHANGE_PORT) !== 0 });
}

/** Characters a reason phrase holds at most (RFC 8489 section 14.8: fewer than 128). */
const MAX_REASON_CHARACTERS = 127;

/** ERROR-CODE: a number (300-699) and a short reason, cut to MAX_REASON_CHARACTERS characters (code points, so never inside one). */
export function encodeErrorCode(code: number, reason: string): Uint8Array {
  const text = new TextEncoder().encode(Array.from(reason).slice(0, MAX_REASON_CHARACTERS).join(''));
  const out = new Uint8Array(4 + text.byteLength);
  out[2] = Math.floor(code / 100);
  out[3] = code % 100;
  out.set(text, 4);
  return out;
}

export function decodeErrorCode(value: Uint8Array): Result<{ code: number; reason: string }, StunError> {
  if (value.byteLength < 4) return fail('bad_attribute', 'ERROR-CODE holds at least 4 bytes');
  const code = (value[2]! & 0x07) * 100 + value[3]!;
  return ok({ code, reason: new TextDecoder().decode(value.subarray(4)) });
}

export function encodeUnknownAttributes(types: readonly number[]): Uint8Array {
  const out = new Uint8Array(types.length * 2);
  types.forEach((t, i) => view(out).setUint16(2 * i, t));
  return out;
}

export function encodeUint32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  view(out).setUint32(0, value);
  return out;
}

export function decodeUint32(value: Uint8Array): number | null {
  return value.byteLength === 4 ? view(value).getUint32(0) : null;
}
