// Length-prefixed framing over a TCP byte stream: a 2-byte big-endian length, then that many
// bytes (the largest Noise message is 65535 bytes, so the prefix covers every frame). The
// decoder holds at most one incomplete frame and refuses a length above its limit before
// buffering anything, so a peer cannot make us hold more than `maxFrameBytes`.
import { err, ok, type CodedError, type Result } from '../result.js';

export const FRAME_HEADER_BYTES = 2;
export const MAX_FRAME_BYTES = 65535;

export type FrameErrorCode = 'oversized' | 'empty';
export type FrameError = CodedError<FrameErrorCode>;

export function encodeFrame(payload: Uint8Array): Uint8Array {
  if (payload.byteLength > MAX_FRAME_BYTES) throw new RangeError(`frame of ${payload.byteLength} bytes exceeds ${MAX_FRAME_BYTES}`);
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.byteLength);
  out[0] = payload.byteLength >>> 8;
  out[1] = payload.byteLength & 0xff;
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

// One shared empty buffer: an idle connection (the common case) then holds no buffer of its own.
const EMPTY = new Uint8Array(0);

export class FrameDecoder {
  private buffer: Uint8Array = EMPTY;
  private failed: FrameError | null = null;

  constructor(private maxFrameBytes: number = MAX_FRAME_BYTES) {}

  /** Lowers or raises the limit (e.g. small during a handshake, larger after). */
  setMaxFrameBytes(limit: number): void {
    this.maxFrameBytes = Math.min(limit, MAX_FRAME_BYTES);
  }

  /** Bytes held waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.buffer.byteLength;
  }

  /**
   * Feeds stream bytes; returns the complete frames, or the first error. After an error the
   * stream cannot be resynchronised and every later call returns the same error.
   */
  push(chunk: Uint8Array): Result<Uint8Array[], FrameError> {
    if (this.failed) return err(this.failed);
    let data: Uint8Array;
    if (this.buffer.byteLength === 0) data = chunk;
    else {
      data = new Uint8Array(this.buffer.byteLength + chunk.byteLength);
      data.set(this.buffer);
      data.set(chunk, this.buffer.byteLength);
    }
    const frames: Uint8Array[] = [];
    let offset = 0;
    while (data.byteLength - offset >= FRAME_HEADER_BYTES) {
      const length = (data[offset]! << 8) | data[offset + 1]!;
      if (length === 0) return this.fail('empty', 'zero-length frame');
      if (length > this.maxFrameBytes) return this.fail('oversized', `frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`);
      if (data.byteLength - offset - FRAME_HEADER_BYTES < length) break;
      frames.push(data.slice(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + length));
      offset += FRAME_HEADER_BYTES + length;
    }
    this.buffer = offset === data.byteLength ? EMPTY : data.slice(offset);
    return ok(frames);
  }

  private fail(code: FrameErrorCode, message: string): Result<never, FrameError> {
    this.failed = { code, message };
    this.buffer = EMPTY;
    return err(this.failed);
  }
}
