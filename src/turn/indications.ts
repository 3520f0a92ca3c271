// Send and Data indications (RFC 8656 sections 11 and 12): a peer's address and the bytes for it
// or from it, in one STUN indication. The client sends Send, the server sends Data; nothing
// answers either.
import type { Endpoint } from '../env/types.js';
import { Attr, StunClass, StunMethod, encodeAddress, encodeStun } from '../stun/stun.js';

export function encodePeerIndication(method: typeof StunMethod.SEND | typeof StunMethod.DATA, transactionId: Uint8Array, peer: Endpoint, data: Uint8Array): Uint8Array {
  return encodeStun({
    method,
    cls: StunClass.INDICATION,
    transactionId,
    attributes: [
      // XORed with the transaction id too when the peer is IPv6.
      { type: Attr.XOR_PEER_ADDRESS, value: encodeAddress(peer, true, transactionId) },
      { type: Attr.DATA, value: data },
    ],
    classic: false,
  });
}
