// `parley local`, `parley login-server` and `parley ping`: a network's servers from the command
// line, and a check that its supernodes answer.
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
import { loadOrCreateCa, loadOrCreateKeys } from '../crypto/key-files.js';
import { toHex } from '../crypto/bytes.js';
import { runLoginServer } from '../login-server/main.js';
import { startSupernode, type RunningSupernode } from '../supernode/supernode.js';
import { PingSchema, SUPPORTED_VERSIONS } from '../wire/messages.js';
import { UsageError } from './arguments.js';
import type { LogLevel } from '../ops/log.js';
import { loadDescriptor } from './account-commands.js';
import { startDemoApp } from './demo-app.js';
import { terminalError, terminalText as safe } from './terminal-text.js';
import type { Cidr } from '../nat/peer-policy.js';
import { loadTurnTls } from './turn-tls-files.js';

/** The local network's login server port (its supernodes use 33033 and up). */
export const LOCAL_LOGIN_PORT = 8443;

/** Where `parley local --app` serves the demo users' apps. */
const DEMO_APP_PORTS = [8801, 8802];

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

export interface LocalOptions {
  readonly dir: string;
  readonly supernodes: number;
  /** The first supernode's port (0: any free ports). */
  readonly port: number;
  readonly host: string;
  readonly stunAlternate?: string;
  readonly webPort?: number;
  readonly loginPort?: number;
  /** Special-purpose addresses the supernodes' TURN relays to (loopback, for a network on this machine). */
  readonly turnAllowPeers: readonly Cidr[];
  readonly app: boolean;
}

export async function runLocal(options: LocalOptions): Promise<void> {
  const dir = resolve(options.dir);
  const basePort = options.port;
  const loginPort = options.loginPort ?? (basePort === 0 ? 0 : LOCAL_LOGIN_PORT);
  const nowMs = realEnv.clock.wallTimeMs();
  const ca = loadOrCreateCa(dir, realEnv.random);
  const verifier = new CertificateVerifier(ca.keyPair.publicKey);
  // One TURN over TLS certificate for the supernodes on this host, kept in the folder.
  const turnTls = loadTurnTls(dir, { hosts: [options.host], nowMs });
  const running: RunningSupernode[] = [];
  const bootstrap: (BootstrapEntry & { dhKey: Uint8Array })[] = [];
  for (let i = 0; i < options.supernodes; i++) {
    const keys = loadOrCreateKeys(join(dir, `supernode-${i + 1}.key.json`), realEnv.random);
    const identity = certifyKeys(ca, keys, { username: '', role: Role.SUPERNODE, issuedAtMs: nowMs, serial: nowMs * 100 + i });
    const supernode = await startSupernode(realEnv, {
      identity,
      verifier,
      host: options.host,
      port: basePort === 0 ? 0 : basePort + i,
      // One web port per host: the first supernode takes it.
      ...(i === 0 && options.webPort !== undefined ? { webPort: options.webPort } : {}),
      stun: { ...stunAlternate(options.host, options.stunAlternate).stun, allowPeers: options.turnAllowPeers, tls: turnTls.server },
      log: (line) => console.log(`supernode ${i + 1}: ${line}`),
    });
    running.push(supernode);
    bootstrap.push({ host: options.host, port: supernode.port, dhKey: keys.dh.publicKey, ...(supernode.webPort ? { webPort: supernode.webPort } : {}) });
  }
  // The supernodes form the overlay: each joins through all of them.
  for (const supernode of running) await supernode.join(bootstrap);
  // The login server shares the folder, and so the CA; it writes network.json with the
  // supernodes as bootstrap list and its own pinned certificate.
  const loginServer = await runLoginServer(realEnv, {
    dataDir: dir,
    host: options.host,
    port: loginPort,
    bootstrap,
    config: { networkName: 'parley-local' },
  });
  const descriptorPath = loginServer.descriptorPath;
  console.log(`Parley local network ${toHex(ca.networkId).slice(0, 16)} (protocol v${SUPPORTED_VERSIONS.join(',')})`);
  console.log(`  login server on ${loginServer.url} (embedded SQLite in ${dir})`);
  for (const [i, entry] of bootstrap.entries()) {
    const stun = running[i]!.stun;
    const other = stun?.server.otherAddress;
    const web = entry.webPort ? ` and ${entry.webPort} (web port)` : '';
    console.log(`  supernode ${i + 1} listening on ${formatEndpoint(entry)}${web}${stun ? `; STUN on udp ${formatEndpoint(stun.primary)}${other ? ` (second address ${formatEndpoint(other)})` : ''}` : ''}`);
  }
  console.log(`descriptor: ${descriptorPath}`);
  const stopApp = options.app ? await startDemoApp(dir, loadDescriptor(descriptorPath), basePort === 0 ? [0, 0] : DEMO_APP_PORTS) : null;
  if (!options.app) console.log(`Try: parley register alice --network ${join(options.dir, 'network.json')}, parley login alice …, parley ping --dir ${options.dir}`);
  console.log('     (in this checkout: npm run parley -- <command>)   Ctrl-C stops the network');
  const stop = () => {
    void (stopApp ?? (async () => {}))().finally(() => {
      for (const supernode of running) supernode.close();
      void loginServer.close().then(() => process.exit(0));
    });
  };
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
