import { SeededRandom } from '../prng.js';
import { addressToText, textToAddress } from './address.js';
import { NAT_CLASSES, NatTable } from './nat.js';
import { Scheduler } from './scheduler.js';
import { VirtualNet, receiveTcp, receiveUdp } from './host-net.js';
export const DEFAULT_LINK = Object.freeze({
    latencyMs: 10,
    jitterMs: 0,
    lossRate: 0,
    bandwidthBps: 0,
    queueLimitMs: 500,
});
/** Per-direction queue state, only for links with a bandwidth limit. */
class LinkQueue {
    upFreeAtMs = 0;
    downFreeAtMs = 0;
}
class Node {
    network;
    address;
    realm;
    link;
    linkQueue;
    constructor(network, address, realm, link) {
        this.network = network;
        this.address = address;
        this.realm = realm;
        this.link = link;
        this.linkQueue = link.bandwidthBps > 0 ? new LinkQueue() : null;
    }
    get addressText() {
        return addressToText(this.address);
    }
}
export class VirtualHost extends Node {
    seed;
    kind = 'host';
    up = true;
    /**
     * A host firewall that drops new inbound TCP connections (SYNs) while the host's own
     * connections go on working: how a reachable machine becomes unreachable without going down.
     */
    refusesInbound = false;
    /** Bytes on the wire (IP packets, headers included), for traffic measurements. */
    bytesSent = 0;
    bytesReceived = 0;
    udpSockets = null;
    tcpListeners = null;
    tcpConnections = null;
    nextEphemeralPort = 49152;
    netInstance = null;
    randomInstance = null;
    constructor(network, address, realm, link, seed) {
        super(network, address, realm, link);
        this.seed = seed;
    }
    get net() {
        return (this.netInstance ??= new VirtualNet(this));
    }
    get random() {
        return (this.randomInstance ??= new SeededRandom(this.seed));
    }
    /** The environment a node running on this host is given. */
    env() {
        return { clock: this.network.scheduler, random: this.random, net: this.net };
    }
    get clock() {
        return this.network.scheduler;
    }
    send(packet) {
        this.network.send(this, packet);
    }
    /**
     * Simulates the host's process being killed (SIGKILL) while the machine stays up: its kernel
     * closes every TCP connection with a FIN, so peers see their links close at once; its ports
     * are closed (a new connection is reset at once; datagrams, the TURN relays' among them, go
     * nowhere). A crash (`crash`) says nothing at all. The code that ran there must be stopped
     * too (its timers): close it right after.
     */
    kill() {
        for (const connection of [...(this.tcpConnections?.values() ?? [])])
            connection.close();
        this.udpSockets = null;
        this.tcpListeners = null;
        this.tcpConnections = null;
    }
    /** Simulates a crash: every socket is gone at once, without FIN or RST. */
    crash() {
        this.up = false;
        this.udpSockets = null;
        this.tcpListeners = null;
        this.tcpConnections = null;
    }
}
export class Gateway extends Node {
    behaviour;
    firewall;
    kind = 'gateway';
    inner;
    udp;
    tcp;
    constructor(network, address, realm, link, behaviour, firewall, random) {
        super(network, address, realm, link);
        this.behaviour = behaviour;
        this.firewall = firewall;
        this.inner = { owner: this, nodes: new Map(), nextAddress: PRIVATE_FIRST };
        this.udp = new NatTable(behaviour, 'udp', random);
        this.tcp = new NatTable(behaviour, 'tcp', random);
    }
    /** Whether the firewall lets this packet leave. */
    allowsOutbound(packet) {
        if (this.firewall === 'none')
            return true;
        if (packet.protocol === 'udp')
            return false;
        return this.firewall === 'udp-blocked' || packet.dstPort === 80 || packet.dstPort === 443;
    }
    allowsInbound(packet) {
        return this.firewall === 'none' || packet.protocol === 'tcp';
    }
}
const PUBLIC_FIRST = textToAddress('20.0.0.1');
const PRIVATE_FIRST = textToAddress('10.0.0.2');
export class VirtualNetwork {
    seed;
    scheduler;
    random;
    internet = { owner: null, nodes: new Map(), nextAddress: PUBLIC_FIRST };
    stats = { sent: 0, delivered: 0, lost: 0, filtered: 0 };
    hosts = [];
    /**
     * A cut in the network for tests: packets between two addresses (as they travel the realm
     * where the cut is, so NATed hosts are named by their gateway's address) are dropped while it
     * holds. How a path dies while others live on.
     */
    cuts = [];
    /** Loss a test adds to a node's link from now on (a link going bad mid-run), on top of its spec. */
    impairments = new Map();
    // Bound once, so scheduling an event allocates no closure.
    deliverHandler = (host, packet) => this.deliver(host, packet);
    inboundHandler = (gateway, packet) => this.inbound(gateway, packet);
    outboundHandler = (gateway, packet) => this.outbound(gateway, packet);
    constructor(seed, options = {}) {
        this.seed = seed;
        this.scheduler = new Scheduler(options.epochMs);
        this.random = new SeededRandom(seed);
    }
    realmFor(behind) {
        return behind ? behind.inner : this.internet;
    }
    claimAddress(realm, requested) {
        let address;
        if (requested !== undefined) {
            const parsed = textToAddress(requested);
            if (parsed === null)
                throw new Error(`not an IPv4 address: ${requested}`);
            address = parsed;
        }
        else {
            while (realm.nodes.has(realm.nextAddress))
                realm.nextAddress++;
            address = realm.nextAddress++;
        }
        if (realm.nodes.has(address))
            throw new Error(`address ${addressToText(address)} is taken`);
        return address;
    }
    linkFrom(partial) {
        return partial ? Object.freeze({ ...DEFAULT_LINK, ...partial }) : DEFAULT_LINK;
    }
    addHost(options = {}) {
        const realm = this.realmFor(options.behind);
        const address = this.claimAddress(realm, options.address);
        const host = new VirtualHost(this, address, realm, this.linkFrom(options.link), this.random.nextUint32());
        realm.nodes.set(address, host);
        this.hosts.push(host);
        return host;
    }
    addGateway(options = {}) {
        const realm = this.realmFor(options.behind);
        const address = this.claimAddress(realm, options.address);
        const base = typeof options.nat === 'object' ? options.nat : NAT_CLASSES[options.nat ?? 'port-restricted'];
        const behaviour = { ...base, ...options.natOverrides };
        const gateway = new Gateway(this, address, realm, this.linkFrom(options.link), behaviour, options.firewall ?? 'none', this.random.fork());
        realm.nodes.set(address, gateway);
        return gateway;
    }
    /** From now on, `node`'s link loses `lossRate` of its datagrams more than its spec says (0: as built). */
    impair(node, lossRate) {
        if (lossRate > 0)
            this.impairments.set(node, lossRate);
        else
            this.impairments.delete(node);
    }
    /** Time when a packet that enters `node`'s link now comes out, or -1 if it is lost. */
    cross(node, upward, packet, startMs) {
        const link = node.link;
        const lossRate = this.impairments.size === 0 ? link.lossRate : link.lossRate + (this.impairments.get(node) ?? 0);
        if (lossRate > 0 && packet.protocol === 'udp' && this.random.float() < lossRate)
            return -1;
        let departMs = startMs;
        const queue = node.linkQueue;
        if (queue) {
            const freeAt = upward ? queue.upFreeAtMs : queue.downFreeAtMs;
            // A full queue drops datagrams; TCP, modelled as reliable, is paced by its congestion
            // control rather than lost, so its segments wait their turn.
            if (freeAt - startMs > link.queueLimitMs && packet.protocol === 'udp')
                return -1;
            departMs = Math.max(startMs, freeAt) + (packet.sizeBytes * 8000) / link.bandwidthBps;
            if (upward)
                queue.upFreeAtMs = departMs;
            else
                queue.downFreeAtMs = departMs;
        }
        return departMs + link.latencyMs + (link.jitterMs > 0 ? this.random.float() * link.jitterMs : 0);
    }
    send(from, packet) {
        this.stats.sent++;
        if (!from.up)
            return;
        from.bytesSent += packet.sizeBytes;
        if (packet.dstAddress === from.address) {
            this.scheduler.schedule(this.scheduler.now(), this.deliverHandler, from, packet);
            return;
        }
        this.forward(packet, from, true, from.realm, this.scheduler.now());
    }
    /**
     * Moves a packet within `realm`: to the node that holds its destination address, or up to the
     * realm's gateway. `fromChild` says whether `from` sits in the realm (its link is crossed
     * upward) or is the realm's own gateway sending inward.
     */
    forward(packet, from, fromChild, realm, nowMs) {
        if (this.cuts.length > 0 && this.isCut(packet))
            return void this.stats.filtered++;
        const target = realm.nodes.get(packet.dstAddress);
        let t = nowMs;
        if (fromChild) {
            t = this.cross(from, true, packet, t);
            if (t < 0)
                return void this.stats.lost++;
        }
        if (target) {
            t = this.cross(target, false, packet, t);
            if (t < 0)
                return void this.stats.lost++;
            if (target.kind === 'host')
                this.scheduler.schedule(t, this.deliverHandler, target, packet);
            else
                this.scheduler.schedule(t, this.inboundHandler, target, packet);
            return;
        }
        const gateway = realm.owner;
        if (!gateway || !fromChild)
            return void this.stats.filtered++;
        this.scheduler.schedule(t, this.outboundHandler, gateway, packet);
    }
    isCut(packet) {
        const src = addressToText(packet.srcAddress);
        const dst = addressToText(packet.dstAddress);
        return this.cuts.some((cut) => (cut.a === src && cut.b === dst) || (cut.a === dst && cut.b === src));
    }
    outbound(gateway, packet) {
        if (!gateway.allowsOutbound(packet))
            return void this.stats.filtered++;
        const table = packet.protocol === 'udp' ? gateway.udp : gateway.tcp;
        const now = this.scheduler.now();
        const externalPort = table.outbound(packet.srcAddress, packet.srcPort, packet.dstAddress, packet.dstPort, now);
        if (externalPort === null)
            return void this.stats.filtered++;
        packet.srcAddress = gateway.address;
        packet.srcPort = externalPort;
        if (packet.dstAddress === gateway.address) {
            // Hairpinning: the NAT turns the packet around to one of its own clients (RFC 4787 REQ-9).
            if (!gateway.behaviour.hairpinning)
                return void this.stats.filtered++;
            this.inbound(gateway, packet);
            return;
        }
        this.forward(packet, gateway, true, gateway.realm, now);
    }
    inbound(gateway, packet) {
        if (!gateway.allowsInbound(packet))
            return void this.stats.filtered++;
        const table = packet.protocol === 'udp' ? gateway.udp : gateway.tcp;
        const now = this.scheduler.now();
        const internal = table.inbound(packet.dstPort, packet.srcAddress, packet.srcPort, now);
        if (!internal)
            return void this.stats.filtered++;
        packet.dstAddress = internal.address;
        packet.dstPort = internal.port;
        this.forward(packet, gateway, false, gateway.inner, now);
    }
    deliver(host, packet) {
        if (!host.up)
            return void this.stats.filtered++;
        if (host.refusesInbound && packet.tcpKind === 'syn' && packet.srcAddress !== host.address)
            return void this.stats.filtered++;
        this.stats.delivered++;
        host.bytesReceived += packet.sizeBytes;
        if (packet.protocol === 'udp')
            receiveUdp(host, packet);
        else
            receiveTcp(host, packet);
    }
}
//# sourceMappingURL=network.js.map