// `parley login-server`: puts the pieces together from a data folder (0700, every file in it
// 0600) — the network CA (created at first start), the TLS certificate (given, or generated once and pinned through the
// descriptor), the database (embedded SQLite in the folder, or PostgreSQL from --database /
// DATABASE_URL) — listens, and writes the network descriptor clients start with.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Env, Timer } from '../env/types.js';
import { serializeNetworkDescriptor, type BootstrapEntry } from '../crypto/descriptor.js';
import { loadOrCreateCa } from '../crypto/key-files.js';
import { makePrivateDir, writePrivate } from '../env/private-files.js';
import { createServerContext, DEFAULT_CONFIG, type LoginServerConfig } from './context.js';
import { PasswordHasher, RECOMMENDED_SCRYPT_COST, type ScryptCost } from './passwords.js';
import { createSelfSignedCertificate } from './self-signed.js';
import { buildLoginServer } from './server.js';
import { liveBootstrap } from './routes/supernodes.js';
import { isPostgresUrl, openDatabase } from './store/database.js';
import { LoginStore } from './store/login-store.js';
import { createHash, X509Certificate } from 'node:crypto';
import type { ServerContext } from './context.js';
import { serveLoginServerOps } from './ops.js';
import type { OpsEndpointOptions, OpsServer } from '../ops/ops-server.js';
import type { LineSink, LogLevel } from '../ops/log.js';

/** How often network.json is brought up to date with the live bootstrap list. */
const DESCRIPTOR_REFRESH_MS = 60_000;

export interface LoginServerOptions {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /** postgres:// URL; default: SQLite in the data folder. */
  readonly database?: string;
  readonly tlsCertFile?: string;
  readonly tlsKeyFile?: string;
  /** Host names and addresses the generated certificate names (default: the listen host). */
  readonly publicHosts?: readonly string[];
  readonly bootstrap?: readonly BootstrapEntry[];
  readonly scryptCost?: ScryptCost;
  readonly config?: Partial<LoginServerConfig>;
  /** /metrics, /healthz, /readyz on their own port (default none; host default loopback). */
  readonly ops?: OpsEndpointOptions;
  /** JSON log lines of the HTTP server (default none). */
  readonly log?: { readonly level: LogLevel; readonly stream: LineSink };
}

export interface RunningLoginServer {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly descriptorPath: string;
  readonly databaseKind: 'sqlite' | 'postgres';
  readonly context: ServerContext;
  /** The ops endpoint, when `ops` asked for one. */
  readonly ops: OpsServer | null;
  close(): Promise<void>;
}

function loadTls(options: LoginServerOptions, nowMs: number): { key: string; cert: string; pinned: boolean } {
  if (options.tlsCertFile || options.tlsKeyFile) {
    if (!options.tlsCertFile || !options.tlsKeyFile) throw new Error('give both --tls-cert and --tls-key');
    return { cert: readFileSync(options.tlsCertFile, 'utf8'), key: readFileSync(options.tlsKeyFile, 'utf8'), pinned: false };
  }
  const certPath = join(options.dataDir, 'tls.cert.pem');
  const keyPath = join(options.dataDir, 'tls.key.pem');
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    const made = createSelfSignedCertificate({ commonName: 'parley login server', hosts: options.publicHosts ?? [options.host], lifetimeDays: 825, now: new Date(nowMs) });
    writePrivate(certPath, made.certPem);
    writePrivate(keyPath, made.keyPem);
  }
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), pinned: true };
}

export async function runLoginServer(env: Env, options: LoginServerOptions): Promise<RunningLoginServer> {
  makePrivateDir(options.dataDir);
  const ca = loadOrCreateCa(options.dataDir, env.random);
  const tls = loadTls(options, env.clock.wallTimeMs());
  const location = options.database ?? join(options.dataDir, 'login.db');
  const database = await openDatabase(location);
  const config: LoginServerConfig = { ...DEFAULT_CONFIG, ...options.config, bootstrap: options.bootstrap ?? options.config?.bootstrap ?? [] };
  const context = createServerContext({
    store: new LoginStore(database),
    ca,
    hasher: new PasswordHasher(options.scryptCost ?? RECOMMENDED_SCRYPT_COST),
    clock: env.clock,
    random: env.random,
    config,
  });
  const app = await buildLoginServer(context, { https: { key: tls.key, cert: tls.cert }, ...(options.log ? { log: options.log } : {}) });
  await app.listen({ host: options.host, port: options.port });
  const ops = options.ops
    ? await serveLoginServerOps(context, options.ops).catch(async (error: unknown) => {
        await app.close();
        await context.store.close();
        throw error;
      })
    : null;
  const address = app.server.address() as { port: number };
  const url = `https://${options.host}:${address.port}`;
  const der = new X509Certificate(tls.cert).raw;
  const descriptorPath = join(options.dataDir, 'network.json');
  // The descriptor carries the live bootstrap list: written at start and kept current, so the
  // file an operator hands out names the supernodes that run now.
  let written = '';
  const writeDescriptor = async () => {
    const text = serializeNetworkDescriptor({
      name: config.networkName,
      caPublicKey: ca.keyPair.publicKey,
      loginServerUrl: url,
      ...(tls.pinned ? { loginServerCertSha256: createHash('sha256').update(der).digest('hex'), loginServerCertificate: tls.cert } : {}),
      bootstrap: await liveBootstrap(context),
    });
    if (text !== written) writePrivate(descriptorPath, text);
    written = text;
  };
  await writeDescriptor();
  let refresher: Timer | null = null;
  let closed = false;
  const refresh = () => {
    if (closed) return;
    // A failed refresh (the database away, the disk full) leaves the last file, is logged, and is tried again at the next.
    const failed = (error: unknown) => app.log.warn({ err: error }, 'network descriptor not refreshed');
    refresher = env.clock.after(DESCRIPTOR_REFRESH_MS, () => void writeDescriptor().catch(failed).finally(() => refresh()));
  };
  refresh();
  return {
    app,
    url,
    descriptorPath,
    databaseKind: isPostgresUrl(location) ? 'postgres' : 'sqlite',
    context,
    ops,
    close: async () => {
      closed = true; // a refresh in flight schedules no other
      refresher?.cancel();
      await ops?.close();
      await app.close();
      await context.store.close();
    },
  };
}
