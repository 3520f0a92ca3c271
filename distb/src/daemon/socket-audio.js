import { SAMPLES_PER_MS } from '../media/opus.js';
export const SOCKET_FRAME_MS = 10;
export const SOCKET_FRAME_SAMPLES = SOCKET_FRAME_MS * SAMPLES_PER_MS;
export const SOCKET_FRAME_BYTES = SOCKET_FRAME_SAMPLES * 2;
/** The most microphone audio kept waiting for the call (more: the oldest goes). */
const MAX_QUEUED_MS = 200;
const MAX_QUEUED_SAMPLES = MAX_QUEUED_MS * SAMPLES_PER_MS;
/**
 * A page's frames come in bursts (its main thread forwards them from the audio thread), so after
 * running dry the queue first fills this far again before the call takes from it: a little delay
 * instead of a gap at every burst.
 */
const CUSHION_MS = 40;
const CUSHION_SAMPLES = CUSHION_MS * SAMPLES_PER_MS;
/**
 * Standing delay is trimmed: over each second of reads, the least audio left waiting after a
 * read is what the page's bursts did not need; all of it beyond this slack is dropped once (a
 * short skip instead of delay kept for the rest of the call).
 */
const TRIM_WINDOW_SAMPLES = 1_000 * SAMPLES_PER_MS;
const TRIM_SLACK_SAMPLES = 10 * SAMPLES_PER_MS;
export class SocketAudio {
    queue = [];
    queued = 0;
    /** Whether the call takes from the queue (false after it ran dry, until the cushion is back). */
    flowing = false;
    speaker = null;
    /**
     * Frames refused (not 10 ms of 16-bit audio), microphone samples dropped for being too old, and
     * samples of silence the call took because the page had sent nothing yet (while one is connected).
     */
    stats = { refused: 0, dropped: 0, missing: 0, trimmed: 0 };
    /** The least left after a read in this window, and how much the window has read. */
    leastLeft = Infinity;
    windowRead = 0;
    /** The page's socket: where what the call plays goes (null: nobody listens). */
    connect(speaker) {
        this.speaker = speaker;
        this.queue = [];
        this.queued = 0;
        this.leastLeft = Infinity;
        this.windowRead = 0;
    }
    isConnectedTo(speaker) {
        return this.speaker === speaker;
    }
    /** One frame from the page's microphone; anything but 10 ms of 16-bit audio is refused. */
    microphone(bytes) {
        if (bytes.byteLength !== SOCKET_FRAME_BYTES) {
            this.stats.refused++;
            return false;
        }
        const frame = new Int16Array(SOCKET_FRAME_SAMPLES);
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        for (let i = 0; i < SOCKET_FRAME_SAMPLES; i++)
            frame[i] = view.getInt16(2 * i, true);
        this.queue.push(frame);
        this.queued += frame.length;
        if (this.queued > MAX_QUEUED_SAMPLES)
            this.stats.dropped += this.takeOldest(this.queued - MAX_QUEUED_SAMPLES, null);
        return true;
    }
    /** Takes up to `samples` of the oldest audio waiting, copied into `into` (or dropped); returns how many. */
    takeOldest(samples, into) {
        let taken = 0;
        while (taken < samples && this.queue.length > 0) {
            const head = this.queue[0];
            const take = Math.min(head.length, samples - taken);
            into?.set(head.subarray(0, take), taken);
            taken += take;
            this.queued -= take;
            if (take === head.length)
                this.queue.shift();
            else
                this.queue[0] = head.subarray(take);
        }
        return taken;
    }
    /** The call's capture: `samples` from the queue, silence for what the page has not sent. */
    read(samples) {
        const out = new Int16Array(samples);
        if (!this.flowing && this.queued >= CUSHION_SAMPLES)
            this.flowing = true;
        const at = this.flowing ? this.takeOldest(samples, out) : 0;
        if (at < samples) {
            this.flowing = false;
            if (this.speaker)
                this.stats.missing += samples - at;
        }
        this.trimStanding(samples);
        return out;
    }
    trimStanding(read) {
        this.leastLeft = this.flowing ? Math.min(this.leastLeft, this.queued) : 0;
        this.windowRead += read;
        if (this.windowRead < TRIM_WINDOW_SAMPLES)
            return;
        const excess = this.leastLeft - TRIM_SLACK_SAMPLES;
        this.leastLeft = Infinity;
        this.windowRead = 0;
        if (excess > 0)
            this.stats.trimmed += this.takeOldest(excess, null);
    }
    /** What the call plays: to the page in 10 ms frames. */
    write(_atMs, samples) {
        const speaker = this.speaker;
        if (!speaker)
            return;
        for (let at = 0; at + SOCKET_FRAME_SAMPLES <= samples.length; at += SOCKET_FRAME_SAMPLES) {
            const bytes = new Uint8Array(SOCKET_FRAME_BYTES);
            const view = new DataView(bytes.buffer);
            for (let i = 0; i < SOCKET_FRAME_SAMPLES; i++)
                view.setInt16(2 * i, samples[at + i], true);
            speaker(bytes);
        }
    }
}
//# sourceMappingURL=socket-audio.js.map