// An IP packet on the virtual network, as the network routes it and a host's sockets read it.
// A file of its own so that the network (network.ts) and the hosts' sockets (host-net.ts) both
// import it and neither imports the other's module for it.
import type { Protocol } from './nat.js';

export type TcpSegmentKind = 'syn' | 'synack' | 'data' | 'fin' | 'rst';

export interface Packet {
  readonly protocol: Protocol;
  srcAddress: number;
  srcPort: number;
  dstAddress: number;
  dstPort: number;
  readonly sizeBytes: number;
  readonly payload: Uint8Array | null;
  readonly tcpKind: TcpSegmentKind | null;
  readonly tcpSeq: number;
  /** Times the network sent this TCP segment again after a cut or partition dropped it (see network.ts). */
  tcpRetransmissions?: number;
}
