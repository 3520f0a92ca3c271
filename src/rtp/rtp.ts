// RTP packets (RFC 3550 section 5.1): the fixed 12-byte header, CSRCs, a header extension and
// padding. Decoding untrusted bytes gives a typed packet or a typed error, never an exception.
import { err, ok, type CodedError, type Result } from '../result.js';

export const RTP_VERSION = 2;
export const RTP_HEADER_BYTES = 12;
/** The dynamic payload type Parley uses for Opus (RFC 7587 has none fixed; 111 is the common choice). */
export const OPUS_PAYLOAD_TYPE = 111;

export interface RtpPacket {
  readonly marker: boolean;
  readonly payloadType: number;
  /** 16-bit sequence number. */
  readonly sequence: number;
  /** 32-bit media timestamp (48 kHz for Opus, whatever the bandwidth: RFC 7587). */
  readonly timestamp: number;
  readonly ssrc: number;
  readonly csrcs: readonly number[];
  readonly payload: Uint8Array;
}

export type RtpError = CodedError<'truncated' | 'bad_version' | 'bad_padding'>;

/** CSRCs a header holds at most (its count is 4 bits). */
export const MAX_CSRCS = 15;

/** Encodes a packet without extension or padding. Throws on more than MAX_CSRCS CSRCs (a bug of the caller: a 16th would set the extension bit). */
export function encodeRtp(packet: Omit<RtpPacket, 'csrcs'> & { csrcs?: readonly number[] }): Uint8Array {
  const csrcs = packet.csrcs ?? [];
  if (csrcs.length > MAX_CSRCS) throw new RangeError(`an RTP header holds at most ${MAX_CSRCS} CSRCs, not ${csrcs.length}`);
  const header = RTP_HEADER_BYTES + 4 * csrcs.length;
  const out = new Uint8Array(header + packet.payload.length);
  const view = new DataView(out.buffer);
  out[0] = (RTP_VERSION << 6) | csrcs.length;
  out[1] = (packet.marker ? 0x80 : 0) | (packet.payloadType & 0x7f);
  view.setUint16(2, packet.sequence & 0xffff);
  view.setUint32(4, packet.timestamp >>> 0);
  view.setUint32(8, packet.ssrc >>> 0);
  csrcs.forEach((c, i) => view.setUint32(RTP_HEADER_BYTES + 4 * i, c >>> 0));
  out.set(packet.payload, header);
  return out;
}

/** The header's length (fixed part, CSRCs, extension), or an error when the bytes are too short for it. */
export function rtpHeaderLength(bytes: Uint8Array): Result<number, RtpError> {
  if (bytes.length < RTP_HEADER_BYTES) return err({ code: 'truncated', message: `${bytes.length} bytes is shorter than an RTP header` });
  if (bytes[0]! >> 6 !== RTP_VERSION) return err({ code: 'bad_version', message: `RTP version ${bytes[0]! >> 6}` });
  let length = RTP_HEADER_BYTES + 4 * (bytes[0]! & 0x0f);
  if (bytes[0]! & 0x10) {
    if (bytes.length < length + 4) return err({ code: 'truncated', message: 'the header extension is cut off' });
    length += 4 + 4 * ((bytes[length + 2]! << 8) | bytes[length + 3]!);
  }
  if (bytes.length < length) return err({ code: 'truncated', message: 'the RTP header is cut off' });
  return ok(length);
}

export function decodeRtp(bytes: Uint8Array): Result<RtpPacket, RtpError> {
  const headerLength = rtpHeaderLength(bytes);
  if (!headerLength.ok) return headerLength;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = bytes.length;
  if (bytes[0]! & 0x20) {
    const padding = bytes[bytes.length - 1]!;
    if (padding === 0 || headerLength.value + padding > bytes.length) return err({ code: 'bad_padding', message: `${padding} bytes of padding do not fit` });
    end -= padding;
  }
  const csrcs: number[] = [];
  for (let i = 0; i < (bytes[0]! & 0x0f); i++) csrcs.push(view.getUint32(RTP_HEADER_BYTES + 4 * i));
  return ok({
    marker: (bytes[1]! & 0x80) !== 0,
    payloadType: bytes[1]! & 0x7f,
    sequence: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    csrcs,
    payload: bytes.subarray(headerLength.value, end),
  });
}
