// The supernode's STUN and TURN service: UDP on the supernode's own port number, so a client
// that knows the supernode knows where to ask. With a second address (a second IP of the
// machine, or a second host in the virtual network) it serves RFC 5780's four address/port
// pairs; the second port is whatever the system gives, and the same on both addresses. TURN
// (RFC 8656) answers on the first address and port, with credentials only this supernode can
// derive (it hands them to its attached devices).
//
// IPv6 (`ipv6`): a second UDP socket on an IPv6 address, IPv6 only, on the same port number,
// answers Binding requests of IPv6 clients (one address: no RFC 5780 tests over IPv6) and TURN
// like the first; TURN's relays are IPv6 there for an Allocate that asks (REQUESTED-ADDRESS-
// FAMILY), whichever family the client came over. The TCP ports that carry TURN alone listen on
// it too. Without `ipv6`, an Allocate for IPv6 gets 440.
//
// TURN relays TCP too (RFC 6062, turn/turn-tcp-relay.ts): a TCP relay listens on the address of
// its family (`host`, or the IPv6 one) in the relay port range, and connects to peers from it.
// DONT-FRAGMENT is honoured where the system sends UDP with the DF bit (Net.udpDontFragment).
import type { Endpoint, Env, Net, TcpConnection, TcpListener, TlsServer, UdpSocket } from '../env/types.js';
import { StunServer } from '../stun/stun-server.js';
import { decodeStun, looksLikeStun } from '../stun/stun.js';
import { TurnServer, type TcpRelayLimits, type TurnLimits } from '../turn/turn-server.js';
import { ReplyBudget } from '../stun/reply-budget.js';
import type { Cidr } from '../turn/peer-policy.js';
import { looksLikeStunStream } from '../turn/turn-tcp.js';
import { looksLikeTlsClientHello, TurnTlsGate, type TurnTlsLimits } from '../turn/turn-tls.js';
import { issueTurnCredentials, passwordFor, type TurnCredentials } from '../turn/turn-credentials.js';
import { sumTotals, totalsOf, type TurnTotals } from '../turn/turn-totals.js';
import { RelayWorkers } from './relay-workers.js';

export interface StunServiceOptions {
  readonly host?: string;
  readonly port: number;
  /** The address put in answers when `host` is unset (bound to every address). */
  readonly advertisedHost: string;
  /**
   * The public address of the first address, put in answers (RESPONSE-ORIGIN, OTHER-ADDRESS)
   * even when `host` is set: for a host behind a 1:1 NAT (cloud machines), whose `host` is private.
   */
  readonly publicHost?: string;
  /** The host put in TURN's XOR-RELAYED-ADDRESS; default: the first address as advertised. */
  readonly relayPublicHost?: string;
  /** TURN relay ports, both ends included (e.g. 49152-65535, to open in a firewall); default: any the system gives. */
  readonly relayPorts?: { readonly min: number; readonly max: number };
  /** A second address for NAT behaviour discovery; `net` binds on it when it is another host's. */
  readonly alternate?: { readonly host: string; readonly net?: Net };
  readonly turnLimits?: Partial<TurnLimits>;
  /** Bounds on TURN's TCP relays (RFC 6062): connections, buffered bytes, timeouts. */
  readonly tcpRelayLimits?: Partial<TcpRelayLimits>;
  /** TCP ports that carry TURN alone (e.g. 443 for web-only firewalls); a supernode's own port shares TURN with its links instead. */
  readonly tcpPorts?: readonly number[];
  /**
   * Special-purpose addresses TURN may relay to although the peer policy refuses them by default
   * (loopback, private, shared, link-local, reserved, documentation; see turn/peer-policy.ts):
   * `parley local` allows loopback, a lab its own ranges. Default: none (a supernode on the internet).
   */
  readonly allowPeers?: readonly Cidr[];
  /**
   * TURN over TLS ("turns:") on the shared TCP ports: a connection that opens with a TLS
   * ClientHello is handed here, and after the handshake it is TURN over TCP. Default: none.
   */
  readonly tls?: TlsServer;
  /** Bounds on TURN over TLS's handshakes (tests shorten the timeout). */
  readonly tlsLimits?: Partial<TurnTlsLimits>;
  /**
   * STUN and TURN over IPv6, and IPv6 relays: the IPv6 address to bind (`::` for every one, then
   * `publicHost` is needed) and the one put in answers (default: `host`). Real sockets only.
   */
  readonly ipv6?: { readonly host: string; readonly publicHost?: string };
  /**
   * Threads that relay TURN over UDP (relay-workers.ts), each on a port of its own that an
   * Allocate at the first address is redirected to (300 Try Alternate); 0 or 1: this thread
   * relays. Real network only (worker threads bind real sockets). Default 0.
   */
  readonly relayWorkers?: number;
  /** Lines for the operator (relay workers that died and were restarted). */
  readonly log?: (line: string) => void;
}

export const TURN_REALM = 'parley';

/** Bytes that tell STUN from a Noise handshake inside TLS (STUN's magic cookie is at 4-7). */
const STREAM_SNIFF_BYTES = 8;

export interface StunService {
  readonly server: StunServer;
  /** The Binding server on the IPv6 socket, with `ipv6`. */
  readonly server6: StunServer | null;
  /** Where IPv6 clients send, with `ipv6`. */
  readonly primary6: Endpoint | null;
  /** This thread's TURN server: every allocation without relay workers; with them, those over TCP and TLS and those of IPv6 clients. */
  readonly turn: TurnServer;
  /** The threads relaying TURN over UDP, when there are (`relayWorkers` ≥ 2). */
  readonly relayWorkers: RelayWorkers | null;
  /** TURN's counters over every thread (the workers' as last posted, at most a second old). */
  turnTotals(): TurnTotals;
  /** TURN over TLS's handshakes and refusals, when `tls` was given. */
  readonly tls: TurnTlsGate | null;
  /** Whether a TCP connection's first 8 bytes are for this service: STUN (TURN over TCP), or a TLS ClientHello when `tls` was given. */
  claimsStream(firstBytes: Uint8Array): boolean;
  /**
   * Takes a TCP connection whose first bytes it claimed (TURN over TCP or TLS on a shared port).
   * Inside TLS, a connection that is not STUN goes to `asLink` when given (a device's link to the
   * supernode, for firewalls that pass only TLS), else it is closed.
   */
  acceptStream(connection: TcpConnection, firstBytes: Uint8Array, asLink?: (plaintext: TcpConnection, firstBytes: Uint8Array) => void): void;
  /** TURN credentials for one device of a user (handed to it over its authenticated link). */
  credentials(user: string, deviceTag: string): TurnCredentials;
  /** Where clients send (the first) and, with a second address, the diagonal OTHER-ADDRESS. */
  readonly primary: Endpoint;
  close(): void;
}

export async function startStunService(env: Env, options: StunServiceOptions): Promise<StunService> {
  const sockets: UdpSocket[] = [];
  const bind = async (net: Net, host: string | undefined, port: number, ipv6Only = false) => {
    const socket = await net.bindUdp({ port, ...(host ? { host } : {}), ...(ipv6Only ? { ipv6Only } : {}) });
    sockets.push(socket);
    return socket;
  };
  // Started once the first socket is bound; ended with the sockets if anything after fails.
  let workers: RelayWorkers | null = null;
  try {
    const primary = await bind(env.net, options.host, options.port);
    const advertise = (socket: UdpSocket, host: string | undefined): Endpoint => ({ host: host ?? options.advertisedHost, port: socket.local.port });
    let grid: UdpSocket[][] = [[primary]];
    const primaryHost = options.publicHost ?? options.host;
    let advertised: Endpoint[][] = [[advertise(primary, primaryHost)]];
    if (options.alternate) {
      const alt = options.alternate;
      const altNet = alt.net ?? env.net;
      const secondPort = await bind(env.net, options.host, 0);
      const otherPrimary = await bind(altNet, alt.host, primary.local.port);
      const otherSecond = await bind(altNet, alt.host, secondPort.local.port);
      grid = [
        [primary, secondPort],
        [otherPrimary, otherSecond],
      ];
      advertised = [
        [advertise(primary, primaryHost), advertise(secondPort, primaryHost)],
        [advertise(otherPrimary, alt.host), advertise(otherSecond, alt.host)],
      ];
    }
    const v6 = options.ipv6;
    if (v6 && v6.host === '::' && !v6.publicHost) throw new Error('STUN over IPv6 on every address (::) needs the public IPv6 address to put in answers');
    const socket6 = v6 ? await bind(env.net, v6.host, primary.local.port, true) : null;
    const primary6 = v6 && socket6 ? { host: v6.publicHost ?? v6.host, port: socket6.local.port } : null;
    // One reply budget for Binding answers and TURN's challenges: a source gains nothing by mixing them.
    const replyBudget = new ReplyBudget(env.clock);
    const server = new StunServer(env.clock, { grid, advertised }, replyBudget);
    const server6 = socket6 && primary6 ? new StunServer(env.clock, { grid: [[socket6]], advertised: [[primary6]] }, replyBudget) : null;
    const secret = env.random.bytes(32);
    const relayHost = options.relayPublicHost ?? advertised[0]![0]!.host;
    const serviceEndpoints = [
      ...grid.flat().map((socket) => socket.local),
      ...advertised.flat(),
      ...(options.tcpPorts ?? []).map((port) => ({ host: primary.local.host, port })),
      ...(socket6 && primary6 ? [socket6.local, primary6, ...(options.tcpPorts ?? []).map((port) => ({ host: primary6.host, port }))] : []),
    ];
    const workerCount = options.relayWorkers ?? 0;
    workers =
      workerCount >= 2
        ? await RelayWorkers.start({
            count: workerCount,
            ...(options.host ? { host: options.host } : {}),
            advertisedHost: advertised[0]![0]!.host,
            primary: advertised[0]![0]!,
            realm: TURN_REALM,
            secret,
            relayHost,
            ...(v6 && primary6 ? { ipv6Relay: { host: primary6.host, bindHost: v6.host } } : {}),
            ...(options.relayPorts ? { relayPorts: options.relayPorts } : {}),
            ...(options.allowPeers ? { allowPeers: options.allowPeers } : {}),
            serviceEndpoints,
            ...(options.turnLimits ? { limits: options.turnLimits } : {}),
            ...(options.log ? { log: options.log } : {}),
          })
        : null;
    const running = workers;
    if (running) for (const endpoint of serviceEndpoints) running.board.markService(endpoint.port);
    const turn = new TurnServer(env.clock, {
      realm: TURN_REALM,
      secret,
      passwordFor: (username, nowMs) => passwordFor(secret, username, nowMs),
      bindRelay: (port) => env.net.bindUdp({ port, ...(options.host ? { host: options.host } : {}) }),
      relayHost,
      ...(v6 && primary6 ? { ipv6Relay: { host: primary6.host, bind: (port: number) => env.net.bindUdp({ host: v6.host, port, ipv6Only: true }) } } : {}),
      random: env.random,
      ...(options.relayPorts ? { relayPorts: options.relayPorts } : {}),
      ...(options.allowPeers ? { allowPeers: options.allowPeers } : {}),
      serviceEndpoints,
      replyBudget,
      ...(options.turnLimits ? { limits: options.turnLimits } : {}),
      dontFragment: env.net.udpDontFragment,
      tcpRelay: {
        listen: (port, family, onConnection) =>
          family === 'ipv6' && v6 ? env.net.listenTcp({ host: v6.host, ipv6Only: true, port, onConnection }) : env.net.listenTcp({ port, ...(options.host ? { host: options.host } : {}), onConnection }),
        // From the relay's address when it is one (not a wildcard): the peer sees the relay host.
        connect: (peer, family, timeoutMs) => {
          const from = family === 'ipv6' ? v6?.host : options.host;
          return env.net.connectTcp({ host: peer.host, port: peer.port, timeoutMs, ...(from && from !== '::' && from !== '0.0.0.0' ? { localHost: from } : {}) });
        },
        ...(options.tcpRelayLimits ? { limits: options.tcpRelayLimits } : {}),
      },
      // With workers, an Allocate over UDP at the first IPv4 address goes to the user's worker.
      ...(running ? { sharedPorts: running.board.view(0), homeOf: (user: string, via: unknown) => (via === primary ? running.homeOf(user) : null) } : {}),
    });
    // One dispatcher per socket: STUN is decoded once, for the Binding server or (on the first
    // address and port, and the IPv6 socket) TURN; anything else there (ChannelData) is TURN's.
    const dispatch = (socket: UdpSocket, binding: StunServer, a: number, p: number) => {
      const carriesTurn = a === 0 && p === 0;
      socket.onMessage((bytes, from) => {
        if (!looksLikeStun(bytes)) {
          if (carriesTurn) turn.receive(bytes, from, socket);
          return;
        }
        const decoded = decodeStun(bytes);
        if (!binding.receiveDecoded(decoded, from, a, p) && carriesTurn && decoded.ok) turn.receiveMessage(decoded.value, from, socket);
      });
    };
    grid.forEach((row, a) => row.forEach((socket, p) => dispatch(socket, server, a, p)));
    if (socket6 && server6) dispatch(socket6, server6, 0, 0);
    const listeners: TcpListener[] = [];
    try {
      for (const port of options.tcpPorts ?? []) {
        const onConnection = (connection: TcpConnection) => turn.acceptStream(connection, new Uint8Array(0));
        listeners.push(await env.net.listenTcp({ port, ...(options.host ? { host: options.host } : {}), onConnection }));
        if (v6) listeners.push(await env.net.listenTcp({ port, host: v6.host, ipv6Only: true, onConnection }));
      }
    } catch (error) {
      turn.close();
      for (const l of listeners) l.close();
      throw error;
    }
    const tls = options.tls ? new TurnTlsGate(env.clock, options.tls, (plaintext) => turn.acceptStream(plaintext, new Uint8Array(0)), options.tlsLimits) : null;
    return {
      server,
      server6,
      primary6,
      turn,
      relayWorkers: running,
      turnTotals: () => (running ? sumTotals([totalsOf(turn), running.totals()]) : totalsOf(turn)),
      tls,
      claimsStream: (firstBytes) => looksLikeStunStream(firstBytes) || (tls !== null && looksLikeTlsClientHello(firstBytes)),
      acceptStream: (connection, firstBytes, asLink) => {
        if (!tls || !looksLikeTlsClientHello(firstBytes)) return turn.acceptStream(connection, firstBytes);
        if (!asLink) return tls.accept(connection, firstBytes);
        // Inside TLS the first bytes decide again: TURN ("turns:") or a device's link.
        tls.accept(connection, firstBytes, {
          bytes: STREAM_SNIFF_BYTES,
          onSecure: (plaintext, inner) => (looksLikeStunStream(inner) ? turn.acceptStream(plaintext, inner) : asLink(plaintext, inner)),
        });
      },
      credentials: (user, deviceTag) => issueTurnCredentials(secret, user, deviceTag, env.clock.wallTimeMs()),
      primary: advertised[0]![0]!,
      close: () => {
        tls?.close();
        turn.close();
        void running?.close();
        sockets.forEach((s) => s.close());
        listeners.forEach((l) => l.close());
      },
    };
  } catch (error) {
    for (const s of sockets) s.close();
    await workers?.close();
    throw error;
  }
}
