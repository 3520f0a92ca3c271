const COMMON = {
    portAllocation: 'preserve',
    udpMappingTimeoutMs: 120_000,
    tcpMappingTimeoutMs: 7_440_000,
    inboundRefresh: false,
    hairpinning: true,
};
/** The classic four classes (RFC 3489 names) in RFC 4787 terms. */
export const NAT_CLASSES = {
    'full-cone': { ...COMMON, mapping: 'endpoint-independent', filtering: 'endpoint-independent' },
    'address-restricted': { ...COMMON, mapping: 'endpoint-independent', filtering: 'address-dependent' },
    'port-restricted': { ...COMMON, mapping: 'endpoint-independent', filtering: 'address-and-port-dependent' },
    symmetric: {
        ...COMMON,
        mapping: 'address-and-port-dependent',
        filtering: 'address-and-port-dependent',
        portAllocation: 'sequential',
    },
};
const PORT_FIRST = 1024;
const PORT_COUNT = 65536 - PORT_FIRST;
/** A remote endpoint part of a key, by dependence. Address and port fit in 48 bits. */
function remotePart(dependence, address, port) {
    switch (dependence) {
        case 'endpoint-independent':
            return 0;
        case 'address-dependent':
            return address;
        case 'address-and-port-dependent':
            return address * 65536 + port;
    }
}
/** The mapping table of one NAT for one protocol. */
export class NatTable {
    behaviour;
    protocol;
    random;
    byKey = new Map();
    byExternalPort = new Map();
    nextPort;
    constructor(behaviour, protocol, random) {
        this.behaviour = behaviour;
        this.protocol = protocol;
        this.random = random;
        this.nextPort = PORT_FIRST + random.int(PORT_COUNT);
    }
    timeoutMs() {
        return this.protocol === 'udp' ? this.behaviour.udpMappingTimeoutMs : this.behaviour.tcpMappingTimeoutMs;
    }
    get size() {
        return this.byExternalPort.size;
    }
    expired(mapping, nowMs) {
        return nowMs - mapping.lastRefreshMs > this.timeoutMs();
    }
    remove(mapping) {
        this.byKey.delete(mapping.key);
        this.byExternalPort.delete(mapping.externalPort);
    }
    /**
     * A packet from an internal endpoint to a remote one leaves the NAT: returns the external
     * port it leaves from (creating or refreshing the mapping), or null when no port is free.
     */
    outbound(internalAddress, internalPort, remoteAddress, remotePort, nowMs) {
        const key = `${internalAddress}:${internalPort}/${remotePart(this.behaviour.mapping, remoteAddress, remotePort)}`;
        let mapping = this.byKey.get(key);
        if (mapping && this.expired(mapping, nowMs)) {
            this.remove(mapping);
            mapping = undefined;
        }
        if (!mapping) {
            const externalPort = this.allocatePort(internalPort, nowMs);
            if (externalPort === null)
                return null;
            mapping = {
                externalPort,
                internalAddress,
                internalPort,
                key,
                lastRefreshMs: nowMs,
                permissions: this.behaviour.filtering === 'endpoint-independent' ? null : new Set(),
            };
            this.byKey.set(key, mapping);
            this.byExternalPort.set(externalPort, mapping);
        }
        mapping.lastRefreshMs = nowMs;
        mapping.permissions?.add(remotePart(this.behaviour.filtering, remoteAddress, remotePort));
        return mapping.externalPort;
    }
    /** A packet from a remote endpoint reaches an external port: where it goes, or null (dropped). */
    inbound(externalPort, remoteAddress, remotePort, nowMs) {
        const mapping = this.byExternalPort.get(externalPort);
        if (!mapping)
            return null;
        if (this.expired(mapping, nowMs)) {
            this.remove(mapping);
            return null;
        }
        if (mapping.permissions && !mapping.permissions.has(remotePart(this.behaviour.filtering, remoteAddress, remotePort))) {
            return null;
        }
        if (this.behaviour.inboundRefresh)
            mapping.lastRefreshMs = nowMs;
        return { address: mapping.internalAddress, port: mapping.internalPort };
    }
    portFree(port, nowMs) {
        const holder = this.byExternalPort.get(port);
        if (!holder)
            return true;
        if (this.expired(holder, nowMs)) {
            this.remove(holder);
            return true;
        }
        return false;
    }
    allocatePort(internalPort, nowMs) {
        if (this.behaviour.portAllocation === 'preserve' && internalPort >= PORT_FIRST && this.portFree(internalPort, nowMs)) {
            return internalPort;
        }
        // Sequential (predictable, as many real symmetric NATs are) or random; both skip ports in use.
        for (let tries = 0; tries < PORT_COUNT; tries++) {
            const port = this.behaviour.portAllocation === 'random'
                ? PORT_FIRST + this.random.int(PORT_COUNT)
                : PORT_FIRST + ((this.nextPort - PORT_FIRST + tries) % PORT_COUNT);
            if (this.portFree(port, nowMs)) {
                if (this.behaviour.portAllocation !== 'random')
                    this.nextPort = port + 1 >= 65536 ? PORT_FIRST : port + 1;
                return port;
            }
        }
        return null;
    }
}
//# sourceMappingURL=nat.js.map