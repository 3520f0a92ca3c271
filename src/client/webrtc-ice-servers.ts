// A device's supernode as the STUN and TURN server of a WebRTC peer (libwebrtc here, the
// browser's RTCPeerConnection in the app): the same service Parley's own ICE agent uses, on the
// supernode's UDP port (and TURN over TCP on the port its link reached), with the credentials
// the supernode handed this device over its authenticated link. The scheme is the TURN REST API
// shape (docs/calls.md, "TURN credentials for WebRTC peers"): username "expiry:user:device",
// password base64(HMAC-SHA1(supernode secret, username)), realm "parley"; any standard client
// uses them as they are.
import type { Endpoint } from '../env/types.js';
import type { RtcIceServer } from '../media/rtc-peer.js';
import type { LocalNetwork } from './connector.js';

/** host:port, with an IPv6 address in brackets (RFC 7064 section 3.1). */
function hostPort(endpoint: Endpoint): string {
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

/**
 * The iceServers for a peer of this device: STUN on the supernode (over IPv6 too, when it is
 * dual-stack), and with credentials TURN over UDP, then over TCP (for networks that block UDP).
 * No `turns:`: a supernode's TLS certificate is its own, which a browser would not accept.
 */
export function iceServersFor(network: LocalNetwork): RtcIceServer[] {
  const stun = [`stun:${hostPort(network.server)}`, ...(network.server6 ? [`stun:${hostPort(network.server6)}`] : [])];
  const servers: RtcIceServer[] = [{ urls: stun }];
  if (network.turn) {
    const urls = [`turn:${hostPort(network.server)}?transport=udp`, ...(network.server6 ? [`turn:${hostPort(network.server6)}?transport=udp`] : []), ...(network.turnTcp ? [`turn:${hostPort(network.turnTcp)}?transport=tcp`] : [])];
    servers.push({ urls, username: network.turn.username, credential: network.turn.password });
  }
  return servers;
}
