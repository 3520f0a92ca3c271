// The adaptive jitter buffer: packets go in as they arrive (any order), and once per frame the
// player asks what to play. No timers and no sockets: the caller says what time it is.
//
// - It starts at a safe depth: the first packet is played startDelayMs after it came. The first
//   seconds of a call are when a machine is busiest (keys, paths, codecs): a sender's event loop
//   that stalls 100-250 ms then sends what it owes in a burst, and a buffer one frame deep would
//   conceal the stall and then throw the burst away as late.
// - When there is nothing to play at all (an underrun: no packet at or after the next frame) it
//   waits: it conceals that frame without moving on, so the packets that come later are played,
//   not dropped as late; the delay has grown by a frame. Only when a later packet is here is the
//   missing one taken as lost: rebuilt from the next packet's in-band FEC, or concealed.
// - Packets that keep coming after their frame was played (two in two seconds) stretch it by a frame.
// - It adapts down: after the start (START_HOLD_MS), a frame less at a time (SHRINK_MS_PER_S) while nine
//   in ten packets of the last two seconds had a frame and a half to spare and none was late or
//   waited for.
// - More than maxDelayMs waiting (a sender or network frozen for long) is stale for a
//   conversation: dropped at once down to half that.
/** Covers a busy machine's stalls at a call's start (measured 105-270 ms, issue 17); adapts down after. */
export const DEFAULT_START_DELAY_MS = 200;
/** Above the start depth plus one such stall, so the burst after it is played rather than dropped. */
export const DEFAULT_MAX_DELAY_MS = 300;
const WINDOW_MS = 2_000;
/** No shrinking this long after playing starts: the start is when stalls come. */
const START_HOLD_MS = 3_000;
/** How fast it adapts down: at most this much delay less per second, a frame at a time. */
const SHRINK_MS_PER_S = 80;
/** After this many frames in a row with nothing to play, the sender is taken to be quiet (on hold): silence. */
const QUIET_FRAMES = 10;
export class JitterBuffer {
    options;
    packets = new Map();
    lastTimestamp32 = 0;
    lastExtended = null;
    /** The timestamp of the next frame to play; null until playing. */
    playTs = null;
    /** When playing may start (the first packet's arrival plus the start depth); null before it. */
    startAtMs = null;
    playingSinceMs = 0;
    pendingStretch = 0;
    waitingInARow = 0;
    /** (time, ms of spare time it arrived with), for shrinking. */
    spare = [];
    lastShrinkMs = -Infinity;
    /** When packets came too late, in the last WINDOW_MS. */
    lateAt = [];
    /** When the buffer ran dry and waited, in the last WINDOW_MS. */
    waitedAt = [];
    stats = { received: 0, late: 0, duplicate: 0, concealed: 0, recovered: 0, waited: 0, stretched: 0, shrunk: 0, dropped: 0 };
    maxPackets;
    frameMs;
    maxDelayMs;
    startDelayMs;
    shrinkEveryMs;
    constructor(options) {
        this.options = options;
        this.frameMs = options.frameSamples / options.samplesPerMs;
        this.maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
        this.startDelayMs = Math.min(options.startDelayMs ?? DEFAULT_START_DELAY_MS, this.maxDelayMs);
        this.shrinkEveryMs = (1000 * this.frameMs) / SHRINK_MS_PER_S;
        this.maxPackets = Math.ceil(this.maxDelayMs / this.frameMs) * 2 + 4;
    }
    /** How much audio is waiting to be played, in ms (the buffer's current delay). */
    get bufferedMs() {
        if (this.playTs === null)
            return 0;
        let newest = this.playTs;
        for (const ts of this.packets.keys())
            newest = Math.max(newest, ts + this.options.frameSamples);
        return (newest - this.playTs) / this.options.samplesPerMs;
    }
    get playing() {
        return this.playTs !== null;
    }
    /** A 32-bit RTP timestamp as a number that keeps rising across wraps. */
    extend(timestamp) {
        if (this.lastExtended === null) {
            this.lastExtended = timestamp;
            this.lastTimestamp32 = timestamp;
            return timestamp;
        }
        const delta = ((timestamp - this.lastTimestamp32 + 2 ** 31) % 2 ** 32 + 2 ** 32) % 2 ** 32 - 2 ** 31;
        const extended = this.lastExtended + delta;
        if (delta > 0) {
            this.lastExtended = extended;
            this.lastTimestamp32 = timestamp;
        }
        return extended;
    }
    insert(timestamp, payload, nowMs) {
        const highest = this.lastExtended;
        const ts = this.extend(timestamp);
        // The sender's clock jumped (a long hold, a restart) far past anything it sent before: start
        // again from this packet. (Measured from its last packet, not from what plays now: the
        // burst after a stall runs ahead of the player, but not of the sender.)
        if (highest !== null && (ts - highest) / this.options.samplesPerMs > 2 * this.maxDelayMs)
            this.restart();
        if (this.playTs !== null) {
            const aheadMs = (ts - this.playTs) / this.options.samplesPerMs;
            if (aheadMs < 0) {
                this.stats.late++;
                this.lateAt.push(nowMs);
                trim(this.lateAt, nowMs);
                // Late again: hold back one more frame from now on.
                if (this.lateAt.length >= 2 && aheadMs > -4 * this.frameMs && this.bufferedMs + this.frameMs <= this.maxDelayMs)
                    this.pendingStretch = 1;
                return 'late';
            }
            this.spare.push({ atMs: nowMs, spareMs: aheadMs });
        }
        if (this.packets.has(ts)) {
            this.stats.duplicate++;
            return 'duplicate';
        }
        this.startAtMs ??= nowMs + this.startDelayMs;
        this.packets.set(ts, payload);
        this.stats.received++;
        // Full (a long burst): the oldest goes, never the newest; catchUp trims the rest at the next frame.
        if (this.packets.size > this.maxPackets)
            this.dropOldest();
        return 'queued';
    }
    dropOldest() {
        const oldest = Math.min(...this.packets.keys());
        this.packets.delete(oldest);
        this.stats.dropped++;
        if (this.playTs !== null && this.playTs <= oldest)
            this.playTs = oldest + this.options.frameSamples;
    }
    restart() {
        this.packets.clear();
        this.playTs = null;
        this.startAtMs = null;
        this.spare.length = 0;
    }
    /** What to play for the frame that starts now. */
    next(nowMs) {
        if (this.playTs === null) {
            if (this.packets.size === 0 || this.startAtMs === null || nowMs < this.startAtMs)
                return { kind: 'silence' };
            // Start with the oldest packet: what came during the start depth waits behind it.
            this.playTs = Math.min(...this.packets.keys());
            this.playingSinceMs = nowMs;
            this.waitingInARow = 0;
        }
        if (this.pendingStretch > 0) {
            this.pendingStretch--;
            this.stats.stretched++;
            return { kind: 'conceal' };
        }
        this.maybeShrink(nowMs);
        this.catchUp();
        const ts = this.playTs;
        const payload = this.packets.get(ts);
        if (payload) {
            this.packets.delete(ts);
            this.playTs += this.options.frameSamples;
            this.waitingInARow = 0;
            return { kind: 'packet', payload };
        }
        let later = false;
        for (const queued of this.packets.keys())
            if (queued > ts)
                later = true;
        if (!later) {
            // Nothing to play at all: wait for it (the delay grows by a frame) rather than move on and
            // throw it away as late when it comes.
            this.waitingInARow++;
            if (this.waitingInARow > QUIET_FRAMES)
                return { kind: 'silence' };
            this.stats.waited++;
            this.waitedAt.push(nowMs);
            trim(this.waitedAt, nowMs);
            return { kind: 'conceal' };
        }
        // A later packet is here: this one is lost (or will be late). Move on.
        this.playTs += this.options.frameSamples;
        this.waitingInARow = 0;
        const next = this.packets.get(ts + this.options.frameSamples);
        if (next) {
            this.stats.recovered++;
            return { kind: 'fec', next };
        }
        this.stats.concealed++;
        return { kind: 'conceal' };
    }
    /**
     * More than the most it may hold (a sender or network frozen for long sent a burst): what is
     * that old is stale for a conversation, so frames are dropped at once down to half the most.
     */
    catchUp() {
        if (this.playTs === null || this.bufferedMs <= this.maxDelayMs)
            return;
        const keepMs = Math.max(2 * this.frameMs, this.maxDelayMs / 2);
        while (this.bufferedMs > keepMs) {
            if (this.packets.delete(this.playTs))
                this.stats.dropped++;
            this.playTs += this.options.frameSamples;
        }
        this.spare.length = 0;
    }
    /** A frame less when the last two seconds never needed it (and the start is over). */
    maybeShrink(nowMs) {
        trimSpare(this.spare, nowMs);
        if (nowMs - this.playingSinceMs < START_HOLD_MS || nowMs - this.lastShrinkMs < this.shrinkEveryMs)
            return;
        if (this.spare.length < WINDOW_MS / this.frameMs / 2)
            return;
        trim(this.lateAt, nowMs);
        trim(this.waitedAt, nowMs);
        if (this.lateAt.length > 0 || this.waitedAt.length > 0)
            return;
        const sorted = this.spare.map((s) => s.spareMs).sort((a, b) => a - b);
        const spare = sorted[Math.floor(sorted.length / 10)];
        if (spare < 1.5 * this.frameMs || this.playTs === null || !this.packets.has(this.playTs + this.options.frameSamples))
            return;
        // Skip one frame: every later packet is played a frame sooner.
        this.packets.delete(this.playTs);
        this.playTs += this.options.frameSamples;
        this.lastShrinkMs = nowMs;
        this.stats.shrunk++;
        for (const s of this.spare)
            s.spareMs -= this.frameMs;
    }
}
/** Drops the times older than the window. */
function trim(times, nowMs) {
    while (times.length > 0 && times[0] < nowMs - WINDOW_MS)
        times.shift();
}
function trimSpare(spare, nowMs) {
    while (spare.length > 0 && spare[0].atMs < nowMs - WINDOW_MS)
        spare.shift();
}
//# sourceMappingURL=jitter-buffer.js.map