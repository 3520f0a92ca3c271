// The places a device can be, on the virtual network, for the connectivity matrix: public, the
// four classic NATs, the two firewalls, a NAT behind a carrier NAT, and a LAN that two devices
// share. Each placement puts a host where it says.
import type { VirtualHost, VirtualNetwork, Gateway } from '../../src/env/virtual/index.js';

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
