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
// This file is the driver: it owns the socket, the TURN clients (one per relay family) and the one timer, encodes and
// authenticates the STUN checks, and feeds the pure check list (ice-checklist.ts), which decides
// what to check, when, and which pair to use. Gathering is in ice-gathering.ts.
//
// Demultiplexing on the one UDP socket: what comes from the supernode is TURN/STUN for the TURN
// client; from anyone else (or relayed by the TURN client), STUN Binding is a connectivity check
// or an answer to one, anything else is data.
import { Listeners } from '../util/listeners.js';
import type { Clock, Endpoint, Net, Random, Timer, TlsConnect, UdpSocket } from '../env/types.js';
import { CheckList, MAX_REMOTE_CANDIDATES, type CheckListOutput } from './ice-checklist.js';
import { candidatePriority, localFor, sameFamily, type IceCandidate, type IceParameters, type SelectedPath } from './ice-candidate.js';
import { SocketSplit, gatherCandidates } from './ice-gathering.js';
import type { TurnClient } from '../turn/turn-client.js';
import { Attr, StunClass, StunMethod, attribute, checkIntegrity, decodeStun, decodeUint32, encodeAddress, encodeStun, encodeUint32, looksLikeStun, type DecodedStun } from '../stun/stun.js';

export type { CandidateType, IceCandidate, IceParameters, PathKind, SelectedPath } from './ice-candidate.js';
export { CONSENT_INTERVAL_MS, MAX_REMOTE_CANDIDATES } from './ice-checklist.js';

export interface IceAgentOptions {
  readonly controlling: boolean;
  /** The supernode's STUN/TURN service. */
  readonly server: Endpoint;
  /** TURN credentials from the supernode; without them there is no relayed candidate. */
  readonly turnCredentials?: { username: string; password: string };
  /** The local interface address (the one the supernode link uses), for the host candidate: IPv4, or IPv6 for an IPv6-only agent. */
  readonly localHost?: string;
  /**
   * A dual-stack agent (real sockets): its IPv6 address, a second host candidate on the same
   * socket (bound to `::`, IPv4 and IPv6 alike); `localHost` is then the IPv4 one.
   */
  readonly localHost6?: string;
  /** The supernode's STUN/TURN service over IPv6, for an IPv6 server-reflexive candidate (behind NPTv6 or an IPv6 NAT). */
  readonly server6?: Endpoint;
  /**
   * How to reach TURN: over UDP, over TCP (RFC 8656 section 12.5; for firewalls that block UDP),
   * or `auto` (default): UDP, unless a STUN request gets no answer within 500 ms.
   */
  readonly turnTransport?: 'udp' | 'tcp' | 'auto';
  /** Where TURN over TCP answers (default: the server's address and port; web-only firewalls: port 443). */
  readonly turnTcp?: Endpoint;
  /** TURN over TCP inside TLS ("turns:"), for firewalls that pass only TLS (the device's link came through TLS too). */
  readonly turnTls?: TlsConnect;
  /** Only relayed candidates are offered and checked (WebRTC's iceTransportPolicy "relay"). */
  readonly relayOnly?: boolean;
  /**
   * A path is needed now (an ICE restart: a call's path died and its audio is silent): a relayed
   * pair is nominated as soon as any other would be, without RELAY_WAIT_MS; a better pair that
   * works later still takes over, as it does on any path.
   */
  readonly urgent?: boolean;
}

/** The PRIORITY our checks carry: that of a peer-reflexive candidate the other side may learn from them. */
const CHECK_PRIORITY = candidatePriority('prflx');

export class IceAgent {
  readonly ufrag: string;
  readonly pwd: string;
  /** The keys of the checks' MESSAGE-INTEGRITY: ours (`pwd`) for checks we answer, theirs for checks we send. */
  private readonly localKey: Uint8Array;
  private remoteKey: Uint8Array | null = null;
  private remote: IceParameters | null = null;
  private readonly checks: CheckList;
  private readonly tieBreaker: Uint8Array;
  private timer: Timer | null = null;
  private timerAtMs: number | null = null;
  private closed = false;
  private dataHandler: (bytes: Uint8Array) => void = () => {};
  private readonly pathListeners = new Listeners<[SelectedPath]>();
  private readonly lostListeners = new Listeners<[]>();
  private readonly waiters: ((path: SelectedPath) => void)[] = [];
  /** Counts of what was dropped here: checks and answers with bad integrity, data from strangers. */
  private readonly dropped = { integrity: 0, strangers: 0 };

  private constructor(
    private readonly clock: Clock,
    random: Random,
    private readonly socket: UdpSocket,
    split: SocketSplit,
    private readonly locals: readonly IceCandidate[],
    /** The relays' TURN clients: at most one per address family. */
    private readonly turns: readonly TurnClient[],
    private readonly options: IceAgentOptions,
  ) {
    this.ufrag = toText(random.bytes(6));
    this.pwd = toText(random.bytes(18));
    this.localKey = new TextEncoder().encode(this.pwd);
    this.tieBreaker = random.bytes(8);
    this.checks = new CheckList({ controlling: options.controlling, urgent: options.urgent === true, locals, random });
    split.onPeer((bytes, from) => this.receive(bytes, from, 'host'));
    for (const turn of turns) turn.onData((peer, data) => this.receive(data, peer, 'relay'));
  }

  /** Binds a socket and gathers candidates: host, server-reflexive and (with credentials) relayed. */
  static async gather(env: { clock: Clock; random: Random; net: Net }, options: IceAgentOptions): Promise<IceAgent> {
    // Dual-stack: one socket on every address of both families (it sends to IPv4 peers through their IPv4-mapped form).
    const bindHost = options.localHost6 ? '::' : options.localHost;
    const socket = await env.net.bindUdp({ port: 0, ...(bindHost ? { host: bindHost } : {}) });
    try {
      const split = new SocketSplit(socket, [options.server, ...(options.server6 ? [options.server6] : [])]);
      const gathered = await gatherCandidates(env, split, options);
      return new IceAgent(env.clock, env.random, socket, split, gathered.locals, gathered.turns, options);
    } catch (error) {
      socket.close();
      throw error;
    }
  }

  get parameters(): IceParameters {
    return { ufrag: this.ufrag, pwd: this.pwd, candidates: [...this.locals] };
  }

  get path(): SelectedPath | null {
    return this.checks.path(this.clock.now());
  }

  /**
   * Counts of what was refused or dropped: checks and answers with bad integrity, data from
   * strangers, and the check list's bounds (remote candidates beyond MAX_REMOTE_CANDIDATES, pairs,
   * queued and pending checks).
   */
  get refused(): { integrity: number; strangers: number; candidates: number; pairs: number; queued: number; pending: number } {
    return { ...this.dropped, ...this.checks.refused };
  }

  /** Called whenever a path is chosen, and again when it changes. */
  onPath(listener: (path: SelectedPath) => void): () => void {
    return this.pathListeners.add(listener);
  }

  /** Called when the chosen path stopped answering consent checks and no other pair works: the agent has no path. */
  onPathLost(listener: () => void): () => void {
    return this.lostListeners.add(listener);
  }

  onData(handler: (bytes: Uint8Array) => void): void {
    this.dataHandler = handler;
  }

  /** Resolves with the first path chosen, or null when nothing worked within `timeoutMs`. */
  established(timeoutMs = 10_000): Promise<SelectedPath | null> {
    const path = this.path;
    if (path) return Promise.resolve(path);
    return new Promise((resolve) => {
      const timer = this.clock.after(timeoutMs, () => resolve(null));
      this.waiters.push((chosen) => {
        timer.cancel();
        resolve(chosen);
      });
    });
  }

  /** The other side's parameters: pairs are formed and checks begin at once. */
  connect(remote: IceParameters): void {
    if (this.closed) return;
    this.remote = remote;
    this.remoteKey = new TextEncoder().encode(remote.pwd);
    // The relay lets the other side's addresses in (a relayed pair may be the only one that works),
    // one request per address: a relay refuses a whole request for one address it will not serve
    // (403 for a private host candidate), which must not cost the others their permission.
    // Each relay permits the addresses of its own family (a relay does not send to the other one: 443).
    const permitted = new Set<string>();
    for (const c of remote.candidates.slice(0, MAX_REMOTE_CANDIDATES)) {
      const turn = this.turnFor(c.address);
      if (!turn || permitted.has(c.address.host)) continue;
      permitted.add(c.address.host);
      void turn.permit([c.address]);
    }
    this.apply(this.checks.connect(remote.candidates, this.clock.now()));
  }

  /**
   * Sends data on the chosen path (dropped while there is none). Data must not start with a
   * byte 0-3 (RFC 7983: that is STUN); RTP/SRTP (128-191) and Parley datagrams (0xF0+) do not.
   */
  send(bytes: Uint8Array): boolean {
    const pair = this.checks.selected;
    if (!pair || this.closed) return false;
    this.transmit(pair.local, pair.remote.address, bytes);
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    await Promise.all(this.turns.map((turn) => turn.close()));
    this.socket.close();
  }

  /** The TURN client whose relay is of `address`'s family (the relay that can reach it), if any. */
  private turnFor(address: Endpoint): TurnClient | undefined {
    return this.turns.find((turn) => turn.allocated !== null && sameFamily(turn.allocated.relayed, address));
  }

  private transmit(local: IceCandidate, to: Endpoint, bytes: Uint8Array): void {
    if (local.type === 'relay') this.turnFor(to)?.send(to, bytes);
    else this.socket.send(bytes, to);
  }

  /** Carries out what the check list asked for, then sets the timer for its next deadline. */
  private apply(outputs: readonly CheckListOutput[]): void {
    for (const output of outputs) {
      if (this.closed) return;
      switch (output.kind) {
        case 'check':
          this.sendCheck(output);
          break;
        case 'learned':
          // A peer-reflexive address behind our relay needs its permission.
          if (output.via === 'relay') void this.turnFor(output.remote.address)?.permit([output.remote.address]);
          break;
        case 'selected': {
          const path = output.path;
          // Media through our relay: a channel makes each datagram's TURN header 4 bytes, not 36.
          if (path.local.type === 'relay') void this.turnFor(path.remote.address)?.bindChannel(path.remote.address);
          for (const waiter of this.waiters.splice(0)) waiter(path);
          this.pathListeners.emit(path);
          break;
        }
        case 'lost':
          this.lostListeners.emit();
          break;
      }
    }
    this.wake();
  }

  private wake(): void {
    const atMs = this.checks.deadlineMs();
    if (this.closed || atMs === this.timerAtMs) return;
    this.timer?.cancel();
    this.timer = null;
    this.timerAtMs = atMs;
    if (atMs === null) return;
    this.timer = this.clock.after(Math.max(0, atMs - this.clock.now()), () => {
      this.timer = null;
      this.timerAtMs = null;
      if (!this.closed) this.apply(this.checks.tick(this.clock.now()));
    });
  }

  /** A connectivity check: a Binding request signed with the other side's password. */
  private sendCheck(check: Extract<CheckListOutput, { kind: 'check' }>): void {
    const remote = this.remote;
    if (!remote || !this.remoteKey) return;
    const bytes = encodeStun(
      {
        method: StunMethod.BINDING,
        cls: StunClass.REQUEST,
        transactionId: check.transactionId,
        attributes: [
          { type: Attr.USERNAME, value: new TextEncoder().encode(`${remote.ufrag}:${this.ufrag}`) },
          { type: Attr.PRIORITY, value: encodeUint32(CHECK_PRIORITY) },
          { type: this.options.controlling ? Attr.ICE_CONTROLLING : Attr.ICE_CONTROLLED, value: this.tieBreaker },
          ...(check.useCandidate ? [{ type: Attr.USE_CANDIDATE, value: new Uint8Array(0) }] : []),
        ],
        classic: false,
      },
      { integrityKey: this.remoteKey, fingerprint: true },
    );
    this.transmit(check.local, check.to, bytes);
  }

  /** Everything that is not from the supernode: checks, answers, data. `via` says whether it came through our relay. */
  private receive(bytes: Uint8Array, from: Endpoint, via: 'host' | 'relay'): void {
    if (this.closed) return;
    if (!looksLikeStun(bytes)) {
      if (this.checks.acceptsDataFrom(from)) this.dataHandler(bytes);
      else this.dropped.strangers++;
      return;
    }
    const decoded = decodeStun(bytes);
    if (!decoded.ok || decoded.value.method !== StunMethod.BINDING) return;
    const message = decoded.value;
    if (message.cls === StunClass.REQUEST) this.answerCheck(message, from, via);
    else if (message.cls === StunClass.SUCCESS || message.cls === StunClass.ERROR) this.checkAnswered(message, from);
  }

  private answerCheck(request: DecodedStun, from: Endpoint, via: 'host' | 'relay'): void {
    const username = attribute(request, Attr.USERNAME);
    if (!username || new TextDecoder().decode(username).split(':')[0] !== this.ufrag || !checkIntegrity(request, this.localKey)) {
      this.dropped.integrity++;
      return;
    }
    const local = localFor(this.locals, via, from);
    if (!local) return;
    const answer = encodeStun(
      { method: StunMethod.BINDING, cls: StunClass.SUCCESS, transactionId: request.transactionId, attributes: [{ type: Attr.XOR_MAPPED_ADDRESS, value: encodeAddress(from, true, request.transactionId) }], classic: false },
      { integrityKey: this.localKey, fingerprint: true },
    );
    this.transmit(local, from, answer);
    const priorityAttr = attribute(request, Attr.PRIORITY);
    const priority = priorityAttr ? decodeUint32(priorityAttr) : null;
    this.apply(this.checks.checkReceived({ via, from, priority: priority ?? null, useCandidate: attribute(request, Attr.USE_CANDIDATE) !== undefined }, this.clock.now()));
  }

  private checkAnswered(answer: DecodedStun, from: Endpoint): void {
    // Cheapest first: only an answer we wait for costs an integrity check.
    if (!this.checks.awaits(answer.transactionId, from)) return;
    if (!this.remoteKey || !checkIntegrity(answer, this.remoteKey)) {
      this.dropped.integrity++;
      return;
    }
    this.apply(this.checks.answerReceived({ transactionId: answer.transactionId, from, success: answer.cls === StunClass.SUCCESS }, this.clock.now()));
  }
}

/** ICE ufrag/pwd text (RFC 8839 ice-chars are base64's alphabet): 6 bytes give 8 characters, 18 give 24. */
function toText(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}
