// The real environment: node:net, node:dgram, timers and node:crypto. IPv6 is spoken here: a
// host in IPv6 text binds an IPv6 socket; a dual-stack one (bound to `::`) reports its IPv4 peers
// by their IPv4 address and sends to an IPv4 address through its IPv4-mapped form.
import { randomBytes, randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import dns from 'node:dns';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { SocketConnection } from './socket-connection.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  NetError,
  type Clock,
  type Endpoint,
  type Env,
  type Net,
  type NetErrorCode,
  type Random,
  type TcpConnectOptions,
  type TcpConnection,
  type TcpListenOptions,
  type TcpListener,
  type Timer,
  type UdpBindOptions,
  type UdpSocket,
} from './types.js';

export const realClock: Clock = {
  now: () => performance.now(),
  wallTimeMs: () => Date.now(),
  after(delayMs: number, fn: () => void): Timer {
    // Whole milliseconds, rounded up: Node fires a fractional timeout at the same millisecond,
    // but only after waking once at the truncated one and finding it early (libuv's timers are
    // whole milliseconds); a call's media ticks (fractional delays from \`every\`) paid that extra
    // wake-up on most of their 100 ticks a second (issue 22). Adding a millisecond more would
    // also spare the ticks that libuv's lagging loop clock fires early, but measured 1.5-2 ms
    // later ticks for it, which a call's mouth-to-ear delay would carry.
    const handle = setTimeout(fn, Math.max(0, Math.ceil(delayMs)));
    return { cancel: () => clearTimeout(handle) };
  },
};

export const cryptoRandom: Random = {
  bytes: (count) => new Uint8Array(randomBytes(count)),
  float: () => randomInt(0, 2 ** 48 - 1) / 2 ** 48,
  int: (maxExclusive) => randomInt(0, maxExclusive),
};

/** An IPv4-mapped IPv6 address (what a dual-stack socket reports for an IPv4 peer) as its IPv4 address; anything else as it is. */
export function unmapped(host: string): string {
  // Most hosts are IPv4 text already: only "::ffff:…" (which starts with a colon) needs the pattern.
  if (host.charCodeAt(0) !== 0x3a) return host;
  const mapped = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(host);
  return mapped ? mapped[1]! : host;
}

function netErrorFrom(error: NodeJS.ErrnoException): NetError {
  const codes: Record<string, NetErrorCode> = {
    ECONNREFUSED: 'refused',
    ETIMEDOUT: 'timeout',
    EADDRINUSE: 'address_in_use',
    ECONNRESET: 'reset',
    EPIPE: 'reset',
    EHOSTUNREACH: 'unreachable',
    ENETUNREACH: 'unreachable',
  };
  return new NetError(codes[error.code ?? ''] ?? 'unreachable', error.message);
}

class RealTcpConnection extends SocketConnection {
  readonly local: Endpoint;
  readonly remote: Endpoint;

  constructor(socket: net.Socket) {
    super(socket);
    this.local = { host: unmapped(socket.localAddress ?? '0.0.0.0'), port: socket.localPort ?? 0 };
    this.remote = { host: unmapped(socket.remoteAddress ?? '0.0.0.0'), port: socket.remotePort ?? 0 };
    socket.setNoDelay(true);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.failure = netErrorFrom(error);
    });
    socket.on('end', () => socket.end());
    socket.on('close', () => this.closed.fire(this.failure));
  }

  close(): void {
    if (this.socket.destroyed) return;
    this.socket.end();
    // A peer that never closes its side (or never reads) would keep the socket, and its
    // descriptor, for good: after a short linger for what was queued, it is destroyed.
    const linger = setTimeout(() => this.socket.destroy(), CLOSE_LINGER_MS);
    linger.unref();
    this.socket.once('close', () => clearTimeout(linger));
  }
}

/** How long a closed TCP connection may wait for its peer to close too before it is destroyed. */
export const CLOSE_LINGER_MS = 2_000;

/**
 * dgram resolves every destination through a lookup; dns.lookup answers an address (what we
 * send to) only on the next tick, a cost on every datagram a relay sends. This one answers an
 * address at once and leaves names to dns.lookup.
 */
function lookupAddress(hostname: string, options: dns.LookupOneOptions, callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = familyOf(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dns.lookup(hostname, options, callback);
}

/** Hosts' families (net.isIP runs a regular expression: a few per cent of a relay's time), for the last FAMILY_CACHE_HOSTS hosts sent to. */
const FAMILY_CACHE_HOSTS = 4_096;
const families = new Map<string, number>();

function familyOf(host: string): number {
  const known = families.get(host);
  if (known !== undefined) return known;
  const family = net.isIP(host);
  if (families.size >= FAMILY_CACHE_HOSTS) families.clear();
  families.set(host, family);
  return family;
}

class RealUdpSocket implements UdpSocket {
  private handler: (bytes: Uint8Array, from: Endpoint) => void = () => {};
  constructor(
    private readonly socket: dgram.Socket,
    readonly local: Endpoint,
    /** An IPv6 socket: IPv4 destinations are sent to as IPv4-mapped addresses (a dual-stack socket reaches them; an IPv6-only one drops them). */
    private readonly ipv6: boolean,
  ) {
    socket.on('message', (message, info) => {
      this.handler(new Uint8Array(message.buffer, message.byteOffset, message.byteLength), {
        host: unmapped(info.address),
        port: info.port,
      });
    });
    // A send to an unreachable port surfaces here on some platforms; UDP is fire-and-forget.
    socket.on('error', () => {});
  }

  send(bytes: Uint8Array, to: Endpoint): void {
    // A port that cannot exist (e.g. from a peer's record) is dropped, not thrown, as the
    // virtual network does: UDP is fire-and-forget.
    if (!Number.isInteger(to.port) || to.port < 1 || to.port > 65535) return;
    // Of the other family, a destination is dropped too (an IPv4 socket cannot reach an IPv6 address).
    const v6 = familyOf(to.host) === 6;
    if (v6 && !this.ipv6) return;
    this.socket.send(bytes, to.port, this.ipv6 && !v6 ? `::ffff:${to.host}` : to.host);
  }

  onMessage(handler: (bytes: Uint8Array, from: Endpoint) => void): void {
    this.handler = handler;
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Whether this system sends UDP with the DF bit: Linux does unless path MTU discovery is turned
 * off (net.ipv4.ip_no_pmtu_disc): sockets default to IP_PMTUDISC_WANT, which sets DF on every
 * datagram that fits the path MTU the kernel knows and fragments at the source one that does not.
 * Elsewhere (macOS, Windows) unknown: false.
 */
function systemSetsDontFragment(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    return readFileSync('/proc/sys/net/ipv4/ip_no_pmtu_disc', 'utf8').trim() === '0';
  } catch {
    return false;
  }
}

export const realNet: Net = {
  udpDontFragment: systemSetsDontFragment(),

  listenTcp(options: TcpListenOptions): Promise<TcpListener> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => options.onConnection(new RealTcpConnection(socket)));
      server.once('error', (error: NodeJS.ErrnoException) => reject(netErrorFrom(error)));
      server.listen({ host: options.host ?? '0.0.0.0', port: options.port, ...(options.ipv6Only ? { ipv6Only: true } : {}) }, () => {
        const address = server.address() as net.AddressInfo;
        resolve({
          local: { host: unmapped(address.address), port: address.port },
          close: () => server.close(),
        });
      });
    });
  },

  connectTcp(options: TcpConnectOptions): Promise<TcpConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: options.host, port: options.port, ...(options.localHost ? { localAddress: options.localHost } : {}) });
      const timeout = setTimeout(() => {
        socket.destroy();
        reject(new NetError('timeout', `connect to ${options.host}:${options.port} timed out`));
      }, options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timeout);
        reject(netErrorFrom(error));
      });
      socket.once('connect', () => {
        clearTimeout(timeout);
        socket.removeAllListeners('error');
        resolve(new RealTcpConnection(socket));
      });
    });
  },

  bindUdp(options: UdpBindOptions): Promise<UdpSocket> {
    return new Promise((resolve, reject) => {
      const host = options.host ?? '0.0.0.0';
      const ipv6 = net.isIPv6(host);
      const socket = dgram.createSocket({ type: ipv6 ? 'udp6' : 'udp4', lookup: lookupAddress, ...(ipv6 && options.ipv6Only ? { ipv6Only: true } : {}) });
      socket.once('error', (error: NodeJS.ErrnoException) => reject(netErrorFrom(error)));
      socket.bind({ address: host, port: options.port }, () => {
        socket.removeAllListeners('error');
        const address = socket.address();
        resolve(new RealUdpSocket(socket, { host: address.address, port: address.port }, ipv6));
      });
    });
  },

  sourceAddressFor(remote: string): Promise<string | null> {
    const family = net.isIP(remote);
    if (family === 0) return Promise.resolve(null);
    // Connecting a UDP socket only asks the kernel for a route (and fixes the source address it chose); no packet leaves.
    const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    return new Promise<string | null>((resolve) => {
      socket.once('error', () => resolve(null));
      try {
        socket.connect(9, remote, (error?: Error) => resolve(error ? null : unmapped(socket.address().address)));
      } catch {
        resolve(null); // an address node:dgram refuses outright (a zone it does not know)
      }
    }).finally(() => {
      try {
        socket.close();
      } catch {
        // Closed already (it failed): nothing to release.
      }
    });
  },
};

export const realEnv: Env = { clock: realClock, random: cryptoRandom, net: realNet };
