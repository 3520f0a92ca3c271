// The network descriptor: what a client is started with to join one Parley network — the CA
// public key (which names the network), the login server and the bootstrap supernodes. A JSON
// file a person can read; parsed strictly into a typed value or a typed error.
import { err, ok, type CodedError, type Result } from '../result.js';
import { fromBase64Url, toBase64Url } from './bytes.js';
import { networkIdOf } from './certificate.js';

export const DESCRIPTOR_VERSION = 1;
const MAX_DESCRIPTOR_BYTES = 64 * 1024;
const MAX_BOOTSTRAP_ENTRIES = 64;

export interface BootstrapEntry {
  readonly host: string;
  readonly port: number;
  /** The supernode's Noise static key, when known: lets clients use the one-round-trip IK handshake. */
  readonly dhKey?: Uint8Array;
  /** A TCP port (443, say) that also takes links and TURN, for devices behind web-only firewalls. */
  readonly webPort?: number;
}

export interface NetworkDescriptor {
  readonly version: number;
  readonly name: string;
  readonly caPublicKey: Uint8Array;
  readonly networkId: Uint8Array;
  readonly loginServerUrl: string;
  /** SHA-256 of the login server's TLS certificate (hex), pinned when it is self-signed. */
  readonly loginServerCertSha256?: string;
  /** The login server's self-signed certificate (PEM): clients trust it, and only it, for that server. */
  readonly loginServerCertificate?: string;
  readonly bootstrap: readonly BootstrapEntry[];
}

export type DescriptorError = CodedError<'malformed' | 'unsupported_version' | 'invalid_field' | 'oversized'>;

function invalid(message: string): Result<never, DescriptorError> {
  return err({ code: 'invalid_field', message });
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOSTNAME = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseNetworkDescriptor(text: string): Result<NetworkDescriptor, DescriptorError> {
  if (text.length > MAX_DESCRIPTOR_BYTES) return err({ code: 'oversized', message: 'descriptor larger than 64 KiB' });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return err({ code: 'malformed', message: `descriptor is not JSON: ${(error as Error).message}` });
  }
  if (!isRecord(raw)) return err({ code: 'malformed', message: 'descriptor must be a JSON object' });
  if (raw.version !== DESCRIPTOR_VERSION) return err({ code: 'unsupported_version', message: `descriptor version ${String(raw.version)} is not supported` });
  if (typeof raw.name !== 'string' || raw.name.length === 0 || raw.name.length > 64) return invalid('name must be 1-64 characters');
  const caPublicKey = typeof raw.caPublicKey === 'string' ? fromBase64Url(raw.caPublicKey) : null;
  if (!caPublicKey || caPublicKey.byteLength !== 32) return invalid('caPublicKey must be a base64url Ed25519 key');
  if (typeof raw.loginServerUrl !== 'string') return invalid('loginServerUrl must be a URL');
  let url: URL;
  try {
    url = new URL(raw.loginServerUrl);
  } catch {
    return invalid('loginServerUrl must be a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return invalid('loginServerUrl must be http(s)');
  if (raw.loginServerCertSha256 !== undefined && (typeof raw.loginServerCertSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(raw.loginServerCertSha256))) {
    return invalid('loginServerCertSha256 must be 64 lower-case hex digits');
  }
  const PEM = /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?$/;
  if (raw.loginServerCertificate !== undefined && (typeof raw.loginServerCertificate !== 'string' || raw.loginServerCertificate.length > 8192 || !PEM.test(raw.loginServerCertificate))) {
    return invalid('loginServerCertificate must be one PEM certificate');
  }
  const bootstrap = parseBootstrapEntries(raw.bootstrap);
  if (!bootstrap.ok) return bootstrap;
  return ok({
    version: DESCRIPTOR_VERSION,
    name: raw.name,
    caPublicKey,
    networkId: networkIdOf(caPublicKey),
    loginServerUrl: raw.loginServerUrl,
    ...(typeof raw.loginServerCertSha256 === 'string' ? { loginServerCertSha256: raw.loginServerCertSha256 } : {}),
    ...(typeof raw.loginServerCertificate === 'string' ? { loginServerCertificate: raw.loginServerCertificate } : {}),
    bootstrap: bootstrap.value,
  });
}

/**
 * A bootstrap list as JSON gives it (a descriptor's, or the login server's live list): each
 * entry checked; entries without a key are kept (an old descriptor may have them) and left to
 * the caller, which needs the key to use them.
 */
export function parseBootstrapEntries(raw: unknown): Result<BootstrapEntry[], DescriptorError> {
  if (!Array.isArray(raw) || raw.length > MAX_BOOTSTRAP_ENTRIES) return invalid(`bootstrap must be a list of at most ${MAX_BOOTSTRAP_ENTRIES} entries`);
  const bootstrap: BootstrapEntry[] = [];
  for (const entry of raw as unknown[]) {
    if (!isRecord(entry)) return invalid('bootstrap entries must be objects');
    if (typeof entry.host !== 'string' || !(IPV4.test(entry.host) || HOSTNAME.test(entry.host))) return invalid('bootstrap host must be an IPv4 address or a host name');
    if (typeof entry.port !== 'number' || !Number.isInteger(entry.port) || entry.port < 1 || entry.port > 65535) return invalid('bootstrap port must be 1-65535');
    let dhKey: Uint8Array | undefined;
    if (entry.dhKey !== undefined) {
      const key = typeof entry.dhKey === 'string' ? fromBase64Url(entry.dhKey) : null;
      if (!key || key.byteLength !== 32) return invalid('bootstrap dhKey must be a base64url X25519 key');
      dhKey = key;
    }
    if (entry.webPort !== undefined && (typeof entry.webPort !== 'number' || !Number.isInteger(entry.webPort) || entry.webPort < 1 || entry.webPort > 65535)) {
      return invalid('bootstrap webPort must be 1-65535');
    }
    bootstrap.push({ host: entry.host, port: entry.port, ...(dhKey ? { dhKey } : {}), ...(typeof entry.webPort === 'number' ? { webPort: entry.webPort } : {}) });
  }
  return ok(bootstrap);
}

/** Revoked supernode keys a login server may list (its answers carry the latest first). */
export const MAX_REVOKED_LISTED = 256;

/** A list of revoked supernodes' Noise keys, as the login server sends them (base64url, 32 bytes each); absent is none. */
export function parseRevokedKeys(raw: unknown): Result<Uint8Array[], DescriptorError> {
  if (raw === undefined) return ok([]);
  if (!Array.isArray(raw) || raw.length > MAX_REVOKED_LISTED) return invalid(`revoked must be a list of at most ${MAX_REVOKED_LISTED} keys`);
  const keys: Uint8Array[] = [];
  for (const text of raw as unknown[]) {
    const key = typeof text === 'string' ? fromBase64Url(text) : null;
    if (!key || key.byteLength !== 32) return invalid('revoked keys must be base64url X25519 keys');
    keys.push(key);
  }
  return ok(keys);
}

export function serializeNetworkDescriptor(descriptor: Omit<NetworkDescriptor, 'networkId' | 'version'>): string {
  return `${JSON.stringify(
    {
      version: DESCRIPTOR_VERSION,
      name: descriptor.name,
      caPublicKey: toBase64Url(descriptor.caPublicKey),
      loginServerUrl: descriptor.loginServerUrl,
      ...(descriptor.loginServerCertSha256 ? { loginServerCertSha256: descriptor.loginServerCertSha256 } : {}),
      ...(descriptor.loginServerCertificate ? { loginServerCertificate: descriptor.loginServerCertificate } : {}),
      bootstrap: descriptor.bootstrap.map((entry) => ({
        host: entry.host,
        port: entry.port,
        ...(entry.dhKey ? { dhKey: toBase64Url(entry.dhKey) } : {}),
        ...(entry.webPort ? { webPort: entry.webPort } : {}),
      })),
    },
    null,
    2,
  )}\n`;
}
