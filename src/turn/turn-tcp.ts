// TURN over TCP (RFC 8656 section 12.5 framing): STUN messages back to back (each says its own
// length) and ChannelData padded to a multiple of 4 bytes. A decoder for the stream, and an
// adapter that makes a TCP connection look like the datagram socket the TURN client and server
// already speak through, so the rest of TURN does not care how the client reached the server.
import type { Endpoint, TcpConnection, UdpSocket } from '../env/types.js';
import { MAGIC_COOKIE } from '../stun/stun.js';
import { MAX_CHANNEL, MIN_CHANNEL } from './channel-data.js';

/** A message larger than this on the stream ends the connection (a TURN datagram is far smaller). */
export const MAX_STREAM_MESSAGE_BYTES = 65_536 + 4;

/** Whether the first bytes of a TCP connection are a STUN message (for sharing a port with Noise links). */
export function looksLikeStunStream(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 8 && (bytes[0]! & 0xc0) === 0 && new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(4) === MAGIC_COOKIE;
}

/** Whether a message starting with this byte is ChannelData (the rest of the header may not be here yet). */
const isChannelData = (first: number) => first >= MIN_CHANNEL >> 8 && first <= MAX_CHANNEL >> 8;

/** ChannelData over TCP is padded to a multiple of 4; STUN messages already are. */
export function padForStream(bytes: Uint8Array): Uint8Array {
  if (!isChannelData(bytes[0] ?? 0) || bytes.byteLength % 4 === 0) return bytes;
  const padded = new Uint8Array((bytes.byteLength + 3) & ~3);
  padded.set(bytes);
  return padded;
}

/** Splits a TCP byte stream into STUN messages and ChannelData (padding removed). */
export class StunStreamDecoder {
  private buffer = new Uint8Array(0);
  private failed = false;

  /** Bytes of a message not yet whole (at most MAX_STREAM_MESSAGE_BYTES). */
  get bufferedBytes(): number {
    return this.buffer.byteLength;
  }

  /**
   * Appends bytes and returns the messages now complete; null once the stream is not TURN (then
   * close it). With `stopAfter`, the first message it matches is the last one returned: what
   * follows stays buffered (after a ConnectionBind it may be raw data, see `drain`).
   */
  push(bytes: Uint8Array, stopAfter?: (message: Uint8Array) => boolean): Uint8Array[] | null {
    if (this.failed) return null;
    // Usually nothing is left from the last chunk: then the chunk itself is read, not a copy.
    let joined = bytes;
    if (this.buffer.byteLength > 0) {
      joined = new Uint8Array(this.buffer.byteLength + bytes.byteLength);
      joined.set(this.buffer);
      joined.set(bytes, this.buffer.byteLength);
    }
    const out: Uint8Array[] = [];
    let offset = 0;
    while (joined.byteLength - offset >= 4) {
      const first = joined[offset]!;
      const length = (joined[offset + 2]! << 8) | joined[offset + 3]!;
      let whole: number;
      let message: number;
      if (isChannelData(first)) {
        message = 4 + length;
        whole = (message + 3) & ~3;
      } else if ((first & 0xc0) === 0) {
        message = whole = 20 + length;
      } else {
        this.failed = true;
        return null;
      }
      if (whole > MAX_STREAM_MESSAGE_BYTES) {
        this.failed = true;
        return null;
      }
      if (joined.byteLength - offset < whole) break;
      const complete = joined.slice(offset, offset + message);
      out.push(complete);
      offset += whole;
      if (stopAfter?.(complete)) break;
    }
    this.buffer = joined.slice(offset);
    return out;
  }

  /** Takes the bytes not yet parsed out of the decoder (the stream stops being TURN's). */
  drain(): Uint8Array {
    const rest = this.buffer;
    this.buffer = new Uint8Array(0);
    return rest;
  }
}

/** Whether a whole message is a ConnectionBind request (RFC 6062): after it, a stream may carry raw data. */
export function isConnectionBindRequest(message: Uint8Array): boolean {
  // The message type: method 0x00b, class request, is 0x000b.
  return message.byteLength >= 20 && message[0] === 0x00 && message[1] === 0x0b;
}

/**
 * A TCP connection to a TURN server as a datagram socket: `send` ignores the address (there is
 * one peer), messages arrive as if from `server`. For the TURN client.
 */
export function streamSocket(connection: TcpConnection, server: Endpoint): UdpSocket {
  let handler: (bytes: Uint8Array, from: Endpoint) => void = () => {};
  const decoder = new StunStreamDecoder();
  connection.onData((bytes) => {
    const messages = decoder.push(bytes);
    if (!messages) return connection.close();
    for (const m of messages) handler(m, server);
  });
  return {
    local: connection.local,
    send: (bytes) => connection.write(padForStream(bytes)),
    onMessage: (h) => (handler = h),
    close: () => connection.close(),
  };
}
