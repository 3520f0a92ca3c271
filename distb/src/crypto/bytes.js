// Small byte helpers shared by the crypto modules.
import { timingSafeEqual } from 'node:crypto';
export function concatBytes(...parts) {
    let length = 0;
    for (const part of parts)
        length += part.byteLength;
    const out = new Uint8Array(length);
    let offset = 0;
    for (const part of parts) {
        out.set(part, offset);
        offset += part.byteLength;
    }
    return out;
}
export function equalBytes(a, b) {
    return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}
export function toHex(bytes) {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
export function fromHex(hex) {
    return new Uint8Array(Buffer.from(hex, 'hex'));
}
export function toBase64Url(bytes) {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}
/** Strict base64url decoding: null when the text is not canonical base64url. */
export function fromBase64Url(text) {
    if (!/^[A-Za-z0-9_-]*$/.test(text))
        return null;
    const bytes = new Uint8Array(Buffer.from(text, 'base64url'));
    return toBase64Url(bytes) === text ? bytes : null;
}
//# sourceMappingURL=bytes.js.map