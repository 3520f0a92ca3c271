// TURN credentials without a shared static secret: a supernode hands its attached devices a
// time-limited username and password over their authenticated link (the device's certificate
// proved who it is), derived from a secret only that supernode holds, in the shape of the TURN
// REST API (username "expiry:user:device", password = base64(HMAC-SHA1(secret, username))), so
// any standard TURN client can use them. Nonces are stateless too: an expiry and a MAC.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface TurnCredentials {
  readonly username: string;
  readonly password: string;
  readonly expiresAtMs: number;
}

/** How long credentials a supernode hands out stay good. */
export const CREDENTIAL_LIFETIME_MS = 24 * 3_600_000;

const mac = (secret: Uint8Array, text: string) => createHmac('sha1', secret).update(text).digest();

/** Credentials for one device of `user`; `deviceTag` names the device (a key prefix). */
export function issueTurnCredentials(secret: Uint8Array, user: string, deviceTag: string, nowMs: number, lifetimeMs = CREDENTIAL_LIFETIME_MS): TurnCredentials {
  const expiresAtMs = nowMs + lifetimeMs;
  const username = `${Math.floor(expiresAtMs / 1000)}:${user}:${deviceTag}`;
  return { username, password: mac(secret, username).toString('base64'), expiresAtMs };
}

/** The password for a username this secret issued and that has not expired; null otherwise. */
export function passwordFor(secret: Uint8Array, username: string, nowMs: number): string | null {
  const expiry = Number(username.split(':', 1)[0]);
  if (!Number.isInteger(expiry) || expiry * 1000 < nowMs) return null;
  return mac(secret, username).toString('base64');
}

/** The user a username counts against for quotas (its middle part). */
export function userOf(username: string): string {
  return username.split(':')[1] ?? username;
}

/** The long-term credential key (RFC 8489 section 9.2.2): MD5(username ":" realm ":" password). */
export function longTermKey(username: string, realm: string, password: string): Uint8Array {
  return createHash('md5').update(`${username}:${realm}:${password}`).digest();
}

/** A nonce that proves itself: its expiry and a MAC over it and the client's address. */
export function issueNonce(secret: Uint8Array, clientHost: string, nowMs: number, lifetimeMs: number): string {
  const expiry = Math.floor((nowMs + lifetimeMs) / 1000).toString(36);
  return `${expiry}.${mac(secret, `nonce:${expiry}:${clientHost}`).subarray(0, 12).toString('base64url')}`;
}

export function nonceValid(secret: Uint8Array, nonce: string, clientHost: string, nowMs: number): boolean {
  const [expiry, tag] = nonce.split('.');
  if (!expiry || !tag || parseInt(expiry, 36) * 1000 < nowMs) return false;
  const expected = mac(secret, `nonce:${expiry}:${clientHost}`).subarray(0, 12);
  const given = Buffer.from(tag, 'base64url');
  return given.byteLength === expected.byteLength && timingSafeEqual(given, expected);
}
