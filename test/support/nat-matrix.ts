// The places a device can be, on the virtual network, for the connectivity matrix: public, the
// four classic NATs, the two firewalls, a NAT behind a carrier NAT, and a LAN that two devices
// share. Each placement puts a host where it says.
import type { VirtualHost, VirtualNetwork, Gateway } from '../../src/env/virtual/index.js';
import type { PathKind } from '../../src/ice/ice-agent.js';

export const PLACEMENTS = ['public', 'full-cone', 'address-restricted', 'port-restricted', 'symmetric', 'udp-blocked', 'web-only', 'double-nat', 'same-lan'] as const;
export type Placement = (typeof PLACEMENTS)[number];

/** Per hop: a host's link and a gateway's link each add this one way. */
export const HOP_MS = 5;

export function place(network: VirtualNetwork, placement: Placement, lan: () => Gateway): VirtualHost {
  const link = { latencyMs: HOP_MS };
  switch (placement) {
    case 'public':
      return network.addHost({ link });
    case 'udp-blocked':
    case 'web-only':
      return network.addHost({ link, behind: network.addGateway({ nat: 'port-restricted', firewall: placement, link }) });
    case 'double-nat': {
      const carrier = network.addGateway({ nat: 'port-restricted', link });
      return network.addHost({ link, behind: network.addGateway({ nat: 'port-restricted', behind: carrier, link }) });
    }
    case 'same-lan':
      return network.addHost({ link, behind: lan() });
    default:
      return network.addHost({ link, behind: network.addGateway({ nat: placement, link }) });
  }
}

/** UDP cannot leave these: they reach the relay over TCP (web-only: on port 443). */
export const UDP_LESS = new Set<Placement>(['udp-blocked', 'web-only']);
/** Endpoint-dependent mapping: the other side must accept whatever port shows up. */
const SYMMETRIC = new Set<Placement>(['symmetric']);
/** Filters by address and port: only the exact endpoint it sent to gets in. */
const PORT_FILTERING = new Set<Placement>(['port-restricted', 'double-nat', 'same-lan', 'symmetric']);

/** The best path each pair can have. */
export function bestPath(a: Placement, b: Placement): PathKind {
  if (UDP_LESS.has(a) || UDP_LESS.has(b)) return 'relayed-tcp';
  // One end public (its own address is reachable), or both on one LAN: nothing to punch.
  if (a === 'public' || b === 'public') return 'direct';
  if (a === 'same-lan' && b === 'same-lan') return 'direct';
  // A symmetric NAT's port towards the other side is unknown in advance: the other side must let in an unknown port.
  if ((SYMMETRIC.has(a) && PORT_FILTERING.has(b)) || (SYMMETRIC.has(b) && PORT_FILTERING.has(a))) return 'relayed-udp';
  return 'hole-punched';
}

