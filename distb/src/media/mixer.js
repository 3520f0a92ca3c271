import { every } from '../env/every.js';
import { DEFAULT_BITRATE, MediaReceiver, MediaSender } from './media-stream.js';
import { OpusEncoder, SAMPLES_PER_MS } from './opus.js';
/** The most contributing sources an RTP header can name (RFC 3550 5.1: a 4-bit count). */
const MAX_CSRCS = 15;
/** Frames a participant's input may hold before the oldest is dropped (its clock runs fast). */
const MAX_QUEUED_FRAMES = 5;
/** The loudness each voice is brought towards (RMS), and the most gain it may get. */
const TARGET_RMS = 3_000;
const MAX_GAIN = 4;
/** Below this RMS a frame is silence: it gets no gain (noise is not brought up). */
const SILENCE_RMS = 200;
/** A participant whose frame is this loud speaks, and is shown speaking for a while after. */
const SPEAKING_RMS = 500;
const SPEAKING_HOLD_MS = 300;
/** Frames played by one participant's receiver (or the local microphone), waiting for the mixer's tick. */
class FrameQueue {
    frames = [];
    write(_atMs, samples) {
        this.frames.push(samples);
        if (this.frames.length > MAX_QUEUED_FRAMES)
            this.frames.shift();
    }
    /** The oldest frame, or null when none is waiting. */
    take() {
        return this.frames.shift() ?? null;
    }
}
function rms(frame) {
    let sum = 0;
    for (const v of frame)
        sum += v * v;
    return Math.sqrt(sum / frame.length);
}
/** One participant's frame, levelled: quiet voices up (to MAX_GAIN), loud ones down, silence left alone (the mixer leaves it out). */
export function level(frame, loudness = rms(frame)) {
    const gain = loudness < SILENCE_RMS ? 1 : Math.min(MAX_GAIN, TARGET_RMS / loudness);
    const out = new Float32Array(frame.length);
    for (let i = 0; i < frame.length; i++)
        out[i] = frame[i] * gain;
    return out;
}
/**
 * Sums frames and limits the result to 16 bits: when the sum's peak would clip, the whole frame
 * is scaled down to fit (no hard clipping, no distortion), and the gain recovers over the next
 * frames rather than jumping back.
 */
export class Limiter {
    gain = 1;
    mix(frames, samples) {
        return this.limit(sumFrames(frames, samples));
    }
    /** A summed frame, scaled to fit 16 bits. */
    limit(sum) {
        const samples = sum.length;
        let peak = 0;
        for (const v of sum)
            peak = Math.max(peak, Math.abs(v));
        const needed = peak * this.gain > 32_000 ? 32_000 / peak : 1;
        // Down at once, back up slowly (10% per frame).
        this.gain = needed < this.gain ? needed : Math.min(needed, this.gain * 1.1, 1);
        const out = new Int16Array(samples);
        for (let i = 0; i < samples; i++)
            out[i] = Math.round(sum[i] * this.gain);
        return out;
    }
}
export function sumFrames(frames, samples) {
    const sum = new Float32Array(samples);
    for (const frame of frames)
        for (let i = 0; i < samples; i++)
            sum[i] += frame[i];
    return sum;
}
/**
 * Everyone's sum without `own`: each participant's mix costs one subtraction, not a sum of all
 * the others (N frames of work per tick instead of N²).
 */
export function withoutOwn(total, own) {
    if (!own)
        return total;
    const out = new Float32Array(total.length);
    for (let i = 0; i < total.length; i++)
        out[i] = total[i] - own[i];
    return out;
}
export class ConferenceMixer {
    clock;
    random;
    frameMs;
    participants = new Map();
    ticker = null;
    frameSamples;
    lastSpokeMs = new Map();
    nowMs = 0;
    speakersNow = [];
    /** What everyone silent hears (the whole mix): one limiter and one encoder for all of them. */
    shared = null;
    /** Encodings made and packets sent from a shared one, for the benchmarks. */
    stats = { encodes: 0, sharedSends: 0 };
    /** The mixing participant itself: its microphone goes into the others' mixes, their mix to its speaker. */
    local = null;
    constructor(clock, random, frameMs = 20) {
        this.clock = clock;
        this.random = random;
        this.frameMs = frameMs;
        this.frameSamples = frameMs * SAMPLES_PER_MS;
    }
    get size() {
        return this.participants.size;
    }
    /** The mixing participant's own microphone and speaker. */
    addLocal(id, source, sink, csrc = 0) {
        const input = new FrameQueue();
        this.participants.set(id, { csrc, input, limiter: new Limiter(), receiver: null, sender: null });
        // The local source is read and the local sink fed on the mixer's own tick.
        this.local = { id, source, sink };
    }
    /** A remote participant, over its own leg. */
    add(id, leg, csrc = 0) {
        const input = new FrameQueue();
        // Both run on the mixer's frame clock: each input is played and each mix sent at its tick.
        const receiver = new MediaReceiver(this.clock, leg.theirKey, input, { frameMs: this.frameMs, pulled: true });
        const silence = { read: (n) => new Int16Array(n) };
        const sender = new MediaSender(this.clock, this.random, leg.path, leg.ourKey, silence, { frameMs: this.frameMs, contributors: () => this.speakersFor(id) });
        this.participants.set(id, { csrc, input, limiter: new Limiter(), receiver, sender });
        return { receive: (bytes) => receiver.receive(bytes) };
    }
    remove(id) {
        const p = this.participants.get(id);
        if (!p)
            return;
        p.sender?.stop();
        p.receiver?.stop();
        this.participants.delete(id);
        this.lastSpokeMs.delete(id);
        if (this.local?.id === id)
            this.local = null;
    }
    /**
     * Starts the frame clock, its first tick `phaseMs` (default a frame) from now. Participants'
     * packets arrive in their own phases and wait for the tick in their jitter buffers: up to a
     * frame, half on average.
     */
    start(phaseMs = this.frameMs) {
        if (this.ticker)
            return;
        this.ticker = every(this.clock, this.frameMs, this.clock.now() + phaseMs, (at) => this.mixFrame(at));
    }
    /** One frame: everyone's input levelled, and each participant's mix of the others encoded and sent. */
    mixFrame(atMs) {
        if (this.local)
            this.participants.get(this.local.id)?.input.write(atMs, this.local.source.read(this.frameSamples));
        for (const p of this.participants.values())
            p.receiver?.pull(atMs);
        // Only voices go in: a silent frame (noise) is left out.
        const voices = new Map();
        for (const [id, p] of this.participants) {
            const frame = p.input.take();
            if (!frame || frame.length !== this.frameSamples)
                continue;
            const loudness = rms(frame);
            if (loudness < SILENCE_RMS)
                continue;
            voices.set(id, level(frame, loudness));
            if (loudness >= SPEAKING_RMS)
                this.lastSpokeMs.set(id, atMs);
        }
        this.nowMs = atMs;
        // Who speaks, once a tick: every sender's CSRC list is this without its own participant.
        this.speakersNow = [];
        for (const [id, p] of this.participants)
            if (this.speaking(id))
                this.speakersNow.push({ id, csrc: p.csrc });
        const total = sumFrames(voices.values(), this.frameSamples);
        let shared = null;
        for (const [id, p] of this.participants) {
            const own = voices.get(id);
            if (this.local?.id === id)
                this.local.sink.write(atMs, p.limiter.limit(withoutOwn(total, own)));
            else if (own) {
                p.sender?.send(p.limiter.limit(withoutOwn(total, own)));
                this.stats.encodes++;
            }
            else {
                // Silent: it hears everyone, like every other silent participant; one encoding for all.
                shared ??= this.encodeShared(total);
                p.sender?.sendEncoded(shared);
                this.stats.sharedSends++;
            }
        }
    }
    encodeShared(total) {
        this.shared ??= { limiter: new Limiter(), encoder: new OpusEncoder({ frameMs: this.frameMs, bitrate: DEFAULT_BITRATE }) };
        this.stats.encodes++;
        return this.shared.encoder.encode(this.shared.limiter.limit(total));
    }
    /** The CSRCs of those speaking in `id`'s mix (everyone speaking but itself), from this tick's list. */
    speakersFor(id) {
        const speakers = [];
        for (const s of this.speakersNow)
            if (s.id !== id && speakers.length < MAX_CSRCS)
                speakers.push(s.csrc);
        return speakers;
    }
    speaking(id) {
        return this.nowMs - (this.lastSpokeMs.get(id) ?? -Infinity) <= SPEAKING_HOLD_MS;
    }
    /** Who is in the conference and who spoke in the last 300 ms (for the roster). */
    roster() {
        return [...this.participants.keys()].map((id) => ({ id, speaking: this.speaking(id) }));
    }
    stop() {
        this.ticker?.cancel();
        this.ticker = null;
        for (const id of [...this.participants.keys()])
            this.remove(id);
        this.shared?.encoder.close();
        this.shared = null;
    }
}
//# sourceMappingURL=mixer.js.map