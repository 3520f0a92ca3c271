import { every } from '../env/every.js';
import { decodeRtp, encodeRtp, OPUS_PAYLOAD_TYPE } from '../rtp/rtp.js';
import { SrtpReceiver, SrtpSender } from '../rtp/srtp.js';
import { JitterBuffer } from './jitter-buffer.js';
import { OpusDecoder, OpusEncoder, SAMPLES_PER_MS } from './opus.js';
export const HOLD_INTERVAL_MS = 3_000;
/** 24 kbit/s: Opus wideband speech at full quality, within the seed's 5 KB/s with headers. */
export const DEFAULT_BITRATE = 24_000;
const NO_CSRCS = [];
/**
 * A busy event loop (a stall at a call's start measured 105-270 ms) holds the sender's ticks
 * back; when it runs again the sender sends every frame that was due, at once, and the
 * receiver's buffer absorbs the burst. Frames older than this are skipped: the receiver would
 * drop them as stale anyway (its most is DEFAULT_MAX_DELAY_MS).
 */
export const SENDER_MAX_CATCH_UP_MS = 500;
/** The same bound for the player: ticks later than this are skipped, and the jitter buffer drops what went stale. */
export const RECEIVER_MAX_CATCH_UP_MS = 500;
export class MediaSender {
    clock;
    path;
    source;
    options;
    encoder;
    srtp;
    streamSsrc;
    sequence;
    timestamp;
    ticker = null;
    held = false;
    muted = false;
    lastHoldPacketMs = -Infinity;
    /** Packets and SRTP bytes sent; `payloadBytes` counts Opus bytes (RTCP's octet count). */
    stats = { packets: 0, skippedFrames: 0, bytes: 0, payloadBytes: 0 };
    frameSamples;
    constructor(clock, random, path, key, source, options = { frameMs: 20 }) {
        this.clock = clock;
        this.path = path;
        this.source = source;
        this.options = options;
        this.encoder = new OpusEncoder({ frameMs: options.frameMs, bitrate: options.bitrate ?? DEFAULT_BITRATE });
        this.frameSamples = this.encoder.frameSamples;
        this.srtp = new SrtpSender(key.key, key.salt);
        // Random SSRC, sequence and timestamp starts (RFC 3550 5.1): nothing to guess from them.
        const bytes = random.bytes(10);
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        this.streamSsrc = view.getUint32(0);
        this.sequence = view.getUint16(4);
        this.timestamp = view.getUint32(6);
    }
    get bitrate() {
        return this.encoder.bitrate;
    }
    /** This stream's SSRC and what a sender report says about it now. */
    get ssrc() {
        return this.streamSsrc;
    }
    /** The RTP timestamp that goes with now (the next frame's), for sender reports. */
    get rtpTimestamp() {
        return this.timestamp;
    }
    /** Starts capturing now: the first frame is sent one frame time later, when it has been captured. */
    start() {
        if (this.ticker)
            return;
        this.ticker = every(this.clock, this.options.frameMs, this.clock.now() + this.options.frameMs, (_at, skipped) => this.tick(skipped), { maxCatchUpMs: SENDER_MAX_CATCH_UP_MS });
    }
    tick(skipped) {
        if (skipped > 0) {
            // Too far behind to be worth sending: skip those frames, keeping the source and the RTP
            // timestamps in real time (the receiver sees a jump in time, not a loss).
            this.source.read(skipped * this.frameSamples);
            this.timestamp = (this.timestamp + skipped * this.frameSamples) >>> 0;
            this.stats.skippedFrames += skipped;
        }
        this.send(this.source.read(this.frameSamples));
    }
    /**
     * Encodes and sends one frame now. The sender's own ticker calls it with what the source
     * captured; a mixer that runs its own frame clock calls it with each mix the moment it is
     * made (a second ticker would add up to a frame of waiting).
     */
    send(frame) {
        const timestamp = this.nextTimestamp();
        if (timestamp !== null)
            this.packetize(timestamp, this.encoder.encode(this.held || this.muted ? new Int16Array(this.frameSamples) : frame));
    }
    /** Sends one frame another encoder made: a mixer's mix that several receivers hear alike, encoded once. */
    sendEncoded(payload) {
        const timestamp = this.nextTimestamp();
        if (timestamp !== null)
            this.packetize(timestamp, payload);
    }
    /** This frame's RTP timestamp, or null when on hold and no keep-alive packet is due. */
    nextTimestamp() {
        const nowMs = this.clock.now();
        const timestamp = this.timestamp;
        this.timestamp = (this.timestamp + this.frameSamples) >>> 0;
        if (this.held) {
            if (nowMs - this.lastHoldPacketMs < HOLD_INTERVAL_MS)
                return null;
            this.lastHoldPacketMs = nowMs;
        }
        return timestamp;
    }
    packetize(timestamp, payload) {
        const packet = this.srtp.protect(encodeRtp({ marker: false, payloadType: OPUS_PAYLOAD_TYPE, sequence: this.sequence, timestamp, ssrc: this.streamSsrc, payload, csrcs: this.options.contributors?.() ?? NO_CSRCS }));
        this.sequence = (this.sequence + 1) & 0xffff;
        this.stats.packets++;
        this.stats.bytes += packet.length;
        this.stats.payloadBytes += payload.length;
        this.path.send(packet);
    }
    /** On hold: one (silent) packet every 3 s keeps the path and its NAT bindings open. */
    hold(on) {
        this.held = on;
        this.lastHoldPacketMs = -Infinity;
    }
    mute(on) {
        this.muted = on;
    }
    setBitrate(bitsPerSecond) {
        this.encoder.setBitrate(bitsPerSecond);
    }
    setExpectedLoss(percent) {
        this.encoder.setExpectedLoss(percent);
    }
    stop() {
        this.ticker?.cancel();
        this.ticker = null;
        this.encoder.close();
    }
}
/**
 * Between the first packet's arrival and the tick that plays it: packets that follow a little
 * late (timers, the network) still make their tick. A quarter of a frame.
 */
const PLAYOUT_GUARD_FRACTION = 0.25;
export class MediaReceiver {
    clock;
    sink;
    options;
    decoder = new OpusDecoder();
    srtp;
    buffer;
    frameSamples;
    ticker = null;
    lastTransit = null;
    reception = null;
    jitter = 0;
    stopped = false;
    started = false;
    stats;
    /** The contributing sources (CSRCs) of the latest packet: from a mixer, who speaks in what it sends. */
    contributors = [];
    constructor(clock, key, sink, options = { frameMs: 20 }) {
        this.clock = clock;
        this.sink = sink;
        this.options = options;
        this.frameSamples = options.frameMs * SAMPLES_PER_MS;
        this.srtp = new SrtpReceiver(key.key, key.salt);
        this.buffer = new JitterBuffer({ frameSamples: this.frameSamples, samplesPerMs: SAMPLES_PER_MS, ...(options.maxDelayMs ? { maxDelayMs: options.maxDelayMs } : {}) });
        this.stats = { refused: new Map(), jitter: this.buffer.stats, jitterMs: 0, played: 0, skippedFrames: 0 };
    }
    /** The jitter buffer's current delay, in ms. */
    get bufferedMs() {
        return this.buffer.bufferedMs;
    }
    refuse(reason) {
        this.stats.refused.set(reason, (this.stats.refused.get(reason) ?? 0) + 1);
    }
    /** A datagram from the path. Anything that is not an authentic Opus RTP packet of this call is counted and dropped. */
    receive(bytes) {
        if (this.stopped)
            return;
        const plain = this.srtp.unprotect(bytes);
        if (!plain.ok)
            return this.refuse(plain.error.code);
        const rtp = decodeRtp(plain.value);
        if (!rtp.ok)
            return this.refuse(rtp.error.code);
        if (rtp.value.payloadType !== OPUS_PAYLOAD_TYPE)
            return this.refuse('unknown_payload_type');
        this.contributors = rtp.value.csrcs;
        const nowMs = this.clock.now();
        this.countSequence(rtp.value.ssrc, rtp.value.sequence);
        // RFC 3550 A.8: the interarrival jitter, in timestamp units then ms.
        const transit = nowMs * SAMPLES_PER_MS - rtp.value.timestamp;
        if (this.lastTransit !== null) {
            const d = Math.abs(transit - this.lastTransit);
            if (d < 2 ** 31)
                this.jitter += (d - this.jitter) / 16;
        }
        this.lastTransit = transit;
        this.stats.jitterMs = this.jitter / SAMPLES_PER_MS;
        this.buffer.insert(rtp.value.timestamp, rtp.value.payload, nowMs);
        this.started = true;
        // The first packet starts the playout clock, in phase with the packets.
        if (!this.ticker && !this.options.pulled) {
            this.ticker = every(this.clock, this.options.frameMs, nowMs + this.options.frameMs * PLAYOUT_GUARD_FRACTION, (at, skipped) => {
                this.stats.skippedFrames += skipped;
                this.play(at);
            }, { maxCatchUpMs: RECEIVER_MAX_CATCH_UP_MS });
        }
    }
    /** RFC 3550 A.1: the extended highest sequence number and the packets that came. */
    countSequence(ssrc, sequence) {
        const r = this.reception;
        if (!r || r.ssrc !== ssrc) {
            this.reception = { ssrc, base: sequence, cycles: 0, max: sequence, received: 1, expectedPrior: 0, receivedPrior: 0 };
            return;
        }
        r.received++;
        const delta = (sequence - r.max + 0x10000) % 0x10000;
        if (delta < 0x8000) {
            if (sequence < r.max)
                r.cycles += 0x10000;
            r.max = sequence;
        }
    }
    /** Lost (never arrived) and late packets so far, apart: only the first is the network's doing. */
    receptionCounts() {
        const r = this.reception;
        if (!r)
            return { expected: 0, lost: 0, late: this.buffer.stats.late };
        const expected = r.cycles + r.max - r.base + 1;
        return { expected, lost: Math.max(0, expected - r.received), late: this.buffer.stats.late };
    }
    /** A report block about the stream this receiver plays (RFC 3550 6.4.1), or null before any packet. */
    receptionReport() {
        const r = this.reception;
        if (!r)
            return null;
        const extended = r.cycles + r.max;
        const expected = extended - r.base + 1;
        const expectedInterval = expected - r.expectedPrior;
        const receivedInterval = r.received - r.receivedPrior;
        r.expectedPrior = expected;
        r.receivedPrior = r.received;
        const lostInterval = expectedInterval - receivedInterval;
        return {
            ssrc: r.ssrc,
            fractionLost: expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval),
            cumulativeLost: Math.max(0, expected - r.received),
            highestSequence: extended >>> 0,
            jitter: Math.round(this.jitter),
        };
    }
    /** Plays one frame into the sink now (a receiver made with `pulled`); nothing before the first packet. */
    pull(atMs) {
        if (this.started && !this.stopped)
            this.play(atMs);
    }
    play(atMs) {
        const next = this.buffer.next(atMs);
        let samples;
        switch (next.kind) {
            case 'packet': {
                const decoded = this.decoder.decode(next.payload);
                if (!decoded.ok)
                    this.refuse(decoded.error.code);
                samples = decoded.ok ? decoded.value : this.decoder.conceal(this.frameSamples);
                break;
            }
            case 'fec':
                samples = this.decoder.recover(next.next, this.frameSamples);
                break;
            case 'conceal':
                samples = this.decoder.conceal(this.frameSamples);
                break;
            case 'silence':
                samples = new Int16Array(this.frameSamples);
                break;
        }
        this.stats.played++;
        this.sink.write(atMs, samples);
    }
    stop() {
        this.stopped = true;
        this.ticker?.cancel();
        this.ticker = null;
        this.decoder.close();
    }
}
/** An AudioSource over samples in memory (a WAV file's): silence after the end. */
export class BufferSource {
    samples;
    position = 0;
    constructor(samples) {
        this.samples = samples;
    }
    get finished() {
        return this.position >= this.samples.length;
    }
    read(samples) {
        const out = new Int16Array(samples);
        out.set(this.samples.subarray(this.position, this.position + samples));
        this.position += samples;
        return out;
    }
}
/**
 * An AudioSink that records what was played on a timeline that starts at `originMs` (default:
 * the first frame played), with silence where nothing played.
 */
export class RecordingSink {
    originMs;
    chunks = [];
    length = 0;
    constructor(originMs) {
        this.originMs = originMs;
    }
    write(atMs, samples) {
        this.originMs ??= atMs;
        const position = Math.round((atMs - this.originMs) * SAMPLES_PER_MS);
        if (position > this.length)
            this.append(new Int16Array(position - this.length));
        this.append(samples);
    }
    append(samples) {
        this.chunks.push(samples);
        this.length += samples.length;
    }
    samples() {
        const out = new Int16Array(this.length);
        let at = 0;
        for (const chunk of this.chunks) {
            out.set(chunk, at);
            at += chunk.length;
        }
        this.chunks = [out];
        return out;
    }
}
//# sourceMappingURL=media-stream.js.map