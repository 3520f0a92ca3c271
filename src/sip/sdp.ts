// SDP (RFC 4566, used as offer/answer by RFC 3264) as far as an audio call needs it: the origin,
// the connection address (session or media level), audio (and other) media lines with their
// payload types, a=rtpmap, a=fmtp, a=ptime, the direction (sendrecv, sendonly, recvonly,
// inactive) and a=crypto for SDES keys (RFC 4568). Other lines are kept, in order, so a
// description round-trips. Bounded in size, lines and media sections; errors are typed.
import { err, ok, type CodedError, type Result } from '../result.js';

export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface SdpConnection {
  /** "IP4" or "IP6". */
  readonly addressType: string;
  readonly address: string;
}

export interface SdpOrigin {
  readonly username: string;
  readonly sessionId: string;
  readonly sessionVersion: string;
  readonly addressType: string;
  readonly address: string;
}

export interface SdpRtpMap {
  readonly payloadType: number;
  readonly encoding: string;
  readonly clockRate: number;
  readonly channels: number | null;
}

export interface SdpCrypto {
  readonly tag: number;
  /** "AES_CM_128_HMAC_SHA1_80"… */
  readonly suite: string;
  /** "inline:<base64 key||salt>[|lifetime][|MKI:length]" */
  readonly keyParams: string;
  readonly sessionParams: readonly string[];
}

/** An attribute this module does not interpret: "a=name" or "a=name:value". */
export interface SdpAttribute {
  readonly name: string;
  readonly value: string | null;
}

export interface SdpMedia {
  /** "audio", "video"… */
  readonly media: string;
  readonly port: number;
  /** "RTP/AVP", "RTP/SAVP", "UDP/TLS/RTP/SAVPF"… */
  readonly proto: string;
  /** Payload type numbers for RTP protocols, otherwise the format tokens as given. */
  readonly formats: readonly string[];
  readonly connection: SdpConnection | null;
  readonly rtpmaps: readonly SdpRtpMap[];
  /** Format parameters by payload type. */
  readonly fmtps: ReadonlyMap<number, string>;
  readonly ptimeMs: number | null;
  readonly direction: SdpDirection | null;
  readonly cryptos: readonly SdpCrypto[];
  readonly otherAttributes: readonly SdpAttribute[];
}

export interface SessionDescription {
  readonly origin: SdpOrigin;
  readonly sessionName: string;
  readonly connection: SdpConnection | null;
  /** The t= line as given ("0 0" for a call). */
  readonly timing: string;
  readonly direction: SdpDirection | null;
  readonly otherAttributes: readonly SdpAttribute[];
  readonly media: readonly SdpMedia[];
}

export interface SdpLimits {
  readonly maxBytes: number;
  readonly maxLines: number;
  readonly maxMedia: number;
  readonly maxFormatsPerMedia: number;
}

export const DEFAULT_SDP_LIMITS: SdpLimits = { maxBytes: 16_384, maxLines: 256, maxMedia: 8, maxFormatsPerMedia: 32 };

export type SdpErrorCode = 'too_large' | 'not_utf8' | 'bad_line' | 'missing_line' | 'bad_value';
export type SdpError = CodedError<SdpErrorCode>;

const fail = (code: SdpErrorCode, message: string) => err<SdpError>({ code, message });
const DIRECTIONS = new Set<string>(['sendrecv', 'sendonly', 'recvonly', 'inactive']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

interface MutableMedia {
  media: string;
  port: number;
  proto: string;
  formats: string[];
  connection: SdpConnection | null;
  rtpmaps: SdpRtpMap[];
  fmtps: Map<number, string>;
  ptimeMs: number | null;
  direction: SdpDirection | null;
  cryptos: SdpCrypto[];
  otherAttributes: SdpAttribute[];
}

function parseConnection(value: string): SdpConnection | null {
  const match = /^IN (IP4|IP6) (\S+)$/.exec(value);
  return match ? { addressType: match[1]!, address: match[2]! } : null;
}

const isRtp = (proto: string) => proto.includes('RTP/');

export function decodeSdp(bytes: Uint8Array, limits: SdpLimits = DEFAULT_SDP_LIMITS): Result<SessionDescription, SdpError> {
  if (bytes.length > limits.maxBytes) return fail('too_large', `SDP of ${bytes.length} bytes, limit ${limits.maxBytes}`);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return fail('not_utf8', 'SDP is not UTF-8');
  }
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length > limits.maxLines) return fail('too_large', `more than ${limits.maxLines} SDP lines`);
  let origin: SdpOrigin | null = null;
  let sessionName: string | null = null;
  let connection: SdpConnection | null = null;
  let timing: string | null = null;
  let direction: SdpDirection | null = null;
  const otherAttributes: SdpAttribute[] = [];
  const media: MutableMedia[] = [];
  if (lines[0] !== 'v=0') return fail('missing_line', 'SDP must start with v=0');
  for (const line of lines.slice(1)) {
    const match = /^([a-z])=(.*)$/.exec(line);
    if (!match) return fail('bad_line', `not an SDP line: ${JSON.stringify(line.slice(0, 60))}`);
    const [, type, value] = match as unknown as [string, string, string];
    const current = media[media.length - 1];
    if (type === 'm') {
      if (media.length >= limits.maxMedia) return fail('too_large', `more than ${limits.maxMedia} media sections`);
      const m = /^(\S+) (\d{1,5})(?:\/\d+)? (\S+)((?: \S+)*)$/.exec(value);
      if (!m || Number(m[2]) > 65535) return fail('bad_value', `bad m= line: ${JSON.stringify(value.slice(0, 60))}`);
      const formats = m[4]!.trim() === '' ? [] : m[4]!.trim().split(' ');
      if (formats.length > limits.maxFormatsPerMedia) return fail('too_large', `more than ${limits.maxFormatsPerMedia} formats`);
      if (isRtp(m[3]!) && !formats.every((f) => /^\d{1,3}$/.test(f) && Number(f) <= 127)) return fail('bad_value', 'an RTP payload type outside 0..127');
      media.push({ media: m[1]!, port: Number(m[2]), proto: m[3]!, formats, connection: null, rtpmaps: [], fmtps: new Map(), ptimeMs: null, direction: null, cryptos: [], otherAttributes: [] });
    } else if (type === 'o') {
      const o = /^(\S+) (\S+) (\S+) IN (IP4|IP6) (\S+)$/.exec(value);
      if (!o) return fail('bad_value', 'bad o= line');
      origin = { username: o[1]!, sessionId: o[2]!, sessionVersion: o[3]!, addressType: o[4]!, address: o[5]! };
    } else if (type === 's') sessionName = value;
    else if (type === 't') timing = value;
    else if (type === 'c') {
      const parsed = parseConnection(value);
      if (!parsed) return fail('bad_value', 'bad c= line');
      if (current) current.connection = parsed;
      else connection = parsed;
    } else if (type === 'a') {
      const colon = value.indexOf(':');
      const name = colon < 0 ? value : value.slice(0, colon);
      const attrValue = colon < 0 ? null : value.slice(colon + 1);
      if (DIRECTIONS.has(name) && attrValue === null) {
        if (current) current.direction = name as SdpDirection;
        else direction = name as SdpDirection;
      } else if (current && name === 'rtpmap') {
        const r = /^(\d{1,3}) ([^/\s]+)\/(\d{1,6})(?:\/(\d{1,2}))?$/.exec(attrValue ?? '');
        if (!r || Number(r[1]) > 127) return fail('bad_value', 'bad a=rtpmap');
        current.rtpmaps.push({ payloadType: Number(r[1]), encoding: r[2]!, clockRate: Number(r[3]), channels: r[4] === undefined ? null : Number(r[4]) });
      } else if (current && name === 'fmtp') {
        const f = /^(\d{1,3}) (.+)$/.exec(attrValue ?? '');
        if (!f || Number(f[1]) > 127) return fail('bad_value', 'bad a=fmtp');
        current.fmtps.set(Number(f[1]), f[2]!);
      } else if (current && name === 'ptime') {
        if (!/^\d{1,4}$/.test(attrValue ?? '')) return fail('bad_value', 'bad a=ptime');
        current.ptimeMs = Number(attrValue);
      } else if (current && name === 'crypto') {
        const c = /^(\d{1,9}) (\S+) (\S+)((?: \S+)*)$/.exec(attrValue ?? '');
        if (!c) return fail('bad_value', 'bad a=crypto');
        current.cryptos.push({ tag: Number(c[1]), suite: c[2]!, keyParams: c[3]!, sessionParams: c[4]!.trim() === '' ? [] : c[4]!.trim().split(' ') });
      } else (current ? current.otherAttributes : otherAttributes).push({ name, value: attrValue });
    }
    // b=, k=, i=, u=, e=, p=, z=, r= are not needed for audio calls and are dropped.
  }
  if (!origin) return fail('missing_line', 'no o= line');
  if (sessionName === null) return fail('missing_line', 'no s= line');
  if (timing === null) return fail('missing_line', 'no t= line');
  return ok({ origin, sessionName, connection, timing, direction, otherAttributes, media });
}

function attributeLine(attribute: SdpAttribute): string {
  return attribute.value === null ? `a=${attribute.name}` : `a=${attribute.name}:${attribute.value}`;
}

export function encodeSdp(description: SessionDescription): Uint8Array {
  const o = description.origin;
  const lines = ['v=0', `o=${o.username} ${o.sessionId} ${o.sessionVersion} IN ${o.addressType} ${o.address}`, `s=${description.sessionName}`];
  if (description.connection) lines.push(`c=IN ${description.connection.addressType} ${description.connection.address}`);
  lines.push(`t=${description.timing}`);
  if (description.direction) lines.push(`a=${description.direction}`);
  for (const attribute of description.otherAttributes) lines.push(attributeLine(attribute));
  for (const m of description.media) {
    lines.push(`m=${m.media} ${m.port} ${m.proto}${m.formats.map((f) => ` ${f}`).join('')}`);
    if (m.connection) lines.push(`c=IN ${m.connection.addressType} ${m.connection.address}`);
    for (const r of m.rtpmaps) lines.push(`a=rtpmap:${r.payloadType} ${r.encoding}/${r.clockRate}${r.channels === null ? '' : `/${r.channels}`}`);
    for (const [pt, params] of m.fmtps) lines.push(`a=fmtp:${pt} ${params}`);
    if (m.ptimeMs !== null) lines.push(`a=ptime:${m.ptimeMs}`);
    if (m.direction) lines.push(`a=${m.direction}`);
    for (const c of m.cryptos) lines.push(`a=crypto:${c.tag} ${c.suite} ${c.keyParams}${c.sessionParams.map((p) => ` ${p}`).join('')}`);
    for (const attribute of m.otherAttributes) lines.push(attributeLine(attribute));
  }
  return new TextEncoder().encode(lines.map((line) => `${line}\r\n`).join(''));
}

/** The codec a payload type names in a media section: its rtpmap, or the static assignment of RFC 3551 (0 PCMU, 8 PCMA, 9 G722, 13 CN). */
export function codecOf(media: SdpMedia, payloadType: number): SdpRtpMap | null {
  const mapped = media.rtpmaps.find((r) => r.payloadType === payloadType);
  if (mapped) return mapped;
  const STATIC: Record<number, SdpRtpMap> = {
    0: { payloadType: 0, encoding: 'PCMU', clockRate: 8000, channels: null },
    8: { payloadType: 8, encoding: 'PCMA', clockRate: 8000, channels: null },
    9: { payloadType: 9, encoding: 'G722', clockRate: 8000, channels: null },
    13: { payloadType: 13, encoding: 'CN', clockRate: 8000, channels: null },
  };
  return STATIC[payloadType] ?? null;
}
