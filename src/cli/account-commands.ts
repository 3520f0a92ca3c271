// `parley register | login | buddies | search`: a user's account from the command line.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { realEnv } from '../env/real.js';
import { CertificateVerifier } from '../crypto/certificate.js';
import { parseNetworkDescriptor, type NetworkDescriptor } from '../crypto/descriptor.js';
import { Account } from '../client/account.js';
import { LoginClient } from '../client/login-client.js';
import { normaliseUsername } from '../wire/usernames.js';
import { editContact } from '../client/contact-list.js';
import type { DaemonOptions } from './daemon-command.js';
import { terminalLines, terminalText as safe } from './terminal-text.js';
import { DaemonClient } from './daemon-client.js';
import { CommandError } from './command-error.js';
import { MAX_MESSAGE_BYTES } from '../chat/chat-client.js';
import type { BuddyRequestWords } from '../daemon/api-types.js';
import type { CallOptions } from './call-commands.js';
import type { OnlineOptions } from './overlay-commands.js';
import { STATUS_STATES } from '../client/own-status.js';

// What a command needs is loaded when it runs: `parley online` does not carry the daemon's HTTP
// server (Fastify, Ajv, WebSockets) nor the call commands' audio, and `parley buddies` not the
// device core (resident memory of an idle client, issue 22).
const daemonCommand = () => import('./daemon-command.js');
const callCommands = () => import('./call-commands.js');
const overlayCommands = () => import('./overlay-commands.js');

export interface AccountOptions {
  readonly network: string;
  readonly profile?: string;
  readonly 'password-stdin'?: boolean;
  readonly discoverable?: boolean;
}

/** Accepts or declines the buddy request from `from`; false when there is none. */
export async function answerBuddyRequest(account: Account, from: string, action: 'accept' | 'decline'): Promise<boolean> {
  const { incoming } = await account.call<{ incoming: { id: number; from: string }[] }>('GET', '/v1/buddy-requests');
  const request = incoming.find((r) => r.from === from);
  if (!request) return false;
  await account.call('POST', `/v1/buddy-requests/${request.id}/${action}`);
  return true;
}

export function loadDescriptor(path: string): NetworkDescriptor {
  let text: string;
  try {
    text = readFileSync(resolve(path), 'utf8');
  } catch {
    throw new CommandError(`no network descriptor at ${path} (start \`parley login-server\`, or pass --network FILE)`);
  }
  const parsed = parseNetworkDescriptor(text);
  if (!parsed.ok) throw new CommandError(`${path}: ${parsed.error.code}: ${parsed.error.message}`);
  return parsed.value;
}

/** The password: from standard input with --password-stdin, else asked on the terminal without echo. */
function readPassword(fromStdin: boolean, prompt: string): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) {
    return new Promise((done) => {
      let text = '';
      process.stdin.setEncoding('utf8');
      process.stdin.on('data', (chunk) => (text += chunk));
      process.stdin.on('end', () => done(text.replace(/\r?\n$/, '')));
    });
  }
  return new Promise((done) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const output = rl as unknown as { _writeToOutput: (s: string) => void };
    rl.question(prompt, (answer) => {
      rl.close();
      process.stdout.write('\n');
      done(answer);
    });
    output._writeToOutput = (s: string) => process.stdout.write(s.startsWith(prompt) ? prompt : '');
  });
}

/** The profile folder these options name (default ~/.parley). */
function profileDirOf(options: AccountOptions): string {
  return resolve(options.profile ?? join(homedir(), '.parley'));
}

/** The user to act as: named, or the only one logged in on this profile. */
function chooseUser(username: string | undefined, profileDir: string): string {
  if (username) return username;
  const logged = loggedIn(profileDir);
  if (logged.length === 1) return logged[0]!;
  throw new CommandError(logged.length === 0 ? 'log in first: parley login <user>' : `several users are logged in here (${logged.join(', ')}): pass --user`);
}

/** The running daemon of the user these options name (or the only one logged in), if one runs. */
function runningDaemon(username: string | undefined, options: AccountOptions): { daemon: DaemonClient; user: string } | null {
  const profileDir = profileDirOf(options);
  let user = '';
  try {
    const name = normaliseUsername(chooseUser(username, profileDir));
    if (name.ok) user = name.value;
  } catch {
    return null; // nobody logged in here: the command says so itself
  }
  const daemon = user ? DaemonClient.find(profileDir, user) : null;
  return daemon ? { daemon, user } : null;
}

/** Commands that bring this device online themselves would take it from its running daemon: refused. */
function refuseWhileDaemonRuns(options: AccountOptions & { user?: string }, command: string): void {
  const running = runningDaemon(options.user, options);
  if (running) throw new CommandError(`${running.user}'s daemon runs (${running.daemon.base}): use its app for ${command}, or stop the daemon first`);
}

/**
 * What `parley buddies add <user> <words>` says once the request is made: how the words went, or,
 * when the user has no device yet, plainly that they were not sent and how to send them later
 * (the request stands either way).
 */
function askedWithWords(target: string, text: string, wordsWent: string | null): string {
  if (wordsWent) return `asked ${target} to be your buddy\n${wordsWent}`;
  return `asked ${target} to be your buddy, without your words: ${target} has no device yet (has never logged in), so there is nothing to seal them for and they were not sent.\nOnce ${target} has logged in, send them with: parley chat ${target} ${JSON.stringify(text)}`;
}

/** `parley buddies …` through a running daemon: the same answers, one device online. */
async function buddiesViaDaemon(daemon: DaemonClient, action: string, target: string | undefined, words: string[]): Promise<void> {
  const requests = () => daemon.request<{ incoming: { id: number; from: string }[]; outgoing: { id: number; to: string }[] }>('GET', '/buddy-requests');
  switch (action) {
    case 'list': {
      const { buddies: list } = await daemon.request<{ buddies: { user: string; state: string; text: string }[] }>('GET', '/buddies');
      const { incoming } = await requests();
      for (const b of list) console.log(`buddy   ${safe(b.user)}  ${safe(b.state)}${b.text ? `: ${safe(b.text)}` : ''}`);
      for (const r of incoming) console.log(`request ${safe(r.from)}  (parley buddies accept ${safe(r.from)})`);
      if (list.length === 0 && incoming.length === 0) console.log('no buddies yet: parley buddies add <user>');
      return;
    }
    case 'add': {
      if (!target) throw new CommandError('parley buddies add <user> [message]');
      const text = words.join(' ');
      const asked = await daemon.request<{ words?: BuddyRequestWords }>('POST', '/buddy-requests', { to: target, ...(text ? { message: text } : {}) });
      console.log(text ? askedWithWords(target, text, asked.words === 'no_device' ? null : 'your words go end to end') : `asked ${target} to be your buddy`);
      return;
    }
    case 'accept':
    case 'decline': {
      if (!target) throw new CommandError(`parley buddies ${action} <user>`);
      const request = (await requests()).incoming.find((r) => r.from === target.toLowerCase());
      if (!request) throw new CommandError(`no request from ${target}`);
      await daemon.request('POST', `/buddy-requests/${request.id}/${action}`);
      console.log(action === 'accept' ? `${target} is now your buddy` : `declined ${target}`);
      return;
    }
    default:
      throw new CommandError(`buddies ${action} is not done through a running daemon yet: stop the daemon first`);
  }
}

async function withAccount<T>(username: string | undefined, options: AccountOptions, work: (account: Account, descriptor: NetworkDescriptor) => Promise<T>): Promise<T> {
  const profileDir = profileDirOf(options);
  const descriptor = loadDescriptor(options.network);
  const client = new LoginClient(descriptor);
  const account = new Account(client, descriptor, profileDir, chooseUser(username, profileDir), realEnv);
  return work(account, descriptor).finally(() => client.close());
}

export function register(username: string | undefined, options: AccountOptions): Promise<void> {
  if (!username) throw new CommandError('parley register <user>');
  return withAccount(username, options, async (account) => {
    const password = await readPassword(options['password-stdin'] ?? false, 'New password: ');
    const created = await account.register(password, { discoverable: options.discoverable ?? false });
    console.log(`registered ${safe(created.username)}${options.discoverable ? ' (discoverable by prefix search)' : ''}`);
  });
}

export function login(username: string | undefined, options: AccountOptions): Promise<void> {
  if (!username) throw new CommandError('parley login <user>');
  return withAccount(username, options, async (account, descriptor) => {
    const session = await account.login(() => readPassword(options['password-stdin'] ?? false, 'Password: '), hostname());
    const verified = new CertificateVerifier(descriptor.caPublicKey).verify(session.certificate, realEnv.clock.wallTimeMs());
    if (!verified.ok) throw new CommandError(`the login server issued a certificate that does not verify: ${verified.error.code}`);
    console.log(`logged in as ${safe(session.username)} on device ${session.deviceId} (${session.method === 'password' ? 'password, first login on this device' : 'device key, no password sent'})`);
    console.log(`certificate #${verified.value.serial} for ${safe(verified.value.username)}, valid until ${new Date(verified.value.expiresAtMs).toISOString()}`);
  });
}

export async function buddies(args: string[], options: AccountOptions & { user?: string }): Promise<void> {
  const [action = 'list', target, ...words] = args;
  const running = runningDaemon(options.user, options);
  if (running) return buddiesViaDaemon(running.daemon, action, target, words);
  return withAccount(options.user, options, async (account, descriptor) => {
    switch (action) {
      case 'list': {
        const list = await account.call<{ version: number; entries: { username: string; kind: string }[] }>('GET', '/v1/contacts');
        const requests = await account.call<{ incoming: { id: number; from: string; message: string }[] }>('GET', '/v1/buddy-requests');
        for (const e of list.entries) console.log(`${e.kind === 'blocked' ? 'blocked' : 'buddy  '} ${safe(e.username)}`);
        for (const r of requests.incoming) console.log(`request ${safe(r.from)}${r.message ? `: ${terminalLines(r.message)}` : ''}  (parley buddies accept ${safe(r.from)})`);
        if (list.entries.length === 0 && requests.incoming.length === 0) console.log('no buddies yet: parley buddies add <user>');
        return;
      }
      case 'add': {
        if (!target) throw new CommandError('parley buddies add <user> [message]');
        const text = words.join(' ');
        // Refused before the request is made: a request sent without the words asked for is not what was asked.
        if (new TextEncoder().encode(text).byteLength > MAX_MESSAGE_BYTES) throw new CommandError(`the words with a request hold at most ${MAX_MESSAGE_BYTES} bytes`);
        // The login server carries the request, not the words: those go end to end.
        await account.call('POST', '/v1/buddy-requests', { to: target });
        if (!text) return console.log(`asked ${target} to be your buddy`);
        const sealedFor = await (await overlayCommands()).sendSealed(account, descriptor, target, text);
        console.log(askedWithWords(target, text, sealedFor > 0 ? `your words go end to end: sealed for ${sealedFor} device${sealedFor === 1 ? '' : 's'}` : null));
        return;
      }
      case 'accept':
      case 'decline': {
        if (!target) throw new CommandError(`parley buddies ${action} <user>`);
        if (!(await answerBuddyRequest(account, target.toLowerCase(), action))) throw new CommandError(`no request from ${target}`);
        console.log(action === 'accept' ? `${target} is now your buddy` : `declined ${target}`);
        return;
      }
      case 'remove':
      case 'block':
      case 'unblock': {
        if (!target) throw new CommandError(`parley buddies ${action} <user>`);
        await editContact((method, path, body) => account.call(method, path, body), target.toLowerCase(), action);
        console.log(action === 'block' ? `blocked ${target}: their messages, presence and calls are refused silently` : action === 'unblock' ? `unblocked ${target}` : `removed ${target} from your buddies`);
        return;
      }
      default:
        throw new CommandError(`unknown action: buddies ${action}`);
    }
  });
}

/** The users logged in on this profile (a stored session). */
function loggedIn(profileDir: string): string[] {
  return existsSync(profileDir) ? readdirSync(profileDir).filter((name) => existsSync(join(profileDir, name, 'session.json'))) : [];
}

/** `parley daemon`: signed in as --user, or as the only user logged in here, or as nobody until the app signs up or logs in. */
export async function daemon(options: AccountOptions & { user?: string }, daemonOptions: DaemonOptions): Promise<void> {
  const profileDir = profileDirOf(options);
  const descriptor = loadDescriptor(options.network);
  const { runDaemon } = await daemonCommand();
  const client = new LoginClient(descriptor);
  const logged = loggedIn(profileDir);
  const user = options.user ?? (logged.length === 1 ? logged[0] : undefined);
  return runDaemon(descriptor, profileDir, client, { ...daemonOptions, ...(user ? { user } : {}) }).finally(() => client.close());
}

export function online(options: AccountOptions & { user?: string }, onlineOptions: OnlineOptions): Promise<void> {
  refuseWhileDaemonRuns(options, 'going online');
  return withAccount(options.user, options, async (account, descriptor) => (await overlayCommands()).online(account, descriptor, onlineOptions));
}

export function connect(to: string | undefined, options: AccountOptions & { user?: string }): Promise<void> {
  if (!to) throw new CommandError('parley connect <user>');
  refuseWhileDaemonRuns(options, 'connecting');
  return withAccount(options.user, options, async (account, descriptor) => (await overlayCommands()).connect(account, descriptor, to));
}

export function call(to: string | undefined, options: AccountOptions & { user?: string }, callOptions: CallOptions): Promise<void> {
  if (!to) throw new CommandError('parley call <user> [--in said.wav] [--out heard.wav]');
  refuseWhileDaemonRuns(options, 'calls');
  return withAccount(options.user, options, async (account, descriptor) => (await callCommands()).call(account, descriptor, to, callOptions));
}

export function conference(users: readonly string[], options: AccountOptions & { user?: string }, callOptions: CallOptions): Promise<void> {
  refuseWhileDaemonRuns(options, 'conferences');
  return withAccount(options.user, options, async (account, descriptor) => (await callCommands()).conference(account, descriptor, users, callOptions));
}

export function answer(options: AccountOptions & { user?: string }, callOptions: CallOptions & { callsFrom?: 'buddies' | 'anyone' }): Promise<void> {
  refuseWhileDaemonRuns(options, 'answering');
  return withAccount(options.user, options, async (account, descriptor) => (await callCommands()).answer(account, descriptor, callOptions));
}

export function nat(options: AccountOptions & { user?: string }, lifetime = false): Promise<void> {
  refuseWhileDaemonRuns(options, 'finding the NAT');
  return withAccount(options.user, options, async (account, descriptor) => (await overlayCommands()).nat(account, descriptor, { lifetime }));
}

export function whois(username: string | undefined, options: AccountOptions & { user?: string }): Promise<void> {
  if (!username) throw new CommandError('parley whois <user>');
  refuseWhileDaemonRuns(options, 'looking users up');
  return withAccount(options.user, options, async (account, descriptor) => (await overlayCommands()).whois(account, descriptor, username));
}

export async function search(prefix: string | undefined, options: AccountOptions & { user?: string }): Promise<void> {
  if (!prefix) throw new CommandError('parley search <prefix>   (e.g. sal or sal*)');
  const running = runningDaemon(options.user, options);
  if (running) {
    const { users } = await running.daemon.request<{ users: { user: string; displayName: string; online: boolean | null }[] }>('GET', `/search?q=${encodeURIComponent(prefix)}`);
    for (const u of users) console.log(`${safe(u.user)}${u.displayName !== u.user ? `  (${safe(u.displayName)})` : ''}${u.online === null ? '' : u.online ? '  online' : '  offline'}`);
    if (users.length === 0) console.log(`nobody found by ${prefix}`);
    return;
  }
  return withAccount(options.user, options, async (account) => {
    const found = await account.call<{ users: { username: string; displayName: string }[] }>('GET', `/v1/directory/search?q=${encodeURIComponent(prefix)}`);
    for (const u of found.users) console.log(`${safe(u.username)}${u.displayName !== u.username ? `  (${safe(u.displayName)})` : ''}`);
    if (found.users.length === 0) console.log(`nobody discoverable starts with ${prefix}`);
  });
}

export async function chat(to: string | undefined, message: string | undefined, options: AccountOptions & { user?: string }): Promise<void> {
  if (!to) throw new CommandError('parley chat <user> [message]');
  const running = runningDaemon(options.user, options);
  if (running) {
    // This device is online in its daemon: the message goes from there, not from a second session.
    if (message === undefined) throw new CommandError(`${running.user}'s daemon runs: chat in its app, or send one message with parley chat ${to} <message>`);
    const sent = await running.daemon.request<{ recipientOnline: number }>('POST', '/messages', { to, text: message });
    console.log(`sent to ${to} through ${running.user}'s daemon${sent.recipientOnline > 0 ? '' : ` (${to} is offline: kept for them)`}`);
    return;
  }
  return withAccount(options.user, options, async (account, descriptor) => (await overlayCommands()).chat(account, descriptor, to, message));
}

export function history(user: string | undefined, options: AccountOptions & { user?: string }, query: { search?: string; limit: number }): Promise<void> {
  if (!user) throw new CommandError('parley history <user> [--search words] [--limit N]');
  return withAccount(options.user, options, async (account) => (await overlayCommands()).history(account, user, query));
}

/** `parley group …` (src/cli/group-commands.ts): while the daemon runs, it holds the device. */
export function group(args: string[], options: AccountOptions & { user?: string }, query: { limit: number }, callOptions: CallOptions = {}): Promise<void> {
  refuseWhileDaemonRuns(options, 'group chats');
  return withAccount(options.user, options, async (account, descriptor) => (await import('./group-commands.js')).group(account, descriptor, args, query, callOptions));
}

export async function status(args: string[], options: AccountOptions & { user?: string }): Promise<void> {
  const [state, ...words] = args;
  if (!state) throw new CommandError('parley status <online|away|dnd|invisible> [text]');
  if (!(state in STATUS_STATES)) throw new CommandError(`status is one of ${Object.keys(STATUS_STATES).join(', ')}`);
  const running = runningDaemon(options.user, options);
  if (running) {
    await running.daemon.request('PUT', '/presence', { state, text: words.join(' ') });
    console.log(`status: ${state}${words.length > 0 ? ` — ${words.join(' ')}` : ''} (told to buddies by ${running.user}'s daemon)`);
    return;
  }
  return withAccount(options.user, options, async (account) => (await overlayCommands()).setStatus(account, state, words.join(' ')));
}
