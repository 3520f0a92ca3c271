export const PLACEMENTS = ['public', 'full-cone', 'address-restricted', 'port-restricted', 'symmetric', 'udp-blocked', 'web-only', 'double-nat', 'same-lan'];
/** Per hop: a host's link and a gateway's link each add this one way. */
export const HOP_MS = 5;
export function place(network, placement, lan) {
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
export const UDP_LESS = new Set(['udp-blocked', 'web-only']);
/** Endpoint-dependent mapping: the other side must accept whatever port shows up. */
const SYMMETRIC = new Set(['symmetric']);
/** Filters by address and port: only the exact endpoint it sent to gets in. */
const PORT_FILTERING = new Set(['port-restricted', 'double-nat', 'same-lan', 'symmetric']);
/** The best path each pair can have. */
export function bestPath(a, b) {
    if (UDP_LESS.has(a) || UDP_LESS.has(b))
        return 'relayed-tcp';
    // One end public (its own address is reachable), or both on one LAN: nothing to punch.
    if (a === 'public' || b === 'public')
        return 'direct';
    if (a === 'same-lan' && b === 'same-lan')
        return 'direct';
    // A symmetric NAT's port towards the other side is unknown in advance: the other side must let in an unknown port.
    if ((SYMMETRIC.has(a) && PORT_FILTERING.has(b)) || (SYMMETRIC.has(b) && PORT_FILTERING.has(a)))
        return 'relayed-udp';
    return 'hole-punched';
}
//# sourceMappingURL=nat-matrix.js.map