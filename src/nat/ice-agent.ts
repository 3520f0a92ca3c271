// Connectivity between two devices, in the manner of ICE (RFC 8445): each gathers candidates
// (its host address, its address as the supernode sees it, a TURN relay on the supernode), the
// two exchange them over their end-to-end session (with the credentials that key the checks),
// and both send STUN connectivity checks on every candidate pair at once — each check through a
// NAT opens it for the other side's, so the two sides punch the hole together. The controlling
// side nominates the best pair that works (direct over hole-punched over relayed), keeps
// checking the better ones, and moves when something better comes up; consent checks on the
// chosen pair notice a dead path within seconds, and the agent falls back to the next pair that
// works, then checks everything again.
//
// Demultiplexing on the one UDP socket: what comes from the supernode is TURN/STUN for the TURN
// client; from anyone else, STUN Binding is a connectivity check, anything else is data.
import { sameEndpoint as same, type Clock, type Endpoint, type Net, type Random, type Timer, type UdpSocket } from '../env/types.js';
import { streamSocket } from './turn-tcp.js';
import { TurnClient } from './turn-client.js';
import { StunTransactions } from './stun-client.js';
import {
  Attr,
  StunClass,
  StunMethod,
  attribute,
  checkIntegrity,
  decodeUint32,
  mappedAddress,
  decodeStun,
  encodeAddress,
  encodeStun,
  encodeUint32,
  looksLikeStun,
  type DecodedStun,
  type StunAttribute,
} from './stun.js';

export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

export interface IceCandidate {
  readonly type: CandidateType;
  readonly address: Endpoint;
  readonly priority: number;
  /** A relayed candidate whose device reaches its TURN server over TCP (its UDP is blocked). */
  readonly relayTcp?: boolean;
}

/** What one side tells the other (over the end-to-end session, which keeps `pwd` secret). */
export interface IceParameters {
  readonly ufrag: string;
  readonly pwd: string;
  readonly candidates: readonly IceCandidate[];
}

/** How the chosen path runs, for people and for benchmarks. */
export type PathKind = 'direct' | 'hole-punched' | 'relayed-udp' | 'relayed-tcp';

export interface SelectedPath {
  readonly kind: PathKind;
  readonly local: IceCandidate;
  readonly remote: IceCandidate;
  /** From `connect` to the pair being chosen. */
  readonly setupMs: number;
  readonly rttMs: number;
}

export interface IceAgentOptions {
  readonly controlling: boolean;
  /** The supernode's STUN/TURN service. */
  readonly server: Endpoint;
  /** TURN credentials from the supernode; without them there is no relayed candidate. */
  readonly turnCredentials?: { username: string; password: string };
  /** The local interface address (the one the supernode link uses), for the host candidate. */
  readonly localHost?: string;
  /**
   * How to reach TURN: over UDP, over TCP (RFC 8656 section 12.5; for firewalls that block UDP),
   * or `auto` (default): UDP, unless a STUN request gets no answer within 500 ms.
   */
  readonly turnTransport?: 'udp' | 'tcp' | 'auto';
  /** Where TURN over TCP answers (default: the server's address and port; web-only firewalls: port 443). */
  readonly turnTcp?: Endpoint;
  /**
   * A path is needed now (an ICE restart: a call's path died and its audio is silent): a relayed
   * pair is nominated as soon as any other would be, without RELAY_WAIT_MS; a better pair that
   * works later still takes over, as it does on any path.
   */
  readonly urgent?: boolean;
}

/** With `auto`, UDP counts as blocked when a STUN request to the supernode gets no answer this soon. */
const UDP_PROBE_MS = 500;

const TYPE_PREFERENCE: Record<CandidateType, number> = { host: 126, prflx: 110, srflx: 100, relay: 0 };
/** Checks: a new one every PACE_MS, each sent again after RTO_MS (doubling), CHECK_ATTEMPTS times in all. */
const PACE_MS = 5;
const RTO_MS = 100;
const CHECK_ATTEMPTS = 6;
/** After the first pair works, better pairs get this long (at least) to work too before nomination. */
const NOMINATION_WAIT_MS = 100;
/**
 * A relayed pair is a fallback: while a direct or hole-punched pair is still being checked it
 * waits this long (at least) before it is nominated, so a loaded machine's slow answers do not
 * settle a call on the relay (it would move later, but the first path is the one people see).
 */
const RELAY_WAIT_MS = 500;
/** Consent (RFC 7675, faster): a check on the chosen pair every second; three unanswered and the path is dead. */
export const CONSENT_INTERVAL_MS = 1_000;
const CONSENT_FAILURES = 3;
/**
 * While on a worse path than the best pair, the better pairs that failed are checked again this
 * often (in consent ticks), each with fewer retransmissions than a first check: a path that
 * healed is back within about this many seconds.
 */
const RECHECK_EVERY_TICKS = 2;
const RECHECK_ATTEMPTS = 3;
/**
 * Remote candidates one agent keeps: those the offer named and the peer-reflexive ones learned
 * from checks. A check needs only the password, so the peer (or anyone it told it) can send
 * checks from as many source addresses as it likes, and each address learned costs a pair, a
 * triggered check with its retransmissions to that address, and through the relay a TURN
 * permission. With at most two local candidates that send checks (host, relay) this keeps the
 * check list at 64 pairs, under RFC 8445's default limit of 100 (section 6.1.2.5). A device has
 * a few addresses; an offer brings at most 16 (connector.ts), so 16 are left for peer-reflexive ones.
 */
export const MAX_REMOTE_CANDIDATES = 32;

function priority(type: CandidateType): number {
  return TYPE_PREFERENCE[type] * 2 ** 24 + 65_535 * 2 ** 8 + 255;
}

/** RFC 8445 section 6.1.2.3: the same on both sides. */
function pairPriority(controlling: number, controlled: number): bigint {
  const g = BigInt(controlling);
  const d = BigInt(controlled);
  return (1n << 32n) * (g < d ? g : d) + 2n * (g > d ? g : d) + (g > d ? 1n : 0n);
}


interface Pair {
  readonly local: IceCandidate;
  readonly remote: IceCandidate;
  readonly priority: bigint;
  state: 'waiting' | 'in-progress' | 'succeeded' | 'failed';
  rttMs: number;
  /** The other side asked for it (USE-CANDIDATE), or we did and it answered. */
  nominated: boolean;
  /** Checked again after it failed or died: fewer retransmissions. */
  recheck: boolean;
}

interface Transaction {
  readonly pair: Pair;
  readonly startedMs: number;
  readonly nominate: boolean;
  readonly consent: boolean;
  timer: Timer | null;
  readonly done: (ok: boolean) => void;
}

export class IceAgent {
  readonly ufrag: string;
  readonly pwd: string;
  /** The keys of the checks' MESSAGE-INTEGRITY: ours (`pwd`) for checks we answer, theirs for checks we send. */
  private readonly localKey: Uint8Array;
  private remoteKey: Uint8Array | null = null;
  private readonly socket: UdpSocket;
  private readonly serverHandlers: ((bytes: Uint8Array, from: Endpoint) => void)[] = [];
  private turn: TurnClient | null = null;
  private readonly locals: IceCandidate[] = [];
  private remote: IceParameters | null = null;
  private readonly remotes: IceCandidate[] = [];
  private pairs: Pair[] = [];
  private readonly transactions = new Map<string, Transaction>();
  private selected: Pair | null = null;
  private startedMs = 0;
  private pacer: Timer | null = null;
  private readonly queue: Pair[] = [];
  private nominationTimer: Timer | null = null;
  private plannedFor: Pair | null = null;
  private consentTimer: Timer | null = null;
  private consentFailures = 0;
  private closed = false;
  private dataHandler: (bytes: Uint8Array) => void = () => {};
  private readonly pathListeners: ((path: SelectedPath) => void)[] = [];
  private readonly lostListeners: (() => void)[] = [];
  private readonly waiters: ((path: SelectedPath) => void)[] = [];
  private readonly tieBreaker: Uint8Array;
  /** Counts of what was refused or dropped: checks with bad integrity, data from strangers, remote candidates beyond MAX_REMOTE_CANDIDATES. */
  readonly refused = { integrity: 0, strangers: 0, candidates: 0 };

  private constructor(
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly net: Net,
    socket: UdpSocket,
    private readonly options: IceAgentOptions,
  ) {
    this.socket = socket;
    this.ufrag = toText(random.bytes(6));
    this.pwd = toText(random.bytes(18));
    this.localKey = new TextEncoder().encode(this.pwd);
    this.tieBreaker = random.bytes(8);
    socket.onMessage((bytes, from) => {
      if (!same(from, options.server)) return this.receive(bytes, from, null);
      for (const handler of this.serverHandlers) handler(bytes, from);
    });
  }

  /** Binds a socket and gathers candidates: host, server-reflexive and (with credentials) relayed. */
  static async gather(env: { clock: Clock; random: Random; net: Net }, options: IceAgentOptions): Promise<IceAgent> {
    const socket = await env.net.bindUdp({ port: 0, ...(options.localHost ? { host: options.localHost } : {}) });
    const agent = new IceAgent(env.clock, env.random, env.net, socket, options);
    await agent.gatherCandidates();
    return agent;
  }

  /** The socket's side towards the supernode, for the TURN client and STUN transactions. */
  private serverSide(): UdpSocket {
    let mine: ((bytes: Uint8Array, from: Endpoint) => void) | null = null;
    return {
      local: this.socket.local,
      send: (bytes, to) => this.socket.send(bytes, to),
      // Every listener sees every message from the supernode (each ignores what is not its own).
      onMessage: (handler) => {
        this.drop(mine);
        mine = handler;
        this.serverHandlers.push(handler);
      },
      // Closing this side stops its listener; the shared socket stays open.
      close: () => this.drop(mine),
    };
  }

  private drop(handler: ((bytes: Uint8Array, from: Endpoint) => void) | null): void {
    const at = handler ? this.serverHandlers.indexOf(handler) : -1;
    if (at >= 0) this.serverHandlers.splice(at, 1);
  }

  private async gatherCandidates(): Promise<void> {
    const host = { host: this.options.localHost ?? this.socket.local.host, port: this.socket.local.port };
    this.locals.push({ type: 'host', address: host, priority: priority('host') });
    const transport = this.options.turnTransport ?? 'auto';
    // The server-reflexive address: a Binding request (also the probe that tells whether UDP gets out).
    // Each of these listens on the shared socket only while gathering: afterwards every datagram
    // from the supernode (relayed media) goes to the TURN client alone.
    const stunSide = this.serverSide();
    const stun = new StunTransactions(stunSide, this.clock, this.random);
    const probe = transport === 'tcp' ? null : stun.request(this.options.server, [], { rtoMs: 100, deadlineMs: transport === 'auto' ? UDP_PROBE_MS : 1_500 });
    const credentials = this.options.turnCredentials;
    let udpTurn: TurnClient | null = null;
    let udpAllocation: ReturnType<TurnClient['allocate']> | null = null;
    const udpSide = this.serverSide();
    if (credentials && transport !== 'tcp') {
      udpTurn = new TurnClient(udpSide, this.clock, this.random, this.options.server, credentials);
      udpAllocation = udpTurn.allocate();
    }
    const answer = probe ? await probe : null;
    stunSide.close();
    const mapped = answer?.ok ? mappedAddress(answer.value.message) : null;
    if (mapped && !same(mapped, host)) this.locals.push({ type: 'srflx', address: mapped, priority: priority('srflx') });
    if (!credentials) return;
    if (udpTurn && udpAllocation && (answer?.ok || transport === 'udp')) {
      const allocated = await udpAllocation;
      if (allocated.ok) {
        this.useRelay(udpTurn, allocated.value.relayed, false);
        return;
      }
    }
    // UDP does not get out (or TURN over UDP failed): TURN over TCP.
    if (udpTurn) await udpTurn.close();
    udpSide.close();
    const server = this.options.turnTcp ?? this.options.server;
    try {
      const connection = await this.net.connectTcp({ host: server.host, port: server.port, timeoutMs: 5_000 });
      const tcpTurn = new TurnClient(streamSocket(connection, server), this.clock, this.random, server, credentials);
      const allocated = await tcpTurn.allocate();
      if (allocated.ok) this.useRelay(tcpTurn, allocated.value.relayed, true);
      else await tcpTurn.close();
    } catch {
      // No relay at all: the host candidate is all there is.
    }
  }

  private useRelay(turn: TurnClient, relayed: Endpoint, overTcp: boolean): void {
    this.turn = turn;
    turn.onData((peer, data) => this.receive(data, peer, 'relay'));
    this.locals.push({ type: 'relay', address: relayed, priority: priority('relay'), ...(overTcp ? { relayTcp: true } : {}) });
  }

  get parameters(): IceParameters {
    return { ufrag: this.ufrag, pwd: this.pwd, candidates: [...this.locals] };
  }

  get path(): SelectedPath | null {
    return this.selected ? this.describe(this.selected) : null;
  }

  /** Called whenever a path is chosen, and again when it changes. */
  onPath(listener: (path: SelectedPath) => void): void {
    this.pathListeners.push(listener);
  }

  /** Called when the chosen path stopped answering consent checks and no other pair works: the agent has no path. */
  onPathLost(listener: () => void): void {
    this.lostListeners.push(listener);
  }

  onData(handler: (bytes: Uint8Array) => void): void {
    this.dataHandler = handler;
  }

  /** Resolves with the first path chosen, or null when nothing worked within `timeoutMs`. */
  established(timeoutMs = 10_000): Promise<SelectedPath | null> {
    if (this.selected) return Promise.resolve(this.describe(this.selected));
    return new Promise((resolve) => {
      const timer = this.clock.after(timeoutMs, () => resolve(null));
      this.waiters.push((path) => {
        timer.cancel();
        resolve(path);
      });
    });
  }

  /** The other side's parameters: pairs are formed and checks begin at once. */
  connect(remote: IceParameters): void {
    this.startedMs = this.clock.now();
    this.remote = remote;
    this.remoteKey = new TextEncoder().encode(remote.pwd);
    // Checks that came before the parameters taught us peer-reflexive addresses; what the other
    // side says of an address counts first (its host candidate is not peer-reflexive).
    const learned = this.remotes.splice(0);
    for (const candidate of [...remote.candidates, ...learned]) this.addRemote(candidate);
    // The relay lets the other side's addresses in (a relayed pair may be the only one that works),
    // one request per address: a relay refuses a whole request for one address it will not serve
    // (403 for a private host candidate), which must not cost the others their permission.
    const permitted = new Set<string>();
    for (const c of remote.candidates.slice(0, MAX_REMOTE_CANDIDATES)) {
      if (!this.turn || permitted.has(c.address.host)) continue;
      permitted.add(c.address.host);
      void this.turn.permit([c.address]);
    }
  }

  private addRemote(candidate: IceCandidate): void {
    if (this.remotes.some((r) => same(r.address, candidate.address))) return;
    if (this.remotes.length >= MAX_REMOTE_CANDIDATES) {
      this.refused.candidates++;
      return;
    }
    this.remotes.push(candidate);
    // Server-reflexive locals share the host's socket: only host and relay candidates send checks.
    for (const local of this.locals) if (local.type === 'host' || local.type === 'relay') this.addPair(local, candidate);
  }

  private addPair(local: IceCandidate, remote: IceCandidate): Pair {
    const existing = this.pairs.find((p) => p.local === local && same(p.remote.address, remote.address));
    if (existing) return existing;
    const pair: Pair = {
      local,
      remote,
      priority: this.options.controlling ? pairPriority(local.priority, remote.priority) : pairPriority(remote.priority, local.priority),
      state: 'waiting',
      rttMs: 0,
      nominated: false,
      recheck: false,
    };
    this.pairs.push(pair);
    this.pairs.sort((a, b) => (a.priority > b.priority ? -1 : a.priority < b.priority ? 1 : 0));
    this.enqueue(pair);
    return pair;
  }

  /** Queues a check (triggered checks go first) and paces the queue. */
  private enqueue(pair: Pair, first = false): void {
    if (pair.state === 'in-progress' || this.queue.includes(pair)) return;
    if (first) this.queue.unshift(pair);
    else this.queue.push(pair);
    this.pace();
  }

  private pace(): void {
    if (this.pacer || this.closed) return;
    const next = this.queue.shift();
    if (!next) return;
    this.check(next, false);
    this.pacer = this.clock.after(PACE_MS, () => {
      this.pacer = null;
      this.pace();
    });
  }

  private transmit(pair: Pair, bytes: Uint8Array): void {
    if (pair.local.type === 'relay') this.turn?.send(pair.remote.address, bytes);
    else this.socket.send(bytes, pair.remote.address);
  }

  /** A connectivity check on `pair`: a Binding request signed with the other side's password. */
  private check(pair: Pair, nominate: boolean, consent = false, done: (ok: boolean) => void = () => {}): void {
    const remote = this.remote;
    if (!remote || this.closed) return;
    if (!consent && !nominate) pair.state = 'in-progress';
    const transactionId = this.random.bytes(12);
    const attributes: StunAttribute[] = [
      { type: Attr.USERNAME, value: new TextEncoder().encode(`${remote.ufrag}:${this.ufrag}`) },
      { type: Attr.PRIORITY, value: encodeUint32(priority('prflx')) },
      { type: this.options.controlling ? Attr.ICE_CONTROLLING : Attr.ICE_CONTROLLED, value: this.tieBreaker },
      ...(nominate ? [{ type: Attr.USE_CANDIDATE, value: new Uint8Array(0) }] : []),
    ];
    const bytes = encodeStun({ method: StunMethod.BINDING, cls: StunClass.REQUEST, transactionId, attributes, classic: false }, { integrityKey: this.remoteKey!, fingerprint: true });
    const id = hex(transactionId);
    const transaction: Transaction = { pair, startedMs: this.clock.now(), nominate, consent, timer: null, done };
    this.transactions.set(id, transaction);
    let attempt = 0;
    let rto = RTO_MS;
    const send = () => {
      if (this.closed || !this.transactions.has(id)) return;
      attempt++;
      this.transmit(pair, bytes.slice());
      const attempts = consent ? 1 : pair.recheck ? RECHECK_ATTEMPTS : CHECK_ATTEMPTS;
      transaction.timer = this.clock.after(rto, attempt < attempts ? send : () => this.failed(id));
      rto *= 2;
    };
    send();
  }

  private failed(id: string): void {
    const transaction = this.transactions.get(id);
    if (!transaction) return;
    this.transactions.delete(id);
    if (!transaction.consent && !transaction.nominate && transaction.pair.state === 'in-progress') transaction.pair.state = 'failed';
    transaction.done(false);
  }

  /** Everything that is not from the supernode: checks, answers, data. `via` says it came through our relay. */
  private receive(bytes: Uint8Array, from: Endpoint, via: 'relay' | null): void {
    if (this.closed) return;
    if (!looksLikeStun(bytes)) {
      // Data comes on the chosen pair (checked first: this runs per media packet), or on another that works.
      const selected = this.selected;
      if ((selected && same(selected.remote.address, from)) || this.pairs.some((p) => p.state === 'succeeded' && same(p.remote.address, from))) this.dataHandler(bytes);
      else this.refused.strangers++;
      return;
    }
    const decoded = decodeStun(bytes);
    if (!decoded.ok || decoded.value.method !== StunMethod.BINDING) return;
    const message = decoded.value;
    if (message.cls === StunClass.REQUEST) this.answerCheck(message, from, via);
    else if (message.cls === StunClass.SUCCESS || message.cls === StunClass.ERROR) this.checkAnswered(message, from);
  }

  private answerCheck(request: DecodedStun, from: Endpoint, via: 'relay' | null): void {
    const username = attribute(request, Attr.USERNAME);
    if (!username || new TextDecoder().decode(username).split(':')[0] !== this.ufrag || !checkIntegrity(request, this.localKey)) {
      this.refused.integrity++;
      return;
    }
    const answer = encodeStun(
      { method: StunMethod.BINDING, cls: StunClass.SUCCESS, transactionId: request.transactionId, attributes: [{ type: Attr.XOR_MAPPED_ADDRESS, value: encodeAddress(from, true, request.transactionId) }], classic: false },
      { integrityKey: this.localKey, fingerprint: true },
    );
    const local = via === 'relay' ? this.locals.find((c) => c.type === 'relay') : this.locals.find((c) => c.type === 'host');
    if (!local) return;
    if (via === 'relay') this.turn?.send(from, answer);
    else this.socket.send(answer, from);
    // The sender may be somewhere we did not know of (a peer-reflexive candidate): learn it.
    let remote = this.remotes.find((r) => same(r.address, from));
    if (!remote) {
      // Answered (the answer is no larger than the check), but not learned: no pair, no check of ours goes there.
      if (this.remotes.length >= MAX_REMOTE_CANDIDATES) {
        this.refused.candidates++;
        return;
      }
      const priorityAttr = attribute(request, Attr.PRIORITY);
      remote = { type: 'prflx', address: from, priority: (priorityAttr && decodeUint32(priorityAttr)) ?? priority('prflx') };
      this.remotes.push(remote);
      if (via === 'relay') void this.turn?.permit([from]);
    }
    if (!this.remote) return; // checks before the other side's parameters: answered, paired later
    const pair = this.addPair(local, remote);
    // A triggered check: our answer alone does not prove our direction works.
    if (pair.state !== 'succeeded') this.enqueue(pair, true);
    if (!this.options.controlling && attribute(request, Attr.USE_CANDIDATE) !== undefined) {
      pair.nominated = true;
      if (pair.state === 'succeeded') this.select(pair);
    }
  }

  private checkAnswered(answer: DecodedStun, from: Endpoint): void {
    const id = hex(answer.transactionId);
    const transaction = this.transactions.get(id);
    if (!transaction || !same(from, transaction.pair.remote.address)) return;
    if (!this.remoteKey || !checkIntegrity(answer, this.remoteKey)) {
      this.refused.integrity++;
      return;
    }
    this.transactions.delete(id);
    transaction.timer?.cancel();
    const pair = transaction.pair;
    if (answer.cls !== StunClass.SUCCESS) {
      if (!transaction.consent && !transaction.nominate) pair.state = 'failed';
      transaction.done(false);
      return;
    }
    pair.rttMs = this.clock.now() - transaction.startedMs;
    const fresh = pair.state !== 'succeeded';
    pair.state = 'succeeded';
    transaction.done(true);
    if (transaction.nominate) {
      pair.nominated = true;
      this.select(pair);
      return;
    }
    if (!this.options.controlling) {
      if (pair.nominated) this.select(pair);
      return;
    }
    if (fresh) this.considerNomination();
  }

  /** Controlling side: after the first success, wait a little for better pairs, then nominate the best that works. */
  private considerNomination(): void {
    // Planned again when the best working pair changes: a better pair may shorten the wait (or end it).
    const best = this.bestValid();
    if (!best || (this.nominationTimer && this.plannedFor === best)) return;
    this.nominationTimer?.cancel();
    this.nominationTimer = null;
    this.plannedFor = best;
    if (this.selected && best.priority <= this.selected.priority) return;
    // Nothing better is still being checked: nominate at once.
    const better = this.pairs.filter((p) => p.priority > best.priority && (p.state === 'waiting' || p.state === 'in-progress'));
    const relayed = best.local.type === 'relay' || best.remote.type === 'relay';
    const wait = better.length === 0 ? 0 : relayed && !this.options.urgent ? Math.max(RELAY_WAIT_MS, 4 * best.rttMs) : Math.max(NOMINATION_WAIT_MS, 2 * best.rttMs);
    this.nominationTimer = this.clock.after(wait, () => {
      this.nominationTimer = null;
      const chosen = this.bestValid();
      if (chosen && (!this.selected || chosen.priority > this.selected.priority)) this.check(chosen, true);
    });
  }

  private bestValid(): Pair | null {
    return this.pairs.find((p) => p.state === 'succeeded') ?? null;
  }

  private select(pair: Pair): void {
    if (this.selected === pair) return;
    this.selected = pair;
    this.consentFailures = 0;
    // Media through our relay: a channel makes each datagram's TURN header 4 bytes, not 36.
    if (pair.local.type === 'relay') void this.turn?.bindChannel(pair.remote.address);
    this.startConsent();
    const path = this.describe(pair);
    for (const waiter of this.waiters.splice(0)) waiter(path);
    for (const listener of this.pathListeners) listener(path);
  }

  private describe(pair: Pair): SelectedPath {
    const relayed = pair.local.type === 'relay' || pair.remote.type === 'relay';
    // Direct: host to host (one LAN, or both public), or one end public (its host address is
    // reachable as it is: the other end's NAT opens on its own first packet, nothing to punch).
    const isPublic = (candidates: readonly IceCandidate[]) => !candidates.some((c) => c.type === 'srflx');
    const direct =
      (pair.local.type === 'host' && pair.remote.type === 'host') ||
      (pair.local.type === 'host' && isPublic(this.locals)) ||
      (pair.remote.type === 'host' && isPublic(this.remote?.candidates ?? []));
    const overTcp = (pair.local.type === 'relay' && pair.local.relayTcp === true) || (pair.remote.type === 'relay' && pair.remote.relayTcp === true);
    const kind: PathKind = relayed ? (overTcp ? 'relayed-tcp' : 'relayed-udp') : direct ? 'direct' : 'hole-punched';
    return { kind, local: pair.local, remote: pair.remote, setupMs: this.clock.now() - this.startedMs, rttMs: pair.rttMs };
  }

  /** Consent: the chosen pair is checked every second; when it stops answering, fall back and check everything again. */
  private startConsent(): void {
    this.consentTimer?.cancel();
    let ticks = 0;
    const tick = () => {
      const pair = this.selected;
      if (!pair || this.closed) return;
      // Keep checking: a better path may work now (a relay is a fallback, not a home).
      if (++ticks % RECHECK_EVERY_TICKS === 0) {
        for (const better of this.pairs) {
          if (better.priority <= pair.priority) break;
          if (better.state === 'failed') {
            better.state = 'waiting';
            better.recheck = true;
            this.enqueue(better);
          }
        }
      }
      this.check(pair, false, true, (ok) => {
        if (this.selected !== pair) return;
        this.consentFailures = ok ? 0 : this.consentFailures + 1;
        if (this.consentFailures >= CONSENT_FAILURES) this.pathDied(pair);
      });
      this.consentTimer = this.clock.after(CONSENT_INTERVAL_MS, tick);
    };
    this.consentTimer = this.clock.after(CONSENT_INTERVAL_MS, tick);
  }

  private pathDied(pair: Pair): void {
    pair.state = 'failed';
    pair.nominated = false;
    this.selected = null;
    const fallback = this.bestValid();
    if (fallback) {
      if (this.options.controlling) this.check(fallback, true);
      else this.select(fallback);
    } else {
      for (const listener of this.lostListeners) listener();
    }
    // Everything else is checked again: the failed path may come back, or another may work now.
    for (const p of this.pairs) {
      if (p === fallback || p.state === 'in-progress') continue;
      p.state = 'waiting';
      p.recheck = true;
      this.enqueue(p);
    }
  }

  /**
   * Sends data on the chosen path (dropped while there is none). Data must not start with a
   * byte 0-3 (RFC 7983: that is STUN); RTP/SRTP (128-191) and Parley datagrams (0xF0+) do not.
   */
  send(bytes: Uint8Array): boolean {
    const pair = this.selected;
    if (!pair || this.closed) return false;
    this.transmit(pair, bytes);
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pacer?.cancel();
    this.nominationTimer?.cancel();
    this.consentTimer?.cancel();
    for (const t of this.transactions.values()) t.timer?.cancel();
    this.transactions.clear();
    await this.turn?.close();
    this.socket.close();
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** ICE ufrag/pwd text (RFC 8839 ice-chars are base64's alphabet): 6 bytes give 8 characters, 18 give 24. */
function toText(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}
