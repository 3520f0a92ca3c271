// A supernode's certificate for TURN over TLS ("turns:"): the operator's own (--tls-cert,
// --tls-key: a WebPKI certificate, which browsers given a turns: URL require), or one made at
// the first start and kept in the supernode's folder, made again when it nears its end. Parley's
// clients do not check it: TURN's long-term credentials authenticate the server (docs/nat.md).
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivate } from '../crypto/key-files.js';
import { realTlsServer } from '../env/tls.js';
import type { TlsServer } from '../env/types.js';
import { createSelfSignedCertificate } from '../login-server/self-signed.js';
import { LOGIN_SERVER_TLS } from '../login-server/tls-policy.js';
import { CommandError } from './command-error.js';

/** Lifetime of a self-signed TURN certificate (the most browsers accepted for any certificate). */
const SELF_SIGNED_DAYS = 825;
/** A self-signed certificate this close to its end is made again at start. */
const RENEW_BEFORE_MS = 30 * 86_400_000;

export interface TurnTlsFiles {
  readonly server: TlsServer;
  /** SHA-256 of the certificate (DER), lower-case hex, for operators to publish or compare. */
  readonly sha256: string;
  readonly selfSigned: boolean;
}

export function loadTurnTls(dir: string, options: { certFile?: string; keyFile?: string; hosts: readonly string[]; nowMs: number }): TurnTlsFiles {
  let cert: string;
  let key: string;
  const selfSigned = !options.certFile && !options.keyFile;
  if (!selfSigned) {
    if (!options.certFile || !options.keyFile) throw new CommandError('give both --tls-cert and --tls-key');
    cert = readFileSync(options.certFile, 'utf8');
    key = readFileSync(options.keyFile, 'utf8');
  } else {
    const certPath = join(dir, 'turn-tls.cert.pem');
    const keyPath = join(dir, 'turn-tls.key.pem');
    const kept = existsSync(certPath) && existsSync(keyPath) ? readFileSync(certPath, 'utf8') : null;
    if (!kept || Date.parse(new X509Certificate(kept).validTo) - options.nowMs < RENEW_BEFORE_MS) {
      const made = createSelfSignedCertificate({ commonName: 'parley supernode', hosts: options.hosts, lifetimeDays: SELF_SIGNED_DAYS, now: new Date(options.nowMs) });
      writePrivate(certPath, made.certPem);
      writePrivate(keyPath, made.keyPem);
    }
    cert = readFileSync(certPath, 'utf8');
    key = readFileSync(keyPath, 'utf8');
  }
  let server: TlsServer;
  let sha256: string;
  try {
    server = realTlsServer({ cert, key, policy: LOGIN_SERVER_TLS });
    sha256 = new X509Certificate(cert).fingerprint256.replaceAll(':', '').toLowerCase();
  } catch (error) {
    throw new CommandError(`the TURN over TLS certificate or key is not usable: ${(error as Error).message}`);
  }
  return { server, sha256, selfSigned };
}
