import { every } from '../env/every.js';
import { decodeReport, encodeReport, middleOf, ntpOf } from '../rtp/rtcp.js';
import { SrtcpReceiver, SrtcpSender } from '../rtp/srtp.js';
export const REPORT_INTERVAL_MS = 1_000;
export const MIN_BITRATE = 12_000;
export const MAX_BITRATE = 40_000;
/**
 * The bitrate a sender should use after a report: down by a fifth when more than 10% is lost,
 * held between 3% and 10%, up by a twentieth when the path is clean.
 */
export function nextBitrate(current, lossPercent) {
    const next = lossPercent > 10 ? current * 0.8 : lossPercent > 3 ? current : current * 1.05;
    return Math.round(Math.min(MAX_BITRATE, Math.max(MIN_BITRATE, next)));
}
/**
 * ITU-T G.107's E-model, simplified for one codec: R = 93.2 − Id − Ie,eff, with Id from the
 * one-way delay and Ie,eff = Ie + (95 − Ie)·Ppl / (Ppl + Bpl). For Opus with its concealment
 * we take Ie = 0 at 24 kbit/s and above (11 at 12 kbit/s, linear between) and Bpl = 20, figures
 * in the range published for wideband codecs with PLC; the estimate is for comparing calls, not
 * a listening test.
 */
export function estimateMos(oneWayDelayMs, lossPercent, bitrate) {
    const d = Math.max(0, oneWayDelayMs);
    const id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
    const ie = bitrate >= 24_000 ? 0 : Math.min(11, (11 * (24_000 - bitrate)) / 12_000);
    const ieEff = ie + ((95 - ie) * lossPercent) / (lossPercent + 20);
    const r = Math.max(0, Math.min(100, 93.2 - id - ieEff));
    return 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
}
export class CallQuality {
    clock;
    path;
    sender;
    receiver;
    srtcpOut;
    srtcpIn;
    timer = null;
    /** The last sender report from the other side: its NTP middle word and when it came. */
    lastSr = null;
    figures = { lossPercent: 0, rttMs: null, remoteJitterMs: 0, reportsReceived: 0 };
    refused = 0;
    constructor(clock, path, ourKey, theirKey, sender, receiver) {
        this.clock = clock;
        this.path = path;
        this.sender = sender;
        this.receiver = receiver;
        this.srtcpOut = new SrtcpSender(ourKey.key, ourKey.salt);
        this.srtcpIn = new SrtcpReceiver(theirKey.key, theirKey.salt);
    }
    start() {
        this.timer ??= every(this.clock, REPORT_INTERVAL_MS, this.clock.now() + REPORT_INTERVAL_MS, () => this.report());
    }
    report() {
        const ntp = ntpOf(this.clock.wallTimeMs());
        const seen = this.receiver.receptionReport();
        const blocks = seen
            ? [{ ...seen, lastSr: this.lastSr?.middle ?? 0, delaySinceLastSr: this.lastSr ? Math.round(((this.clock.now() - this.lastSr.atMs) / 1000) * 65536) : 0 }]
            : [];
        const sender = { ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp: this.sender.rtpTimestamp, packetCount: this.sender.stats.packets, octetCount: this.sender.stats.payloadBytes };
        this.path.send(this.srtcpOut.protect(encodeReport({ ssrc: this.sender.ssrc, sender, blocks })));
    }
    /** An RTCP datagram from the path. */
    receive(bytes) {
        const plain = this.srtcpIn.unprotect(bytes);
        const report = plain.ok ? decodeReport(plain.value) : null;
        if (!report?.ok) {
            this.refused++;
            return;
        }
        const nowMs = this.clock.now();
        this.figures.reportsReceived++;
        if (report.value.sender)
            this.lastSr = { middle: middleOf({ seconds: report.value.sender.ntpSeconds, fraction: report.value.sender.ntpFraction }), atMs: nowMs };
        const block = report.value.blocks.find((b) => b.ssrc === this.sender.ssrc);
        if (!block)
            return;
        const loss = (100 * block.fractionLost) / 256;
        this.figures.lossPercent = this.figures.reportsReceived === 1 ? loss : 0.7 * this.figures.lossPercent + 0.3 * loss;
        this.figures.remoteJitterMs = block.jitter / 48;
        if (block.lastSr !== 0) {
            const now = middleOf(ntpOf(this.clock.wallTimeMs()));
            const rtt = ((now - block.lastSr - block.delaySinceLastSr + 2 ** 32) % 2 ** 32) / 65536;
            if (rtt < 60)
                this.figures.rttMs = rtt * 1000;
        }
        this.sender.setBitrate(nextBitrate(this.sender.bitrate, this.figures.lossPercent));
        // In-band FEC when the path loses packets (libopus sizes it by the expected loss).
        this.sender.setExpectedLoss(this.figures.lossPercent >= 1 ? Math.ceil(this.figures.lossPercent) : 0);
    }
    stop() {
        this.timer?.cancel();
        this.timer = null;
    }
}
//# sourceMappingURL=call-quality.js.map