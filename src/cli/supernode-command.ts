// `parley supernode`: an operator's supernode on its own host. It makes its own keys once (in
// its folder, 0600), enrols them with a single-use token from the login server's operator
// (`parley admin enrol-supernode`), and from then on renews its certificate with its own key:
// the network's CA key stays on the login server's host. Users' machines become supernodes by
// promotion instead.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { realEnv } from '../env/real.js';
import type { Timer } from '../env/types.js';
import { equalBytes, fromBase64Url, toBase64Url } from '../crypto/bytes.js';
import { CertificateVerifier } from '../crypto/certificate.js';
import { parseNetworkDescriptor, type NetworkDescriptor } from '../crypto/descriptor.js';
import { ENROLMENT_TOKEN_PATTERN, type AdvertisedAddress } from '../crypto/enrolment.js';
import { renewableIdentity } from '../crypto/identity.js';
import { loadOrCreateKeys, writePrivate } from '../crypto/key-files.js';
import { LoginClient, LoginError } from '../client/login-client.js';
import { enrolSupernode, renewSupernode, type SupernodeGrant } from '../supernode/enrolment-client.js';
import { startSupernode } from '../supernode/supernode.js';
import { serveSupernodeOps } from '../supernode/ops.js';
import { createLogger, type LogLevel } from '../ops/log.js';
import { CommandError } from './command-error.js';
import { terminalError } from './terminal-text.js';
import type { Cidr } from '../turn/peer-policy.js';
import { loadTurnTls } from './turn-tls-files.js';

/** How often a running supernode renews (and tells the login server it is alive). */
export const RENEW_INTERVAL_MS = 5 * 60_000;
/** After a failed renewal, the next try comes sooner. */
const RENEW_RETRY_MS = 30_000;

export interface SupernodeCommandOptions {
  /** Its own folder: keys, certificate, the network descriptor. */
  readonly dir: string;
  /** The network's descriptor (the login server's network.json: no secret in it); kept in `dir`. */
  readonly network?: string;
  /** The operator's single-use enrolment token (first start only). */
  readonly enrol?: string;
  readonly host: string;
  /** Where clients and other supernodes reach it (default: the listen host). */
  readonly publicHost?: string;
  readonly port: number;
  readonly webPort?: number;
  readonly stun?: { alternate: { host: string } };
  /** TURN relay ports: the firewall's range for this host. */
  readonly relayPorts?: { readonly min: number; readonly max: number };
  /** Where relayed peers reach the relay ports, behind a 1:1 NAT (default: the public host). */
  readonly relayPublicHost?: string;
  /** STUN and TURN over IPv6 and IPv6 relays: the IPv6 address to listen on (`::`: every one) and the one clients reach (needed with `::`; commands.ts checks both). */
  readonly ipv6?: { readonly host: string; readonly publicHost?: string };
  /** Special-purpose addresses TURN relays to nonetheless (a lab's private ranges); default none. */
  readonly turnAllowPeers?: readonly Cidr[];
  /** Threads relaying TURN over UDP (0 or 1: the main thread); default 0. */
  readonly relayWorkers?: number;
  /** The operator's certificate and key for TURN over TLS (PEM files); default: a self-signed one kept in `dir`. */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  /** Where /metrics, /healthz and /readyz are served (docs/operations.md). */
  readonly metrics?: { readonly host: string; readonly port: number };
  /** JSON log lines at this level and above to standard error, instead of plain lines. */
  readonly logLevel?: LogLevel;
}

interface SavedCertificate {
  readonly certificate: Uint8Array;
  readonly expiresAtMs: number;
}

function loadDescriptorInto(dir: string, given: string | undefined): NetworkDescriptor {
  const kept = join(dir, 'network.json');
  const path = given ? resolve(given) : kept;
  if (!existsSync(path)) {
    throw new CommandError(given ? `no descriptor at ${path}` : `no network.json in ${dir}: give --network FILE (the login server's network.json; it holds no secret)`);
  }
  const text = readFileSync(path, 'utf8');
  const parsed = parseNetworkDescriptor(text);
  if (!parsed.ok) throw new CommandError(`${path}: ${parsed.error.code}: ${parsed.error.message}`);
  if (path !== kept) writeFileSync(kept, text, { mode: 0o600 });
  return parsed.value;
}

function loadCertificate(path: string): SavedCertificate | null {
  if (!existsSync(path)) return null;
  try {
    const raw = JSON.parse(readFileSync(path, 'utf8')) as { certificate?: unknown; expiresAtMs?: unknown };
    const certificate = typeof raw.certificate === 'string' ? fromBase64Url(raw.certificate) : null;
    return certificate && typeof raw.expiresAtMs === 'number' ? { certificate, expiresAtMs: raw.expiresAtMs } : null;
  } catch {
    return null; // a damaged saved certificate: asked for again, as if none was saved
  }
}

/** The login server's words, made safe for the terminal. */
function describeLoginError(error: unknown): string {
  return terminalError(error);
}

export async function runSupernode(options: SupernodeCommandOptions): Promise<void> {
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const descriptor = loadDescriptorInto(dir, options.network);
  if (options.enrol !== undefined && !ENROLMENT_TOKEN_PATTERN.test(options.enrol)) throw new CommandError('--enrol takes the token `parley admin enrol-supernode` printed (parley-sn1-…)');
  const advertisedHost = options.publicHost ?? options.host;
  if (advertisedHost === '0.0.0.0' || advertisedHost === '::') throw new CommandError('listening on every address: give --public-host, the address clients reach this host at');
  const keys = loadOrCreateKeys(join(dir, 'supernode.key.json'), realEnv.random);
  const logger = options.logLevel ? createLogger({ level: options.logLevel, stream: process.stderr, fields: { role: 'supernode' } }) : null;
  const certificatePath = join(dir, 'supernode.cert.json');
  const saved = loadCertificate(certificatePath);
  if (!saved && options.enrol === undefined) {
    throw new CommandError(`this supernode is not enrolled yet: ask the login server's operator for a token (parley admin enrol-supernode) and start it with --enrol TOKEN`);
  }
  const turnTls = loadTurnTls(dir, { ...(options.tlsCert ? { certFile: options.tlsCert } : {}), ...(options.tlsKey ? { keyFile: options.tlsKey } : {}), hosts: [advertisedHost], nowMs: realEnv.clock.wallTimeMs() });
  // Listen first (with the saved certificate, if any): with --port 0 the port is known only then.
  const identity = renewableIdentity(keys, saved?.certificate ?? new Uint8Array(0));
  const supernode = await startSupernode(realEnv, {
    identity,
    verifier: new CertificateVerifier(descriptor.caPublicKey),
    host: options.host,
    port: options.port,
    advertise: { host: advertisedHost },
    ...(options.webPort ? { webPort: options.webPort } : {}),
    stun: {
      ...options.stun,
      ...(options.publicHost ? { publicHost: options.publicHost } : {}),
      ...(options.relayPublicHost ? { relayPublicHost: options.relayPublicHost } : {}),
      ...(options.relayPorts ? { relayPorts: options.relayPorts } : {}),
      ...(options.turnAllowPeers ? { allowPeers: options.turnAllowPeers } : {}),
      ...(options.ipv6 ? { ipv6: options.ipv6 } : {}),
      ...(options.relayWorkers ? { relayWorkers: options.relayWorkers } : {}),
      tls: turnTls.server,
    },
    log: logger ? (line) => logger.info(line) : (line) => console.log(`supernode: ${line}`),
  });
  const address: AdvertisedAddress = { host: advertisedHost, port: supernode.port, webPort: supernode.webPort };
  const login = new LoginClient(descriptor);
  const keep = (grant: SupernodeGrant) => {
    identity.renew(grant.certificate);
    supernode.refuseRevoked(grant.revoked);
    writePrivate(certificatePath, `${JSON.stringify({ certificate: toBase64Url(grant.certificate), expiresAtMs: grant.certificateExpiresAtMs })}\n`);
  };
  let grant: SupernodeGrant | null = null;
  try {
    if (options.enrol !== undefined) {
      grant = await enrolSupernode(login, descriptor.networkId, keys, options.enrol, address);
      console.log(`enrolled with the login server as supernode #${grant.id}${grant.label ? ` (${grant.label})` : ''}`);
    } else {
      grant = await renewSupernode(login, descriptor.networkId, keys, address, realEnv.clock.wallTimeMs());
    }
    keep(grant);
  } catch (error) {
    const refused = error instanceof LoginError && error.status >= 400 && error.status < 500;
    if (refused || !saved || saved.expiresAtMs <= realEnv.clock.wallTimeMs()) {
      supernode.close();
      login.close();
      throw new CommandError(`the login server refused or did not answer: ${describeLoginError(error)}`);
    }
    console.log(`the login server did not answer (${describeLoginError(error)}); serving with the saved certificate until ${new Date(saved.expiresAtMs).toISOString()} and trying again`);
  }
  const seeds = [...new Map([...descriptor.bootstrap, ...(grant?.bootstrap ?? [])].flatMap((b) => (b.dhKey && !equalBytes(b.dhKey, keys.dh.publicKey) ? [[toBase64Url(b.dhKey), { ...b, dhKey: b.dhKey }] as const] : []))).values()];
  await supernode.join(seeds);
  const web = supernode.webPort ? ` and ${supernode.webPort} (web port)` : '';
  console.log(`supernode listening on ${options.host}:${supernode.port}${web}, reached at ${advertisedHost}; joined the overlay through ${seeds.length} bootstrap supernodes and knows ${supernode.dht.table.size}`);
  const ops = options.metrics ? await serveSupernodeOps(supernode, { ...options.metrics, ...(logger ? { log: logger } : {}) }) : null;
  if (ops) console.log(`metrics on http://${ops.host}:${ops.port}/metrics`);
  console.log(`supernode key: ${toBase64Url(keys.dh.publicKey)} (pin as --bootstrap ${advertisedHost}:${supernode.port}${supernode.webPort ? `+${supernode.webPort}` : ''}@<key>)`);
  console.log(`TURN over TLS (turns:) on TCP ${supernode.port}${supernode.webPort ? ` and ${supernode.webPort}` : ''}, ${turnTls.selfSigned ? 'self-signed ' : ''}certificate SHA-256 ${turnTls.sha256}`);
  const stun6 = supernode.stun?.primary6;
  if (stun6) console.log(`STUN and TURN over IPv6 at [${stun6.host}]:${stun6.port}, with IPv6 relays`);
  else if (options.ipv6) console.log(`STUN and TURN over IPv6 did not start (see above): IPv4 only`);
  const workers = supernode.stun?.relayWorkers;
  if (workers) console.log(`TURN over UDP relayed by ${workers.count} threads on UDP ${workers.homes().map((h) => h.port).join(', ')} (Allocates at ${supernode.port} are redirected there)`);
  console.log(`open to the internet${stun6 ? ' (on IPv4 and IPv6)' : ''}: TCP ${supernode.port}${supernode.webPort ? ` and ${supernode.webPort}` : ''}, UDP ${supernode.port} (STUN, TURN) and ${options.relayPorts ? `UDP and TCP ${options.relayPorts.min}-${options.relayPorts.max}` : 'any UDP and TCP port above 1023 (or fix a range with --relay-ports)'} (TURN relays${workers ? ' and relay threads' : ''}; TCP for RFC 6062 TCP relays only)`);

  let timer: Timer | null = null;
  const renewLater = (delayMs: number) => {
    timer = realEnv.clock.after(delayMs, () => {
      renewSupernode(login, descriptor.networkId, keys, address, realEnv.clock.wallTimeMs()).then(
        (next) => {
          keep(next);
          // Supernodes enrolled since: met through the overlay too, but the list is authoritative.
          for (const entry of next.bootstrap) supernode.dht.meet({ host: entry.host, port: entry.port, dhKey: entry.dhKey, ...(entry.webPort ? { webPort: entry.webPort } : {}) });
          renewLater(RENEW_INTERVAL_MS);
        },
        (error: unknown) => {
          console.log(`renewal failed (${describeLoginError(error)}); trying again in ${RENEW_RETRY_MS / 1000} s`);
          renewLater(RENEW_RETRY_MS);
        },
      );
    });
  };
  renewLater(grant ? RENEW_INTERVAL_MS : RENEW_RETRY_MS);
  const stop = () => {
    void ops?.close();
    timer?.cancel();
    supernode.close();
    login.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
