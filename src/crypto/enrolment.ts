// Supernode enrolment, the part both ends share: the operator's single-use token, what a
// supernode signs to enrol with its own keys, and what it signs to renew its certificate. The
// CA key never leaves the login server: a supernode proves it holds its signing key, the token
// proves the operator wanted it, and the login server certifies the keys.
import type { Random } from '../env/types.js';
import { concatBytes, toBase64Url } from './bytes.js';

const ENROL_CONTEXT = new TextEncoder().encode('parley-supernode-enrol-v1\0');
const RENEW_CONTEXT = new TextEncoder().encode('parley-supernode-renew-v1\0');

/** How enrolment tokens start: tells a person (and a log scanner) what the string is. */
export const ENROLMENT_TOKEN_PREFIX = 'parley-sn1-';
export const ENROLMENT_TOKEN_PATTERN = /^parley-sn1-[A-Za-z0-9_-]{43}$/;

/** How far a renewal's own time may be from the login server's: a replay inside it only renews the same keys at the same address. */
export const RENEWAL_WINDOW_MS = 5 * 60_000;

export function newEnrolmentToken(random: Random): string {
  return `${ENROLMENT_TOKEN_PREFIX}${toBase64Url(random.bytes(32))}`;
}

export interface AdvertisedAddress {
  readonly host: string;
  readonly port: number;
  readonly webPort: number | null;
}

function addressBytes(address: AdvertisedAddress): Uint8Array {
  return new TextEncoder().encode(`${address.host}\0${address.port}\0${address.webPort ?? 0}`);
}

function timeBytes(ms: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(Math.max(0, Math.floor(ms))));
  return bytes;
}

/** Signed by the supernode's signing key when it enrols: binds its Noise key and address to the token. */
export function enrolmentProofMessage(networkId: Uint8Array, token: string, dhKey: Uint8Array, address: AdvertisedAddress): Uint8Array {
  return concatBytes(ENROL_CONTEXT, networkId, dhKey, addressBytes(address), new TextEncoder().encode(token));
}

/** Signed by the supernode's signing key when it renews (and says it is alive) at `timeMs`. */
export function renewalMessage(networkId: Uint8Array, dhKey: Uint8Array, address: AdvertisedAddress, timeMs: number): Uint8Array {
  return concatBytes(RENEW_CONTEXT, networkId, dhKey, timeBytes(timeMs), addressBytes(address));
}
