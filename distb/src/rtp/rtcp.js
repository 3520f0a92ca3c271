// RTCP sender and receiver reports (RFC 3550 section 6.4), multiplexed with RTP on one path
// (RFC 5761: packet types 200-204 sit where RTP payload types 72-76 would, which Parley does
// not use). A report block tells the sender what its receiver saw: loss, jitter, and, through
// the last sender report's time and the delay since, the round trip.
import { err, ok } from '../result.js';
export const RTCP_SR = 200;
export const RTCP_RR = 201;
/** Whether a datagram on an RTP path is RTCP (RFC 5761 section 4). */
export function isRtcp(bytes) {
    return bytes.length >= 8 && bytes[0] >> 6 === 2 && bytes[1] >= 200 && bytes[1] <= 204;
}
export function encodeReport(report) {
    const blocks = report.blocks.slice(0, 31);
    const length = 8 + (report.sender ? 20 : 0) + 24 * blocks.length;
    const out = new Uint8Array(length);
    const view = new DataView(out.buffer);
    out[0] = 0x80 | blocks.length;
    out[1] = report.sender ? RTCP_SR : RTCP_RR;
    view.setUint16(2, length / 4 - 1);
    view.setUint32(4, report.ssrc >>> 0);
    let at = 8;
    if (report.sender) {
        const s = report.sender;
        view.setUint32(at, s.ntpSeconds >>> 0);
        view.setUint32(at + 4, s.ntpFraction >>> 0);
        view.setUint32(at + 8, s.rtpTimestamp >>> 0);
        view.setUint32(at + 12, s.packetCount >>> 0);
        view.setUint32(at + 16, s.octetCount >>> 0);
        at += 20;
    }
    for (const b of blocks) {
        view.setUint32(at, b.ssrc >>> 0);
        view.setUint32(at + 4, ((Math.min(255, Math.max(0, b.fractionLost)) << 24) | (Math.min(0x7fffff, Math.max(0, b.cumulativeLost)) & 0xffffff)) >>> 0);
        view.setUint32(at + 8, b.highestSequence >>> 0);
        view.setUint32(at + 12, b.jitter >>> 0);
        view.setUint32(at + 16, b.lastSr >>> 0);
        view.setUint32(at + 20, b.delaySinceLastSr >>> 0);
        at += 24;
    }
    return out;
}
/** The first SR or RR of a (compound) RTCP packet; other packet types are skipped. */
export function decodeReport(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    while (at + 8 <= bytes.length) {
        if (bytes[at] >> 6 !== 2)
            return err({ code: 'bad_version', message: `RTCP version ${bytes[at] >> 6}` });
        const count = bytes[at] & 0x1f;
        const type = bytes[at + 1];
        const length = (view.getUint16(at + 2) + 1) * 4;
        if (at + length > bytes.length)
            return err({ code: 'truncated', message: 'an RTCP packet is cut off' });
        if (type === RTCP_SR || type === RTCP_RR) {
            const senderBytes = type === RTCP_SR ? 20 : 0;
            if (length < 8 + senderBytes + 24 * count)
                return err({ code: 'truncated', message: 'report blocks are cut off' });
            let p = at + 8;
            const sender = type === RTCP_SR ? { ntpSeconds: view.getUint32(p), ntpFraction: view.getUint32(p + 4), rtpTimestamp: view.getUint32(p + 8), packetCount: view.getUint32(p + 12), octetCount: view.getUint32(p + 16) } : null;
            p += senderBytes;
            const blocks = [];
            for (let i = 0; i < count; i++, p += 24) {
                const word = view.getUint32(p + 4);
                blocks.push({ ssrc: view.getUint32(p), fractionLost: word >>> 24, cumulativeLost: word & 0xffffff, highestSequence: view.getUint32(p + 8), jitter: view.getUint32(p + 12), lastSr: view.getUint32(p + 16), delaySinceLastSr: view.getUint32(p + 20) });
            }
            return ok({ ssrc: view.getUint32(at + 4), sender, blocks });
        }
        at += length;
    }
    return err({ code: 'not_a_report', message: 'no sender or receiver report' });
}
/** NTP time (RFC 5905: seconds since 1900) of a Unix-epoch millisecond time, as two 32-bit words. */
export function ntpOf(wallTimeMs) {
    const seconds = Math.floor(wallTimeMs / 1000) + 2_208_988_800;
    const fraction = Math.floor(((wallTimeMs % 1000) / 1000) * 2 ** 32);
    return { seconds: seconds >>> 0, fraction: fraction >>> 0 };
}
/** The middle 32 bits of an NTP time: what a report block's LSR echoes. */
export function middleOf(ntp) {
    return (((ntp.seconds & 0xffff) << 16) | (ntp.fraction >>> 16)) >>> 0;
}
//# sourceMappingURL=rtcp.js.map