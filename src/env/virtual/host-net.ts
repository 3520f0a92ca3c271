// The `Net` of one virtual host: UDP sockets and a small TCP model (SYN / SYN-ACK / data /
// FIN / RST segments, in-order delivery by sequence number, MSS-sized segments so links'
// bandwidth applies). TCP segments cross NATs and firewalls like UDP packets do, so a
// firewall that only lets TCP to 443 out, or a NAT without a mapping, stops a connection.
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  NetError,
  type Endpoint,
  type Net,
  type TcpConnectOptions,
  type TcpConnection,
  type TcpListenOptions,
  type TcpListener,
  type Clock,
  type Timer,
  type UdpBindOptions,
  type UdpSocket,
} from '../types.js';
import { Inbox, Latch } from '../inbox.js';
import { addressToText, textToAddress } from './address.js';
import type { Packet, TcpSegmentKind } from './packet.js';

/** What the network needs to know of a host's sockets. */
export interface HostSockets {
  udpSockets: Map<number, VirtualUdpSocket> | null;
  tcpListeners: Map<number, VirtualTcpListener> | null;
  tcpConnections: Map<string, VirtualTcpConnection> | null;
}

/**
 * What the sockets need of their host (network.ts's SocketHost is one): its address, its
 * clock, a way to put a packet on the network, and its port counter. Named here so that this
 * module does not import the network that imports it.
 */
export interface SocketHost extends HostSockets {
  readonly address: number;
  readonly addressText: string;
  readonly clock: Clock;
  nextEphemeralPort: number;
  send(packet: Packet): void;
}

const MSS_BYTES = 1400;
const UDP_HEADER_BYTES = 28; // IPv4 + UDP
const TCP_HEADER_BYTES = 40; // IPv4 + TCP
const EPHEMERAL_FIRST = 49152;

function allocatePort(host: SocketHost, inUse: (port: number) => boolean): number | null {
  for (let tries = 0; tries < 65536 - EPHEMERAL_FIRST; tries++) {
    const port = host.nextEphemeralPort;
    host.nextEphemeralPort = port + 1 >= 65536 ? EPHEMERAL_FIRST : port + 1;
    if (!inUse(port)) return port;
  }
  return null;
}

function connectionKey(localPort: number, remoteAddress: number, remotePort: number): string {
  return `${localPort}|${remoteAddress}|${remotePort}`;
}

export class VirtualUdpSocket implements UdpSocket {
  readonly local: Endpoint;
  private handler: (bytes: Uint8Array, from: Endpoint) => void = () => {};
  private open = true;

  constructor(
    private readonly host: SocketHost,
    readonly port: number,
  ) {
    this.local = { host: host.addressText, port };
  }

  send(bytes: Uint8Array, to: Endpoint): void {
    if (!this.open) return;
    const dstAddress = textToAddress(to.host);
    if (dstAddress === null || to.port <= 0 || to.port > 65535) return;
    this.host.send({
      protocol: 'udp',
      srcAddress: this.host.address,
      srcPort: this.port,
      dstAddress,
      dstPort: to.port,
      sizeBytes: bytes.byteLength + UDP_HEADER_BYTES,
      payload: bytes, // owned by the network from here (see UdpSocket.send): copying cost most of a packet's time
      tcpKind: null,
      tcpSeq: 0,
    });
  }

  onMessage(handler: (bytes: Uint8Array, from: Endpoint) => void): void {
    this.handler = handler;
  }

  receive(packet: Packet): void {
    this.handler(packet.payload!, { host: addressToText(packet.srcAddress), port: packet.srcPort });
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    if (this.host.udpSockets?.get(this.port) === this) this.host.udpSockets.delete(this.port);
  }
}

export class VirtualTcpListener implements TcpListener {
  readonly local: Endpoint;
  constructor(
    private readonly host: SocketHost,
    readonly port: number,
    readonly onConnection: (connection: TcpConnection) => void,
  ) {
    this.local = { host: host.addressText, port };
  }

  close(): void {
    if (this.host.tcpListeners?.get(this.port) === this) this.host.tcpListeners.delete(this.port);
  }
}

type ConnectionState = 'syn-sent' | 'open' | 'closing' | 'closed';

export class VirtualTcpConnection implements TcpConnection {
  readonly local: Endpoint;
  readonly remote: Endpoint;
  state: ConnectionState;
  private sendSeq = 0;
  private receiveSeq = 0;
  private outOfOrder: Map<number, Packet> | null = null;
  private readonly inbox = new Inbox<Uint8Array>();
  private readonly closed = new Latch<NetError | undefined>();
  private connectWaiter: { resolve: () => void; reject: (error: NetError) => void; timer: Timer } | null = null;

  constructor(
    private readonly host: SocketHost,
    readonly localPort: number,
    readonly remoteAddress: number,
    readonly remotePort: number,
    state: ConnectionState,
  ) {
    this.state = state;
    this.local = { host: host.addressText, port: localPort };
    this.remote = { host: addressToText(remoteAddress), port: remotePort };
  }

  get key(): string {
    return connectionKey(this.localPort, this.remoteAddress, this.remotePort);
  }

  sendSegment(kind: TcpSegmentKind, payload: Uint8Array | null = null): void {
    this.host.send({
      protocol: 'tcp',
      srcAddress: this.host.address,
      srcPort: this.localPort,
      dstAddress: this.remoteAddress,
      dstPort: this.remotePort,
      sizeBytes: (payload?.byteLength ?? 0) + TCP_HEADER_BYTES,
      payload,
      tcpKind: kind,
      tcpSeq: kind === 'data' || kind === 'fin' ? this.sendSeq++ : 0,
    });
  }

  waitConnected(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = this.host.clock.after(timeoutMs, () => {
        if (this.state !== 'syn-sent') return;
        this.forget();
        this.state = 'closed';
        reject(new NetError('timeout', `connect to ${this.remote.host}:${this.remote.port} timed out`));
      });
      this.connectWaiter = { resolve, reject, timer };
    });
  }

  write(bytes: Uint8Array): void {
    if (this.state !== 'open') return;
    for (let offset = 0; offset < bytes.byteLength; offset += MSS_BYTES) {
      this.sendSegment('data', bytes.subarray(offset, Math.min(offset + MSS_BYTES, bytes.byteLength)));
    }
  }

  onData(handler: (bytes: Uint8Array) => void): void {
    this.inbox.setHandler(handler);
  }

  onClose(handler: (error?: NetError) => void): void {
    this.closed.addHandler(handler);
  }

  /** Every write is put on the link at once (the model has no send buffer). */
  get pendingWriteBytes(): number {
    return 0;
  }

  onDrain(): void {}

  /** Segments that arrive while paused wait in the inbox (the model has no receive window to close). */
  pauseReading(): void {
    this.inbox.pause();
  }

  resumeReading(): void {
    this.inbox.resume();
  }

  close(): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.sendSegment('fin');
  }

  private forget(): void {
    if (this.host.tcpConnections?.get(this.key) === this) this.host.tcpConnections.delete(this.key);
  }

  private finish(error?: NetError): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.forget();
    this.closed.fire(error);
  }

  receive(packet: Packet): void {
    switch (packet.tcpKind) {
      case 'synack':
        if (this.state === 'syn-sent' && this.connectWaiter) {
          this.state = 'open';
          this.connectWaiter.timer.cancel();
          this.connectWaiter.resolve();
          this.connectWaiter = null;
        }
        return;
      case 'rst':
        if (this.state === 'syn-sent' && this.connectWaiter) {
          this.state = 'closed';
          this.forget();
          this.connectWaiter.timer.cancel();
          this.connectWaiter.reject(new NetError('refused', `connection to ${this.remote.host}:${this.remote.port} refused`));
          this.connectWaiter = null;
          return;
        }
        this.finish(new NetError('reset', 'connection reset by peer'));
        return;
      case 'data':
      case 'fin':
        this.receiveInOrder(packet);
        return;
      default:
        return;
    }
  }

  /** Segments may arrive out of order (jitter); they are released by sequence number. */
  private receiveInOrder(packet: Packet): void {
    if (packet.tcpSeq !== this.receiveSeq) {
      if (packet.tcpSeq > this.receiveSeq) (this.outOfOrder ??= new Map()).set(packet.tcpSeq, packet);
      return;
    }
    let next: Packet | undefined = packet;
    while (next) {
      this.receiveSeq++;
      if (next.tcpKind === 'fin') {
        if (this.state === 'open') this.sendSegment('fin'); // answer the peer's close with ours
        this.finish();
        return;
      }
      if (this.state === 'open' || this.state === 'closing') this.inbox.deliver(next.payload!);
      next = this.outOfOrder?.get(this.receiveSeq);
      if (next) this.outOfOrder!.delete(this.receiveSeq);
    }
  }
}

function sendReset(host: SocketHost, packet: Packet): void {
  host.send({
    protocol: 'tcp',
    srcAddress: host.address,
    srcPort: packet.dstPort,
    dstAddress: packet.srcAddress,
    dstPort: packet.srcPort,
    sizeBytes: TCP_HEADER_BYTES,
    payload: null,
    tcpKind: 'rst',
    tcpSeq: 0,
  });
}

export function receiveUdp(host: SocketHost, packet: Packet): void {
  host.udpSockets?.get(packet.dstPort)?.receive(packet);
}

export function receiveTcp(host: SocketHost, packet: Packet): void {
  const key = connectionKey(packet.dstPort, packet.srcAddress, packet.srcPort);
  const existing = host.tcpConnections?.get(key);
  if (existing) return existing.receive(packet);
  if (packet.tcpKind === 'syn') {
    const listener = host.tcpListeners?.get(packet.dstPort);
    if (!listener) return sendReset(host, packet);
    const connection = new VirtualTcpConnection(host, packet.dstPort, packet.srcAddress, packet.srcPort, 'open');
    (host.tcpConnections ??= new Map()).set(key, connection);
    connection.sendSegment('synack');
    listener.onConnection(connection);
    return;
  }
  if (packet.tcpKind !== 'rst') sendReset(host, packet);
}

export class VirtualNet implements Net {
  /** The virtual network never fragments: a datagram arrives whole or not at all. */
  readonly udpDontFragment = true;
  constructor(private readonly host: SocketHost) {}

  private checkBindAddress(requested: string | undefined): void {
    if (requested === undefined || requested === '0.0.0.0' || requested === this.host.addressText) return;
    throw new NetError('unreachable', `host ${this.host.addressText} has no address ${requested}`);
  }

  async listenTcp(options: TcpListenOptions): Promise<TcpListener> {
    this.checkBindAddress(options.host);
    const listeners = (this.host.tcpListeners ??= new Map());
    const port = options.port === 0 ? allocatePort(this.host, (p) => listeners.has(p)) : options.port;
    if (port === null || listeners.has(port)) throw new NetError('address_in_use', `TCP port ${options.port} is in use`);
    const listener = new VirtualTcpListener(this.host, port, options.onConnection);
    listeners.set(port, listener);
    return listener;
  }

  async connectTcp(options: TcpConnectOptions): Promise<TcpConnection> {
    const remoteAddress = textToAddress(options.host);
    if (remoteAddress === null) throw new NetError('unreachable', `not an IPv4 address: ${options.host}`);
    const connections = (this.host.tcpConnections ??= new Map());
    const localPort = allocatePort(this.host, (p) => connections.has(connectionKey(p, remoteAddress, options.port)));
    if (localPort === null) throw new NetError('address_in_use', 'no free local port');
    const connection = new VirtualTcpConnection(this.host, localPort, remoteAddress, options.port, 'syn-sent');
    connections.set(connection.key, connection);
    const connected = connection.waitConnected(options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    connection.sendSegment('syn');
    await connected;
    return connection;
  }

  async bindUdp(options: UdpBindOptions): Promise<UdpSocket> {
    this.checkBindAddress(options.host);
    const sockets = (this.host.udpSockets ??= new Map());
    const port = options.port === 0 ? allocatePort(this.host, (p) => sockets.has(p)) : options.port;
    if (port === null || sockets.has(port)) throw new NetError('address_in_use', `UDP port ${options.port} is in use`);
    const socket = new VirtualUdpSocket(this.host, port);
    sockets.set(port, socket);
    return socket;
  }

  /** A virtual host has one IPv4 address, and a route to every IPv4 address (none to IPv6 ones). */
  async sourceAddressFor(remote: string): Promise<string | null> {
    return textToAddress(remote) === null ? null : this.host.addressText;
  }
}
