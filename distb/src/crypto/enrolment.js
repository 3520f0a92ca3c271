import { concatBytes, toBase64Url } from './bytes.js';
const ENROL_CONTEXT = new TextEncoder().encode('parley-supernode-enrol-v1\0');
const RENEW_CONTEXT = new TextEncoder().encode('parley-supernode-renew-v1\0');
/** How enrolment tokens start: tells a person (and a log scanner) what the string is. */
export const ENROLMENT_TOKEN_PREFIX = 'parley-sn1-';
export const ENROLMENT_TOKEN_PATTERN = /^parley-sn1-[A-Za-z0-9_-]{43}$/;
/** How far a renewal's own time may be from the login server's: a replay inside it only renews the same keys at the same address. */
export const RENEWAL_WINDOW_MS = 5 * 60_000;
export function newEnrolmentToken(random) {
    return `${ENROLMENT_TOKEN_PREFIX}${toBase64Url(random.bytes(32))}`;
}
function addressBytes(address) {
    return new TextEncoder().encode(`${address.host}\0${address.port}\0${address.webPort ?? 0}`);
}
function timeBytes(ms) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(Math.max(0, Math.floor(ms))));
    return bytes;
}
/** Signed by the supernode's signing key when it enrols: binds its Noise key and address to the token. */
export function enrolmentProofMessage(networkId, token, dhKey, address) {
    return concatBytes(ENROL_CONTEXT, networkId, dhKey, addressBytes(address), new TextEncoder().encode(token));
}
/** Signed by the supernode's signing key when it renews (and says it is alive) at `timeMs`. */
export function renewalMessage(networkId, dhKey, address, timeMs) {
    return concatBytes(RENEW_CONTEXT, networkId, dhKey, timeBytes(timeMs), addressBytes(address));
}
//# sourceMappingURL=enrolment.js.map