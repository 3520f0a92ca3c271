// `parley login-server` and `parley ping`: a login server from the command line, and a check
// that a network's supernodes answer (`parley local` is in local-network.ts).
import { fromBase64Url } from '../crypto/bytes.js';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { realEnv } from '../env/real.js';
import { formatEndpoint } from '../env/types.js';
import { CertificateVerifier, Role } from '../crypto/certificate.js';
import { parseNetworkDescriptor, type BootstrapEntry } from '../crypto/descriptor.js';
import { connectSecure } from '../crypto/secure-link.js';
import { certifyKeys, generateDeviceKeys } from '../crypto/identity.js';
import { loadOrCreateCa } from '../crypto/key-files.js';
import { runLoginServer } from '../login-server/main.js';
import { PingSchema } from '../wire/messages.js';
import { UsageError } from './arguments.js';
import type { LogLevel } from '../ops/log.js';
import { terminalError, terminalText as safe } from './terminal-text.js';

export function parseBootstrap(text: string | undefined): BootstrapEntry[] {
  if (!text) return [];
  const port = (digits: string, item: string) => {
    const value = Number(digits);
    if (value < 1 || value > 65535) throw new UsageError(`--bootstrap takes ports from 1 to 65535 (got ${item})`);
    return value;
  };
  // Pinned supernodes need their key (as `parley supernode` prints it): clients drop entries without one.
  return text.split(',').map((item) => {
    const match = /^([^:@]+):(\d+)(?:\+(\d+))?@([A-Za-z0-9_-]{43})$/.exec(item.trim());
    const dhKey = match ? fromBase64Url(match[4]!) : null;
    if (!match || !dhKey) throw new UsageError(`--bootstrap takes host:port[+webport]@key,… with the key parley supernode prints (got ${item}); enrolled supernodes need no pinning`);
    return { host: match[1]!, port: port(match[2]!, item), dhKey, ...(match[3] ? { webPort: port(match[3], item) } : {}) };
  });
}

/** A second address for each supernode's STUN service: given, or on loopback the next loopback address. */
export function stunAlternate(host: string, alternate: string | undefined): { stun: { alternate: { host: string } } } | Record<string, never> {
  const chosen = alternate ?? (host === '127.0.0.1' ? '127.0.0.2' : undefined);
  return chosen ? { stun: { alternate: { host: chosen } } } : {};
}

export interface LoginServerCommandOptions {
  readonly data: string;
  readonly host: string;
  readonly port: number;
  readonly database?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly publicHosts?: readonly string[];
  readonly bootstrap: readonly BootstrapEntry[];
  readonly certificateHours: number;
  /** Where /metrics, /healthz and /readyz are served (docs/operations.md). */
  readonly metrics?: { readonly host: string; readonly port: number };
  /** JSON log lines at this level and above, to standard error. */
  readonly logLevel?: LogLevel;
}

/** `--metrics host:port` or `--metrics port` (loopback). */
export function parseMetricsAddress(text: string | undefined): { host: string; port: number } | undefined {
  if (text === undefined) return undefined;
  const match = /^(?:([^:]+):)?(\d+)$/.exec(text.trim());
  const port = match ? Number(match[2]) : -1;
  if (!match || port < 0 || port > 65535) throw new UsageError(`--metrics takes host:port or a port (got ${text})`);
  return { host: match[1] ?? '127.0.0.1', port };
}

export async function runLoginServerCommand(options: LoginServerCommandOptions): Promise<void> {
  const running = await runLoginServer(realEnv, {
    dataDir: resolve(options.data),
    host: options.host,
    port: options.port,
    ...(options.database ? { database: options.database } : {}),
    ...(options.tlsCert ? { tlsCertFile: options.tlsCert } : {}),
    ...(options.tlsKey ? { tlsKeyFile: options.tlsKey } : {}),
    ...(options.publicHosts ? { publicHosts: options.publicHosts } : {}),
    bootstrap: options.bootstrap,
    config: { certificateLifetimeMs: options.certificateHours * 3_600_000 },
    ...(options.metrics ? { ops: options.metrics } : {}),
    ...(options.logLevel ? { log: { level: options.logLevel, stream: process.stderr } } : {}),
  });
  if (running.ops) console.log(`metrics on http://${running.ops.host}:${running.ops.port}/metrics`);
  console.log(`Parley login server on ${running.url} (${running.databaseKind === 'postgres' ? 'PostgreSQL' : 'embedded SQLite'})`);
  console.log(`descriptor: ${running.descriptorPath}`);
  console.log('Try: parley register alice --discoverable   then   parley login alice   (Ctrl-C stops the server)');
  const stop = () => void running.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

export async function runPing(options: { dir: string; count: number }): Promise<number> {
  const dir = resolve(options.dir);
  const parsed = parseNetworkDescriptor(readFileSync(join(dir, 'network.json'), 'utf8'));
  if (!parsed.ok) {
    console.error(`network.json: ${parsed.error.code}: ${parsed.error.message}`);
    return 1;
  }
  const descriptor = parsed.value;
  const ca = loadOrCreateCa(dir, realEnv.random);
  const nowMs = realEnv.clock.wallTimeMs();
  const identity = certifyKeys(ca, generateDeviceKeys(realEnv.random), { username: 'ping', role: Role.DEVICE, issuedAtMs: nowMs, serial: nowMs * 100 + 99 });
  const verifier = new CertificateVerifier(descriptor.caPublicKey);
  let failures = 0;
  for (const entry of descriptor.bootstrap) {
    const where = formatEndpoint(entry);
    try {
      const started = realEnv.clock.now();
      const link = await connectSecure(realEnv, {
        host: entry.host,
        port: entry.port,
        config: { identity, verifier, ...(entry.dhKey ? { remoteStaticKey: entry.dhKey } : {}) },
        connectTimeoutMs: 3000,
        handshakeTimeoutMs: 3000,
      });
      const handshakeMs = realEnv.clock.now() - started;
      const rtts: number[] = [];
      for (let i = 0; i < options.count; i++) {
        const sent = realEnv.clock.now();
        const pong = new Promise<void>((done) => link.onMessage((envelope) => envelope.body.case === 'pong' && done()));
        link.send({ case: 'ping', value: create(PingSchema, { nonce: BigInt(i) }) });
        await pong;
        rtts.push(realEnv.clock.now() - sent);
      }
      link.close();
      const role = Role[link.peer.role] ?? link.peer.role;
      console.log(`${where}: secure link (${entry.dhKey ? 'IK' : 'XX'}) to a certified ${role} in ${handshakeMs.toFixed(1)} ms; ping ${rtts.map((r) => r.toFixed(2)).join(' ')} ms`);
    } catch (error) {
      failures++;
      // NetError and ChannelFailure both carry a stable code.
      const code = (error as { code?: string }).code;
      console.log(`${where}: failed: ${code ? `${safe(code)}: ` : ''}${terminalError(error)}`);
    }
  }
  return failures === 0 ? 0 : 1;
}
