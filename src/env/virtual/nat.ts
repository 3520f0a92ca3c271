// NAT behaviour as RFC 4787 defines it: how a NAT maps an internal endpoint to an external
// port (mapping), which remote endpoints may then send in (filtering), how long a mapping
// lives without traffic, and whether it turns packets between its own clients around
// (hairpinning). Pure logic: it is told the time, it holds no timers and no sockets.
import type { Random } from '../types.js';

/** RFC 4787 section 4.1 (mapping) and section 5 (filtering) behaviours. */
export type Dependence = 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent';

export type PortAllocation = 'preserve' | 'sequential' | 'random';

export interface NatBehaviour {
  readonly mapping: Dependence;
  readonly filtering: Dependence;
  readonly portAllocation: PortAllocation;
  /** A UDP mapping idle longer than this is gone (RFC 4787 REQ-5 asks for >= 2 min). */
  readonly udpMappingTimeoutMs: number;
  /** TCP mappings (RFC 5382 REQ-5: established >= 2 h 4 min). */
  readonly tcpMappingTimeoutMs: number;
  /** Whether inbound packets refresh a mapping (RFC 4787 REQ-6 makes it optional). */
  readonly inboundRefresh: boolean;
  /** Whether clients behind the NAT reach each other through its external address. */
  readonly hairpinning: boolean;
}

export type NatClass = 'full-cone' | 'address-restricted' | 'port-restricted' | 'symmetric';

const COMMON = {
  portAllocation: 'preserve',
  udpMappingTimeoutMs: 120_000,
  tcpMappingTimeoutMs: 7_440_000,
  inboundRefresh: false,
  hairpinning: true,
} as const;

/** The classic four classes (RFC 3489 names) in RFC 4787 terms. */
export const NAT_CLASSES: Readonly<Record<NatClass, NatBehaviour>> = {
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

export type Protocol = 'udp' | 'tcp';

interface Mapping {
  readonly externalPort: number;
  readonly internalAddress: number;
  readonly internalPort: number;
  readonly key: string;
  lastRefreshMs: number;
  /** Remote endpoints this mapping has sent to, keyed by filtering dependence; null for EIF. */
  readonly permissions: Set<number> | null;
}

const PORT_FIRST = 1024;
const PORT_COUNT = 65536 - PORT_FIRST;

/** A remote endpoint part of a key, by dependence. Address and port fit in 48 bits. */
function remotePart(dependence: Dependence, address: number, port: number): number {
  switch (dependence) {
    case 'endpoint-independent':
      return 0;
    case 'address-dependent':
      return address;
    case 'address-and-port-dependent':
      return address * 65536 + port;
  }
}

export interface InboundResult {
  readonly address: number;
  readonly port: number;
}

/** The mapping table of one NAT for one protocol. */
export class NatTable {
  private readonly byKey = new Map<string, Mapping>();
  private readonly byExternalPort = new Map<number, Mapping>();
  private nextPort: number;

  constructor(
    private readonly behaviour: NatBehaviour,
    private readonly protocol: Protocol,
    private readonly random: Random,
  ) {
    this.nextPort = PORT_FIRST + random.int(PORT_COUNT);
  }

  private timeoutMs(): number {
    return this.protocol === 'udp' ? this.behaviour.udpMappingTimeoutMs : this.behaviour.tcpMappingTimeoutMs;
  }

  get size(): number {
    return this.byExternalPort.size;
  }

  /** Forgets every mapping at once, as a NAT that reboots does: what came in through them is dropped. */
  clear(): void {
    this.byKey.clear();
    this.byExternalPort.clear();
  }

  private expired(mapping: Mapping, nowMs: number): boolean {
    return nowMs - mapping.lastRefreshMs > this.timeoutMs();
  }

  private remove(mapping: Mapping): void {
    this.byKey.delete(mapping.key);
    this.byExternalPort.delete(mapping.externalPort);
  }

  /**
   * A packet from an internal endpoint to a remote one leaves the NAT: returns the external
   * port it leaves from (creating or refreshing the mapping), or null when no port is free.
   */
  outbound(internalAddress: number, internalPort: number, remoteAddress: number, remotePort: number, nowMs: number): number | null {
    const key = `${internalAddress}:${internalPort}/${remotePart(this.behaviour.mapping, remoteAddress, remotePort)}`;
    let mapping = this.byKey.get(key);
    if (mapping && this.expired(mapping, nowMs)) {
      this.remove(mapping);
      mapping = undefined;
    }
    if (!mapping) {
      const externalPort = this.allocatePort(internalPort, nowMs);
      if (externalPort === null) return null;
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
  inbound(externalPort: number, remoteAddress: number, remotePort: number, nowMs: number): InboundResult | null {
    const mapping = this.byExternalPort.get(externalPort);
    if (!mapping) return null;
    if (this.expired(mapping, nowMs)) {
      this.remove(mapping);
      return null;
    }
    if (mapping.permissions && !mapping.permissions.has(remotePart(this.behaviour.filtering, remoteAddress, remotePort))) {
      return null;
    }
    if (this.behaviour.inboundRefresh) mapping.lastRefreshMs = nowMs;
    return { address: mapping.internalAddress, port: mapping.internalPort };
  }

  private portFree(port: number, nowMs: number): boolean {
    const holder = this.byExternalPort.get(port);
    if (!holder) return true;
    if (this.expired(holder, nowMs)) {
      this.remove(holder);
      return true;
    }
    return false;
  }

  private allocatePort(internalPort: number, nowMs: number): number | null {
    if (this.behaviour.portAllocation === 'preserve' && internalPort >= PORT_FIRST && this.portFree(internalPort, nowMs)) {
      return internalPort;
    }
    // Sequential (predictable, as many real symmetric NATs are) or random; both skip ports in use.
    for (let tries = 0; tries < PORT_COUNT; tries++) {
      const port =
        this.behaviour.portAllocation === 'random'
          ? PORT_FIRST + this.random.int(PORT_COUNT)
          : PORT_FIRST + ((this.nextPort - PORT_FIRST + tries) % PORT_COUNT);
      if (this.portFree(port, nowMs)) {
        if (this.behaviour.portAllocation !== 'random') this.nextPort = port + 1 >= 65536 ? PORT_FIRST : port + 1;
        return port;
      }
    }
    return null;
  }
}
