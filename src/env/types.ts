// The injected environment. Every module that needs time, randomness or the network
// receives these interfaces; nothing below src/ reaches for globals. Two implementations
// exist: real (node:net, node:dgram, timers, node:crypto) and virtual (src/env/virtual/).

/**
 * A UDP or TCP endpoint. `host` is a dotted IPv4 address, or an IPv6 address in text (real
 * sockets only: the virtual network is IPv4). An IPv4 peer of a dual-stack socket is reported
 * as its IPv4 address, never as ::ffff:a.b.c.d.
 */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds; only differences are meaningful. */
  now(): number;
  /** Whole milliseconds since the Unix epoch, for certificates and records that cross machines. */
  wallTimeMs(): number;
  /** Calls `fn` once after `delayMs`. */
  after(delayMs: number, fn: () => void): Timer;
}

export interface Random {
  /** `count` unpredictable bytes (crypto-strength on the real environment, seeded on the virtual one). */
  bytes(count: number): Uint8Array;
  /** A float in [0, 1). */
  float(): number;
  /** An integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
}

/** A network error with a stable code a caller can switch on. */
export type NetErrorCode =
  | 'refused' // nobody listens there
  | 'timeout' // no answer within the connect timeout (filtered, unreachable)
  | 'address_in_use'
  | 'closed' // the socket was closed locally
  | 'reset' // the peer reset the connection
  | 'unreachable';

export class NetError extends Error {
  constructor(
    readonly code: NetErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NetError';
  }
}

export interface TcpConnection {
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /**
   * Queues bytes for sending; ignored after close. The connection owns `bytes` from then on:
   * the caller must not change them (the virtual network delivers the same buffer, uncopied).
   */
  write(bytes: Uint8Array): void;
  /** Each call replaces the previous handler. Bytes arrive in order, chunked arbitrarily. */
  onData(handler: (bytes: Uint8Array) => void): void;
  /** Adds a handler, called once when either side closed or the connection failed (`error` set then). */
  onClose(handler: (error?: NetError) => void): void;
  /** Graceful close: pending bytes are delivered first. */
  close(): void;
  /**
   * Flow control, for code that copies one connection into another (a TCP relay): bytes
   * written that the network has not taken yet (the kernel's send buffer is full because the
   * peer reads slowly). The virtual network takes every write at once: always 0 there.
   */
  readonly pendingWriteBytes: number;
  /** Called each time the bytes pending a write have all been taken; each call replaces the previous handler. */
  onDrain(handler: () => void): void;
  /**
   * Stops handing over data until `resumeReading`: what arrives waits in the kernel, whose
   * receive window then closes, so the peer stops sending (backpressure, not a buffer of ours).
   */
  pauseReading(): void;
  resumeReading(): void;
}

export interface TcpListener {
  readonly local: Endpoint;
  close(): void;
}

export interface UdpSocket {
  readonly local: Endpoint;
  /** Sends one datagram. As with `write`, the socket owns `bytes` from then on. */
  send(bytes: Uint8Array, to: Endpoint): void;
  onMessage(handler: (bytes: Uint8Array, from: Endpoint) => void): void;
  close(): void;
}

export interface TcpListenOptions {
  /** Address to bind (IPv4 or IPv6; `::` is every address of both families unless `ipv6Only`); default all IPv4 addresses of the host. */
  host?: string;
  /** With an IPv6 `host`: IPv6 only (so that an IPv4 socket may hold the same port). */
  ipv6Only?: boolean;
  /** 0 picks a free port. */
  port: number;
  onConnection: (connection: TcpConnection) => void;
}

export interface TcpConnectOptions {
  host: string;
  port: number;
  timeoutMs?: number;
  /** The local address to connect from (real sockets: a benchmark's many clients on loopback); the virtual network uses the host's own. */
  localHost?: string;
}

export interface UdpBindOptions {
  /** As for TcpListenOptions: `::` binds both families unless `ipv6Only`. */
  host?: string;
  ipv6Only?: boolean;
  /** 0 picks a free port. */
  port: number;
}

export interface Net {
  listenTcp(options: TcpListenOptions): Promise<TcpListener>;
  connectTcp(options: TcpConnectOptions): Promise<TcpConnection>;
  bindUdp(options: UdpBindOptions): Promise<UdpSocket>;
  /**
   * The local address this host would send from to `remote` (an IP address): the routing
   * table's answer, nothing is sent. Null when no route goes there (no address of that family,
   * say). How a device finds its own IPv6 address for an IPv6 host candidate.
   */
  sourceAddressFor(remote: string): Promise<string | null>;
  /**
   * Whether UDP datagrams leave with the IP don't-fragment bit set (TURN's DONT-FRAGMENT): on
   * Linux they do by default (path MTU discovery, IP_PMTUDISC_WANT); the virtual network never
   * fragments. Node cannot set it per socket.
   */
  readonly udpDontFragment: boolean;
}

export interface Env {
  readonly clock: Clock;
  readonly random: Random;
  readonly net: Net;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** A promise that resolves after `delayMs` of the given clock (virtual or real). */
export function sleep(clock: Clock, delayMs: number): Promise<void> {
  return new Promise((resolve) => clock.after(delayMs, resolve));
}

export function formatEndpoint(endpoint: Endpoint): string {
  return `${endpoint.host}:${endpoint.port}`;
}

/** The same address and port (null is the same as nothing). */
export function sameEndpoint(a: Endpoint | null, b: Endpoint | null): boolean {
  return a !== null && b !== null && a.host === b.host && a.port === b.port;
}

/**
 * TLS over a TCP connection that is already open (the real environment wraps node:tls around
 * it; any byte stream will do, so it runs over the virtual network too). Gives the plaintext
 * stream as a TcpConnection, or rejects with a NetError. No timeout of its own: the caller
 * bounds the handshake, and closing `connection` ends it.
 */
export interface TlsServer {
  /** The server side; `firstBytes` were already read off `connection` (to tell TLS from other protocols). */
  accept(connection: TcpConnection, firstBytes: Uint8Array): Promise<TcpConnection>;
}

/** The client side of TLS over an open TCP connection (see TlsServer). */
export type TlsConnect = (connection: TcpConnection) => Promise<TcpConnection>;
