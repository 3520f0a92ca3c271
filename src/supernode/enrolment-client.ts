// A supernode's side of enrolment: it enrols its own keys with the operator's single-use token,
// then renews its certificate (which also tells the login server it is alive and where it
// listens) with a signature of its key. The answers carry the live bootstrap list it joins
// the overlay through.
import { fromBase64Url, toBase64Url } from '../crypto/bytes.js';
import { parseBootstrapEntries, parseRevokedKeys, type BootstrapEntry } from '../crypto/descriptor.js';
import { signBytes } from '../crypto/ed25519.js';
import { enrolmentProofMessage, renewalMessage, type AdvertisedAddress } from '../crypto/enrolment.js';
import type { DeviceKeys } from '../crypto/identity.js';

/**
 * The one thing enrolment needs of the login server's HTTPS client: a JSON call. Named here, not
 * imported, so a supernode does not depend on the client's code (client/login-client.ts's
 * LoginClient is one; a test can pass a stub).
 */
export interface LoginApi {
  request<T>(method: 'POST', path: string, body: unknown): Promise<T>;
}

export interface SupernodeGrant {
  readonly id: number;
  readonly label: string;
  readonly certificate: Uint8Array;
  readonly certificateExpiresAtMs: number;
  /** Other supernodes of the network, with keys (never this one). */
  readonly bootstrap: readonly (BootstrapEntry & { dhKey: Uint8Array })[];
  /** Noise keys of supernodes the operator revoked lately: links from them are refused. */
  readonly revoked: readonly Uint8Array[];
}

interface GrantJson {
  id: number;
  label: string;
  certificate: string;
  certificateExpiresAtMs: number;
  bootstrap: unknown;
  revoked?: unknown;
}

/** Checks what the login server answered: a bad answer is an error here, not a crash later. */
function toGrant(answer: GrantJson): SupernodeGrant {
  const certificate = typeof answer.certificate === 'string' ? fromBase64Url(answer.certificate) : null;
  const bootstrap = parseBootstrapEntries(answer.bootstrap);
  const revoked = parseRevokedKeys(answer.revoked);
  if (!certificate || typeof answer.certificateExpiresAtMs !== 'number' || !bootstrap.ok || !revoked.ok) throw new Error('the login server answered the supernode request with something unexpected');
  return {
    id: Number(answer.id),
    label: String(answer.label),
    certificate,
    certificateExpiresAtMs: answer.certificateExpiresAtMs,
    bootstrap: bootstrap.value.filter((b): b is BootstrapEntry & { dhKey: Uint8Array } => b.dhKey !== undefined),
    revoked: revoked.value,
  };
}

function addressFields(address: AdvertisedAddress) {
  return { host: address.host, port: address.port, ...(address.webPort !== null ? { webPort: address.webPort } : {}) };
}

export async function enrolSupernode(client: LoginApi, networkId: Uint8Array, keys: DeviceKeys, token: string, address: AdvertisedAddress): Promise<SupernodeGrant> {
  const proof = signBytes(keys.signing, enrolmentProofMessage(networkId, token, keys.dh.publicKey, address));
  const answer = await client.request<GrantJson>('POST', '/v1/supernodes/enrol', {
    token,
    signingKey: toBase64Url(keys.signing.publicKey),
    dhKey: toBase64Url(keys.dh.publicKey),
    ...addressFields(address),
    proof: toBase64Url(proof),
  });
  return toGrant(answer);
}

export async function renewSupernode(client: LoginApi, networkId: Uint8Array, keys: DeviceKeys, address: AdvertisedAddress, nowMs: number): Promise<SupernodeGrant> {
  const timeMs = Math.floor(nowMs);
  const signature = signBytes(keys.signing, renewalMessage(networkId, keys.dh.publicKey, address, timeMs));
  const answer = await client.request<GrantJson>('POST', '/v1/supernodes/renew', {
    signingKey: toBase64Url(keys.signing.publicKey),
    ...addressFields(address),
    timeMs,
    signature: toBase64Url(signature),
  });
  return toGrant(answer);
}
