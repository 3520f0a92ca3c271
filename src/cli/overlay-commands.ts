// `parley online` and `parley whois`: a device attached to the supernode overlay.
import { existsSync, readFileSync } from 'node:fs';
import { writePrivate } from '../env/private-files.js';
import { realEnv } from '../env/real.js';
import { CertificateVerifier } from '../crypto/certificate.js';
import { fromBase64Url, toBase64Url, toHex } from '../crypto/bytes.js';
import type { Account } from '../client/account.js';
import { CommandError } from './account-commands.js';
import { AttachedClient } from '../client/attachment.js';
import { LoginError } from '../client/login-client.js';
import type { NetworkDescriptor } from '../crypto/descriptor.js';
import { HostCache, parseHostCache } from '../overlay/host-cache.js';
import { liveBootstrapFrom, revokedSupernodesFrom } from '../client/live-bootstrap.js';
import { takeDevice } from '../client/device-lock.js';
import { CandidateType } from '../wire/messages.js';
import { Promoter } from '../client/promotion.js';
import { ChatClient, ChatError, type ReceivedMessage } from '../chat/chat-client.js';
import { Messenger } from '../messenger/messenger.js';
import type { SignallingTransport } from '../messenger/transport.js';
import { overlayTransport } from '../client/overlay-transport.js';
import { loginServerOfflineStore } from '../client/login-offline-store.js';
import { ChatHistory } from '../chat/history.js';
import { createInterface } from 'node:readline';
import { unwatchFile, watchFile } from 'node:fs';
import { PresenceState } from '../wire/messages.js';
import { CONTACTS_REFRESH_MS, ContactList } from '../client/contact-list.js';
import { TypingSignal } from '../chat/typing-signal.js';
import { describeNat, detectMappingLifetime, detectNat, natTypeToWire, udpTimeoutFor, type MappingLifetime, type NatReport } from '../nat/nat-detection.js';
import { Connector, type Connection, type LocalNetwork } from '../nat/connector.js';
import { terminalError, terminalLines, terminalText as safe } from './terminal-text.js';

function loadHostCache(path: string): HostCache {
  if (!existsSync(path)) return new HostCache();
  const parsed = parseHostCache(readFileSync(path, 'utf8'), realEnv.clock.wallTimeMs());
  return parsed.ok ? parsed.value : new HostCache();
}

/** Takes this device for this process until it exits, or says which command has it. */
function holdDevice(account: Account): void {
  const command = `parley ${process.argv[2] ?? ''}`.trim();
  const lock = takeDevice(account.onlineLockPath, { pid: process.pid, command, sinceMs: realEnv.clock.wallTimeMs() });
  if (!lock.ok) {
    throw new CommandError(
      `${account.username}'s device is online in another command here (${lock.holder.command}, pid ${lock.holder.pid}): one process at a time holds a device. Stop that one; or run parley daemon, which other commands (chat, buddies, status) use while it runs; or use another device with --profile DIR`,
    );
  }
  process.once('exit', () => lock.release());
}

export async function attach(account: Account, descriptor: NetworkDescriptor): Promise<{ client: AttachedClient; hostCache: HostCache; save: () => void }> {
  holdDevice(account);
  const identity = await account.identity();
  const hostCache = loadHostCache(account.hostCachePath);
  const save = () => writePrivate(account.hostCachePath, hostCache.toJSON());
  // The login server's live list (enrolled supernodes that renewed lately): waited for only when
  // nothing else is known, else merged when it comes (the next start has it).
  // Supernodes the operator revoked lately are forgotten and refused (their certificates are still in date).
  const verifier = new CertificateVerifier(descriptor.caPublicKey);
  const refresh = account.call('GET', '/v1/info').then(
    (info) => {
      const revoked = revokedSupernodesFrom(info);
      verifier.revoke(revoked);
      hostCache.forgetKeys(revoked);
      hostCache.merge(liveBootstrapFrom(info, descriptor.networkId), 'bootstrap');
      save();
    },
    () => {},
  );
  // An answer that does not check out (another network, a malformed list) is the caller's error
  // only when it waits for the list; otherwise it is ignored here, never an unhandled rejection.
  refresh.catch(() => {});
  if (hostCache.size === 0 && !descriptor.bootstrap.some((b) => b.dhKey)) await refresh;
  const client = new AttachedClient(realEnv, {
    identity,
    verifier,
    username: account.username,
    hostCache,
    bootstrap: descriptor.bootstrap,
  });
  client.onEvent((event) => {
    if (event.kind === 'attached') console.log(`attached to supernode ${safe(event.supernode.host)}:${event.supernode.port} (from the ${event.source === 'bootstrap' ? 'bootstrap list' : 'host cache'})`);
    if (event.kind === 'lost') console.log(`lost supernode ${safe(event.supernode.host)}:${event.supernode.port}: ${safe(event.reason)}; failing over`);
    if (event.kind === 'unreachable') console.log('no supernode answers; retrying');
    save();
  });
  await client.start();
  return { client, hostCache, save };
}

/** Tests what this device is behind against its supernode's STUN service, and publishes the type in its presence record. */
export async function detectAndPublish(client: AttachedClient): Promise<NatReport | null> {
  const supernode = client.supernode;
  const local = client.localAddress;
  if (!supernode || !local) return null;
  const onlyWebPortReached = client.supernodeEndpoint?.port !== supernode.port;
  // Another supernode, on another host: if this one's STUN has one address, the two together still tell a symmetric NAT.
  const second = client.knownSupernodes().find((s) => s.host !== supernode.host);
  const report = await detectNat(realEnv, { host: supernode.host, port: supernode.port }, {
    localHost: local.host,
    onlyWebPortReached,
    udpTimeoutMs: udpTimeoutFor(client.attachTimeMs),
    ...(second ? { secondServer: { host: second.host, port: second.port } } : {}),
  });
  client.setNatType(natTypeToWire(report.type));
  return report;
}

const describeLifetime = (l: MappingLifetime) =>
  l.goneAfterMs === null ? `at least ${l.aliveAfterMs / 1000} s (alive after every wait tried)` : `between ${l.aliveAfterMs / 1000} s and ${l.goneAfterMs / 1000} s`;

/** `parley nat [--lifetime]`: what this device is behind, found through a supernode (RFC 5780). */
export async function nat(account: Account, descriptor: NetworkDescriptor, options: { lifetime?: boolean } = {}): Promise<void> {
  const { client, save } = await attach(account, descriptor);
  try {
    const report = await detectAndPublish(client);
    if (!report) throw new CommandError('not attached to a supernode');
    console.log(`NAT: ${describeNat(report)}`);
    const supernode = client.supernode;
    if (options.lifetime && supernode && report.type !== 'udp-blocked' && report.type !== 'web-only') {
      console.log('measuring how long the NAT keeps an idle mapping (about 2 minutes)…');
      const lifetime = await detectMappingLifetime(realEnv, { host: supernode.host, port: supernode.port }, undefined, client.localAddress?.host);
      console.log(`NAT mapping lifetime: ${describeLifetime(lifetime)}`);
    }
  } finally {
    client.close();
    save();
  }
}

/** This device's side of a connection: its supernode's STUN/TURN service, credentials, and the interface it uses. */
export function localNetwork(client: AttachedClient): () => Promise<LocalNetwork> {
  return async () => {
    const supernode = client.supernode;
    if (!supernode) throw new CommandError('not attached to a supernode');
    const turn = await client.turnCredentials().catch(() => null);
    const localHost = client.localAddress?.host;
    // TURN over TCP answers on whichever port the link reached (the web port behind a web-only firewall).
    const turnTcp = client.supernodeEndpoint;
    return { server: turn?.server ?? { host: supernode.host, port: supernode.port }, turn, ...(localHost ? { localHost } : {}), ...(turnTcp ? { turnTcp } : {}) };
  };
}

const describePath = (c: Connection) =>
  `${c.path.kind} path (${c.path.local.type} ${c.path.local.address.host}:${c.path.local.address.port} → ${c.path.remote.type} ${safe(c.path.remote.address.host)}:${c.path.remote.address.port})`;

/** Connections others start: said, echoed (so the other side can time the path), closed when idle. */
function answerConnections(connector: Connector): void {
  const IDLE_MS = 30_000;
  connector.onConnection((c) => {
    console.log(`connected with ${safe(c.user)} over a ${describePath(c)} in ${Math.round(c.setupMs)} ms`);
    let idle = setTimeout(() => void c.agent.close(), IDLE_MS);
    c.agent.onData((bytes) => {
      clearTimeout(idle);
      idle = setTimeout(() => void c.agent.close(), IDLE_MS);
      c.agent.send(bytes);
    });
  });
  connector.onFailure((user, reason) => console.log(`connection from ${safe(user)} not made: ${safe(reason)}`));
}

/** `parley connect <user>`: a path to the user's first online device, its kind, setup time and round trip. */
export async function connect(account: Account, descriptor: NetworkDescriptor, to: string): Promise<void> {
  const { client, save } = await attach(account, descriptor);
  const { messenger, close: closeChat } = await startChat(account, descriptor, client);
  try {
    const user = to.toLowerCase();
    const records = await client.find(user);
    const device = records[0]?.device.dhKey;
    if (!device) throw new CommandError(`${to} has no device online`);
    const connector = new Connector(realEnv, messenger, localNetwork(client));
    const outcome = await connector.connect(user, device);
    if (!outcome.ok) throw new CommandError(`no connection to ${to}: ${outcome.error === 'refused' ? 'refused (not a buddy?)' : outcome.error === 'no_answer' ? 'no answer' : 'no path worked'}`);
    const c = outcome.connection;
    console.log(`connected to ${to} (device ${toHex(device).slice(0, 16)}) over a ${describePath(c)} in ${Math.round(c.setupMs)} ms`);
    // Round trips over the path itself: the other side echoes.
    const rtts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const sent = realEnv.clock.now();
      const echoed = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 2_000);
        c.agent.onData(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      c.agent.send(new TextEncoder().encode(`~ping ${i}`));
      if (await echoed) rtts.push(realEnv.clock.now() - sent);
    }
    rtts.sort((a, b) => a - b);
    console.log(rtts.length > 0 ? `round trip over the path: ${rtts[Math.floor(rtts.length / 2)]!.toFixed(2)} ms (median of ${rtts.length})` : 'no echo over the path');
    await c.agent.close();
  } finally {
    closeChat();
    client.close();
    save();
  }
}

export interface ChatSettings {
  /** Tell senders when this user has read their messages. */
  readonly readReceipts?: boolean;
}

export interface OnlineOptions extends ChatSettings {
  /** Where this device listens for dial-backs, and serves as a supernode once promoted (0: any free port). */
  readonly port: number;
  readonly host?: string;
  /** The user's setting: may this machine become a supernode? */
  readonly allowPromotion: boolean;
  readonly promoteAfterMs?: number;
  /** Whose connections (calls) to answer: buddies (default) or anyone. */
  readonly callsFrom?: 'buddies' | 'anyone';
}

/** What decides whether this device becomes a supernode (the user's setting, and the network's dial-back); not started yet. */
export async function promoterFor(account: Account, descriptor: NetworkDescriptor, client: AttachedClient, options: { port: number; host?: string; allowPromotion: boolean; promoteAfterMs?: number }): Promise<Promoter> {
  return new Promoter(realEnv, {
    identity: await account.identity(),
    verifier: new CertificateVerifier(descriptor.caPublicKey),
    client,
    port: options.port,
    ...(options.host ? { host: options.host } : {}),
    policy: { allowed: options.allowPromotion, ...(options.promoteAfterMs !== undefined ? { minUptimeMs: options.promoteAfterMs } : {}) },
    certify: async (attestation) => {
      const issued = await account.call<{ certificate: string }>('POST', '/v1/devices/current/supernode-certificate', { attestation: toBase64Url(attestation) });
      const certificate = fromBase64Url(issued.certificate);
      if (!certificate) throw new Error('the login server sent an unreadable certificate');
      return certificate;
    },
  });
}

/**
 * Stays attached until Ctrl-C, so others can find this device; meanwhile, unless the user
 * forbids it, the device becomes a supernode when a supernode's dial-back finds it reachable.
 */
export async function online(account: Account, descriptor: NetworkDescriptor, options: OnlineOptions): Promise<void> {
  const { client, save } = await attach(account, descriptor);
  const promoter = await promoterFor(account, descriptor, client, options);
  promoter.onEvent((event) => {
    if (event.kind === 'forbidden') console.log('this device will not become a supernode (--no-promotion)');
    if (event.kind === 'not-promoted') console.log(`not a supernode: ${event.reason}`);
    if (event.kind === 'promoted') console.log(`promoted: now also a supernode on port ${event.port} (dial-back measured ${Math.round(event.uploadKbps)} kbit/s up)`);
    if (event.kind === 'check-failed') console.log(`supernode reachability check failed (${event.failures}): ${event.reason}`);
    if (event.kind === 'demoted') console.log(`demoted: no longer a supernode (${event.reason})`);
  });
  await promoter.start();
  // What this device is behind: published in its presence record (peers plan connections by it).
  detectAndPublish(client).then(
    (report) => report && console.log(`NAT: ${describeNat(report)}`),
    (error: unknown) => console.log(`NAT type not found: ${terminalError(error)}`),
  );
  const { messenger, chat, contacts, close: closeChat } = await startChat(account, descriptor, client, options);
  const anyone = options.callsFrom === 'anyone';
  answerConnections(new Connector(realEnv, messenger, localNetwork(client), (_user, relation) => relation === 'buddy' || (anyone && relation === 'stranger')));
  // Presence: what `parley status` saved, pushed to buddies now and whenever it changes.
  const pushStatus = () => {
    const status = savedStatus(account);
    chat.setPresence(STATUS_STATES[status.state], status.text).catch((error: unknown) => console.log(`presence not sent: ${terminalError(error)}`));
  };
  pushStatus();
  watchFile(account.statusPath, { interval: 1000 }, pushStatus);
  // The contact list follows changes made elsewhere (a new buddy learns this user's presence),
  // and what the login server keeps for this device is fetched while it runs too: a buddy
  // request's words, or a message from a sender who thought this device offline.
  const followLoginServer = setInterval(() => {
    contacts.refresh().then(
      (added) => {
        for (const user of added) console.log(`${safe(user)} is now your buddy`);
        if (added.length > 0) pushStatus();
      },
      () => {}, // the login server is away: the list we have stands, asked again next time
    );
    chat.fetchOffline().catch(() => {});
  }, CONTACTS_REFRESH_MS);
  console.log(`${account.username} is online (Ctrl-C to go offline)`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      clearInterval(followLoginServer);
      unwatchFile(account.statusPath);
      closeChat();
      promoter.close();
      client.close();
      save();
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Finds a user through the overlay; when it does not, asks the login server, and says which. */
export async function whois(account: Account, descriptor: NetworkDescriptor, username: string): Promise<void> {
  const { client, save } = await attach(account, descriptor);
  try {
    const started = realEnv.clock.now();
    const records = await client.find(username.toLowerCase());
    const ms = realEnv.clock.now() - started;
    if (records.length > 0) {
      console.log(`${safe(username)}: online, found in the overlay in ${ms.toFixed(1)} ms (${records.length} device${records.length > 1 ? 's' : ''})`);
      for (const r of records) {
        const via = r.supernodes.map((s) => `${safe(s.host)}:${s.port}`).join(', ') || 'no supernode';
        const candidates = r.candidates.map((c) => `${CandidateType[c.type]?.toLowerCase() ?? 'candidate'} ${safe(c.host)}:${c.port}`).join(', ');
        console.log(`  device ${toHex(r.device.dhKey).slice(0, 16)} via ${via}${candidates ? `; candidates ${candidates}` : ''}; record valid until ${new Date(r.expiresAtMs).toISOString()}`);
      }
      return;
    }
    try {
      const entry = await account.call<{ username: string; lastSeenMs: number | null }>('GET', `/v1/directory/users/${encodeURIComponent(username)}`);
      const seen = entry.lastSeenMs === null ? 'last seen: hidden' : `last seen ${new Date(entry.lastSeenMs).toISOString()}`;
      console.log(`${safe(username)}: not online (the overlay has no record); the login server knows the user, ${seen}`);
    } catch (error) {
      // Not found is a failure a script can see: exit 1, like any lookup that found nothing.
      if (error instanceof LoginError && error.status === 404) throw new CommandError(`${username}: no such user (asked the overlay, then the login server)`);
      throw error;
    }
  } finally {
    client.close();
    save();
  }
}

function formatMessage(m: ReceivedMessage, me: string): string {
  const time = new Date(m.sentAtMs).toISOString().slice(11, 19);
  const from = safe(m.from);
  const where = m.from === me ? ` (from your other device, to ${safe(m.conversation)})` : '';
  return `[${time}] ${from}${where}: ${terminalLines(m.text)}${m.offline ? '   (sent while you were offline)' : ''}${m.request ? `   (not a buddy yet: parley buddies accept ${from} if they asked, else add)` : ''}`;
}

/** The states a user may set (`parley status`, the app), and what each tells buddies. */
export const STATUS_STATES = { online: PresenceState.ONLINE, away: PresenceState.AWAY, dnd: PresenceState.DO_NOT_DISTURB, invisible: PresenceState.OFFLINE } as const;
export type StatusName = keyof typeof STATUS_STATES;
const STATE_NAMES = new Map<PresenceState, string>([
  [PresenceState.ONLINE, 'online'],
  [PresenceState.AWAY, 'away'],
  [PresenceState.DO_NOT_DISTURB, 'busy (do not disturb)'],
  [PresenceState.OFFLINE, 'offline'],
]);

/** The status saved for this device (`parley status`, the app): online, no text, when none was set or the file is damaged. */
export function savedStatus(account: Account): { state: StatusName; text: string } {
  try {
    const saved = JSON.parse(readFileSync(account.statusPath, 'utf8')) as { state?: unknown; text?: unknown };
    const state = typeof saved.state === 'string' && saved.state in STATUS_STATES ? (saved.state as StatusName) : 'online';
    return { state, text: typeof saved.text === 'string' ? saved.text : '' };
  } catch {
    return { state: 'online', text: '' };
  }
}

export function saveStatus(account: Account, state: StatusName, text: string): void {
  writePrivate(account.statusPath, `${JSON.stringify({ state, text })}\n`);
}

/** `parley status <online|away|dnd|invisible> [text]`: saved for this device; a running `parley online` pushes it to buddies. */
export function setStatus(account: Account, state: string, text: string): void {
  if (!(state in STATUS_STATES)) throw new CommandError(`status is one of ${Object.keys(STATUS_STATES).join(', ')}`);
  saveStatus(account, state as StatusName, text);
  console.log(`status: ${state}${text ? ` — ${text}` : ''} (buddies see it while parley online runs)`);
}

/**
 * The messenger on this attachment and a chat client on it: prints what arrives, after what
 * waited at the login server. `close` ends both.
 */
export async function startChat(account: Account, descriptor: NetworkDescriptor, client: AttachedClient, settings: ChatSettings & { markReadOnShow?: boolean } = {}): Promise<{ messenger: Messenger; chat: ChatClient; contacts: ContactList; history: ChatHistory; close: () => void }> {
  const history = ChatHistory.open(account.historyPath);
  const contacts = new ContactList((since) => account.call('GET', `/v1/contacts${since === null ? '' : `?since=${since}`}`));
  try {
    await contacts.refresh();
  } catch (error) {
    console.log(`contact list unavailable (${terminalError(error)}): everyone counts as a stranger for now`);
  }
  const messenger = new Messenger(realEnv, {
    identity: await account.identity(),
    verifier: new CertificateVerifier(descriptor.caPublicKey),
    username: account.username,
    transport: overlayTransport(client),
    offline: loginServerOfflineStore(account),
    relationOf: (user) => contacts.relationOf(user),
  });
  const chat = new ChatClient(realEnv, messenger, {
    history,
    buddies: () => contacts.buddies(),
    ...(settings.readReceipts === false ? { readReceipts: false } : {}),
  });
  // Shown here is read: the sender learns it (read receipts are on unless the user turns them off).
  // The daemon shows nothing itself: its user reads in the app.
  chat.onMessage((m) => {
    console.log(formatMessage(m, account.username));
    if (settings.markReadOnShow !== false) chat.markRead([m]);
  });
  chat.onRead((r) => console.log(`${safe(r.user)} read ${r.ids.length === 1 ? 'your message' : `${r.ids.length} of your messages`}`));
  chat.onTyping((t) => t.active && console.log(`${safe(t.user)} is typing…`));
  chat.onPresence((p) => console.log(`${safe(p.user)} is ${STATE_NAMES.get(p.state) ?? 'online'}${p.text ? `: ${safe(p.text)}` : ''}`));
  const waited = await chat.fetchOffline();
  if (waited > 0) console.log(`${waited} message${waited > 1 ? 's' : ''} arrived while you were offline`);
  return {
    messenger,
    chat,
    contacts,
    history,
    close: () => {
      chat.close();
      messenger.close();
      history.close();
    },
  };
}

const ACK_WAIT_MS = 10_000;

async function sendOne(chat: ChatClient, to: string, text: string): Promise<void> {
  const started = realEnv.clock.now();
  let sent;
  try {
    sent = await chat.send(to, text);
  } catch (error) {
    if (error instanceof ChatError) throw new CommandError(error.message);
    throw error;
  }
  if (sent.recipientOnline === 0) {
    console.log(`${to} is offline: sealed for ${sent.offlineDevices} device${sent.offlineDevices > 1 ? 's' : ''} and left with the login server`);
    if (sent.devices === 0) return;
  }
  const acked = await chat.acknowledged(ACK_WAIT_MS);
  const ms = (realEnv.clock.now() - started).toFixed(1);
  console.log(acked ? `delivered end to end to ${sent.devices} device${sent.devices > 1 ? 's' : ''} in ${ms} ms` : `sent to ${sent.devices} device${sent.devices > 1 ? 's' : ''}; not every one acknowledged within ${ACK_WAIT_MS / 1000} s, so it was sealed for those and left with the login server (they get it at their next login, once)`);
}

/** `parley chat <user> [message]`: sends one message, or chats line by line from standard input. */
export async function chat(account: Account, descriptor: NetworkDescriptor, to: string, message: string | undefined): Promise<void> {
  const { client, save } = await attach(account, descriptor);
  const { chat: session, close: closeChat } = await startChat(account, descriptor, client);
  try {
    if (message !== undefined) return await sendOne(session, to.toLowerCase(), message);
    console.log(`chatting with ${to}: type a line and press Enter (Ctrl-D ends)`);
    // On a terminal, keys are seen as they are typed, and the other side sees that this user is typing.
    const terminal = process.stdin.isTTY === true;
    const lines = createInterface({ input: process.stdin, terminal, ...(terminal ? { output: process.stdout } : {}) });
    const typing = new TypingSignal(realEnv.clock, (active) => void session.setTyping(to.toLowerCase(), active).catch(() => {}));
    if (terminal) process.stdin.on('keypress', () => typing.keystroke());
    for await (const line of lines) {
      typing.stop();
      if (line.trim()) await sendOne(session, to.toLowerCase(), line);
    }
    await session.acknowledged(ACK_WAIT_MS);
  } finally {
    closeChat();
    client.close();
    save();
  }
}

/** Nothing is online through this: every device is reached through the login server. */
const LOGIN_SERVER_ONLY: SignallingTransport = {
  send: () => Promise.reject(new Error('not attached to the overlay')),
  devices: () => Promise.resolve([]),
  onReceive: () => {},
};

/**
 * A buddy request's words: sealed end to end for each of the user's devices (and this user's
 * other devices) and left with the login server, which carries the request itself but never
 * the words. Running devices fetch them within a minute; others at their next start.
 */
/**
 * Seals `text` for `to`'s devices and leaves it with the login server (they are offline to a
 * command that does not go online): how many devices it was sealed for, or 0 when `to` has no
 * device at all yet (never logged in), so there was nothing to seal it for and it was not sent.
 */
export async function sendSealed(account: Account, descriptor: NetworkDescriptor, to: string, text: string): Promise<number> {
  const history = ChatHistory.open(account.historyPath);
  const messenger = new Messenger(realEnv, {
    identity: await account.identity(),
    verifier: new CertificateVerifier(descriptor.caPublicKey),
    username: account.username,
    transport: LOGIN_SERVER_ONLY,
    offline: loginServerOfflineStore(account),
  });
  const chat = new ChatClient(realEnv, messenger, { history });
  try {
    return (await chat.send(to.toLowerCase(), text)).offlineDevices;
  } catch (error) {
    // With the login server as the offline store, 'offline' means the user has no device at all.
    if (error instanceof ChatError && error.code === 'offline') return 0;
    if (error instanceof ChatError) throw new CommandError(error.message);
    throw error;
  } finally {
    chat.close();
    messenger.close();
    history.close();
  }
}

/** `parley history <user>`: this device's conversation with a user, optionally only lines containing words. */
export function history(account: Account, user: string, options: { search?: string; limit: number }): void {
  const store = ChatHistory.open(account.historyPath);
  try {
    const messages = store.conversation(user.toLowerCase(), options);
    if (messages.length === 0) console.log(options.search ? `no message with ${user} contains "${options.search}"` : `no messages with ${user} on this device yet`);
    for (const m of messages) {
      const when = new Date(m.sentAtMs).toISOString().replace('T', ' ').slice(0, 19);
      console.log(`${when}  ${m.from === account.username ? 'you' : safe(m.from)}: ${terminalLines(m.text)}`);
    }
  } finally {
    store.close();
  }
}
