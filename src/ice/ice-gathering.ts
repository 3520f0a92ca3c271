// Candidate gathering for the ICE agent (RFC 8445 section 5.1.1) on its one UDP socket: the host
// candidate, the server-reflexive one (a Binding request to the supernode, which is also the probe
// that tells whether UDP gets out), and with TURN credentials a relayed one: TURN over UDP, or
// over TCP when UDP is blocked (RFC 8656 section 12.5). A dual-stack agent whose supernode
// answers over IPv6 too (`server6`) also allocates an IPv6 relay there (REQUESTED-ADDRESS-FAMILY,
// RFC 8656 section 7.2; a second 5-tuple, so a second allocation) when UDP over IPv6 gets out:
// two relayed candidates, one per family, each pairing with the other side's of its family.
//
// The socket is shared: `SocketSplit` hands what comes from the supernode to the STUN and TURN
// clients that listen on it, and everything else to the agent (checks, answers, data).
import { sameEndpoint, type Clock, type Endpoint, type Net, type Random, type TlsConnect, type UdpSocket } from '../env/types.js';
import { candidatePriority, LOCAL_PREFERENCE_IPV4_DUAL_STACK, LOCAL_PREFERENCE_MAX, type CandidateType, type IceCandidate } from './ice-candidate.js';
import { StunTransactions } from '../stun/stun-client.js';
import { addressFamily, mappedAddress } from '../stun/stun.js';
import { TurnClient } from '../turn/turn-client.js';
import { streamSocket } from '../turn/turn-tcp.js';

/** With `auto`, UDP counts as blocked when a STUN request to the supernode gets no answer this soon. */
export const UDP_PROBE_MS = 500;
/** The server-reflexive request when UDP is expected to work (`udp`): retransmitted from 100 ms, given up after this. */
const SRFLX_DEADLINE_MS = 1_500;
const SRFLX_RTO_MS = 100;
/** How long the TCP connection to TURN may take. */
const TURN_TCP_CONNECT_MS = 5_000;

type Handler = (bytes: Uint8Array, from: Endpoint) => void;

/** One UDP socket, split: datagrams from the supernode (at its IPv4 or IPv6 address) to its listeners (each ignores what is not its own), the rest to the peer handler. */
export class SocketSplit {
  private readonly serverHandlers: Handler[] = [];
  private peerHandler: Handler = () => {};
  private readonly servers: Endpoint[];

  constructor(
    readonly socket: UdpSocket,
    servers: readonly Endpoint[],
  ) {
    this.servers = [...servers];
    socket.onMessage((bytes, from) => {
      if (!this.servers.some((server) => sameEndpoint(from, server))) return this.peerHandler(bytes, from);
      for (const handler of this.serverHandlers) handler(bytes, from);
    });
  }

  /** Another address of the supernode: a relay thread a TURN Allocate was redirected to (300 Try Alternate). */
  addServer(server: Endpoint): void {
    if (!this.servers.some((known) => sameEndpoint(known, server))) this.servers.push(server);
  }

  onPeer(handler: Handler): void {
    this.peerHandler = handler;
  }

  /** The socket's side towards the supernode, for a TURN client or STUN transactions; closing it stops its listener only. */
  serverSide(): UdpSocket {
    let mine: Handler | null = null;
    return {
      local: this.socket.local,
      send: (bytes, to) => this.socket.send(bytes, to),
      onMessage: (handler) => {
        this.drop(mine);
        mine = handler;
        this.serverHandlers.push(handler);
      },
      close: () => this.drop(mine),
    };
  }

  private drop(handler: Handler | null): void {
    const at = handler ? this.serverHandlers.indexOf(handler) : -1;
    if (at >= 0) this.serverHandlers.splice(at, 1);
  }
}

export interface GatheringOptions {
  readonly server: Endpoint;
  /** The supernode over IPv6: a Binding request there gives the IPv6 server-reflexive candidate. */
  readonly server6?: Endpoint;
  readonly turnCredentials?: { username: string; password: string };
  readonly localHost?: string;
  /** A dual-stack socket's IPv6 address: a second host candidate. */
  readonly localHost6?: string;
  readonly turnTransport?: 'udp' | 'tcp' | 'auto';
  readonly turnTcp?: Endpoint;
  /** TURN over TCP inside TLS (see IceAgentOptions.turnTls). */
  readonly turnTls?: TlsConnect;
  /** Only relayed candidates (WebRTC's iceTransportPolicy "relay"): the other side never learns our addresses. */
  readonly relayOnly?: boolean;
}

export interface Gathered {
  readonly locals: IceCandidate[];
  /** The TURN clients of the relayed candidates: none, one, or an IPv4 and an IPv6 one. */
  readonly turns: TurnClient[];
}

export async function gatherCandidates(env: { clock: Clock; random: Random; net: Net }, split: SocketSplit, options: GatheringOptions): Promise<Gathered> {
  const { clock, random, net } = env;
  const socket = split.socket;
  const host = { host: options.localHost ?? socket.local.host, port: socket.local.port };
  const host6 = options.localHost6 ? { host: options.localHost6, port: socket.local.port } : null;
  // Dual-stack: IPv6 candidates before IPv4 ones of the same type (RFC 8421); else as ever.
  const priority = (type: CandidateType, address: Endpoint) => candidatePriority(type, host6 && addressFamily(address.host) !== 'ipv6' ? LOCAL_PREFERENCE_IPV4_DUAL_STACK : LOCAL_PREFERENCE_MAX);
  // A dual-stack socket bound to every address has no IPv4 host candidate unless told its address.
  const locals: IceCandidate[] = host.host === '::' ? [] : [{ type: 'host', address: host, priority: priority('host', host) }];
  if (host6) locals.push({ type: 'host', address: host6, priority: priority('host', host6) });
  const turns: TurnClient[] = [];
  const relay = (turn: TurnClient, relayed: Endpoint, overTcp: boolean): void => {
    locals.push({ type: 'relay', address: relayed, priority: priority('relay', relayed), ...(overTcp ? { relayTcp: true } : {}) });
    turns.push(turn);
  };
  const done = (): Gathered => ({ locals: options.relayOnly ? locals.filter((c) => c.type === 'relay') : locals, turns });
  const transport = options.turnTransport ?? 'auto';
  // Each of these listens on the shared socket only while gathering: afterwards every datagram
  // from the supernode (relayed media) goes to the TURN client alone.
  const stunSide = split.serverSide();
  const stun = new StunTransactions(stunSide, clock, random);
  const probe = transport === 'tcp' ? null : stun.request(options.server, [], { rtoMs: SRFLX_RTO_MS, deadlineMs: transport === 'auto' ? UDP_PROBE_MS : SRFLX_DEADLINE_MS });
  const probe6 = options.server6 && transport !== 'tcp' ? stun.request(options.server6, [], { rtoMs: SRFLX_RTO_MS, deadlineMs: SRFLX_DEADLINE_MS }) : null;
  const credentials = options.turnCredentials;
  let udpTurn: TurnClient | null = null;
  let udpAllocation: ReturnType<TurnClient['allocate']> | null = null;
  const udpSide = split.serverSide();
  if (credentials && transport !== 'tcp') {
    udpTurn = new TurnClient(udpSide, clock, random, options.server, credentials, undefined, (moved) => split.addServer(moved));
    udpAllocation = udpTurn.allocate();
  }
  // The IPv6 relay, on the supernode's IPv6 address (the IPv4 5-tuple holds the IPv4 allocation).
  const udpSide6 = options.server6 && credentials && transport !== 'tcp' && host6 ? split.serverSide() : null;
  const udpTurn6 = udpSide6 && options.server6 && credentials ? new TurnClient(udpSide6, clock, random, options.server6, credentials) : null;
  const udpAllocation6 = udpTurn6 ? udpTurn6.allocate(600, 'ipv6') : null;
  const answer = probe ? await probe : null;
  const answer6 = probe6 ? await probe6 : null;
  stunSide.close();
  const mapped = answer?.ok ? mappedAddress(answer.value.message) : null;
  if (mapped && !sameEndpoint(mapped, host)) locals.push({ type: 'srflx', address: mapped, priority: priority('srflx', mapped) });
  // Over IPv6 the host address is usually the public one already: a server-reflexive candidate only when it is not.
  const mapped6 = answer6?.ok ? mappedAddress(answer6.value.message) : null;
  if (mapped6 && !sameEndpoint(mapped6, host6)) locals.push({ type: 'srflx', address: mapped6, priority: priority('srflx', mapped6) });
  if (!credentials) return done();
  if (udpTurn6 && udpAllocation6) {
    const allocated6 = answer6?.ok ? await udpAllocation6 : null;
    if (allocated6?.ok) relay(udpTurn6, allocated6.value.relayed, false);
    else {
      // No IPv6 relay (UDP over IPv6 does not get out, or the supernode has none: 440).
      await udpTurn6.close();
      udpSide6?.close();
    }
  }
  if (udpTurn && udpAllocation && (answer?.ok || transport === 'udp')) {
    const allocated = await udpAllocation;
    if (allocated.ok) {
      relay(udpTurn, allocated.value.relayed, false);
      return done();
    }
  }
  // UDP does not get out (or TURN over UDP failed): TURN over TCP.
  if (udpTurn) await udpTurn.close();
  udpSide.close();
  const server = options.turnTcp ?? options.server;
  try {
    const tcp = await net.connectTcp({ host: server.host, port: server.port, timeoutMs: TURN_TCP_CONNECT_MS });
    const connection = options.turnTls ? await options.turnTls(tcp) : tcp;
    const tcpTurn = new TurnClient(streamSocket(connection, server), clock, random, server, credentials);
    const allocated = await tcpTurn.allocate();
    if (allocated.ok) {
      relay(tcpTurn, allocated.value.relayed, true);
      return done();
    }
    await tcpTurn.close();
  } catch {
    // No relay at all: the host (and server-reflexive) candidates are all there is.
  }
  return done();
}
