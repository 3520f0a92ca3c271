// The table of `parley` commands: each entry is its usage (synopsis, description, options with
// their defaults, from which the help texts and the parser are made) and what it runs. Adding a
// command is adding one entry.
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { availableParallelism } from 'node:os';
import type { BootstrapEntry } from '../crypto/descriptor.js';
import type { AccountOptions } from './account-commands.js';
import { UsageError, type Arguments } from './arguments.js';
import { commandHelp, overviewHelp } from './help.js';
import type { CommandUsage, OptionUsage } from './options.js';
import { parseCidrList, type Cidr } from '../turn/peer-policy.js';
import { MAX_GROUP_MEMBERS, MAX_GROUPS } from '../groups/limits.js';

// A command's code is loaded when it runs, not for help or a usage error: those stay fast
// (the servers' modules take most of a second to load).
const accounts = () => import('./account-commands.js');
const servers = () => import('./network-commands.js');
const localNetwork = () => import('./local-network.js');
const simulator = () => import('./sim-command.js');

/** The local network's login server port (its supernodes use 33033 and up). */
const LOCAL_LOGIN_PORT = 8443;

/** What a command's run gives back: an exit code, or `running` for a server that runs until stopped. */
export type CommandOutcome = number | 'running';

export interface Command {
  readonly usage: CommandUsage;
  run(args: Arguments): Promise<CommandOutcome>;
}

const MAX_PORT = 65535;

// Options several commands share.
const network: OptionUsage = { name: 'network', kind: 'string', value: 'FILE', default: '.parley-login/network.json', help: 'the network descriptor' };
const profile: OptionUsage = { name: 'profile', kind: 'string', value: 'DIR', help: 'device keys and sessions (default: ~/.parley)' };
const user: OptionUsage = { name: 'user', kind: 'string', value: 'U', help: 'act as this user (default: the only user logged in on the profile)' };
const passwordStdin: OptionUsage = { name: 'password-stdin', kind: 'boolean', help: 'read the password from standard input' };
const host: OptionUsage = { name: 'host', kind: 'string', value: 'H', default: '127.0.0.1', help: 'the address to listen on' };
const stunAlternateOption: OptionUsage = { name: 'stun-alternate', kind: 'string', value: 'A', help: "the STUN service's second address (default: 127.0.0.2 with host 127.0.0.1)" };
const webPort: OptionUsage = { name: 'web-port', kind: 'string', value: 'W', help: 'also take device links and TURN over TCP on this port' };
const turnAllowPeers = (fallback?: string): OptionUsage => ({
  name: 'turn-allow-peers',
  kind: 'string',
  value: 'CIDR,…',
  ...(fallback ? { default: fallback } : {}),
  help: 'let TURN relay to these addresses although not on the internet (loopback, private, 100.64/10, link-local, reserved, documentation ranges are refused otherwise)',
});
const localDir: OptionUsage = { name: 'dir', kind: 'string', value: 'D', default: '.parley-local', help: "the local network's folder" };
const callsFromOption: OptionUsage = { name: 'calls-from', kind: 'string', value: 'buddies|anyone', default: 'buddies', help: 'whose calls and connections to answer' };
const callOptions: OptionUsage[] = [
  { name: 'in', kind: 'string', value: 'said.wav', help: 'what to say (any PCM WAV; silence without it)' },
  { name: 'out', kind: 'string', value: 'heard.wav', help: 'where to write what you hear (48 kHz mono WAV)' },
  { name: 'seconds', kind: 'string', value: 'N', help: 'end after N seconds' },
  { name: 'frame-ms', kind: 'string', value: '10|20', default: '20', help: 'audio frame length in milliseconds' },
];
const accountOptions = [network, profile];
const userOptions = [user, ...accountOptions];

/** `--relay-ports 49152-65535`: an unprivileged range, low end first. */
export function parsePortRange(text: string | undefined): { min: number; max: number } | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(text.trim());
  const min = match ? Number(match[1]) : NaN;
  const max = match ? Number(match[2]) : NaN;
  if (!(min >= 1024 && max <= MAX_PORT && min <= max)) throw new UsageError(`--relay-ports takes MIN-MAX, two ports from 1024 to ${MAX_PORT}, low first (got ${text})`);
  return { min, max };
}

/** `--listen6` and `--public-host6`: IPv6 addresses, the public one needed when listening on every one (::). */
function ipv6Listen(host: string | undefined, publicHost: string | undefined): { host: string; publicHost?: string } | null {
  if (host === undefined) {
    if (publicHost !== undefined) throw new UsageError('--public-host6 goes with --listen6');
    return null;
  }
  if (!isIPv6(host)) throw new UsageError(`--listen6 takes an IPv6 address (:: for every one), not ${host}`);
  if (publicHost !== undefined && (!isIPv6(publicHost) || publicHost === '::')) throw new UsageError(`--public-host6 takes the IPv6 address clients reach this host at, not ${publicHost}`);
  if (host === '::' && publicHost === undefined) throw new UsageError('--listen6 :: listens on every IPv6 address: give --public-host6, the one clients reach this host at');
  return { host, ...(publicHost !== undefined ? { publicHost } : {}) };
}

/** A list of CIDRs (`--turn-allow-peers`); none when the option is not set. */
function cidrs(args: Arguments, name: string): readonly Cidr[] {
  const text = args.string(name);
  if (text === undefined) return [];
  const parsed = parseCidrList(text);
  if (!parsed.ok) throw new UsageError(`--${name}: ${parsed.error.message}${args.from(name)}`);
  return parsed.value;
}

function account(args: Arguments, extra: { password?: boolean; discoverable?: boolean; user?: boolean } = {}): AccountOptions & { user?: string } {
  const profileDir = args.string('profile');
  const username = extra.user ? args.string('user') : undefined;
  return {
    network: args.string('network')!,
    ...(profileDir ? { profile: profileDir } : {}),
    ...(extra.password ? { 'password-stdin': args.flag('password-stdin') } : {}),
    ...(extra.discoverable ? { discoverable: args.flag('discoverable') } : {}),
    ...(username ? { user: username } : {}),
  };
}

const userAccount = (args: Arguments) => account(args, { user: true });

function callArguments(args: Arguments): { in?: string; out?: string; seconds?: number; frameMs: 10 | 20 } {
  const frameMs = Number(args.choice('frame-ms', ['10', '20'] as const)) as 10 | 20;
  const said = args.string('in');
  const heard = args.string('out');
  const seconds = args.int('seconds', 1, 86_400);
  return { ...(said ? { in: said } : {}), ...(heard ? { out: heard } : {}), ...(seconds !== undefined ? { seconds } : {}), frameMs };
}

const callsFrom = (args: Arguments) => args.choice('calls-from', ['buddies', 'anyone'] as const)!;

type AccountCommands = Awaited<ReturnType<typeof accounts>>;

/** An account command, which finishes by itself. */
function accountCommand(work: (commands: AccountCommands, args: Arguments) => Promise<void>): (args: Arguments) => Promise<CommandOutcome> {
  return async (args) => {
    await work(await accounts(), args);
    return 0;
  };
}

export const COMMANDS: readonly Command[] = [
  {
    usage: {
      name: 'local',
      synopsis: ['[--dir D] [--supernodes N] [--port P] [--host H] [--stun-alternate A]', '[--web-port W] [--login-port L] [--turn-allow-peers CIDR,…] [--app]'],
      summary: 'runs a whole network on this machine: login server and supernodes',
      description: `Runs a local network: creates (once) a network CA in D, starts a login server on
L (default 8443) and N supernodes on ports P, P+1, … (0: any free ports), writes
D/network.json, and runs until Ctrl-C. Each supernode answers STUN on UDP at its port,
with A as its second address for NAT behaviour discovery (RFC 5780). With W, the first
supernode also takes device links and TURN over TCP on port W (443 for devices behind
firewalls that let out only web traffic; the login server then belongs on 443 or 80).
With --app (npm start), also two demo users, alice and bob, buddies, each with a daemon
and the app: it prints two addresses to open in a browser (ports 8801 and 8802, or any
free ones with --port 0).`,
      options: [
        localDir,
        { name: 'supernodes', kind: 'string', value: 'N', default: '3', help: 'how many supernodes' },
        { name: 'port', kind: 'string', value: 'P', default: '33033', help: "the first supernode's port (0: any free ports)" },
        host,
        stunAlternateOption,
        webPort,
        { name: 'login-port', kind: 'string', value: 'L', help: `the login server's port (default: ${LOCAL_LOGIN_PORT}, any free one with --port 0)` },
        turnAllowPeers('127.0.0.0/8,::1'),
        { name: 'app', kind: 'boolean', help: 'also two demo users with their daemons and the app' },
      ],
      configurable: true,
    },
    async run(args) {
      args.atMost(0);
      const { runLocal } = await localNetwork();
      const stun = args.string('stun-alternate');
      const web = args.int('web-port', 1, MAX_PORT);
      const loginPort = args.int('login-port', 0, MAX_PORT);
      await runLocal({
        dir: args.string('dir')!,
        supernodes: args.int('supernodes', 1, 64)!,
        port: args.int('port', 0, MAX_PORT)!,
        host: args.string('host')!,
        ...(stun ? { stunAlternate: stun } : {}),
        ...(web !== undefined ? { webPort: web } : {}),
        ...(loginPort !== undefined ? { loginPort } : {}),
        turnAllowPeers: cidrs(args, 'turn-allow-peers'),
        app: args.flag('app'),
      });
      return 'running';
    },
  },
  {
    usage: {
      name: 'ping',
      synopsis: ['[--dir D] [--count K]'],
      summary: "pings each of a local network's bootstrap supernodes",
      description: `Joins the local network in D with a fresh certified device and pings each bootstrap
supernode over a secure link, printing round-trip times.`,
      options: [localDir, { name: 'count', kind: 'string', value: 'K', default: '3', help: 'pings per supernode' }],
    },
    async run(args) {
      args.atMost(0);
      const { runPing } = await servers();
      return runPing({ dir: args.string('dir')!, count: args.int('count', 1, 1000)! });
    },
  },
  {
    usage: {
      name: 'login-server',
      synopsis: ['[--data D] [--host H] [--port P] [--database URL] [--tls-cert F --tls-key F]', '[--bootstrap host:port[+webport],…] [--public-host NAME] [--certificate-hours N]'],
      summary: 'runs the login server: accounts, device certificates, contacts, directory',
      description: `Runs the login server: accounts, device certificates, contacts, directory, offline store.
Data (CA key, TLS certificate, SQLite database) in D (default .parley-login); PostgreSQL with
--database postgres://… or DATABASE_URL. Device certificates last N hours (default 24).
Writes D/network.json for clients.`,
      options: [
        { name: 'data', kind: 'string', value: 'D', default: '.parley-login', help: 'the data folder (CA key, TLS certificate, SQLite database)' },
        host,
        { name: 'port', kind: 'string', value: 'P', default: '8443', help: 'the HTTPS port (0: any free port)' },
        { name: 'database', kind: 'string', value: 'URL', help: 'PostgreSQL (postgres://…) instead of SQLite in the data folder', alsoFrom: ['DATABASE_URL'] },
        { name: 'tls-cert', kind: 'string', value: 'F', help: 'TLS certificate (PEM; default: one made once and pinned in network.json)' },
        { name: 'tls-key', kind: 'string', value: 'F', help: "the TLS certificate's private key (PEM)" },
        { name: 'bootstrap', kind: 'string', value: 'host:port[+webport]@key,…', help: 'supernodes to pin in the descriptor, with the key parley supernode prints (enrolled ones are served without pinning)' },
        { name: 'public-host', kind: 'list', value: 'NAME', help: 'a name or address the generated certificate holds (repeatable; default: the host)' },
        { name: 'certificate-hours', kind: 'string', value: 'N', default: '24', help: 'how long device certificates last' },
        { name: 'log-level', kind: 'string', value: 'debug|info|warn|error', help: 'also write JSON log lines at this level and above to standard error' },
        { name: 'metrics', kind: 'string', value: '[HOST:]PORT', help: 'serve /metrics, /healthz and /readyz here (HOST default 127.0.0.1)' },
      ],
      configurable: true,
    },
    async run(args) {
      args.atMost(0);
      const { parseBootstrap, parseMetricsAddress, runLoginServerCommand } = await servers();
      const metrics = parseMetricsAddress(args.string('metrics'));
      const logLevel = args.choice('log-level', ['debug', 'info', 'warn', 'error'] as const);
      const database = args.string('database');
      const tlsCert = args.string('tls-cert');
      const tlsKey = args.string('tls-key');
      const publicHosts = args.list('public-host');
      let bootstrap: BootstrapEntry[];
      try {
        bootstrap = parseBootstrap(args.string('bootstrap'));
      } catch (error) {
        throw new UsageError(`${(error as Error).message}${args.from('bootstrap')}`);
      }
      await runLoginServerCommand({
        data: args.string('data')!,
        host: args.string('host')!,
        port: args.int('port', 0, MAX_PORT)!,
        ...(database ? { database } : {}),
        ...(tlsCert ? { tlsCert } : {}),
        ...(tlsKey ? { tlsKey } : {}),
        ...(publicHosts && publicHosts.length > 0 ? { publicHosts } : {}),
        bootstrap,
        certificateHours: args.int('certificate-hours', 1, 24 * 365)!,
        ...(metrics ? { metrics } : {}),
        ...(logLevel ? { logLevel } : {}),
      });
      return 'running';
    },
  },
  {
    usage: {
      name: 'supernode',
      synopsis: ['[--dir D] [--network F] [--enrol TOKEN] [--host H] [--public-host A] [--port P]', '[--stun-alternate A] [--web-port W] [--relay-ports MIN-MAX] [--relay-public-host A]', '[--turn-allow-peers CIDR,…] [--tls-cert F --tls-key F] [--listen6 A6 [--public-host6 A6]]', '[--relay-workers N]'],
      summary: "runs an operator's supernode on its own host",
      description: `Runs a supernode for the network of F (the login server's network.json: no secret in it;
kept in D). It makes its own keys in D once and enrols them with a single-use token from the
login server's operator (parley admin enrol-supernode) at its first start; later starts renew
its certificate with its own key. Users' machines become supernodes by promotion instead.
docs/deploy.md takes an operator through it.`,
      options: [
        { name: 'dir', kind: 'string', value: 'D', default: '.parley-supernode', help: 'its folder: keys, certificate, network.json' },
        { name: 'network', kind: 'string', value: 'F', help: "the network's descriptor (first start; kept in D)" },
        { name: 'enrol', kind: 'string', value: 'TOKEN', help: 'the enrolment token (first start only)' },
        { name: 'port', kind: 'string', value: 'P', default: '33033', help: 'the port, TCP and UDP (0: any free port)' },
        host,
        { name: 'public-host', kind: 'string', value: 'A', help: 'the address clients reach it at (default: the host)' },
        stunAlternateOption,
        webPort,
        { name: 'relay-ports', kind: 'string', value: 'MIN-MAX', help: "TURN relay ports, e.g. 49152-65535 (default: any free port): the firewall's range" },
        { name: 'relay-public-host', kind: 'string', value: 'A', help: "the address relayed peers reach this host's relay ports at (default: the public host)" },
        {
          name: 'relay-workers',
          kind: 'string',
          value: 'N',
          help: `threads relaying TURN over UDP, each on a UDP port of its own (from --relay-ports when set) that Allocates are redirected to (default: one per core, here ${availableParallelism()}; 0 or 1: the main thread relays)`,
        },
        { name: 'listen6', kind: 'string', value: 'A6', help: 'also serve STUN and TURN over IPv6, with IPv6 relays, on this IPv6 address (:: for every one; default: IPv4 only)' },
        { name: 'public-host6', kind: 'string', value: 'A6', help: 'the IPv6 address clients reach it at (default: the --listen6 address; needed with ::)' },
        turnAllowPeers(),
        { name: 'tls-cert', kind: 'string', value: 'F', help: 'certificate for TURN over TLS (PEM; default: a self-signed one made once in D)' },
        { name: 'tls-key', kind: 'string', value: 'F', help: "that certificate's private key (PEM)" },
        { name: 'log-level', kind: 'string', value: 'debug|info|warn|error', help: 'also write JSON log lines at this level and above to standard error' },
        { name: 'metrics', kind: 'string', value: '[HOST:]PORT', help: 'serve /metrics, /healthz and /readyz here (HOST default 127.0.0.1)' },
      ],
      configurable: true,
    },
    async run(args) {
      args.atMost(0);
      const tlsCert = args.string('tls-cert');
      const tlsKey = args.string('tls-key');
      const [{ runSupernode }, { stunAlternate, parseMetricsAddress }] = await Promise.all([import('./supernode-command.js'), servers()]);
      const metrics = parseMetricsAddress(args.string('metrics'));
      const logLevel = args.choice('log-level', ['debug', 'info', 'warn', 'error'] as const);
      const web = args.int('web-port', 1, MAX_PORT);
      const network = args.string('network');
      const enrol = args.string('enrol');
      const publicHost = args.string('public-host');
      const relayPorts = parsePortRange(args.string('relay-ports'));
      const relayPublicHost = args.string('relay-public-host');
      const ipv6 = ipv6Listen(args.string('listen6'), args.string('public-host6'));
      const relayWorkers = args.int('relay-workers', 0, 64 /* MAX_RELAY_WORKERS, supernode/relay-workers.ts: not loaded by every command */) ?? availableParallelism();
      await runSupernode({
        dir: args.string('dir')!,
        host: args.string('host')!,
        ...(network !== undefined ? { network } : {}),
        ...(enrol !== undefined ? { enrol } : {}),
        ...(publicHost !== undefined ? { publicHost } : {}),
        ...(relayPorts ? { relayPorts } : {}),
        ...(relayPublicHost !== undefined ? { relayPublicHost } : {}),
        ...(ipv6 ? { ipv6 } : {}),
        relayWorkers,
        port: args.int('port', 0, MAX_PORT)!,
        ...(web !== undefined ? { webPort: web } : {}),
        ...stunAlternate(args.string('host')!, args.string('stun-alternate')),
        ...(metrics ? { metrics } : {}),
        ...(logLevel ? { logLevel } : {}),
        turnAllowPeers: cidrs(args, 'turn-allow-peers'),
        ...(tlsCert !== undefined ? { tlsCert } : {}),
        ...(tlsKey !== undefined ? { tlsKey } : {}),
      });
      return 'running';
    },
  },
  {
    usage: {
      name: 'admin',
      synopsis: ['enrol-supernode [--label L] [--hours N]', 'supernodes', 'revoke-supernode <id>'],
      summary: "the login server operator's commands: supernode enrolment",
      description: `On the login server's host, against its database (--data D, or --database URL):
enrol-supernode prints a single-use enrolment token for one supernode (valid N hours);
supernodes lists the enrolled ones (address, key, live or silent); revoke-supernode takes one
out (it renews no more and leaves the bootstrap list).`,
      options: [
        { name: 'data', kind: 'string', value: 'D', default: '.parley-login', help: "the login server's data folder" },
        { name: 'database', kind: 'string', value: 'URL', help: 'PostgreSQL (postgres://…) instead of SQLite in the data folder', alsoFrom: ['DATABASE_URL'] },
        { name: 'label', kind: 'string', value: 'L', help: 'a name for the supernode, for people' },
        { name: 'hours', kind: 'string', value: 'N', default: '24', help: 'how long the token is valid' },
      ],
    },
    async run(args) {
      const { admin } = await import('./admin-command.js');
      const database = args.string('database');
      const label = args.string('label');
      await admin([...args.positionals], { data: args.string('data')!, ...(database ? { database } : {}), ...(label !== undefined ? { label } : {}), hours: args.int('hours', 1, 24 * 30)! });
      return 0;
    },
  },
  {
    usage: {
      name: 'network',
      synopsis: ['descriptor [--network F] [--out F]'],
      summary: "writes a descriptor with the network's live bootstrap list",
      description: `Asks the login server of the descriptor F for the supernodes that run now and prints (or
writes to --out) a descriptor with them: what to hand to new users and supernodes. No secret in it.`,
      options: [network, { name: 'out', kind: 'string', value: 'F', help: 'write it here instead of printing it' }],
    },
    async run(args) {
      const [what, ...rest] = args.positionals;
      if (what !== 'descriptor' || rest.length > 0) throw new UsageError('parley network descriptor [--network F] [--out F]');
      const [{ networkDescriptor }, { loadDescriptor }] = await Promise.all([import('./descriptor-command.js'), accounts()]);
      await networkDescriptor(loadDescriptor(args.string('network')!), args.string('out'));
      return 0;
    },
  },
  {
    usage: {
      name: 'register',
      synopsis: ['<user> [--discoverable] [--password-stdin]'],
      summary: 'creates an account',
      description: 'Creates the account <user> on the login server; it asks for a new password.',
      options: [{ name: 'discoverable', kind: 'boolean', help: 'others may find you by a prefix of your name (parley search)' }, passwordStdin, ...accountOptions],
    },
    run: accountCommand((a, args) => a.register(args.atMost(1)[0], account(args, { password: true, discoverable: true }))),
  },
  {
    usage: {
      name: 'login',
      synopsis: ['<user> [--password-stdin]'],
      summary: 'logs this device in and gets its certificate',
      description: `First login on a device sends the password and gets a certificate for this device's keys;
later logins sign a challenge with the device key instead.`,
      options: [passwordStdin, ...accountOptions],
    },
    run: accountCommand((a, args) => a.login(args.atMost(1)[0], account(args, { password: true }))),
  },
  {
    usage: {
      name: 'buddies',
      synopsis: ['[list | add <user> [message] | accept <user> | decline <user> | remove <user>', '| block <user> | unblock <user>] [--user U]'],
      summary: 'lists, asks, accepts, removes and blocks buddies',
      description: `A request's message goes end to end (sealed for the user's devices); the login server
carries only the request.`,
      options: userOptions,
    },
    run: accountCommand((a, args) => a.buddies([...args.positionals], userAccount(args))),
  },
  {
    usage: {
      name: 'search',
      synopsis: ['<prefix> [--user U]'],
      summary: 'finds discoverable users by a prefix of their name',
      description: "Asks the login server's directory for the discoverable users whose names start with <prefix>.",
      options: userOptions,
    },
    run: accountCommand((a, args) => a.search(args.atMost(1)[0], userAccount(args))),
  },
  {
    usage: {
      name: 'daemon',
      synopsis: ['[--user U] [--api-port P]'],
      summary: 'keeps this device online and serves its local API and the app',
      description: `Keeps this device online (as parley online does, calls and conferences too) and serves
its local API and the app on 127.0.0.1:P (default: any free port): HTTP for commands and
queries, WebSockets for events and audio, each request with the token in the profile
(docs/daemon.md). Signed in as U, or as the only user logged in on the profile; otherwise
nobody until someone signs up or logs in from the app at the printed address. While it
runs, that user's parley chat <user> <message>, buddies, search and status go through it, and
commands that would bring the device online a second time (online, call, answer,
conference, connect, nat, whois) are refused.`,
      options: [{ name: 'api-port', kind: 'string', value: 'P', default: '0', help: 'the local API port on 127.0.0.1 (0: any free port)' }, ...userOptions],
    },
    async run(args) {
      args.atMost(0);
      const { daemon } = await accounts();
      await daemon(userAccount(args), { apiPort: args.int('api-port', 0, MAX_PORT)! });
      return 0;
    },
  },
  {
    usage: {
      name: 'online',
      synopsis: ['[--user U] [--port P] [--no-promotion] [--promote-after MINUTES] [--no-read-receipts]', '[--calls-from buddies|anyone]'],
      summary: 'attaches this device to a supernode and stays online',
      description: `Attaches this device to a supernode and stays online (others can find it) until Ctrl-C,
printing messages (senders learn you read them, unless --no-read-receipts), presence
and typing of your buddies.
It listens on P (default: any free port) for a supernode's dial-back: when one finds it
reachable from outside, with at least 1 Mbit/s up, after MINUTES online (default 60), it
becomes a supernode too (certified by the login server); --no-promotion forbids that.
It answers connections (parley connect, calls) from buddies, or from anyone with
--calls-from anyone.`,
      options: [
        { name: 'port', kind: 'string', value: 'P', default: '0', help: "the port for a supernode's dial-back (0: any free port)" },
        { name: 'no-promotion', kind: 'boolean', help: 'never become a supernode' },
        { name: 'promote-after', kind: 'string', value: 'MINUTES', default: '60', help: 'minutes online before becoming a supernode' },
        { name: 'no-read-receipts', kind: 'boolean', help: 'do not tell senders you read their messages' },
        callsFromOption,
        ...userOptions,
      ],
    },
    async run(args) {
      args.atMost(0);
      const { online } = await accounts();
      await online(userAccount(args), {
        port: args.int('port', 0, MAX_PORT)!,
        allowPromotion: !args.flag('no-promotion'),
        readReceipts: !args.flag('no-read-receipts'),
        promoteAfterMs: args.int('promote-after', 0, 7 * 24 * 60)! * 60_000,
        callsFrom: callsFrom(args),
      });
      return 0;
    },
  },
  {
    usage: {
      name: 'chat',
      synopsis: ['<user> [message] [--user U]'],
      summary: 'sends a message end to end (or each line you type)',
      description: `Sends a message end to end to every device of <user> (and your other devices) and waits
for their acknowledgement; with no message, sends each line you type (on a terminal,
<user> sees that you are typing). A user with no
device online gets it at the next login (sealed for each device, kept by the login
server). Incoming messages are printed here and by parley online.`,
      options: userOptions,
    },
    run: accountCommand((a, args) => {
      const [to, ...words] = args.positionals;
      return a.chat(to, words.length > 0 ? words.join(' ') : undefined, userAccount(args));
    }),
  },
  {
    usage: {
      name: 'group',
      synopsis: [
        'create <name> [member…] [--user U]',
        'list | history <group> [--limit N]',
        'invite|remove <group> <user…>',
        'rename <group> <new name> | leave <group>',
        'send <group> <message>   (@name mentions a member)',
        'read <group> [--limit N]',
        'call <group> [--in said.wav] [--out heard.wav] [--seconds N] [--frame-ms 10|20]',
      ],
      summary: 'group chats: create, invite, remove, leave, send, read; a group call',
      description: `Group chats, end to end (docs/groups.md). The device that creates a group is its admin:
it alone invites, removes and renames (each change signed by it and checked by every
member). Every device of every member gets each message, sealed with its sender's key and
signed; a removed member cannot read what comes after. <group> is its name or its id (the
first 6+ digits do) from parley group list. read shows what arrived (listening a few seconds
first) and tells the members you read it; history only reads this device's file. At most
${MAX_GROUP_MEMBERS} members per group and ${MAX_GROUPS} groups per device (docs/limits.md).
call starts a conference (as parley conference does) with the group's other members invited
(at most 16 in a call); they answer with parley answer.`,
      options: [{ name: 'limit', kind: 'string', value: 'N', default: '50', help: 'the last N messages (read, history)' }, ...callOptions, ...userOptions],
    },
    run: accountCommand((a, args) => a.group([...args.positionals], userAccount(args), { limit: args.int('limit', 1, 10_000)! }, callArguments(args))),
  },
  {
    usage: {
      name: 'status',
      synopsis: ['<online|away|dnd|invisible> [text] [--user U]'],
      summary: 'sets your presence and status text',
      description: `Your presence and status text, pushed end to end to your buddies (only) by parley online;
invisible looks offline to them.`,
      options: userOptions,
    },
    run: accountCommand((a, args) => a.status([...args.positionals], userAccount(args))),
  },
  {
    usage: {
      name: 'history',
      synopsis: ['<user> [--search WORDS] [--limit N] [--user U]'],
      summary: "shows this device's conversation with a user",
      description: `This device's conversation with <user> (the last N messages, default 50), from its local
history; --search keeps the messages that contain WORDS.`,
      options: [
        { name: 'search', kind: 'string', value: 'WORDS', help: 'only the messages that contain WORDS' },
        { name: 'limit', kind: 'string', value: 'N', default: '50', help: 'the last N messages' },
        ...userOptions,
      ],
    },
    run: accountCommand((a, args) => {
      const words = args.string('search');
      return a.history(args.atMost(1)[0], userAccount(args), { ...(words ? { search: words } : {}), limit: args.int('limit', 1, 10_000)! });
    }),
  },
  {
    usage: {
      name: 'connect',
      synopsis: ['<user> [--user U]'],
      summary: "opens a path to a user's device the way a call will",
      description: `Opens a path to the user's online device the way a call will: candidates exchanged end
to end, STUN checks from both sides (hole punching), a TURN relay on the supernodes when
nothing direct works. Prints the path (direct, hole-punched or relayed), its setup time
and the round trip over it. The other side's parley online answers buddies.`,
      options: userOptions,
    },
    run: accountCommand((a, args) => a.connect(args.atMost(1)[0], userAccount(args))),
  },
  {
    usage: {
      name: 'nat',
      synopsis: ['[--user U] [--lifetime]'],
      summary: 'finds what NAT this device is behind',
      description: `Finds what this device is behind (open, full cone, address- or port-restricted,
symmetric, UDP blocked) with RFC 5780 tests against its supernode's STUN service;
parley online does the same at start and publishes it in the presence record.
--lifetime also brackets how long the NAT keeps an idle mapping (probes of 15 s to 2 min,
run side by side: about 2 minutes).`,
      options: [{ name: 'lifetime', kind: 'boolean', help: 'also measure how long the NAT keeps an idle mapping' }, ...userOptions],
    },
    run: accountCommand((a, args) => {
      args.atMost(0);
      return a.nat(userAccount(args), args.flag('lifetime'));
    }),
  },
  {
    usage: {
      name: 'call',
      synopsis: ['<user> [--in said.wav] [--out heard.wav] [--seconds N] [--frame-ms 10|20] [--user U]'],
      summary: 'calls a user',
      description: `Calls the user: every online device rings, the first to answer gets the call. Sends
--in (any PCM WAV; silence without it) as Opus in SRTP over the best path (direct,
hole-punched or relayed), writes what you hear to --out (48 kHz mono WAV), prints live
statistics, and hangs up when --in has been sent (or after N seconds). On a terminal:
h holds or resumes, m mutes, q hangs up. 10 ms frames: lower delay, more packets.`,
      options: [...callOptions, ...userOptions],
    },
    run: accountCommand((a, args) => a.call(args.atMost(1)[0], userAccount(args), callArguments(args))),
  },
  {
    usage: {
      name: 'answer',
      synopsis: ['[--in said.wav] [--out heard.wav] [--seconds N] [--calls-from buddies|anyone] [--user U]'],
      summary: 'waits for a call or a conference invitation and answers it',
      description: `Waits for a call or a conference invitation, answers it with --in, records --out,
until the caller hangs up (or the conference ends, or N seconds have passed).`,
      options: [...callOptions, callsFromOption, ...userOptions],
    },
    run: accountCommand((a, args) => {
      args.atMost(0);
      return a.answer(userAccount(args), { ...callArguments(args), callsFrom: callsFrom(args) });
    }),
  },
  {
    usage: {
      name: 'conference',
      synopsis: ['<user> <user>… [--in said.wav] [--out heard.wav] [--seconds N] [--user U]'],
      summary: 'hosts a conference and invites users',
      description: `Hosts a conference and invites the users (each answers with parley answer). The
participant the others reach best mixes: everyone hears everyone else, never their own
voice; if the mixer leaves, another takes over. Prints the roster (host, mixer, who
speaks) as it changes; leaves when --in has been sent (or after N seconds).`,
      options: [...callOptions, ...userOptions],
    },
    run: accountCommand((a, args) => a.conference([...args.positionals], userAccount(args), callArguments(args))),
  },
  {
    usage: {
      name: 'whois',
      synopsis: ['<user> [--user U]'],
      summary: 'finds a user through the supernode overlay',
      description: `Finds a user through the supernode overlay; if the overlay has no record, asks the
login server whether the user exists and when they were last seen, and says which.`,
      options: userOptions,
    },
    run: accountCommand((a, args) => a.whois(args.atMost(1)[0], userAccount(args))),
  },
  {
    usage: {
      name: 'sim',
      synopsis: ['--seed N [--supernodes N] [--clients N] [--faults crash,outage,mass-restart,partition|none]', '[--fault-seconds S] [--loss R] [--churn R] [--messages N] [--lookups N] [--report DIR]'],
      summary: 'simulates a whole network from a seed, with faults, and checks its invariants',
      description: `Runs the real supernode and device code on the virtual network and clock, in one
process: a scenario drawn from the seed (sizes, NAT mix, links, churn, a fault schedule)
unless options fix it. Every simulated second it checks that online users are found
within a bound, that no chat message is shown twice, that no forged presence record
is stored or returned, that a device whose clock is off beyond the tolerance is
refused, that queues and attachments stay within their limits; then faults stop and the network must heal (every client attached,
every message shown) within two minutes. On a violation it prints the invariant, the
simulated time and the line that replays the run, and exits 1. See docs/sim.md.`,
      options: [
        { name: 'seed', kind: 'string', value: 'N', help: 'the seed: the same seed and options replay the same run' },
        { name: 'supernodes', kind: 'string', value: 'N', help: 'how many supernodes (default: drawn, 10–30)' },
        { name: 'clients', kind: 'string', value: 'N', help: 'how many client devices (default: drawn, 2–4 per supernode)' },
        { name: 'faults', kind: 'string', value: 'LIST', help: 'faults to inject: crash, outage (a share of supernodes at once), mass-restart (every client), partition, clock-skew, nat-loss (NATs forget their mappings), clog (slow supernode links), slow-login, bad-clock (clients\' clocks off beyond the 5 minutes allowed); or none (default: drawn)' },
        { name: 'fault-seconds', kind: 'string', value: 'S', help: 'simulated seconds of the fault phase (default 120)' },
        { name: 'loss', kind: 'string', value: 'R', help: 'datagram loss on every link, 0 to 0.5 (default: drawn)' },
        { name: 'churn', kind: 'string', value: 'R', help: 'client crashes per client per simulated minute (default: drawn, up to 0.05)' },
        { name: 'messages', kind: 'string', value: 'N', help: 'chat messages sent per simulated second (default: clients/20)' },
        { name: 'lookups', kind: 'string', value: 'N', help: 'user lookups per simulated second (default: clients/20)' },
        { name: 'inject', kind: 'string', value: 'LIST', help: 'deliberate bugs, to see the checks fail: drop-message, duplicate-message, accept-forged, accept-bad-clock (supernodes believe a bad clock; with the bad-clock fault)' },
        { name: 'forgers', kind: 'string', value: 'N', help: 'supernodes that forge presence records (default: drawn, 0 or 1)' },
        { name: 'login', kind: 'string', value: 'KIND', help: 'the login server: stand-in (in memory, any size; the default) or real (the real server in process, for small sizes)' },
        { name: 'report', kind: 'string', value: 'DIR', help: 'also write the report there as markdown, HTML (with a plot) and JSON' },
        { name: 'quiet', kind: 'boolean', help: 'no progress lines on standard error' },
      ],
    },
    async run(args) {
      const { simCommand } = await simulator();
      return simCommand(args);
    },
  },
  {
    usage: { name: 'version', synopsis: [], summary: "prints Parley's version and protocol versions", description: "Prints Parley's version and the protocol versions it speaks.", options: [] },
    async run(args) {
      args.atMost(0);
      const { SUPPORTED_VERSIONS } = await import('../wire/messages.js');
      const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
      console.log(`parley ${pkg.version}, protocol versions ${SUPPORTED_VERSIONS.join(',')}`);
      return 0;
    },
  },
  {
    usage: {
      name: 'help',
      synopsis: ['[command]'],
      summary: "lists the commands, or prints one command's help",
      description: 'With no command, lists the commands; with one, prints its arguments and options.',
      options: [],
    },
    run(args) {
      const [name] = args.atMost(1);
      if (name === undefined) {
        console.log(overviewHelp(COMMANDS.map((c) => c.usage)));
        return Promise.resolve(0);
      }
      const command = findCommand(name);
      if (!command) throw new UsageError(`unknown command: ${name}`);
      console.log(commandHelp(command.usage));
      return Promise.resolve(0);
    },
  },
];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.usage.name === name);
}
