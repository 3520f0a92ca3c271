// G.711 (ITU-T G.711, 1988): the µ-law (PCMU, payload type 0) and A-law (PCMA, payload type 8)
// companding of telephone networks, between 16-bit linear PCM and one byte per sample.
// µ-law: bias 0x84 (132), segment of the biased magnitude, 4 mantissa bits, every bit inverted.
// A-law: 13-bit magnitude, segment and 4 mantissa bits, even bits inverted (XOR 0x55).
// Decoding is a 256-entry table built once from the decoding rule; encoding computes.

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32_635;

/** One 16-bit sample to µ-law. */
export function linearToMulaw(sample: number): number {
  let s = Math.max(-32_768, Math.min(32_767, Math.trunc(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s = Math.min(s, MULAW_CLIP) + MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** One µ-law byte to a 16-bit sample. */
export function mulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
  return u & 0x80 ? 0 - magnitude : magnitude; // 0 - 0 is +0, where -0 would not equal the table's 0 in strict comparisons
}

/** One 16-bit sample to A-law. */
export function linearToAlaw(sample: number): number {
  let s = Math.max(-32_768, Math.min(32_767, Math.trunc(sample))) >> 3; // 13 bits
  const sign = s >= 0 ? 0x80 : 0;
  if (s < 0) s = -s - 1;
  s = Math.min(s, 0x0fff);
  let byte: number;
  if (s < 32) byte = s >> 1;
  else {
    let exponent = 1;
    while (s >> (exponent + 5) > 0 && exponent < 7) exponent++;
    byte = (exponent << 4) | ((s >> exponent) & 0x0f);
  }
  return (byte | sign) ^ 0x55;
}

/** One A-law byte to a 16-bit sample. */
export function alawToLinear(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  const magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

const MULAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => mulawToLinear(i));
const ALAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => alawToLinear(i));

export function encodeMulaw(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = linearToMulaw(samples[i]!);
  return out;
}

export function decodeMulaw(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = MULAW_TABLE[bytes[i]!]!;
  return out;
}

export function encodeAlaw(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = linearToAlaw(samples[i]!);
  return out;
}

export function decodeAlaw(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = ALAW_TABLE[bytes[i]!]!;
  return out;
}
