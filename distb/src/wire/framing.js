// Length-prefixed framing over a TCP byte stream: a 2-byte big-endian length, then that many
// bytes (the largest Noise message is 65535 bytes, so the prefix covers every frame). The
// decoder holds at most one incomplete frame and refuses a length above its limit before
// buffering anything, so a peer cannot make us hold more than `maxFrameBytes`.
import { err, ok } from '../result.js';
export const FRAME_HEADER_BYTES = 2;
export const MAX_FRAME_BYTES = 65535;
export function encodeFrame(payload) {
    if (payload.byteLength > MAX_FRAME_BYTES)
        throw new RangeError(`frame of ${payload.byteLength} bytes exceeds ${MAX_FRAME_BYTES}`);
    const out = new Uint8Array(FRAME_HEADER_BYTES + payload.byteLength);
    out[0] = payload.byteLength >>> 8;
    out[1] = payload.byteLength & 0xff;
    out.set(payload, FRAME_HEADER_BYTES);
    return out;
}
// One shared empty buffer: an idle connection (the common case) then holds no buffer of its own.
const EMPTY = new Uint8Array(0);
export class FrameDecoder {
    maxFrameBytes;
    buffer = EMPTY;
    offset = 0;
    failed = null;
    constructor(maxFrameBytes = MAX_FRAME_BYTES) {
        this.maxFrameBytes = maxFrameBytes;
    }
    /** Lowers or raises the limit (e.g. small during a handshake, larger after). */
    setMaxFrameBytes(limit) {
        this.maxFrameBytes = Math.min(limit, MAX_FRAME_BYTES);
    }
    /** Bytes held waiting for the rest of a frame. */
    get bufferedBytes() {
        return this.buffer.byteLength - this.offset;
    }
    /** Adds stream bytes; take the frames out with `next()` before appending more. */
    append(chunk) {
        if (this.failed)
            return;
        const held = this.buffer.byteLength - this.offset;
        if (held === 0)
            this.buffer = chunk;
        else {
            const data = new Uint8Array(held + chunk.byteLength);
            data.set(this.buffer.subarray(this.offset));
            data.set(chunk, held);
            this.buffer = data;
        }
        this.offset = 0;
    }
    /**
     * The next complete frame, null when there is none yet, or the first error. Frames are taken
     * one at a time so that a limit raised after one frame (the end of a handshake) applies to the
     * next, even when both came in one chunk. After an error every call returns the same error.
     */
    next() {
        if (this.failed)
            return err(this.failed);
        const available = this.buffer.byteLength - this.offset;
        if (available < FRAME_HEADER_BYTES)
            return ok(null);
        const length = (this.buffer[this.offset] << 8) | this.buffer[this.offset + 1];
        if (length === 0)
            return this.fail('empty', 'zero-length frame');
        if (length > this.maxFrameBytes)
            return this.fail('oversized', `frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`);
        if (available - FRAME_HEADER_BYTES < length)
            return ok(null);
        const start = this.offset + FRAME_HEADER_BYTES;
        const frame = this.buffer.slice(start, start + length);
        this.offset = start + length;
        if (this.offset === this.buffer.byteLength) {
            this.buffer = EMPTY;
            this.offset = 0;
        }
        return ok(frame);
    }
    /** Feeds stream bytes and returns every complete frame (at the current limit), or the first error. */
    push(chunk) {
        this.append(chunk);
        const frames = [];
        for (;;) {
            const frame = this.next();
            if (!frame.ok)
                return frame;
            if (frame.value === null)
                return ok(frames);
            frames.push(frame.value);
        }
    }
    fail(code, message) {
        this.failed = { code, message };
        this.buffer = EMPTY;
        this.offset = 0;
        return err(this.failed);
    }
}
//# sourceMappingURL=framing.js.map