// Amplification of unauthenticated requests to a supernode's STUN/TURN port (issue 19): for each
// kind, the answer to one request (bytes out / bytes in), and over a flood from one source (100
// of each kind per second for 10 s), where the reply budget holds the ratio under 1. Virtual
// network: exact byte counts, no real packets.
import { VirtualNetwork } from '../src/env/virtual/index.js';
import { Attr, StunClass, StunMethod, decodeStun, encodeStun, type StunAttribute } from '../src/stun/stun.js';
import { startStunService } from '../src/supernode/stun-service.js';

export interface AmplificationResult {
  readonly kind: string;
  readonly requestBytes: number;
  /** The answer to one request, alone. */
  readonly singleRatio: number;
  /** Bytes back / bytes sent over the flood. */
  readonly floodRatio: number;
}

const KINDS: readonly { kind: string; method: number; attributes: StunAttribute[] }[] = [
  { kind: 'Binding', method: StunMethod.BINDING, attributes: [] },
  { kind: 'Allocate without credentials (401)', method: StunMethod.ALLOCATE, attributes: [{ type: Attr.REQUESTED_TRANSPORT, value: Uint8Array.of(17, 0, 0, 0) }] },
  { kind: 'Refresh without credentials (401)', method: StunMethod.REFRESH, attributes: [] },
  { kind: 'unknown method (400)', method: 0x00f, attributes: [] },
  { kind: 'unknown attribute (420)', method: StunMethod.ALLOCATE, attributes: [{ type: 0x7ff0, value: Uint8Array.of(1, 2, 3, 4) }] },
];
const FLOOD_SECONDS = 10;
const PER_SECOND = 100;

export async function benchAmplification(): Promise<AmplificationResult[]> {
  const results: AmplificationResult[] = [];
  for (const [index, { kind, method, attributes }] of KINDS.entries()) {
    // A fresh server per kind, so that one kind's flood does not spend another's budget.
    const network = new VirtualNetwork(19 + index);
    const drive = <T>(work: Promise<T>) => network.scheduler.drive(work);
    const elapse = (ms: number) => drive(new Promise<void>((resolve) => network.scheduler.after(ms, resolve)));
    const sn = network.addHost({ link: { latencyMs: 5 } });
    const server = { host: sn.addressText, port: 3478 };
    const service = await drive(startStunService(sn.env(), { port: 3478, advertisedHost: sn.addressText }));
    const socket = await drive(network.addHost({ link: { latencyMs: 5 } }).env().net.bindUdp({ port: 5000 }));
    const answers: number[] = [];
    socket.onMessage((bytes) => {
      if (decodeStun(bytes).ok) answers.push(bytes.byteLength);
    });
    let serial = 0;
    const send = () => {
      const transactionId = new Uint8Array(12);
      new DataView(transactionId.buffer).setUint32(8, ++serial);
      const request = encodeStun({ method, cls: StunClass.REQUEST, transactionId, attributes, classic: false });
      socket.send(request, server);
      return request.byteLength;
    };
    const requestBytes = send();
    await elapse(100);
    const single = answers[0] ?? 0;
    let sent = 0;
    for (let i = 0; i < FLOOD_SECONDS * PER_SECOND; i++) {
      sent += send();
      await elapse(1000 / PER_SECOND);
    }
    await elapse(100);
    results.push({ kind, requestBytes, singleRatio: single / requestBytes, floodRatio: (answers.reduce((a, b) => a + b, 0) - single) / sent });
    socket.close();
    service.close();
  }
  return results;
}
