// The header values a SIP stack routes and matches by (RFC 3261 sections 8.1.1, 20 and 25),
// parsed into typed values: Via, From/To/Contact (name-addr or addr-spec with parameters),
// Call-ID, CSeq and Max-Forwards. Each parser returns a typed error on a malformed value.
import { err, ok, type CodedError, type Result } from '../result.js';
import { firstHeader, headerValues, isToken, type SipMessage } from './message.js';

export type SipHeaderErrorCode = 'missing' | 'malformed';
export type SipHeaderError = CodedError<SipHeaderErrorCode> & { readonly header: string };

const malformed = (header: string, message: string) => err<SipHeaderError>({ code: 'malformed', header, message });

/** Header parameters (";name=value" or ";flag"), names in lower case, quoted values unquoted. */
export type SipParams = ReadonlyMap<string, string | null>;

/** Parses ";a=b;c" (the leading ';' included); null on a malformed parameter. */
export function parseParams(text: string): Map<string, string | null> | null {
  const params = new Map<string, string | null>();
  let rest = text.trim();
  while (rest.length > 0) {
    if (!rest.startsWith(';')) return null;
    const match = /^;\s*([A-Za-z0-9\-.!%*_+`'~]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;\s]+))?\s*/.exec(rest);
    if (!match) return null;
    const raw = match[2];
    params.set(match[1]!.toLowerCase(), raw === undefined ? null : raw.startsWith('"') ? unquote(raw) : raw);
    rest = rest.slice(match[0].length);
  }
  return params;
}

export function unquote(quoted: string): string {
  return quoted.slice(1, -1).replace(/\\(.)/g, '$1');
}

export function quote(text: string): string {
  return `"${text.replace(/(["\\])/g, '\\$1')}"`;
}

export function formatParams(params: SipParams): string {
  let out = '';
  for (const [name, value] of params) out += value === null ? `;${name}` : `;${name}=${/^[A-Za-z0-9\-.!%*_+`'~:[\]]+$/.test(value) ? value : quote(value)}`;
  return out;
}

export interface Via {
  /** "UDP", "TCP", "TLS", "WS"… upper case. */
  readonly transport: string;
  readonly host: string;
  readonly port: number | null;
  readonly params: SipParams;
  /** The branch parameter; RFC 3261 branches start with "z9hG4bK" (section 8.1.1.7). */
  readonly branch: string | null;
}

/** One Via value: "SIP/2.0/UDP host:port;branch=…". */
export function parseVia(value: string): Result<Via, SipHeaderError> {
  const match = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9\-.!%*_+`'~]+)\s+(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)(?:\s*:\s*(\d{1,5}))?\s*(.*)$/.exec(value.trim());
  if (!match) return malformed('via', `not a Via: ${JSON.stringify(value.slice(0, 80))}`);
  const port = match[3] === undefined ? null : Number(match[3]);
  if (port !== null && port > 65535) return malformed('via', 'Via port above 65535');
  const params = parseParams(match[4]!);
  if (!params) return malformed('via', 'bad Via parameters');
  const branch = params.get('branch');
  if (branch === null) return malformed('via', 'a branch parameter without a value');
  return ok({ transport: match[1]!.toUpperCase(), host: match[2]!, port, params, branch: branch ?? null });
}

export function formatVia(via: Via): string {
  return `SIP/2.0/${via.transport} ${via.host}${via.port === null ? '' : `:${via.port}`}${formatParams(via.params)}`;
}

/** From, To, Contact, Route: an optional display name, a URI, and header parameters (tag, expires…). */
export interface NameAddr {
  readonly displayName: string | null;
  readonly uri: string;
  readonly params: SipParams;
}

/** A name-addr ('"Bob" <sip:bob@x>;tag=1') or an addr-spec ('sip:bob@x;tag=1', whose parameters belong to the header). */
export function parseNameAddr(value: string, header = 'from'): Result<NameAddr, SipHeaderError> {
  const text = value.trim();
  const angled = /^((?:"(?:[^"\\]|\\.)*")|[^<"]*?)\s*<([^<>\s]+)>(.*)$/.exec(text);
  let displayName: string | null = null;
  let uri: string;
  let paramText: string;
  if (angled) {
    const name = angled[1]!.trim();
    displayName = name === '' ? null : name.startsWith('"') ? unquote(name) : name;
    uri = angled[2]!;
    paramText = angled[3]!;
  } else {
    const semicolon = text.indexOf(';');
    uri = semicolon < 0 ? text : text.slice(0, semicolon);
    paramText = semicolon < 0 ? '' : text.slice(semicolon);
    if (/[\s,?]/.test(uri)) return malformed(header, 'an addr-spec with spaces, a comma or headers needs <>');
  }
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(uri)) return malformed(header, `not a URI: ${JSON.stringify(uri.slice(0, 80))}`);
  const params = parseParams(paramText);
  if (!params) return malformed(header, 'bad parameters');
  return ok({ displayName, uri, params });
}

export function formatNameAddr(address: NameAddr): string {
  const name = address.displayName === null ? '' : `${quote(address.displayName)} `;
  return `${name}<${address.uri}>${formatParams(address.params)}`;
}

export interface CSeq {
  /** Below 2**31 (section 8.1.1.5). */
  readonly seq: number;
  readonly method: string;
}

export function parseCSeq(value: string): Result<CSeq, SipHeaderError> {
  const match = /^(\d{1,10})\s+(\S+)$/.exec(value.trim());
  if (!match || !isToken(match[2]!)) return malformed('cseq', `not a CSeq: ${JSON.stringify(value.slice(0, 40))}`);
  const seq = Number(match[1]);
  if (seq >= 2 ** 31) return malformed('cseq', 'CSeq number of 2**31 or more');
  return ok({ seq, method: match[2]! });
}

export function parseMaxForwards(value: string): Result<number, SipHeaderError> {
  if (!/^\d{1,3}$/.test(value.trim()) || Number(value) > 255) return malformed('max-forwards', 'Max-Forwards is not 0..255');
  return ok(Number(value));
}

export function parseCallId(value: string): Result<string, SipHeaderError> {
  if (!/^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+(@[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+)?$/.test(value)) return malformed('call-id', 'Call-ID is not a word[@word]');
  return ok(value);
}

/** What every request and response carries (section 8.1.1), parsed; Contact may be empty, or "*" in a REGISTER. */
export interface CoreHeaders {
  readonly via: readonly Via[];
  readonly from: NameAddr;
  readonly to: NameAddr;
  readonly callId: string;
  readonly cseq: CSeq;
  readonly maxForwards: number | null;
  readonly contact: readonly NameAddr[] | '*';
}

function required(message: SipMessage, name: string): Result<string, SipHeaderError> {
  const value = firstHeader(message, name);
  return value === null ? err({ code: 'missing', header: name, message: `no ${name} header` }) : ok(value);
}

/** Parses the headers that transactions and dialogs match by; the first missing or malformed one is the error. */
export function parseCoreHeaders(message: SipMessage): Result<CoreHeaders, SipHeaderError> {
  const vias: Via[] = [];
  for (const value of headerValues(message, 'via')) {
    const via = parseVia(value);
    if (!via.ok) return via;
    vias.push(via.value);
  }
  if (vias.length === 0) return err({ code: 'missing', header: 'via', message: 'no Via header' });
  const fromText = required(message, 'from');
  if (!fromText.ok) return fromText;
  const from = parseNameAddr(fromText.value, 'from');
  if (!from.ok) return from;
  const toText = required(message, 'to');
  if (!toText.ok) return toText;
  const to = parseNameAddr(toText.value, 'to');
  if (!to.ok) return to;
  const callIdText = required(message, 'call-id');
  if (!callIdText.ok) return callIdText;
  const callId = parseCallId(callIdText.value);
  if (!callId.ok) return callId;
  const cseqText = required(message, 'cseq');
  if (!cseqText.ok) return cseqText;
  const cseq = parseCSeq(cseqText.value);
  if (!cseq.ok) return cseq;
  if (message.kind === 'request' && cseq.value.method !== message.method) return malformed('cseq', 'the CSeq method differs from the request method');
  const maxForwardsText = firstHeader(message, 'max-forwards');
  const maxForwards = maxForwardsText === null ? null : parseMaxForwards(maxForwardsText);
  if (maxForwards !== null && !maxForwards.ok) return maxForwards;
  const contactValues = headerValues(message, 'contact');
  let contact: NameAddr[] | '*' = [];
  if (contactValues.length === 1 && contactValues[0] === '*') contact = '*';
  else {
    for (const value of contactValues) {
      const parsed = parseNameAddr(value, 'contact');
      if (!parsed.ok) return parsed;
      contact.push(parsed.value);
    }
  }
  return ok({ via: vias, from: from.value, to: to.value, callId: callId.value, cseq: cseq.value, maxForwards: maxForwards === null ? null : maxForwards.value, contact });
}
