// Dial-back: a supernode connects back to a node that asked, at the address its link comes
// from, proving the node can be reached there by anyone (no NAT or firewall in the way). A
// client that may become a supernode also sends an upload probe over that connection, so the
// checker measures its upload rate instead of taking its word for it.
import { create } from '@bufbuild/protobuf';
import { connectSecure } from '../crypto/secure-link.js';
import { DataSchema } from '../wire/messages.js';
/** Bytes of the upload probe: enough to see a rate beyond the first round trip, small enough to be cheap. */
export const PROBE_BYTES = 64 * 1024;
const PROBE_CHUNK_BYTES = 8 * 1024;
/** `Data.channel` of probe chunks. */
export const PROBE_CHANNEL = 0x70726f62; // "prob"
export const DEFAULT_DIAL_BACK_TIMEOUT_MS = 5_000;
/** What a probe this size can tell apart on a fast path; faster links report this. */
export const MAX_MEASURED_KBPS = 1_000_000;
/** Connects back to `target` (IK with its key); with `measureUpload`, waits for its probe and times it. */
export async function dialBack(env, config, target, measureUpload, timeoutMs = DEFAULT_DIAL_BACK_TIMEOUT_MS) {
    let link;
    try {
        link = await connectSecure(env, { host: target.host, port: target.port, config: { ...config, remoteStaticKey: target.dhKey }, connectTimeoutMs: timeoutMs, handshakeTimeoutMs: timeoutMs });
    }
    catch (error) {
        return { reachable: false, detail: `could not connect back to ${target.host}:${target.port}: ${error.message}` };
    }
    if (!measureUpload) {
        link.close();
        return { reachable: true, uploadKbps: 0 };
    }
    return new Promise((resolve) => {
        let received = 0;
        let firstChunkBytes = 0;
        let firstAtMs = 0;
        const finish = (outcome) => {
            timer.cancel();
            resolve(outcome);
            link.close();
        };
        // A slow link still gets a figure: what arrived in the time allowed.
        const rate = () => {
            const elapsedMs = env.clock.now() - firstAtMs;
            return elapsedMs > 0 ? Math.min(MAX_MEASURED_KBPS, ((received - firstChunkBytes) * 8) / elapsedMs) : MAX_MEASURED_KBPS;
        };
        const timer = env.clock.after(timeoutMs, () => finish(received > firstChunkBytes ? { reachable: true, uploadKbps: rate() } : { reachable: false, detail: `no upload probe within ${timeoutMs} ms (${received} bytes)` }));
        link.onClose(() => finish({ reachable: false, detail: `the node closed the dial-back after ${received} probe bytes` }));
        link.onMessage((envelope) => {
            if (envelope.body.case !== 'data' || envelope.body.value.channel !== PROBE_CHANNEL)
                return;
            const size = envelope.body.value.payload.byteLength;
            if (received === 0) {
                firstAtMs = env.clock.now();
                firstChunkBytes = size;
            }
            received += size;
            if (received < PROBE_BYTES)
                return;
            // Timed from the first chunk's arrival, so the path's latency is not counted as slowness.
            finish({ reachable: true, uploadKbps: rate() });
        });
    });
}
/** The checked node's side: sends the upload probe over a dial-back link. */
export function sendUploadProbe(link) {
    for (let sent = 0; sent < PROBE_BYTES; sent += PROBE_CHUNK_BYTES) {
        link.send({ case: 'data', value: create(DataSchema, { channel: PROBE_CHANNEL, payload: new Uint8Array(PROBE_CHUNK_BYTES) }) });
    }
}
//# sourceMappingURL=dial-back.js.map