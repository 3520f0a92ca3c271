// The virtual network: hosts and gateways (NATs with firewalls) in realms of addresses, joined
// by links with latency, jitter, loss and bandwidth. The public internet is the top realm; each
// gateway owns a private realm behind it. A packet climbs from its sender through gateways
// (outbound translation) until it reaches a realm that holds its destination, then descends
// through gateways (inbound filtering and translation). Every gateway crossing and every
// delivery is an event at the virtual time the packet arrives there, so NAT state is read at
// the instant a real NAT would read it.
import type { Env, Net } from '../types.js';
import { SeededRandom } from '../prng.js';
import { addressToText, textToAddress } from './address.js';
import { NAT_CLASSES, NatTable, type NatBehaviour, type NatClass } from './nat.js';
import { Scheduler } from './scheduler.js';
import { VirtualNet, receiveTcp, receiveUdp, type SocketHost } from './host-net.js';
import type { Packet } from './packet.js';

export interface LinkSpec {
  readonly latencyMs: number;
  /** Extra delay, uniform in [0, jitterMs): packets may be reordered, as on real paths. */
  readonly jitterMs: number;
  /** Probability that a UDP packet is lost on this link. TCP is modelled as reliable. */
  readonly lossRate: number;
  /** 0 means unlimited. */
  readonly bandwidthBps: number;
  /** A packet that would wait longer than this in the link's queue is dropped (bounded buffer). */
  readonly queueLimitMs: number;
}

export const DEFAULT_LINK: LinkSpec = Object.freeze({
  latencyMs: 10,
  jitterMs: 0,
  lossRate: 0,
  bandwidthBps: 0,
  queueLimitMs: 500,
});

/** 'udp-blocked': no UDP at all. 'web-only': only outbound TCP to ports 80 and 443. */
export type FirewallPolicy = 'none' | 'udp-blocked' | 'web-only';

interface Realm {
  readonly owner: Gateway | null;
  readonly nodes: Map<number, VirtualHost | Gateway>;
  nextAddress: number;
}

/** Per-direction queue state, only for links with a bandwidth limit (as built, or clogged). */
class LinkQueue {
  upFreeAtMs = 0;
  downFreeAtMs = 0;
  constructor(
    readonly bandwidthBps: number,
    readonly queueLimitMs: number,
  ) {}
}

abstract class Node {
  linkQueue: LinkQueue | null;
  constructor(
    readonly network: VirtualNetwork,
    readonly address: number,
    readonly realm: Realm,
    readonly link: LinkSpec,
  ) {
    this.linkQueue = link.bandwidthBps > 0 ? new LinkQueue(link.bandwidthBps, link.queueLimitMs) : null;
  }

  get addressText(): string {
    return addressToText(this.address);
  }
}

export class VirtualHost extends Node implements SocketHost {
  readonly kind = 'host' as const;
  up = true;
  /**
   * A host firewall that drops new inbound TCP connections (SYNs) while the host's own
   * connections go on working: how a reachable machine becomes unreachable without going down.
   */
  refusesInbound = false;
  /** Bytes on the wire (IP packets, headers included), for traffic measurements. */
  bytesSent = 0;
  bytesReceived = 0;
  /**
   * Wall time spent in this host's event handlers (packets delivered to it, and timers charged
   * to it), when the scheduler measures (`Scheduler.measureCpu`): a CpuAccount.
   */
  cpuMs = 0;
  udpSockets: SocketHost['udpSockets'] = null;
  tcpListeners: SocketHost['tcpListeners'] = null;
  tcpConnections: SocketHost['tcpConnections'] = null;
  nextEphemeralPort = 49152;
  private netInstance: VirtualNet | null = null;
  private randomInstance: SeededRandom | null = null;

  constructor(network: VirtualNetwork, address: number, realm: Realm, link: LinkSpec, private readonly seed: number) {
    super(network, address, realm, link);
  }

  get net(): Net {
    return (this.netInstance ??= new VirtualNet(this));
  }

  get random(): SeededRandom {
    return (this.randomInstance ??= new SeededRandom(this.seed));
  }

  /** The environment a node running on this host is given. */
  env(): Env {
    return { clock: this.network.scheduler, random: this.random, net: this.net };
  }

  get clock(): Scheduler {
    return this.network.scheduler;
  }

  send(packet: Packet): void {
    this.network.send(this, packet);
  }

  /**
   * Simulates the host's process being killed (SIGKILL) while the machine stays up: its kernel
   * closes every TCP connection with a FIN, so peers see their links close at once; its ports
   * are closed (a new connection is reset at once; datagrams, the TURN relays' among them, go
   * nowhere). A crash (`crash`) says nothing at all. The code that ran there must be stopped
   * too (its timers): close it right after.
   */
  kill(): void {
    for (const connection of [...(this.tcpConnections?.values() ?? [])]) connection.close();
    this.udpSockets = null;
    this.tcpListeners = null;
    this.tcpConnections = null;
  }

  /** Simulates a crash: every socket is gone at once, without FIN or RST. */
  crash(): void {
    this.up = false;
    this.udpSockets = null;
    this.tcpListeners = null;
    this.tcpConnections = null;
  }
}

export class Gateway extends Node {
  readonly kind = 'gateway' as const;
  readonly inner: Realm;
  readonly udp: NatTable;
  readonly tcp: NatTable;

  constructor(
    network: VirtualNetwork,
    address: number,
    realm: Realm,
    link: LinkSpec,
    readonly behaviour: NatBehaviour,
    readonly firewall: FirewallPolicy,
    random: SeededRandom,
  ) {
    super(network, address, realm, link);
    this.inner = { owner: this, nodes: new Map(), nextAddress: PRIVATE_FIRST };
    this.udp = new NatTable(behaviour, 'udp', random);
    this.tcp = new NatTable(behaviour, 'tcp', random);
  }

  /** Whether the firewall lets this packet leave. */
  allowsOutbound(packet: Packet): boolean {
    if (this.firewall === 'none') return true;
    if (packet.protocol === 'udp') return false;
    return this.firewall === 'udp-blocked' || packet.dstPort === 80 || packet.dstPort === 443;
  }

  allowsInbound(packet: Packet): boolean {
    return this.firewall === 'none' || packet.protocol === 'tcp';
  }

  /** The NAT forgets every UDP and TCP mapping (it rebooted): connections through it die silently. */
  forgetMappings(): void {
    this.udp.clear();
    this.tcp.clear();
  }
}

const PUBLIC_FIRST = textToAddress('20.0.0.1')!;
const PRIVATE_FIRST = textToAddress('10.0.0.2')!;

export interface HostOptions {
  /** Public hosts get the next free public address; hosts behind a gateway a private one. */
  address?: string;
  behind?: Gateway;
  link?: Partial<LinkSpec>;
}

export interface GatewayOptions extends HostOptions {
  nat?: NatClass | NatBehaviour;
  /** Overrides of the chosen class's behaviour (timeouts, hairpinning, port allocation). */
  natOverrides?: Partial<NatBehaviour>;
  firewall?: FirewallPolicy;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  lost: number; // by link loss or full queues
  filtered: number; // by NAT filtering, firewalls or no route
}

/** A dropped TCP segment is sent again after this, then after twice as long each time… */
export const TCP_MIN_RTO_MS = 200;
/** …up to this between tries… */
export const TCP_MAX_RTO_MS = 120_000;
/** …this many times (200 ms doubling to 120 s: about 15 minutes in all). */
export const TCP_MAX_RETRANSMISSIONS = 15;

export class VirtualNetwork {
  readonly scheduler: Scheduler;
  readonly random: SeededRandom;
  private readonly internet: Realm = { owner: null, nodes: new Map(), nextAddress: PUBLIC_FIRST };
  readonly stats: NetworkStats = { sent: 0, delivered: 0, lost: 0, filtered: 0 };
  readonly hosts: VirtualHost[] = [];
  /**
   * A cut in the network for tests: packets between two addresses (as they travel the realm
   * where the cut is, so NATed hosts are named by their gateway's address) are dropped while it
   * holds. How a path dies while others live on.
   */
  cuts: { readonly a: string; readonly b: string }[] = [];
  /**
   * A partition of the public internet (the simulator's): packets between two public addresses
   * for which it answers true are dropped while it is set. Asked only in the public realm, where
   * a NATed host is named by its gateway's address; null (the default) costs nothing.
   */
  severed: ((srcAddress: number, dstAddress: number) => boolean) | null = null;
  /** Loss a test adds to a node's link from now on (a link going bad mid-run), on top of its spec. */
  private readonly impairments = new Map<Node, number>();
  // Bound once, so scheduling an event allocates no closure.
  private readonly deliverHandler = (host: VirtualHost, packet: Packet): void => this.deliver(host, packet);
  private readonly inboundHandler = (gateway: Gateway, packet: Packet): void => this.inbound(gateway, packet);
  private readonly outboundHandler = (gateway: Gateway, packet: Packet): void => this.outbound(gateway, packet);

  constructor(readonly seed: number, options: { epochMs?: number } = {}) {
    this.scheduler = new Scheduler(options.epochMs);
    this.random = new SeededRandom(seed);
  }

  private realmFor(behind: Gateway | undefined): Realm {
    return behind ? behind.inner : this.internet;
  }

  private claimAddress(realm: Realm, requested: string | undefined): number {
    let address: number;
    if (requested !== undefined) {
      const parsed = textToAddress(requested);
      if (parsed === null) throw new Error(`not an IPv4 address: ${requested}`);
      address = parsed;
    } else {
      while (realm.nodes.has(realm.nextAddress)) realm.nextAddress++;
      address = realm.nextAddress++;
    }
    if (realm.nodes.has(address)) throw new Error(`address ${addressToText(address)} is taken`);
    return address;
  }

  private linkFrom(partial: Partial<LinkSpec> | undefined): LinkSpec {
    return partial ? Object.freeze({ ...DEFAULT_LINK, ...partial }) : DEFAULT_LINK;
  }

  addHost(options: HostOptions = {}): VirtualHost {
    const realm = this.realmFor(options.behind);
    const address = this.claimAddress(realm, options.address);
    const host = new VirtualHost(this, address, realm, this.linkFrom(options.link), this.random.nextUint32());
    realm.nodes.set(address, host);
    this.hosts.push(host);
    return host;
  }

  addGateway(options: GatewayOptions = {}): Gateway {
    const realm = this.realmFor(options.behind);
    const address = this.claimAddress(realm, options.address);
    const base = typeof options.nat === 'object' ? options.nat : NAT_CLASSES[options.nat ?? 'port-restricted'];
    const behaviour = { ...base, ...options.natOverrides };
    const gateway = new Gateway(
      this,
      address,
      realm,
      this.linkFrom(options.link),
      behaviour,
      options.firewall ?? 'none',
      this.random.fork(),
    );
    realm.nodes.set(address, gateway);
    return gateway;
  }

  /** From now on, `node`'s link loses `lossRate` of its datagrams more than its spec says (0: as built). */
  impair(node: VirtualHost | Gateway, lossRate: number): void {
    if (lossRate > 0) this.impairments.set(node, lossRate);
    else this.impairments.delete(node);
  }

  /**
   * From now on, `node`'s link carries `bandwidthBps` at most (both ways), queueing up to
   * `queueLimitMs` (datagrams beyond are dropped; TCP waits its turn): a clogged uplink. Null
   * gives it back its spec.
   */
  clog(node: VirtualHost | Gateway, clogged: { bandwidthBps: number; queueLimitMs: number } | null): void {
    const { link } = node;
    const queue = clogged ? new LinkQueue(clogged.bandwidthBps, clogged.queueLimitMs) : link.bandwidthBps > 0 ? new LinkQueue(link.bandwidthBps, link.queueLimitMs) : null;
    // What is already queued still leaves when it was due to.
    if (queue && node.linkQueue) {
      queue.upFreeAtMs = node.linkQueue.upFreeAtMs;
      queue.downFreeAtMs = node.linkQueue.downFreeAtMs;
    }
    node.linkQueue = queue;
  }

  /** Time when a packet that enters `node`'s link now comes out, or -1 if it is lost. */
  private cross(node: Node, upward: boolean, packet: Packet, startMs: number): number {
    const link = node.link;
    const lossRate = this.impairments.size === 0 ? link.lossRate : link.lossRate + (this.impairments.get(node) ?? 0);
    if (lossRate > 0 && packet.protocol === 'udp' && this.random.float() < lossRate) return -1;
    let departMs = startMs;
    const queue = node.linkQueue;
    if (queue) {
      const freeAt = upward ? queue.upFreeAtMs : queue.downFreeAtMs;
      // A full queue drops datagrams; TCP, modelled as reliable, is paced by its congestion
      // control rather than lost, so its segments wait their turn.
      if (freeAt - startMs > queue.queueLimitMs && packet.protocol === 'udp') return -1;
      departMs = Math.max(startMs, freeAt) + (packet.sizeBytes * 8000) / queue.bandwidthBps;
      if (upward) queue.upFreeAtMs = departMs;
      else queue.downFreeAtMs = departMs;
    }
    return departMs + link.latencyMs + (link.jitterMs > 0 ? this.random.float() * link.jitterMs : 0);
  }

  send(from: VirtualHost, packet: Packet): void {
    this.stats.sent++;
    if (!from.up) return;
    from.bytesSent += packet.sizeBytes;
    if (packet.dstAddress === from.address) {
      this.scheduler.schedule(this.scheduler.now(), this.deliverHandler, from, packet, from);
      return;
    }
    this.forward(packet, from, true, from.realm, this.scheduler.now());
  }

  /**
   * Moves a packet within `realm`: to the node that holds its destination address, or up to the
   * realm's gateway. `fromChild` says whether `from` sits in the realm (its link is crossed
   * upward) or is the realm's own gateway sending inward.
   */
  private forward(packet: Packet, from: Node, fromChild: boolean, realm: Realm, nowMs: number): void {
    if ((this.cuts.length > 0 && this.isCut(packet)) || (this.severed && realm === this.internet && this.severed(packet.srcAddress, packet.dstAddress))) {
      this.stats.filtered++;
      return this.retransmitLater(packet, from, fromChild, realm, nowMs);
    }
    const target = realm.nodes.get(packet.dstAddress);
    let t = nowMs;
    if (fromChild) {
      t = this.cross(from, true, packet, t);
      if (t < 0) return void this.stats.lost++;
    }
    if (target) {
      t = this.cross(target, false, packet, t);
      if (t < 0) return void this.stats.lost++;
      if (target.kind === 'host') this.scheduler.schedule(t, this.deliverHandler, target, packet, target);
      else this.scheduler.schedule(t, this.inboundHandler, target, packet);
      return;
    }
    const gateway = realm.owner;
    if (!gateway || !fromChild) return void this.stats.filtered++;
    this.scheduler.schedule(t, this.outboundHandler, gateway, packet);
  }

  /**
   * TCP is modelled as reliable, so a segment a cut or a partition drops is sent again, as a
   * real sender would retransmit it: after TCP_MIN_RTO_MS, doubling up to TCP_MAX_RTO_MS, until
   * TCP_MAX_RETRANSMISSIONS (about 15 minutes, Linux's tcp_retries2). A connection across a
   * short partition stalls and then resumes; one across a long one stays stalled until its own
   * keep-alive gives up. SYNs are not resent: a connect has its own timeout.
   */
  private retransmitLater(packet: Packet, from: Node, fromChild: boolean, realm: Realm, nowMs: number): void {
    if (packet.protocol !== 'tcp' || (packet.tcpKind !== 'data' && packet.tcpKind !== 'fin')) return;
    const attempt = packet.tcpRetransmissions ?? 0;
    if (attempt >= TCP_MAX_RETRANSMISSIONS) return;
    packet.tcpRetransmissions = attempt + 1;
    const delayMs = Math.min(TCP_MAX_RTO_MS, TCP_MIN_RTO_MS * 2 ** attempt);
    this.scheduler.after(delayMs, () => this.forward(packet, from, fromChild, realm, nowMs + delayMs));
  }

  private isCut(packet: Packet): boolean {
    const src = addressToText(packet.srcAddress);
    const dst = addressToText(packet.dstAddress);
    return this.cuts.some((cut) => (cut.a === src && cut.b === dst) || (cut.a === dst && cut.b === src));
  }

  private outbound(gateway: Gateway, packet: Packet): void {
    if (!gateway.allowsOutbound(packet)) return void this.stats.filtered++;
    const table = packet.protocol === 'udp' ? gateway.udp : gateway.tcp;
    const now = this.scheduler.now();
    const externalPort = table.outbound(packet.srcAddress, packet.srcPort, packet.dstAddress, packet.dstPort, now);
    if (externalPort === null) return void this.stats.filtered++;
    packet.srcAddress = gateway.address;
    packet.srcPort = externalPort;
    if (packet.dstAddress === gateway.address) {
      // Hairpinning: the NAT turns the packet around to one of its own clients (RFC 4787 REQ-9).
      if (!gateway.behaviour.hairpinning) return void this.stats.filtered++;
      this.inbound(gateway, packet);
      return;
    }
    this.forward(packet, gateway, true, gateway.realm, now);
  }

  private inbound(gateway: Gateway, packet: Packet): void {
    if (!gateway.allowsInbound(packet)) return void this.stats.filtered++;
    const table = packet.protocol === 'udp' ? gateway.udp : gateway.tcp;
    const now = this.scheduler.now();
    const internal = table.inbound(packet.dstPort, packet.srcAddress, packet.srcPort, now);
    if (!internal) return void this.stats.filtered++;
    packet.dstAddress = internal.address;
    packet.dstPort = internal.port;
    this.forward(packet, gateway, false, gateway.inner, now);
  }

  private deliver(host: VirtualHost, packet: Packet): void {
    if (!host.up) return void this.stats.filtered++;
    if (host.refusesInbound && packet.tcpKind === 'syn' && packet.srcAddress !== host.address) return void this.stats.filtered++;
    this.stats.delivered++;
    host.bytesReceived += packet.sizeBytes;
    if (packet.protocol === 'udp') receiveUdp(host, packet);
    else receiveTcp(host, packet);
  }
}
