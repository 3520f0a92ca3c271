// TURN ChannelData (RFC 8656 section 12.4): a 4-byte header (channel number, length) instead of
// a 36-byte Send or Data indication. Channel numbers: RFC 8656 narrowed them to 0x4000-0x4FFF;
// RFC 5766 allowed up to 0x7FFF, and clients still use that (coturn's uclient does). Nothing else
// on a TURN port starts with a byte 0x40-0x7F (RFC 7983).
export const MIN_CHANNEL = 0x4000;
export const MAX_CHANNEL = 0x7fff;

export function isChannelData(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 4 && bytes[0]! >= MIN_CHANNEL >> 8 && bytes[0]! <= MAX_CHANNEL >> 8;
}

export function encodeChannelData(channel: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + data.byteLength);
  out[0] = channel >> 8;
  out[1] = channel & 0xff;
  out[2] = data.byteLength >> 8;
  out[3] = data.byteLength & 0xff;
  out.set(data, 4);
  return out;
}

/** The channel and the data (a view), or null when the header says more than came. */
export function decodeChannelData(bytes: Uint8Array): { channel: number; data: Uint8Array } | null {
  if (!isChannelData(bytes)) return null;
  const length = (bytes[2]! << 8) | bytes[3]!;
  if (4 + length > bytes.byteLength) return null;
  return { channel: (bytes[0]! << 8) | bytes[1]!, data: bytes.subarray(4, 4 + length) };
}
