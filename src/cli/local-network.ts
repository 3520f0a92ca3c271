// `parley local`: a whole network on one host for trying Parley out: supernodes that form the
// overlay, a login server sharing their folder (and so their CA), and with --app two demo users.
import { join, resolve } from 'node:path';
import { realEnv } from '../env/real.js';
import { formatEndpoint } from '../env/types.js';
import { CertificateVerifier, Role } from '../crypto/certificate.js';
import type { BootstrapEntry } from '../crypto/descriptor.js';
import { certifyKeys } from '../crypto/identity.js';
import { loadOrCreateCa, loadOrCreateKeys } from '../crypto/key-files.js';
import { toHex } from '../crypto/bytes.js';
import { runLoginServer } from '../login-server/main.js';
import { startSupernode, type RunningSupernode } from '../supernode/supernode.js';
import { SUPPORTED_VERSIONS } from '../wire/messages.js';
import type { Cidr } from '../turn/peer-policy.js';
import { loadDescriptor } from './account-commands.js';
import { startDemoApp } from './demo-app.js';
import { stunAlternate } from './network-commands.js';
import { loadTurnTls } from './turn-tls-files.js';

/** The local network's login server port (its supernodes use 33033 and up). */
export const LOCAL_LOGIN_PORT = 8443;

/** Where `parley local --app` serves the demo users' apps. */
const DEMO_APP_PORTS = [8801, 8802];

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
