#!/usr/bin/env node
// The `parley` command.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { create } from '@bufbuild/protobuf';
import { realEnv } from '../env/real.js';
import { formatEndpoint } from '../env/types.js';
import { CertificateVerifier, Role } from '../crypto/certificate.js';
import { parseNetworkDescriptor, type BootstrapEntry } from '../crypto/descriptor.js';
import { connectSecure } from '../crypto/secure-link.js';
import { certifyKeys, generateDeviceKeys } from '../crypto/identity.js';
import { LoginError } from '../client/login-client.js';
import { runLoginServer } from '../login-server/main.js';
import { startDemoApp } from './demo-app.js';
import { answer, buddies, call, chat, conference, daemon, loadDescriptor, CommandError, connect, history, login, nat, online, register, search, status, whois } from './account-commands.js';
import { toHex } from '../crypto/bytes.js';
import { startSupernode, type RunningSupernode } from '../supernode/supernode.js';
import { PingSchema, SUPPORTED_VERSIONS } from '../wire/messages.js';
import { loadOrCreateCa, loadOrCreateKeys } from '../crypto/key-files.js';
import { runSupernode } from './supernode-command.js';
import { admin } from './admin-command.js';
import { networkDescriptor } from './network-command.js';
import { fromBase64Url } from '../crypto/bytes.js';

const USAGE = `parley — peer-to-peer voice and chat on a supernode network

Usage:
  parley local [--dir D] [--supernodes N] [--port P] [--host H] [--stun-alternate A]
              [--web-port W] [--login-port L] [--app]
      Runs a local network: creates (once) a network CA in D, starts a login server on
      L (default 8443) and N supernodes on ports P, P+1, … (0: any free ports), writes
      D/network.json, and runs until Ctrl-C. Each supernode answers STUN on UDP at its port,
      with A as its second address for NAT behaviour discovery (RFC 5780). With W, the first
      supernode also takes device links and TURN over TCP on port W (443 for devices behind
      firewalls that let out only web traffic; the login server then belongs on 443 or 80).
      With --app (npm start), also two demo users, alice and bob, buddies, each with a daemon
      and the app: it prints two addresses to open in a browser (ports 8801 and 8802, or any
      free ones with --port 0).
      Defaults: --dir .parley-local --supernodes 3 --port 33033 --host 127.0.0.1
      --stun-alternate 127.0.0.2 (with the default host)
  parley ping [--dir D] [--count K]
      Joins the local network in D with a fresh certified device and pings each bootstrap
      supernode over a secure link, printing round-trip times.
  parley login-server [--data D] [--host H] [--port P] [--database URL] [--tls-cert F --tls-key F]
                     [--bootstrap host:port[+webport],…] [--public-host NAME] [--certificate-hours N]
      Runs the login server: accounts, device certificates, contacts, directory, offline store.
      Data (CA key, TLS certificate, SQLite database) in D (default .parley-login); PostgreSQL with
      --database postgres://… or DATABASE_URL. Device certificates last N hours (default 24).
      Writes D/network.json for clients.
  parley register <user> [--discoverable] [--password-stdin]
  parley login <user> [--password-stdin]
      First login on a device sends the password and gets a certificate for this device's keys;
      later logins sign a challenge with the device key instead.
  parley buddies [list | add <user> [message] | accept <user> | decline <user> | remove <user>
                 | block <user> | unblock <user>] [--user U]
      A request's message goes end to end (sealed for the user's devices); the login server
      carries only the request.
  parley search <prefix> [--user U]
  parley daemon [--user U] [--api-port P]
      Keeps this device online (as parley online does, calls and conferences too) and serves
      its local API and the app on 127.0.0.1:P (default: any free port): HTTP for commands and
      queries, WebSockets for events and audio, each request with the token in the profile
      (docs/daemon.md). Signed in as U, or as the only user logged in on the profile; otherwise
      nobody until someone signs up or logs in from the app at the printed address. While it
      runs, that user's parley chat <user> <message>, buddies, search and status go through it, and
      commands that would bring the device online a second time (online, call, answer,
      conference, connect, nat, whois) are refused.
  parley online [--user U] [--port P] [--no-promotion] [--promote-after MINUTES] [--no-read-receipts]
                [--calls-from buddies|anyone]
      Attaches this device to a supernode and stays online (others can find it) until Ctrl-C,
      printing messages (senders learn you read them, unless --no-read-receipts), presence
      and typing of your buddies.
      It listens on P (default: any free port) for a supernode's dial-back: when one finds it
      reachable from outside, with at least 1 Mbit/s up, after MINUTES online (default 60), it
      becomes a supernode too (certified by the login server); --no-promotion forbids that.
      It answers connections (parley connect, calls) from buddies, or from anyone with
      --calls-from anyone.
  parley chat <user> [message] [--user U]
      Sends a message end to end to every device of <user> (and your other devices) and waits
      for their acknowledgement; with no message, sends each line you type (on a terminal,
      <user> sees that you are typing). A user with no
      device online gets it at the next login (sealed for each device, kept by the login
      server). Incoming messages are printed here and by parley online.
  parley status <online|away|dnd|invisible> [text] [--user U]
      Your presence and status text, pushed end to end to your buddies (only) by parley online;
      invisible looks offline to them.
  parley history <user> [--search WORDS] [--limit N] [--user U]
      This device's conversation with <user> (the last N messages, default 50), from its local
      history; --search keeps the messages that contain WORDS.
  parley supernode [--dir D] [--port P] [--host H] [--stun-alternate A] [--web-port W]
      Runs one more supernode for the network in D (its network.json and CA key: a local
      network's folder, or the login server's data folder) and joins the overlay through the
      bootstrap list. Users' machines become supernodes by promotion instead.
  parley connect <user> [--user U]
      Opens a path to the user's online device the way a call will: candidates exchanged end
      to end, STUN checks from both sides (hole punching), a TURN relay on the supernodes when
      nothing direct works. Prints the path (direct, hole-punched or relayed), its setup time
      and the round trip over it. The other side's parley online answers buddies.
  parley nat [--user U] [--lifetime]
      Finds what this device is behind (open, full cone, address- or port-restricted,
      symmetric, UDP blocked) with RFC 5780 tests against its supernode's STUN service;
      parley online does the same at start and publishes it in the presence record.
      --lifetime also brackets how long the NAT keeps an idle mapping (probes of 15 s to 2 min,
      run side by side: about 2 minutes).
  parley call <user> [--in said.wav] [--out heard.wav] [--seconds N] [--frame-ms 10|20] [--user U]
      Calls the user: every online device rings, the first to answer gets the call. Sends
      --in (any PCM WAV; silence without it) as Opus in SRTP over the best path (direct,
      hole-punched or relayed), writes what you hear to --out (48 kHz mono WAV), prints live
      statistics, and hangs up when --in has been sent (or after N seconds). On a terminal:
      h holds or resumes, m mutes, q hangs up. 10 ms frames: lower delay, more packets.
  parley answer [--in said.wav] [--out heard.wav] [--seconds N] [--calls-from buddies|anyone] [--user U]
      Waits for a call or a conference invitation, answers it with --in, records --out,
      until the caller hangs up (or the conference ends, or N seconds have passed).
  parley conference <user> <user>… [--in said.wav] [--out heard.wav] [--seconds N] [--user U]
      Hosts a conference and invites the users (each answers with parley answer). The
      participant the others reach best mixes: everyone hears everyone else, never their own
      voice; if the mixer leaves, another takes over. Prints the roster (host, mixer, who
      speaks) as it changes; leaves when --in has been sent (or after N seconds).
  parley whois <user> [--user U]
      Finds a user through the supernode overlay; if the overlay has no record, asks the
      login server whether the user exists and when they were last seen, and says which.
      Account commands take --network FILE (default .parley-login/network.json) and
      --profile DIR (device keys and sessions, default ~/.parley).
  parley version
  parley help
`;

const OPTIONS = {
  dir: { type: 'string' },
  supernodes: { type: 'string', default: '3' },
  port: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  'stun-alternate': { type: 'string' },
  'web-port': { type: 'string' },
  'api-port': { type: 'string', default: '0' },
  'login-port': { type: 'string' },
  app: { type: 'boolean', default: false },
  count: { type: 'string', default: '3' },
  data: { type: 'string', default: '.parley-login' },
  database: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  bootstrap: { type: 'string' },
  'public-host': { type: 'string', multiple: true },
  'certificate-hours': { type: 'string', default: '24' },
  network: { type: 'string', default: '.parley-login/network.json' },
  profile: { type: 'string' },
  user: { type: 'string' },
  'password-stdin': { type: 'boolean', default: false },
  discoverable: { type: 'boolean', default: false },
  'no-promotion': { type: 'boolean', default: false },
  'no-read-receipts': { type: 'boolean', default: false },
  'calls-from': { type: 'string', default: 'buddies' },
  lifetime: { type: 'boolean', default: false },
  'promote-after': { type: 'string', default: '60' },
  search: { type: 'string' },
  in: { type: 'string' },
  out: { type: 'string' },
  seconds: { type: 'string' },
  'frame-ms': { type: 'string', default: '20' },
  limit: { type: 'string', default: '50' },
  enrol: { type: 'string' },
  label: { type: 'string' },
  hours: { type: 'string', default: '24' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function callOptions(values: { in?: string; out?: string; seconds?: string; 'frame-ms': string }): { in?: string; out?: string; seconds?: number; frameMs: 10 | 20 } {
  const frameMs = values['frame-ms'] === '10' ? 10 : values['frame-ms'] === '20' ? 20 : null;
  if (frameMs === null) throw new UsageError('--frame-ms is 10 or 20');
  return {
    ...(values.in ? { in: values.in } : {}),
    ...(values.out ? { out: values.out } : {}),
    ...(values.seconds ? { seconds: positiveInt(values.seconds, 'seconds', 1, 86_400) } : {}),
    frameMs,
  };
}

function callsFrom(text: string): 'buddies' | 'anyone' {
  if (text !== 'buddies' && text !== 'anyone') throw new UsageError('--calls-from is buddies or anyone');
  return text;
}

function positiveInt(text: string, name: string, min = 1, max = 65535): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`);
  return value;
}

class UsageError extends Error {}

/** Where `parley local` keeps its network (and `parley ping` finds it). */
const LOCAL_DIR = '.parley-local';

/** The local network's login server port (its supernodes use 33033 and up). */
const LOCAL_LOGIN_PORT = 8443;

/** An operator's supernode listens here unless told otherwise. */
const SUPERNODE_PORT = 33033;

/** Pinned supernodes: host:port[+webport]@key, the key as `parley supernode` prints it (clients need it to talk to them). */
function parseBootstrap(text: string | undefined): BootstrapEntry[] {
  if (!text) return [];
  return text.split(',').map((item) => {
    const match = /^([^:@]+):(\d+)(?:\+(\d+))?@([A-Za-z0-9_-]{43})$/.exec(item.trim());
    const dhKey = match ? fromBase64Url(match[4]!) : null;
    if (!match || !dhKey) throw new UsageError(`--bootstrap takes host:port[+webport]@key,… with the key parley supernode prints (got ${item}); enrolled supernodes need no pinning`);
    return { host: match[1]!, port: positiveInt(match[2]!, 'bootstrap port'), dhKey, ...(match[3] ? { webPort: positiveInt(match[3], 'bootstrap web port', 1, 65535) } : {}) };
  });
}

async function runLoginServerCommand(values: Record<string, string | boolean | string[] | undefined>): Promise<void> {
  const database = (values.database as string | undefined) ?? process.env.DATABASE_URL;
  const running = await runLoginServer(realEnv, {
    dataDir: resolve(values.data as string),
    host: values.host as string,
    port: positiveInt((values.port as string | undefined) ?? '8443', 'port', 0),
    ...(database ? { database } : {}),
    ...(values['tls-cert'] ? { tlsCertFile: values['tls-cert'] as string } : {}),
    ...(values['tls-key'] ? { tlsKeyFile: values['tls-key'] as string } : {}),
    ...(values['public-host'] ? { publicHosts: values['public-host'] as string[] } : {}),
    bootstrap: parseBootstrap(values.bootstrap as string | undefined),
    config: { certificateLifetimeMs: positiveInt(values['certificate-hours'] as string, 'certificate-hours', 1, 24 * 365) * 3_600_000 },
  });
  console.log(`Parley login server on ${running.url} (${running.databaseKind === 'postgres' ? 'PostgreSQL' : 'embedded SQLite'})`);
  console.log(`descriptor: ${running.descriptorPath}`);
  console.log('Try: parley register alice --discoverable   then   parley login alice   (Ctrl-C stops the server)');
  const stop = () => void running.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** A second address for each supernode's STUN service: given, or on loopback the next loopback address. */
function stunAlternate(values: { host: string; 'stun-alternate'?: string }): { stun: { alternate: { host: string } } } | Record<string, never> {
  const host = values['stun-alternate'] ?? (values.host === '127.0.0.1' ? '127.0.0.2' : undefined);
  return host ? { stun: { alternate: { host } } } : {};
}

/** Where `parley local --app` serves the demo users' apps. */
const DEMO_APP_PORTS = [8801, 8802];

async function runLocal(values: { dir?: string; supernodes: string; port?: string; host: string; 'stun-alternate'?: string; 'web-port'?: string; 'login-port'?: string; app?: boolean }): Promise<void> {
  const dir = resolve(values.dir ?? LOCAL_DIR);
  const count = positiveInt(values.supernodes, 'supernodes', 1, 64);
  const basePort = positiveInt(values.port ?? '33033', 'port', 0);
  const webPort = values['web-port'] === undefined ? undefined : positiveInt(values['web-port'], 'web-port');
  const loginPort = values['login-port'] === undefined ? (basePort === 0 ? 0 : LOCAL_LOGIN_PORT) : positiveInt(values['login-port'], 'login-port', 0);
  const nowMs = realEnv.clock.wallTimeMs();
  const ca = loadOrCreateCa(dir, realEnv.random);
  const verifier = new CertificateVerifier(ca.keyPair.publicKey);
  const running: RunningSupernode[] = [];
  const bootstrap: (BootstrapEntry & { dhKey: Uint8Array })[] = [];
  for (let i = 0; i < count; i++) {
    const keys = loadOrCreateKeys(join(dir, `supernode-${i + 1}.key.json`), realEnv.random);
    const identity = certifyKeys(ca, keys, { username: '', role: Role.SUPERNODE, issuedAtMs: nowMs, serial: nowMs * 100 + i });
    const supernode = await startSupernode(realEnv, {
      identity,
      verifier,
      host: values.host,
      port: basePort === 0 ? 0 : basePort + i,
      // One web port per host: the first supernode takes it.
      ...(i === 0 && webPort !== undefined ? { webPort } : {}),
      ...stunAlternate(values),
      log: (line) => console.log(`supernode ${i + 1}: ${line}`),
    });
    running.push(supernode);
    bootstrap.push({ host: values.host, port: supernode.port, dhKey: keys.dh.publicKey, ...(supernode.webPort ? { webPort: supernode.webPort } : {}) });
  }
  // The supernodes form the overlay: each joins through all of them.
  for (const supernode of running) await supernode.join(bootstrap);
  // The login server shares the folder, and so the CA; it writes network.json with the
  // supernodes as bootstrap list and its own pinned certificate.
  const loginServer = await runLoginServer(realEnv, {
    dataDir: dir,
    host: values.host,
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
  const stopApp = values.app ? await startDemoApp(dir, loadDescriptor(descriptorPath), basePort === 0 ? [0, 0] : DEMO_APP_PORTS) : null;
  if (!values.app) console.log(`Try: parley register alice --network ${join(values.dir ?? LOCAL_DIR, 'network.json')}, parley login alice …, parley ping --dir ${values.dir ?? LOCAL_DIR}`);
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

async function runPing(values: { dir?: string; count: string }): Promise<number> {
  const dir = resolve(values.dir ?? LOCAL_DIR);
  const count = positiveInt(values.count, 'count', 1, 1000);
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
      for (let i = 0; i < count; i++) {
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
      console.log(`${where}: failed: ${code ? `${code}: ` : ''}${(error as Error).message}`);
    }
  }
  return failures === 0 ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
  const networkGiven = rest.some((arg) => arg === '--network' || arg.startsWith('--network='));
  const accountOptions = { network: values.network, ...(values.profile ? { profile: values.profile } : {}), 'password-stdin': values['password-stdin'], discoverable: values.discoverable, ...(values.user ? { user: values.user } : {}) };
  const positionalsFor = (n: number) => {
    if (positionals.length > n) throw new UsageError(`too many arguments: ${positionals.slice(n).join(' ')}`);
    return positionals;
  };
  switch (command) {
    case 'login-server':
      positionalsFor(0);
      await runLoginServerCommand(values);
      return -1; // keeps running
    case 'register':
      await register(positionalsFor(1)[0], accountOptions);
      return 0;
    case 'login':
      await login(positionalsFor(1)[0], accountOptions);
      return 0;
    case 'connect':
      await connect(positionalsFor(1)[0], accountOptions);
      return 0;
    case 'call':
      await call(positionalsFor(1)[0], accountOptions, callOptions(values));
      return 0;
    case 'conference':
      await conference(positionals, accountOptions, callOptions(values));
      return 0;
    case 'answer':
      positionalsFor(0);
      await answer(accountOptions, { ...callOptions(values), callsFrom: callsFrom(values['calls-from']) });
      return 0;
    case 'nat':
      positionalsFor(0);
      await nat(accountOptions, values.lifetime);
      return 0;
    case 'buddies':
      await buddies(positionals, accountOptions);
      return 0;
    case 'search':
      await search(positionalsFor(1)[0], accountOptions);
      return 0;
    case 'daemon':
      positionalsFor(0);
      await daemon(accountOptions, { apiPort: positiveInt(values['api-port'], 'api-port', 0) });
      return 0;
    case 'online':
      positionalsFor(0);
      await online(accountOptions, {
        port: positiveInt(values.port ?? '0', 'port', 0),
        allowPromotion: !values['no-promotion'],
        readReceipts: !values['no-read-receipts'],
        promoteAfterMs: positiveInt(values['promote-after'], 'promote-after', 0, 7 * 24 * 60) * 60_000,
        callsFrom: callsFrom(values['calls-from']),
      });
      return 0;
    case 'supernode': {
      positionalsFor(0);
      const publicHosts = values['public-host'] ?? [];
      if (publicHosts.length > 1) throw new UsageError('a supernode takes one --public-host');
      await runSupernode({
        dir: values.dir ?? '.parley-supernode',
        host: values.host,
        ...(publicHosts[0] ? { publicHost: publicHosts[0] } : {}),
        ...(networkGiven ? { network: values.network } : {}),
        ...(values.enrol !== undefined ? { enrol: values.enrol } : {}),
        port: positiveInt(values.port ?? String(SUPERNODE_PORT), 'port', 0),
        ...(values['web-port'] ? { webPort: positiveInt(values['web-port'], 'web-port') } : {}),
        ...stunAlternate(values),
      });
      return -1; // keeps running
    }
    case 'admin':
      await admin(positionals, {
        data: values.data,
        ...(((values.database as string | undefined) ?? process.env.DATABASE_URL) ? { database: (values.database as string | undefined) ?? process.env.DATABASE_URL! } : {}),
        ...(values.label !== undefined ? { label: values.label } : {}),
        hours: positiveInt(values.hours, 'hours', 1, 24 * 30),
      });
      return 0;
    case 'network': {
      if (positionals[0] !== 'descriptor' || positionals.length > 1) throw new UsageError('parley network descriptor [--network F] [--out F]');
      await networkDescriptor(loadDescriptor(values.network), values.out);
      return 0;
    }
    case 'chat': {
      const [to, ...words] = positionals;
      await chat(to, words.length > 0 ? words.join(' ') : undefined, accountOptions);
      return 0;
    }
    case 'status':
      await status(positionals, accountOptions);
      return 0;
    case 'history':
      await history(positionalsFor(1)[0], accountOptions, { ...(values.search ? { search: values.search } : {}), limit: positiveInt(values.limit, 'limit', 1, 10_000) });
      return 0;
    case 'whois':
      await whois(positionalsFor(1)[0], accountOptions);
      return 0;
    case 'local':
      positionalsFor(0);
      await runLocal(values);
      return -1; // keeps running
    case 'ping':
      positionalsFor(0);
      return runPing(values);
    case 'version': {
      const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
      console.log(`parley ${pkg.version}, protocol versions ${SUPPORTED_VERSIONS.join(',')}`);
      return 0;
    }
    case undefined:
    case 'help':
      console.log(USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof CommandError || error instanceof LoginError) {
      console.error(`parley: ${(error as Error).message}`);
      process.exit(1);
    }
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`parley: ${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(`parley: ${(error as Error).message}`);
    process.exit(1);
  },
);
