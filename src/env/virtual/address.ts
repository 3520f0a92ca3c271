// IPv4 addresses as 32-bit unsigned numbers inside the simulator, dotted text at its edge.

const textCache = new Map<number, string>();
const TEXT_CACHE_MAX = 1 << 18;

export function addressToText(address: number): string {
  let text = textCache.get(address);
  if (text === undefined) {
    text = `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;
    if (textCache.size < TEXT_CACHE_MAX) textCache.set(address, text);
  }
  return text;
}

/** Parses dotted IPv4 text; returns null for anything else. */
export function textToAddress(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}
