// A small SIP registrar over UDP (RFC 3261 section 10.3), the gateway's own: it answers
// OPTIONS, and REGISTER after digest authentication, keeping each address-of-record's contacts
// until they expire. Built only from this folder's codec, transactions and digest authority,
// on an injected socket, clock and randomness. Threat model: anyone can send datagrams.
// Bounds: the message size (the codec's limits), the server transactions alive at once (in all
// and per source address: Timer J keeps each for 32 s, so a flood would otherwise fill it), the
// addresses of record and contacts per record; a challenge costs no memory (digest-server.ts);
// nothing is stored before the password checked out. Undecodable datagrams are counted and
// dropped; a request with bad core headers gets 400. Responses go to the datagram's source
// (RFC 3581's rport behaviour, which works through NATs).
import type { Clock, Endpoint, Random, UdpSocket } from '../env/types.js';
import { decodeSipMessage, encodeSipMessage, firstHeader, type SipRequest, type SipResponse } from './message.js';
import { parseCoreHeaders, formatNameAddr, type NameAddr } from './header-values.js';
import { responseTo } from './responses.js';
import { ServerTransaction } from './server-transaction.js';
import { TransactionTable, transactionKey } from './transaction-keys.js';
import type { DigestAuthority } from './digest-server.js';

export interface RegistrarOptions {
  /** The domain whose users register here ("gw.example"): the To URI's host must be it. */
  readonly domain: string;
  readonly maxTransactions?: number;
  /** Transactions alive at once for one source address, so that one flooder cannot fill the table for everyone. */
  readonly maxTransactionsPerSource?: number;
  readonly maxAddressesOfRecord?: number;
  readonly maxContactsPerRecord?: number;
  readonly defaultExpiresS?: number;
  readonly maxExpiresS?: number;
}

export interface RegistrarCounters {
  undecodable: number;
  badRequests: number;
  challenged: number;
  registered: number;
  refusedFull: number;
}

interface Binding {
  readonly contact: NameAddr;
  readonly expiresAtMs: number;
}

const ALLOW = 'REGISTER, OPTIONS';

export class Registrar {
  private readonly transactions: TransactionTable<ServerTransaction>;
  private readonly records = new Map<string, Binding[]>();
  /** Live transactions per source host; no larger than the transaction table. */
  private readonly perSource = new Map<string, number>();
  private readonly maxPerSource: number;
  readonly counters: RegistrarCounters = { undecodable: 0, badRequests: 0, challenged: 0, registered: 0, refusedFull: 0 };
  private readonly maxRecords: number;
  private readonly maxContacts: number;
  private readonly defaultExpiresS: number;
  private readonly maxExpiresS: number;

  constructor(
    private readonly socket: UdpSocket,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly authority: DigestAuthority,
    private readonly options: RegistrarOptions,
  ) {
    this.transactions = new TransactionTable(options.maxTransactions ?? 1_000);
    this.maxPerSource = options.maxTransactionsPerSource ?? 50;
    this.maxRecords = options.maxAddressesOfRecord ?? 10_000;
    this.maxContacts = options.maxContactsPerRecord ?? 10;
    this.defaultExpiresS = options.defaultExpiresS ?? 3_600;
    this.maxExpiresS = options.maxExpiresS ?? 7_200;
    socket.onMessage((bytes, from) => this.receive(bytes, from));
  }

  /** The live contacts of an address of record ("sip:alice@gw.example"). */
  contacts(addressOfRecord: string): NameAddr[] {
    const now = this.clock.now();
    return (this.records.get(addressOfRecord) ?? []).filter((b) => b.expiresAtMs > now).map((b) => b.contact);
  }

  /** Closes the socket and stops every transaction's timers. */
  close(): void {
    this.socket.close();
    for (const transaction of [...this.transactions.values()]) transaction.close();
  }

  private receive(bytes: Uint8Array, from: Endpoint): void {
    const decoded = decodeSipMessage(bytes);
    if (!decoded.ok || decoded.value.kind !== 'request') {
      this.counters.undecodable++; // responses too: a registrar sends no requests
      return;
    }
    const request = decoded.value;
    const key = transactionKey(request);
    if (!key.ok) {
      this.counters.badRequests++;
      return;
    }
    const existing = this.transactions.get(key.value);
    if (existing) {
      existing.receive(request);
      return;
    }
    if (request.method === 'ACK') return; // an ACK for a 2xx we never send: nothing to do
    const fromSource = this.perSource.get(from.host) ?? 0;
    if (fromSource >= this.maxPerSource) {
      this.counters.refusedFull++; // unanswered: answering a flood would amplify it
      return;
    }
    const io = { clock: this.clock, reliable: false, send: (message: SipResponse | SipRequest) => this.socket.send(encodeSipMessage(message), from) };
    const transaction = new ServerTransaction(request, io, (event) => {
      if (event.kind !== 'terminated') return;
      this.transactions.delete(key.value);
      const left = (this.perSource.get(from.host) ?? 1) - 1;
      if (left <= 0) this.perSource.delete(from.host);
      else this.perSource.set(from.host, left);
    });
    if (!this.transactions.add(key.value, transaction)) {
      this.counters.refusedFull++;
      transaction.respond(responseTo(request, 503, 'Service Unavailable', { headers: [{ name: 'retry-after', value: '5' }] }));
      transaction.close();
      return;
    }
    this.perSource.set(from.host, fromSource + 1);
    transaction.respond(this.answer(request));
  }

  private answer(request: SipRequest): SipResponse {
    const toTag = Buffer.from(this.random.bytes(6)).toString('hex');
    const core = parseCoreHeaders(request);
    if (!core.ok) {
      this.counters.badRequests++;
      return responseTo(request, 400, `Bad ${core.error.header}`, { toTag });
    }
    if (request.method === 'OPTIONS') return responseTo(request, 200, 'OK', { toTag, headers: [{ name: 'allow', value: ALLOW }, { name: 'accept', value: 'application/sdp' }] });
    if (request.method !== 'REGISTER') return responseTo(request, 405, 'Method Not Allowed', { toTag, headers: [{ name: 'allow', value: ALLOW }] });
    // The canonical address of record (section 10.3 step 5): sip:user@domain, without port or parameters.
    const addressOfRecord = core.value.to.uri.replace(/^sips?:/, 'sip:').replace(/[;?].*$/, '').replace(/:\d+$/, '').toLowerCase();
    const at = addressOfRecord.indexOf('@');
    if (at < 0 || addressOfRecord.slice(at + 1) !== this.options.domain.toLowerCase()) return responseTo(request, 404, 'Not Found', { toTag });
    const verdict = this.authority.verify('REGISTER', request.uri, firstHeader(request, 'authorization'), this.clock.now());
    if (!verdict.ok) {
      this.counters.challenged++;
      const challenges = this.authority.challenge(this.clock.now(), this.random, verdict.why === 'stale_nonce');
      return responseTo(request, 401, 'Unauthorized', { toTag, headers: challenges.map((value) => ({ name: 'www-authenticate', value })) });
    }
    if (addressOfRecord.slice(addressOfRecord.indexOf(':') + 1, at) !== verdict.username.toLowerCase()) return responseTo(request, 403, 'Forbidden', { toTag });
    return this.register(request, addressOfRecord, core.value.contact, toTag);
  }

  private register(request: SipRequest, addressOfRecord: string, contacts: readonly NameAddr[] | '*', toTag: string): SipResponse {
    const now = this.clock.now();
    const expiresHeader = firstHeader(request, 'expires');
    const headerExpires = expiresHeader !== null && /^\d{1,10}$/.test(expiresHeader) ? Number(expiresHeader) : this.defaultExpiresS;
    let bindings = (this.records.get(addressOfRecord) ?? []).filter((b) => b.expiresAtMs > now);
    if (contacts === '*') {
      if (headerExpires !== 0) return responseTo(request, 400, 'Wildcard Needs Expires 0', { toTag });
      bindings = [];
    } else {
      for (const contact of contacts) {
        const asked = contact.params.get('expires');
        const expiresS = Math.min(asked !== undefined && asked !== null && /^\d{1,10}$/.test(asked) ? Number(asked) : headerExpires, this.maxExpiresS);
        bindings = bindings.filter((b) => b.contact.uri !== contact.uri);
        if (expiresS > 0) bindings.push({ contact: { ...contact, params: new Map([...contact.params].filter(([name]) => name !== 'expires')) }, expiresAtMs: now + expiresS * 1000 });
      }
      if (bindings.length > this.maxContacts) return responseTo(request, 403, 'Too Many Contacts', { toTag });
    }
    if (!this.records.has(addressOfRecord) && bindings.length > 0 && this.records.size >= this.maxRecords) {
      this.counters.refusedFull++;
      return responseTo(request, 503, 'Service Unavailable', { toTag });
    }
    if (bindings.length === 0) this.records.delete(addressOfRecord);
    else this.records.set(addressOfRecord, bindings);
    this.counters.registered++;
    const contactHeaders = bindings.map((b) => ({ name: 'contact', value: `${formatNameAddr(b.contact)};expires=${Math.max(0, Math.round((b.expiresAtMs - now) / 1000))}` }));
    return responseTo(request, 200, 'OK', { toTag, headers: contactHeaders });
  }
}
