// A TURN server (RFC 8656) for clients over UDP, TCP and TLS, relaying UDP (and TCP, RFC 6062): the driver. It owns
// what the protocol code must not: the relay sockets (bound in the operator's port range, put
// behind its public host), one timer that wakes when the next allocation or reservation ends,
// the peer policy, and the counters the metrics read. The parts it drives:
//   turn-allocations.ts  the allocation table: allocations, permissions, channels, reservations,
//                        their lifetimes and every quota; pure, told the time
//   turn-auth.ts         long-term credentials and stateless nonces (turn-credentials.ts)
//   turn-handlers.ts     one function per request (Allocate, Refresh, CreatePermission,
//                        ChannelBind), Send indications, ChannelData, and the dispatcher
//   turn-streams.ts      clients' TCP (and TLS plaintext) connections, framed by turn-tcp.ts
//   turn-tcp-relay.ts    TCP relays: listening relays, peer connections, data connections
//
// Bounds, because every allocation costs a socket and bandwidth: allocations per user and per
// server, permissions and channels per allocation, a byte rate per allocation and for the
// server, lifetimes of at most an hour; port reservations (EVEN-PORT's R bit) per user and per
// server, each held 30 s. Peers are judged by peer-policy.ts (no relaying into the host's own
// networks or into this server itself, unless the operator's allow list says so): 403 for a
// CreatePermission or ChannelBind, a dropped Send. Answers to requests nobody signed (401 and
// 438 challenges, early errors) spend the source's reply budget (reply-budget.ts): a spoofed
// flood is not reflected larger than it came. TURN over TCP is bounded in turn-streams.ts.
// Every refusal and drop is counted.
//
// TCP relays (RFC 6062, turn-tcp-relay.ts) with `tcpRelay`: an allocation's relay is then a
// listening TCP socket, in the same port space as the UDP relays (a port names one allocation),
// and the peer connections it carries are bounded there.
//
// DONT-FRAGMENT (`dontFragment`): Node cannot set IP_MTU_DISCOVER on a socket, but Linux sends
// every UDP datagram with the DF bit by default (net.ipv4.ip_no_pmtu_disc = 0, so sockets use
// IP_PMTUDISC_WANT: DF set, and a datagram larger than the path MTU the kernel knows is
// fragmented at the source instead of sent). There the server understands the attribute; where
// the supernode cannot tell, it answers 420 as RFC 8656 section 7.2 asks. See docs/nat.md.
//
// On several threads (supernode/relay-workers.ts): `homeOf` names the server that holds a user's
// allocations, and an Allocate of a user whose home is elsewhere is answered 300 Try Alternate
// (turn-handlers.ts); `sharedPorts` (port-board.ts) shows the other threads' relays and service
// ports to the peer policy, and this server's relays to them.
//
// IPv6: with `ipv6Relay` the server also relays IPv6 (an Allocate with REQUESTED-ADDRESS-FAMILY
// IPv6 gets a relay there; without it, 440). Relay sockets of both families share one port
// space here (a port is an allocation's handle): a port the system gives to one family while
// the other holds it is given back and another tried.
import type { Clock, Endpoint, Random, TcpConnection, Timer, UdpSocket } from '../env/types.js';
import { PeerPolicy, type Cidr, type PeerRefusal } from './peer-policy.js';
import { ReplyBudget } from '../stun/reply-budget.js';
import { Attr, StunClass, StunMethod, addressFamily, encodeAddress, encodeStun, type DecodedStun } from '../stun/stun.js';
import { AllocationTable, tupleKey, type AddressFamily, type Allocation, type RelayTransport, type TurnLimits } from './turn-allocations.js';
import { dispatchTurn, fromPeer, receiveTurn, type RelayKind, type TurnContext, type TurnRefusal, type TurnTransport } from './turn-handlers.js';
import { TurnStreams } from './turn-streams.js';
import { TcpRelays, type TcpRelayIo, type TcpRelayLimits } from './turn-tcp-relay.js';
import type { SharedPorts } from './port-board.js';

export { DEFAULT_TURN_LIMITS, RESERVATION_LIFETIME_MS, type TurnLimits } from './turn-allocations.js';
export { MAX_STREAMS, MAX_STREAMS_PER_SOURCE, STREAM_STALL_MS } from './turn-streams.js';
export { DEFAULT_TCP_RELAY_LIMITS, type TcpRelayIo, type TcpRelayLimits } from './turn-tcp-relay.js';
export type { TurnRefusal, TurnTransport } from './turn-handlers.js';

/** Ports tried for one relay before answering 508. */
export const RELAY_PORT_TRIES = 16;

export interface TurnServerOptions {
  readonly realm: string;
  /** Signs nonces. */
  readonly secret: Uint8Array;
  /** The password of a username (long-term credentials), or null for none. */
  readonly passwordFor: (username: string, nowMs: number) => string | null;
  /** Binds a relay socket on `port` (0: any free port); rejects when the port is taken. */
  readonly bindRelay: (port: number) => Promise<UdpSocket>;
  /** The host put in XOR-RELAYED-ADDRESS: the relay sockets' public address (behind a 1:1 NAT, the public one). */
  readonly relayHost: string;
  /** IPv6 relays: their public address and how to bind one on a port (0: any). Default: none (440 for IPv6). */
  readonly ipv6Relay?: { readonly host: string; readonly bind: (port: number) => Promise<UdpSocket> };
  /** Relay ports, both ends included (RFC 8656 section 7.2 suggests 49152-65535); default: any port the system gives. */
  readonly relayPorts?: { readonly min: number; readonly max: number };
  /** Draws relay ports in `relayPorts` and reservation tokens. */
  readonly random: Random;
  /** Special-purpose addresses a client may relay to nonetheless (see peer-policy.ts): loopback for `parley local`, a lab's ranges. */
  readonly allowPeers?: readonly Cidr[];
  /** Where this server answers STUN/TURN (bound and advertised): never a peer, nor other ports of these addresses but relays. */
  readonly serviceEndpoints?: readonly Endpoint[];
  /** Shared with the STUN server on the same port; default: one of its own. */
  readonly replyBudget?: ReplyBudget;
  readonly limits?: Partial<TurnLimits>;
  /** TCP relays (RFC 6062): how to listen and connect, and their bounds. Default: none (442 for an Allocate of TCP). */
  readonly tcpRelay?: TcpRelayIo & { readonly limits?: Partial<TcpRelayLimits> };
  /** Whether UDP relay sockets send with the DF bit set, so DONT-FRAGMENT is honoured (see the header). Default: false (420). */
  readonly dontFragment?: boolean;
  /**
   * When this server is one of several threads of one relay (relay-workers.ts): where a user's
   * UDP allocations live (null: here), for an Allocate that came in on `via`; the others get 300
   * Try Alternate to it. Default: every user here.
   */
  readonly homeOf?: (user: string, via: TurnTransport) => Endpoint | null;
  /** The relay and service ports of the other threads (port-board.ts), for the peer policy; this server marks its relays there. */
  readonly sharedPorts?: SharedPorts;
}

/** A bound relay socket, and once it serves an allocation, the way back to that allocation's client. */
interface RelaySocket {
  readonly socket: UdpSocket;
  via: TurnTransport | null;
}

export class TurnServer {
  readonly refused = new Map<TurnRefusal, number>();
  /** Relay ports that could not be bound (taken by another socket). */
  relayPortsBusy = 0;
  /** Datagrams relayed each way, and bytes. */
  readonly relayed = { toPeers: 0, toClients: 0, bytes: 0 };
  /** Allocations made since the start (`allocationCount` is how many live now). */
  allocationsCreated = 0;
  /** Allocates sent to the user's home thread with 300 Try Alternate. */
  redirected = 0;
  /** Of those, allocations of an IPv6 relay. */
  ipv6AllocationsCreated = 0;
  /** Peers refused by the policy, by why (each also counts as `forbidden_peer`). */
  readonly forbiddenPeers = new Map<PeerRefusal, number>();
  private readonly table: AllocationTable;
  /** Every relay socket bound (allocations', reserved ones, and ones an Allocate is binding), by local port. */
  private readonly relays = new Map<number, RelaySocket>();
  /** TCP allocations' control connections (where ConnectionAttempt goes), by relay port. */
  private readonly controlConnections = new Map<number, TurnTransport>();
  private readonly streams: TurnStreams;
  /** TCP relays and their peer connections, with `tcpRelay`. */
  readonly tcpRelays: TcpRelays | null;
  private readonly peerPolicy: PeerPolicy;
  private readonly context: TurnContext;
  /** Wakes at `wakeAtMs` to end what has expired. */
  private timer: Timer | null = null;
  private wakeAtMs = Infinity;
  /** Numbers Data indications (per server: nothing answers them, so no randomness is needed). */
  private indications = 0;
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly options: TurnServerOptions,
  ) {
    const range = options.relayPorts;
    if (range && !(Number.isInteger(range.min) && Number.isInteger(range.max) && range.min >= 1 && range.min <= range.max && range.max <= 65_535)) {
      throw new RangeError(`relay ports ${range.min}-${range.max}: two ports 1-65535, the first not above the second`);
    }
    this.table = new AllocationTable(options.limits ?? {}, clock.now());
    const services = options.serviceEndpoints ?? [];
    const shared = options.sharedPorts;
    this.peerPolicy = new PeerPolicy({
      ownHosts: [options.relayHost, ...(options.ipv6Relay ? [options.ipv6Relay.host] : []), ...services.map((e) => e.host)],
      servicePorts: services.map((e) => e.port),
      ...(shared ? { isServicePort: (port: number) => shared.isService(port) } : {}),
      ...(options.allowPeers ? { allow: options.allowPeers } : {}),
    });
    this.tcpRelays = options.tcpRelay
      ? new TcpRelays(
          clock,
          options.random,
          options.tcpRelay,
          {
            permitted: (allocation, host) => this.table.permitted(allocation, host, clock.now()),
            spend: (allocation, bytes) => this.table.spendStream(allocation, bytes, clock.now()),
            candidatePort: () => this.candidatePort('any') ?? 0,
            portInUse: (port) => this.relays.has(port),
            connectionAttempt: (allocation, peer, id) => this.connectionAttempt(allocation, peer, id),
            refuse: (why) => this.refuse(why),
          },
          options.tcpRelay.limits,
        )
      : null;
    this.context = this.makeContext(options.replyBudget ?? new ReplyBudget(clock));
    this.streams = new TurnStreams(clock, {
      receive: (bytes, from, via) => this.receive(bytes, from, via),
      holdsAllocation: (from, via) => this.table.get(tupleKey('tcp', from, via.local)) !== undefined,
      closed: (from, via) => this.end(this.table.remove(tupleKey('tcp', from, via.local))),
      refuse: (why) => this.refuse(why),
    });
  }

  get allocationCount(): number {
    return this.table.size;
  }

  get reservationCount(): number {
    return this.table.reservationCount;
  }

  /**
   * Handles a datagram from `from` that came in on `via`: TURN requests, indications and
   * ChannelData. False when it is none of those (a Binding request: the STUN server's).
   */
  receive(bytes: Uint8Array, from: Endpoint, via: TurnTransport): boolean {
    return receiveTurn(this.context, bytes, from, via);
  }

  /** A STUN message the caller decoded already; false when it is not TURN's (Binding, or classic STUN). */
  receiveMessage(message: DecodedStun, from: Endpoint, via: TurnTransport): boolean {
    return dispatchTurn(this.context, message, from, via);
  }

  /** A client's TCP connection (RFC 8656 section 12.5 framing); see turn-streams.ts. */
  acceptStream(connection: TcpConnection, firstBytes: Uint8Array): void {
    this.streams.accept(connection, firstBytes);
  }

  close(): void {
    this.closed = true;
    this.streams.close();
    this.tcpRelays?.close();
    this.table.clear();
    // Every relay socket: allocations', reserved ones, and any an Allocate in progress holds.
    for (const port of [...this.relays.keys()]) this.closeRelay(port);
    this.sleep();
  }

  private refuse(reason: TurnRefusal): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }

  private makeContext(replyBudget: ReplyBudget): TurnContext {
    const { options, clock } = this;
    return {
      table: this.table,
      authority: { realm: options.realm, secret: options.secret, passwordFor: options.passwordFor },
      replyBudget,
      relayHost: (family) => (family === 'ipv6' ? (options.ipv6Relay?.host ?? null) : options.relayHost),
      relayed: this.relayed,
      nowMs: () => clock.now(),
      wallTimeMs: () => clock.wallTimeMs(),
      randomBytes: (count) => options.random.bytes(count),
      refuse: (why) => this.refuse(why),
      peerAllowed: (peer, transport) => this.peerAllowed(peer, transport),
      tcpRelays: this.tcpRelays,
      dontFragment: options.dontFragment ?? false,
      bindRelay: (kind, family) => this.bindRelay(kind, family),
      closeRelay: (port) => this.closeRelay(port),
      ended: (allocation) => this.end(allocation),
      reserved: (reservation) => this.wakeBy(reservation.expiresAtMs),
      allocated: (allocation, via) => this.allocated(allocation, via),
      refreshed: (allocation) => this.wakeBy(allocation.expiresAtMs),
      sendToPeer: (allocation, data, peer) => this.relays.get(allocation.relayPort)?.socket.send(data, peer),
      sendToClient: (allocation, bytes) => this.relays.get(allocation.relayPort)?.via?.send(bytes, allocation.client),
      indicationId: () => this.indicationId(),
      homeOf: options.homeOf ?? (() => null),
      redirected: () => this.redirected++,
    };
  }

  /**
   * The policy's verdict on a peer of a relay of `transport`, its reason counted when it refuses
   * (the caller counts `forbidden_peer`). A relay of this server is a peer to a relay of its own
   * transport; another thread's relays (`sharedPorts`) are UDP ones.
   */
  private peerAllowed(peer: Endpoint, transport: RelayTransport): boolean {
    const shared = this.options.sharedPorts;
    const refusal = this.peerPolicy.check(peer, (port) => this.table.atRelayPort(port)?.transport === transport || (transport === 'udp' && (shared?.isRelay(port) ?? false)));
    if (refusal === null) return true;
    this.forbiddenPeers.set(refusal, (this.forbiddenPeers.get(refusal) ?? 0) + 1);
    return false;
  }

  private allocated(allocation: Allocation, via: TurnTransport): void {
    const relay = this.relays.get(allocation.relayPort);
    if (relay) relay.via = via;
    if (allocation.transport === 'tcp') {
      this.controlConnections.set(allocation.relayPort, via);
      this.tcpRelays?.attach(allocation);
    } else this.options.sharedPorts?.markRelay(allocation.relayPort);
    this.allocationsCreated++;
    if (addressFamily(allocation.relayed.host) === 'ipv6') this.ipv6AllocationsCreated++;
    this.wakeBy(allocation.expiresAtMs);
  }

  /** Closes the relay of an allocation that ended (null: none did); with nothing left to end, no timer waits. */
  private end(allocation: Allocation | null): void {
    if (!allocation) return;
    this.closeRelay(allocation.relayPort);
    if (this.table.size === 0 && this.table.reservationCount === 0) this.sleep();
  }

  private sleep(): void {
    this.timer?.cancel();
    this.timer = null;
    this.wakeAtMs = Infinity;
  }

  /** A ConnectionAttempt indication (RFC 6062 section 5.3) to a TCP allocation's client, on its control connection. */
  private connectionAttempt(allocation: Allocation, peer: Endpoint, id: Uint8Array): void {
    const transactionId = this.options.random.bytes(12);
    const indication = encodeStun({
      method: StunMethod.CONNECTION_ATTEMPT,
      cls: StunClass.INDICATION,
      transactionId,
      attributes: [
        { type: Attr.XOR_PEER_ADDRESS, value: encodeAddress(peer, true, transactionId) },
        { type: Attr.CONNECTION_ID, value: id },
      ],
      classic: false,
    });
    this.controlConnections.get(allocation.relayPort)?.send(indication, allocation.client);
  }

  /** Closes the relay on `port`: a UDP socket, or a TCP relay's listening socket with its connections. */
  private closeRelay(port: number): void {
    this.controlConnections.delete(port);
    this.tcpRelays?.release(port);
    const relay = this.relays.get(port);
    if (!relay) return;
    this.relays.delete(port);
    this.options.sharedPorts?.unmarkRelay(port);
    relay.socket.close();
  }

  /** Makes sure the timer fires by `atMs` (an allocation or reservation ends then). */
  private wakeBy(atMs: number): void {
    if (this.closed || atMs >= this.wakeAtMs) return;
    this.timer?.cancel();
    this.wakeAtMs = atMs;
    this.timer = this.clock.after(Math.max(0, atMs - this.clock.now()), () => this.wake());
  }

  /** Ends what has expired, then sleeps until the next deadline (a refreshed allocation may have moved it later). */
  private wake(): void {
    this.timer = null;
    this.wakeAtMs = Infinity;
    const freed = this.table.expire(this.clock.now());
    for (const allocation of freed.allocations) this.closeRelay(allocation.relayPort);
    for (const reservation of freed.reservations) this.closeRelay(reservation.port);
    const next = this.table.nextDeadlineMs();
    if (next !== null) this.wakeBy(next);
  }

  /** Indications need a transaction id but no randomness: nothing answers them. */
  private indicationId(): Uint8Array {
    const id = new Uint8Array(12);
    const n = ++this.indications;
    id[8] = n >>> 24;
    id[9] = (n >>> 16) & 0xff;
    id[10] = (n >>> 8) & 0xff;
    id[11] = n & 0xff;
    return id;
  }

  /** Binds a socket of `family` on `port` and routes what peers send to it; null when the port is taken (by a relay of the other family too). */
  private async bindOne(port: number, family: AddressFamily): Promise<UdpSocket | null> {
    const bind = family === 'ipv6' ? this.options.ipv6Relay?.bind : this.options.bindRelay;
    // A port another socket holds is an everyday answer (the caller tries another); counted all the same.
    const socket = bind
      ? await bind(port).catch(() => {
          this.relayPortsBusy++;
          return null;
        })
      : null;
    if (!socket) return null;
    const local = socket.local.port;
    if (this.closed || this.relays.has(local) || this.tcpRelays?.holdsPort(local)) {
      socket.close();
      return null;
    }
    this.relays.set(local, { socket, via: null });
    socket.onMessage((bytes, peer) => fromPeer(this.context, local, bytes, peer));
    return socket;
  }

  /**
   * Relay sockets: on any port, an even one, or an even one with the next (odd) port bound too
   * for a reservation (`pair`). Ports come from the operator's range when set (random, so that
   * relay addresses are not guessed), else from the system; at most RELAY_PORT_TRIES tries.
   */
  private async bindRelay(kind: RelayKind, family: AddressFamily): Promise<{ relay: number; reserved?: number } | null> {
    for (let tries = 0; tries < RELAY_PORT_TRIES; tries++) {
      const port = this.candidatePort(kind);
      if (port === null) return null;
      const socket = await this.bindOne(port, family);
      if (!socket) continue;
      const got = socket.local.port;
      if (kind === 'any' || (kind === 'even' && got % 2 === 0)) return { relay: got };
      if (kind === 'pair') {
        // The system's port may be odd: then it is the reserved one, and the even one below it is tried.
        const partnerPort = got % 2 === 0 ? got + 1 : got - 1;
        const partner = partnerPort >= 1 && partnerPort <= 65_535 ? await this.bindOne(partnerPort, family) : null;
        if (partner) return got % 2 === 0 ? { relay: got, reserved: partnerPort } : { relay: partnerPort, reserved: got };
      }
      this.closeRelay(got);
    }
    return null;
  }

  /** A port to try: 0 (the system's choice) without a range; in the range, an even one for `even`, and one below the top for `pair`. */
  private candidatePort(kind: RelayKind): number | null {
    const range = this.options.relayPorts;
    if (!range) return 0;
    if (kind === 'any') return range.min + this.options.random.int(range.max - range.min + 1);
    const firstEven = range.min + (range.min % 2);
    const lastEven = kind === 'pair' ? (range.max - 1) & ~1 : range.max & ~1;
    if (lastEven < firstEven) return null;
    return firstEven + 2 * this.options.random.int((lastEven - firstEven) / 2 + 1);
  }
}
