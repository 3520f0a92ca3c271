// TURN's TCP relays (RFC 6062): an allocation whose relay is a TCP listening socket, and the
// connections it carries to peers. Each peer connection pairs two TCP connections once the
// client binds it:
//   - the client asks for one (Connect, on its control connection): the server connects to the
//     peer and answers with a CONNECTION-ID (446 when one to that peer is open or opening, 447
//     when the peer cannot be reached within CONNECT_TIMEOUT_MS);
//   - a peer connects to the relay's listening socket: accepted only when the allocation holds
//     a permission for the peer's address (else closed at once, RFC 6062 section 5.3), and the
//     client is told in a ConnectionAttempt indication (XOR-PEER-ADDRESS, CONNECTION-ID);
//   - the client opens a new TCP (or TLS) connection to the server and sends ConnectionBind
//     with that CONNECTION-ID (turn-handlers.ts): from its success answer on, bytes are copied
//     as they are between the two connections. A connection not bound within BIND_TIMEOUT_MS
//     (RFC 6062: 30 s) is closed.
// What the peer sends before the bind waits in the kernel: its connection is not read (its
// receive window closes), not buffered here.
//
// Bounds, because each peer connection is two sockets and their buffers: connections per
// allocation, per user and for the server (the connecting and unbound ones count); bytes one
// side has written and the network not yet taken (`bufferedBytesPerConnection`: past it the
// other side is not read until the writes drain: backpressure, never a growing buffer); the
// allocation's and server's byte rate (bytes already read are relayed, then reading stops until
// the rate has paid them back); and a relaying pair that carries nothing for `idleMs` is closed.
// Everything of an allocation closes with it. Every refusal is counted.
//
// The driver: sockets come from injected `listen` and `connect` (real or virtual network), time
// from the clock; the allocation table stays the one source of allocations and permissions.
//
// Not as RFC 6062 asks: the server connects to a peer from the relay's address but not from its
// port (Node cannot bind a connecting socket to a port its listening socket holds: no
// SO_REUSEPORT for TCP clients), so a peer sees the relay host with another port.
import type { Clock, Endpoint, Random, TcpConnection, TcpListener, Timer } from '../env/types.js';
import type { AddressFamily, Allocation } from './turn-allocations.js';

export interface TcpRelayLimits {
  /** Peer connections (opening, waiting for their ConnectionBind, or relaying) per allocation. */
  readonly connectionsPerAllocation: number;
  readonly connectionsPerUser: number;
  readonly connections: number;
  /** Bytes written to one side that its network has not taken yet, past which the other side is not read. */
  readonly bufferedBytesPerConnection: number;
  /** How long a Connect may take to reach its peer (RFC 6062 section 5.2: at least 30 s). */
  readonly connectTimeoutMs: number;
  /** How long a peer connection waits for its ConnectionBind (RFC 6062 sections 5.2 and 5.3: 30 s). */
  readonly bindTimeoutMs: number;
  /** A bound pair that carries no byte either way for this long is closed. */
  readonly idleMs: number;
}

export const DEFAULT_TCP_RELAY_LIMITS: TcpRelayLimits = {
  connectionsPerAllocation: 16,
  connectionsPerUser: 64,
  connections: 2_000,
  // A TCP window's worth: enough to keep a fast path full, small enough for thousands of pairs.
  bufferedBytesPerConnection: 65_536,
  connectTimeoutMs: 30_000,
  bindTimeoutMs: 30_000,
  idleMs: 600_000,
};

/** Ports tried for a listening socket before the Allocate gets 508. */
export const TCP_RELAY_PORT_TRIES = 16;

/** What the relays need of the network. */
export interface TcpRelayIo {
  /** Listens on `port` (0: any) for a relay of `family`; rejects when the port is taken. */
  listen(port: number, family: AddressFamily, onConnection: (connection: TcpConnection) => void): Promise<TcpListener>;
  /** Connects to a peer from the relay's address of `family`; rejects when it cannot within `timeoutMs`. */
  connect(peer: Endpoint, family: AddressFamily, timeoutMs: number): Promise<TcpConnection>;
}

export type TcpRelayRefusal = 'connection_exists' | 'connect_failed' | 'connection_quota' | 'unknown_connection' | 'bind_timeout' | 'idle_connection' | 'no_permission';

/** What the relays need of the TURN server. */
export interface TcpRelayHost {
  /** Whether the allocation lets `host` connect in (a live permission). */
  permitted(allocation: Allocation, host: string): boolean;
  /** Spends the allocation's and the server's byte rate on bytes relayed; the milliseconds to stop reading to pay them back. */
  spend(allocation: Allocation, bytes: number): number;
  /** A port to try for a listening socket (0: the system's choice). */
  candidatePort(): number;
  /** Whether a port is held by a UDP relay (relay ports of both transports are one space: a port names an allocation). */
  portInUse(port: number): boolean;
  /** Sends a ConnectionAttempt indication on the allocation's control connection. */
  connectionAttempt(allocation: Allocation, peer: Endpoint, id: Uint8Array): void;
  refuse(why: TcpRelayRefusal): void;
}

export type ConnectOutcome = { readonly ok: true; readonly id: Uint8Array } | { readonly ok: false; readonly code: 446 | 447 | 508; readonly reason: string; readonly why: TcpRelayRefusal };

type PeerConnectionState = 'connecting' | 'binding' | 'relaying' | 'closed';

interface PeerConnection {
  readonly id: number;
  readonly relay: TcpRelay;
  readonly peer: Endpoint;
  state: PeerConnectionState;
  peerSide: TcpConnection | null;
  clientSide: TcpConnection | null;
  /** The bind deadline, then the idle check. */
  timer: Timer | null;
  lastActiveMs: number;
}

interface TcpRelay {
  readonly port: number;
  readonly listener: TcpListener;
  /** Set once the Allocate has committed; until then connections to the port are closed. */
  allocation: Allocation | null;
  readonly connections: Set<PeerConnection>;
}

const idBytes = (id: number) => Uint8Array.of(id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff);

/** A CONNECTION-ID's 4 bytes as a number; null when not 4 bytes. */
export function decodeConnectionId(value: Uint8Array): number | null {
  return value.byteLength === 4 ? ((value[0]! << 24) | (value[1]! << 16) | (value[2]! << 8) | value[3]!) >>> 0 : null;
}

export class TcpRelays {
  /** Peer connections opened each way, and bytes relayed each way. */
  readonly counts = { connected: 0, accepted: 0, bytesToPeers: 0, bytesToClients: 0 };
  private readonly limits: TcpRelayLimits;
  private readonly relays = new Map<number, TcpRelay>();
  private readonly byId = new Map<number, PeerConnection>();
  private readonly perUser = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly io: TcpRelayIo,
    private readonly host: TcpRelayHost,
    limits: Partial<TcpRelayLimits> = {},
  ) {
    this.limits = { ...DEFAULT_TCP_RELAY_LIMITS, ...limits };
  }

  /** Peer connections live now (opening, waiting for a bind, or relaying). */
  get connectionCount(): number {
    return this.byId.size;
  }

  /** Whether a TCP relay listens on `port`. */
  holdsPort(port: number): boolean {
    return this.relays.has(port);
  }

  /** Opens a listening socket for an Allocate; its port, or null when none could be had. */
  async listen(family: AddressFamily): Promise<number | null> {
    for (let tries = 0; tries < TCP_RELAY_PORT_TRIES && !this.closed; tries++) {
      const port = this.host.candidatePort();
      if (port !== 0 && (this.relays.has(port) || this.host.portInUse(port))) continue;
      let relay: TcpRelay | null = null;
      const listener = await this.io.listen(port, family, (connection) => this.accept(relay, connection)).catch(() => null);
      if (!listener) continue;
      const got = listener.local.port;
      if (this.closed || this.relays.has(got) || this.host.portInUse(got)) {
        listener.close();
        continue;
      }
      relay = { port: got, listener, allocation: null, connections: new Set() };
      this.relays.set(got, relay);
      return got;
    }
    return null;
  }

  /** The allocation made on a relay `listen` opened: peers may connect from now on. */
  attach(allocation: Allocation): void {
    const relay = this.relays.get(allocation.relayPort);
    if (relay) relay.allocation = allocation;
  }

  /** Closes a relay's listening socket and every connection of it (its allocation ended, or its Allocate failed). */
  release(port: number): void {
    const relay = this.relays.get(port);
    if (!relay) return;
    this.relays.delete(port);
    relay.listener.close();
    for (const connection of [...relay.connections]) this.drop(connection);
  }

  /**
   * Connect (RFC 6062 section 5.2): a connection to `peer` (whom the caller's policy allowed),
   * its CONNECTION-ID once open; the bind timer starts with the answer.
   */
  async connect(allocation: Allocation, peer: Endpoint): Promise<ConnectOutcome> {
    const relay = this.relays.get(allocation.relayPort);
    if (!relay || relay.allocation !== allocation) return { ok: false, code: 447, reason: 'Connection Timeout or Failure', why: 'connect_failed' };
    for (const other of relay.connections) {
      if (other.peer.host === peer.host && other.peer.port === peer.port) return { ok: false, code: 446, reason: 'Connection Already Exists', why: 'connection_exists' };
    }
    const entry = this.open(relay, peer, 'connecting');
    if (!entry) return { ok: false, code: 508, reason: 'Insufficient Capacity', why: 'connection_quota' };
    const family = peer.host.includes(':') ? 'ipv6' : 'ipv4';
    const connection = await this.io.connect(peer, family, this.limits.connectTimeoutMs).catch(() => null);
    if (!connection || entry.state !== 'connecting') {
      connection?.close();
      this.drop(entry);
      return { ok: false, code: 447, reason: 'Connection Timeout or Failure', why: 'connect_failed' };
    }
    this.counts.connected++;
    this.awaitBind(entry, connection);
    return { ok: true, id: idBytes(entry.id) };
  }

  /** Whether `id` names a connection waiting for its ConnectionBind, of an allocation of `username`. */
  bindable(id: number, username: string): boolean {
    const entry = this.byId.get(id);
    return entry !== undefined && entry.state === 'binding' && entry.relay.allocation?.username === username;
  }

  /**
   * ConnectionBind (RFC 6062 section 5.4), answered already on `client`: from now on bytes go
   * as they are both ways; `pending` are bytes the client sent behind its request.
   */
  bind(id: number, client: TcpConnection, pending: Uint8Array): void {
    const entry = this.byId.get(id);
    if (!entry || entry.state !== 'binding' || !entry.peerSide) {
      client.close();
      return;
    }
    const allocation = entry.relay.allocation!;
    entry.state = 'relaying';
    entry.clientSide = client;
    entry.timer?.cancel();
    entry.lastActiveMs = this.clock.now();
    client.onClose(() => this.drop(entry));
    this.pipe(entry, allocation, client, entry.peerSide, 'bytesToPeers');
    this.pipe(entry, allocation, entry.peerSide, client, 'bytesToClients');
    if (pending.byteLength > 0) {
      entry.peerSide.write(pending);
      this.counts.bytesToPeers += pending.byteLength;
      this.host.spend(allocation, pending.byteLength);
    }
    this.watchIdle(entry);
  }

  close(): void {
    this.closed = true;
    for (const port of [...this.relays.keys()]) this.release(port);
  }

  /** A peer connected to a relay's port (RFC 6062 section 5.3). */
  private accept(relay: TcpRelay | null, connection: TcpConnection): void {
    const allocation = relay?.allocation;
    if (!relay || !allocation || this.relays.get(relay.port) !== relay) return connection.close();
    if (!this.host.permitted(allocation, connection.remote.host)) {
      this.host.refuse('no_permission');
      return connection.close();
    }
    const entry = this.open(relay, connection.remote, 'binding');
    if (!entry) {
      this.host.refuse('connection_quota');
      return connection.close();
    }
    this.counts.accepted++;
    this.awaitBind(entry, connection);
    this.host.connectionAttempt(allocation, connection.remote, idBytes(entry.id));
  }

  /** A new peer connection of `relay`, counted; null past a bound. */
  private open(relay: TcpRelay, peer: Endpoint, state: PeerConnectionState): PeerConnection | null {
    const user = relay.allocation!.user;
    const ofUser = this.perUser.get(user) ?? 0;
    if (relay.connections.size >= this.limits.connectionsPerAllocation || ofUser >= this.limits.connectionsPerUser || this.byId.size >= this.limits.connections) return null;
    const entry: PeerConnection = { id: this.freshId(), relay, peer, state, peerSide: null, clientSide: null, timer: null, lastActiveMs: this.clock.now() };
    relay.connections.add(entry);
    this.byId.set(entry.id, entry);
    this.perUser.set(user, ofUser + 1);
    return entry;
  }

  /** A connection id not in use (0 too is avoided: a client's zeroed memory should not name a connection). */
  private freshId(): number {
    for (;;) {
      const id = decodeConnectionId(this.random.bytes(4))!;
      if (id !== 0 && !this.byId.has(id)) return id;
    }
  }

  /** The peer side is open: not read until bound, and closed if no ConnectionBind comes in time. */
  private awaitBind(entry: PeerConnection, peerSide: TcpConnection): void {
    entry.state = 'binding';
    entry.peerSide = peerSide;
    peerSide.pauseReading();
    peerSide.onClose(() => this.drop(entry));
    entry.timer = this.clock.after(this.limits.bindTimeoutMs, () => {
      entry.timer = null;
      if (entry.state !== 'binding') return;
      this.host.refuse('bind_timeout');
      this.drop(entry);
    });
  }

  /**
   * Copies what `from` sends to `to`. Reading `from` stops while `to` holds more than the bound
   * unsent, and while the byte rate is being paid back; it resumes when both are clear.
   */
  private pipe(entry: PeerConnection, allocation: Allocation, from: TcpConnection, to: TcpConnection, counter: 'bytesToPeers' | 'bytesToClients'): void {
    let full = false;
    let owedUntilMs = 0;
    let rateTimer: Timer | null = null;
    const resumeIfClear = () => {
      if (entry.state !== 'relaying' || full || this.clock.now() < owedUntilMs) return;
      from.resumeReading();
    };
    to.onDrain(() => {
      full = false;
      resumeIfClear();
    });
    from.onData((bytes) => {
      if (entry.state !== 'relaying') return;
      to.write(bytes);
      this.counts[counter] += bytes.byteLength;
      entry.lastActiveMs = this.clock.now();
      const waitMs = this.host.spend(allocation, bytes.byteLength);
      if (to.pendingWriteBytes > this.limits.bufferedBytesPerConnection) {
        full = true;
        from.pauseReading();
      }
      if (waitMs > 0) {
        owedUntilMs = this.clock.now() + waitMs;
        from.pauseReading();
        rateTimer?.cancel();
        rateTimer = this.clock.after(waitMs, () => {
          rateTimer = null;
          resumeIfClear();
        });
      }
    });
    from.onClose(() => rateTimer?.cancel());
    from.resumeReading();
  }

  /** Closes a relaying pair once it has carried nothing for `idleMs` (checked when that could first be true). */
  private watchIdle(entry: PeerConnection): void {
    const dueMs = entry.lastActiveMs + this.limits.idleMs;
    entry.timer = this.clock.after(Math.max(0, dueMs - this.clock.now()), () => {
      entry.timer = null;
      if (entry.state !== 'relaying') return;
      if (this.clock.now() - entry.lastActiveMs >= this.limits.idleMs) {
        this.host.refuse('idle_connection');
        this.drop(entry);
      } else this.watchIdle(entry);
    });
  }

  /** Ends a peer connection: both sides closed (gracefully: what was written still goes), its counts given back. */
  private drop(entry: PeerConnection): void {
    if (entry.state === 'closed') return;
    entry.state = 'closed';
    entry.timer?.cancel();
    entry.timer = null;
    entry.peerSide?.close();
    entry.clientSide?.close();
    entry.relay.connections.delete(entry);
    this.byId.delete(entry.id);
    const user = entry.relay.allocation?.user;
    if (user === undefined) return;
    const left = (this.perUser.get(user) ?? 1) - 1;
    if (left <= 0) this.perUser.delete(user);
    else this.perUser.set(user, left);
  }
}
