// SIP messages (RFC 3261 section 7 and the grammar of section 25): a start line, header fields
// and a body. Decoding turns untrusted bytes into a typed message or a typed error, within
// named bounds on the message size, the header count and the length of one (unfolded) header.
// Header names are case-insensitive and have compact forms (section 7.3.3): a decoded header's
// name is its long form in lower case, so callers look up one spelling. Folded lines (a line
// starting with a space or tab continues the previous one, section 7.3.1) are unfolded.
// Pure: no sockets, no clock.
import { err, ok, type CodedError, type Result } from '../result.js';

export interface SipHeader {
  /** The long form, lower case ("via", "call-id"). */
  readonly name: string;
  readonly value: string;
}

export interface SipRequest {
  readonly kind: 'request';
  readonly method: string;
  readonly uri: string;
  readonly headers: readonly SipHeader[];
  readonly body: Uint8Array;
}

export interface SipResponse {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
  readonly headers: readonly SipHeader[];
  readonly body: Uint8Array;
}

export type SipMessage = SipRequest | SipResponse;

export interface SipLimits {
  /** The whole message, start line to the end of the body (a UDP datagram is at most 65 507 bytes). */
  readonly maxMessageBytes: number;
  readonly maxHeaders: number;
  /** One header after unfolding, name included. */
  readonly maxHeaderBytes: number;
}

export const DEFAULT_SIP_LIMITS: SipLimits = { maxMessageBytes: 65_535, maxHeaders: 128, maxHeaderBytes: 8_192 };

export type SipDecodeErrorCode =
  | 'too_large'
  | 'too_many_headers'
  | 'header_too_long'
  | 'no_header_end'
  | 'not_utf8'
  | 'bad_start_line'
  | 'bad_header'
  | 'bad_content_length'
  | 'truncated_body';

export type SipDecodeError = CodedError<SipDecodeErrorCode>;

const fail = (code: SipDecodeErrorCode, message: string) => err<SipDecodeError>({ code, message });

/** Compact forms (RFC 3261 section 7.3.3 and the extensions that registered one); a Map, so a header named "constructor" finds nothing. */
const COMPACT: ReadonlyMap<string, string> = new Map(Object.entries({
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  o: 'event',
  r: 'refer-to',
  b: 'referred-by',
  u: 'allow-events',
  x: 'session-expires',
  a: 'accept-contact',
  j: 'reject-contact',
  d: 'request-disposition',
  y: 'identity',
}));

/** The long form of a header name, lower case. */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return COMPACT.get(lower) ?? lower;
}

/** Spellings that plain capitalisation gets wrong. */
const DISPLAY: ReadonlyMap<string, string> = new Map(Object.entries({ 'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate', 'mime-version': 'MIME-Version' }));

function displayName(name: string): string {
  return DISPLAY.get(name) ?? name.replace(/(^|-)([a-z])/g, (_m, dash: string, letter: string) => dash + letter.toUpperCase());
}

/** RFC 3261 token characters (section 25.1). */
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
export const isToken = (text: string): boolean => TOKEN.test(text);

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** Where the header section ends (the index of the empty line's CRLF CRLF), or -1. */
export function findHeaderEnd(bytes: Uint8Array, from = 0): number {
  for (let i = from; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

export interface SipHead {
  readonly start: { kind: 'request'; method: string; uri: string } | { kind: 'response'; status: number; reason: string };
  readonly headers: SipHeader[];
}

/** Parses the start line and headers (the text before the empty line). */
export function parseHead(text: string, limits: SipLimits = DEFAULT_SIP_LIMITS): Result<SipHead, SipDecodeError> {
  const lines = text.split('\r\n');
  const startLine = lines[0] ?? '';
  const start = parseStartLine(startLine);
  if (!start) return fail('bad_start_line', `not a SIP start line: ${JSON.stringify(startLine.slice(0, 80))}`);
  const unfolded: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length > limits.maxHeaderBytes) return fail('header_too_long', `a header line is longer than ${limits.maxHeaderBytes} bytes`);
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (unfolded.length === 0) return fail('bad_header', 'a continuation line before any header');
      const joined = `${unfolded[unfolded.length - 1]!.trimEnd()} ${line.trim()}`;
      if (joined.length > limits.maxHeaderBytes) return fail('header_too_long', `a folded header is longer than ${limits.maxHeaderBytes} bytes`);
      unfolded[unfolded.length - 1] = joined;
      continue;
    }
    if (unfolded.length >= limits.maxHeaders) return fail('too_many_headers', `more than ${limits.maxHeaders} headers`);
    unfolded.push(line);
  }
  const headers: SipHeader[] = [];
  for (const line of unfolded) {
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim();
    if (!isToken(name)) return fail('bad_header', `not a header line: ${JSON.stringify(line.slice(0, 80))}`);
    const value = line.slice(colon + 1).trim();
    if (hasControlCharacter(value)) return fail('bad_header', `a control character in header ${name}`);
    headers.push({ name: canonicalHeaderName(name), value });
  }
  return { ok: true, value: { start, headers } };
}

/** Control characters other than tab (section 25.1 allows none in header values or reason phrases). */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

function parseStartLine(line: string): SipHead['start'] | null {
  if (line.startsWith('SIP/2.0 ')) {
    const match = /^SIP\/2\.0 ([1-6]\d\d) (.*)$/.exec(line);
    if (!match || hasControlCharacter(match[2]!)) return null;
    return { kind: 'response', status: Number(match[1]), reason: match[2]! };
  }
  const match = /^(\S+) (\S+) SIP\/2\.0$/.exec(line);
  if (!match || !isToken(match[1]!) || !/^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/.test(match[2]!)) return null;
  return { kind: 'request', method: match[1]!, uri: match[2]! };
}

/** The Content-Length header's value: null when absent, an error when malformed or repeated differently. */
export function contentLength(headers: readonly SipHeader[]): Result<number | null, SipDecodeError> {
  let length: number | null = null;
  for (const header of headers) {
    if (header.name !== 'content-length') continue;
    if (!/^\d{1,9}$/.test(header.value)) return fail('bad_content_length', `Content-Length is not a number: ${JSON.stringify(header.value.slice(0, 20))}`);
    const value = Number(header.value);
    if (length !== null && length !== value) return fail('bad_content_length', 'two different Content-Length headers');
    length = value;
  }
  return ok(length);
}

/**
 * Decodes one message. Over UDP (`stream` false) a missing Content-Length means the body is the
 * rest of the datagram and bytes past the declared length are dropped (section 18.3); over a
 * stream the caller (SipStreamDecoder) has cut the message to its Content-Length already.
 */
export function decodeSipMessage(bytes: Uint8Array, limits: SipLimits = DEFAULT_SIP_LIMITS): Result<SipMessage, SipDecodeError> {
  if (bytes.length > limits.maxMessageBytes) return fail('too_large', `message of ${bytes.length} bytes, limit ${limits.maxMessageBytes}`);
  let startAt = 0;
  while (startAt + 1 < bytes.length && bytes[startAt] === 13 && bytes[startAt + 1] === 10) startAt += 2; // leading CRLFs are ignored (section 7.5)
  const headerEnd = findHeaderEnd(bytes, startAt);
  if (headerEnd < 0) return fail('no_header_end', 'no empty line ends the headers');
  let text: string;
  try {
    text = utf8.decode(bytes.subarray(startAt, headerEnd));
  } catch {
    return fail('not_utf8', 'the start line or headers are not UTF-8');
  }
  const head = parseHead(text, limits);
  if (!head.ok) return head;
  const length = contentLength(head.value.headers);
  if (!length.ok) return length;
  const bodyStart = headerEnd + 4;
  const available = bytes.length - bodyStart;
  if (length.value !== null && length.value > available) return fail('truncated_body', `Content-Length ${length.value} but ${available} bytes follow`);
  const body = bytes.slice(bodyStart, bodyStart + (length.value ?? available));
  const { start, headers } = head.value;
  return ok(start.kind === 'request' ? { kind: 'request', method: start.method, uri: start.uri, headers, body } : { kind: 'response', status: start.status, reason: start.reason, headers, body });
}

/** Encodes a message; Content-Length is always written from the body (a given one is replaced). */
export function encodeSipMessage(message: SipMessage): Uint8Array {
  const start = message.kind === 'request' ? `${message.method} ${message.uri} SIP/2.0` : `SIP/2.0 ${message.status} ${message.reason}`;
  const lines = [start];
  for (const header of message.headers) {
    if (canonicalHeaderName(header.name) === 'content-length') continue;
    lines.push(`${displayName(canonicalHeaderName(header.name))}: ${header.value}`);
  }
  lines.push(`Content-Length: ${message.body.length}`, '', '');
  const head = encoder.encode(lines.join('\r\n'));
  const out = new Uint8Array(head.length + message.body.length);
  out.set(head);
  out.set(message.body, head.length);
  return out;
}

/** Headers whose values may be comma-separated lists (section 7.3.1); others are taken whole. */
const LIST_HEADERS = new Set(['via', 'contact', 'route', 'record-route', 'allow', 'supported', 'require', 'proxy-require', 'unsupported', 'accept', 'accept-encoding', 'accept-language', 'allow-events', 'path', 'service-route']);

/** Every value of a header, in order, with comma lists split (commas in quotes or <…> are kept). */
export function headerValues(message: { readonly headers: readonly SipHeader[] }, name: string): string[] {
  const wanted = canonicalHeaderName(name);
  const values: string[] = [];
  for (const header of message.headers) {
    if (header.name !== wanted) continue;
    if (LIST_HEADERS.has(wanted)) values.push(...splitList(header.value));
    else values.push(header.value);
  }
  return values;
}

/** The first value of a header, or null. */
export function firstHeader(message: { readonly headers: readonly SipHeader[] }, name: string): string | null {
  return headerValues(message, name)[0] ?? null;
}

/** Splits a comma list outside quoted strings and angle brackets; empty elements are dropped. */
export function splitList(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted && c === '\\' && i + 1 < value.length) {
      current += c + value[++i]!;
      continue;
    }
    if (c === '"' && !angle) quoted = !quoted;
    else if (c === '<' && !quoted) angle = true;
    else if (c === '>' && !quoted) angle = false;
    if (c === ',' && !quoted && !angle) {
      if (current.trim()) parts.push(current.trim());
      current = '';
    } else current += c;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}
