// `parley online` and `parley whois`: a device attached to the supernode overlay.
import { createInterface } from 'node:readline';
import { unwatchFile, watchFile } from 'node:fs';
import { realEnv } from '../env/real.js';
import { connectTlsUnverified } from '../env/tls.js';
import { CertificateVerifier } from '../crypto/certificate.js';
import { toHex } from '../crypto/bytes.js';
import type { Account } from '../client/account.js';
import { CommandError } from './command-error.js';
import type { AttachmentEvent } from '../client/attachment.js';
import { LoginError } from '../client/login-client.js';
import type { NetworkDescriptor } from '../crypto/descriptor.js';
import { CandidateType, PresenceState } from '../wire/messages.js';
import type { PromotionEvent } from '../client/promotion.js';
import { sizeYoungGenerationFor } from '../ops/young-generation.js';
import { ChatClient, ChatError, type ReceivedMessage } from '../chat/chat-client.js';
import { Messenger } from '../messenger/messenger.js';
import type { SignallingTransport } from '../messenger/transport.js';
import { loginServerOfflineStore } from '../client/login-offline-store.js';
import { ChatHistory } from '../chat/history.js';
import type { GroupClient, GroupMessage } from '../groups/group-client.js';
import { TypingSignal } from '../chat/typing-signal.js';
import { describeNat, detectMappingLifetime, type MappingLifetime } from '../nat/nat-detection.js';
import type { Connection, Connector } from '../client/connector.js';
import { DeviceAttachment } from '../client/device-attachment.js';
import { startDevice, type Device, type DeviceEvent, type DeviceOptions, type DevicePolicy } from '../client/device.js';
import { DeviceBusyError, holdDevice, loadStatus, profileStore } from '../client/profile-files.js';
import { isStatusName, STATUS_STATES, type StatusName } from '../client/own-status.js';
import { terminalError, terminalLines, terminalText as safe } from './terminal-text.js';

/** Takes this device for this process until it exits, or says which command has it. */
function takeThisDevice(account: Account): void {
  const command = `parley ${process.argv[2] ?? ''}`.trim();
  try {
    process.once('exit', holdDevice(account, command, realEnv.clock.wallTimeMs()));
  } catch (error) {
    if (error instanceof DeviceBusyError) throw new CommandError(error.message);
    throw error;
  }
}

function printAttachment(event: AttachmentEvent): void {
  if (event.kind === 'attached') console.log(`attached to supernode ${safe(event.supernode.host)}:${event.supernode.port} (from the ${event.source === 'bootstrap' ? 'bootstrap list' : 'host cache'})`);
  if (event.kind === 'lost') console.log(`lost supernode ${safe(event.supernode.host)}:${event.supernode.port}: ${safe(event.reason)}; failing over`);
  if (event.kind === 'unreachable') console.log('no supernode answers; retrying');
}

/** This device attached to the overlay and nothing more (commands that only look something up), held by this process. */
export async function openAttachment(account: Account, descriptor: NetworkDescriptor): Promise<DeviceAttachment> {
  takeThisDevice(account);
  const attachment = new DeviceAttachment(realEnv, { username: account.username, identity: await account.identity(), descriptor, loginServer: account, store: profileStore(account) });
  attachment.client.onEvent(printAttachment);
  try {
    // A late answer of the login server that does not check out is not this command's business.
    await attachment.attach('once', () => {});
  } catch (error) {
    attachment.close();
    throw error;
  }
  return attachment;
}

function printPromotion(event: PromotionEvent): void {
  // A supernode's traffic is a server's: its young generation may grow again.
  if (event.kind === 'promoted') sizeYoungGenerationFor('server');
  if (event.kind === 'demoted') sizeYoungGenerationFor('client');
  if (event.kind === 'forbidden') console.log('this device will not become a supernode (--no-promotion)');
  if (event.kind === 'not-promoted') console.log(`not a supernode: ${event.reason}`);
  if (event.kind === 'promoted') console.log(`promoted: now also a supernode on port ${event.port} (dial-back measured ${Math.round(event.uploadKbps)} kbit/s up)`);
  if (event.kind === 'check-failed') console.log(`supernode reachability check failed (${event.failures}): ${event.reason}`);
  if (event.kind === 'demoted') console.log(`demoted: no longer a supernode (${event.reason})`);
}

/** What a command prints of its device's life. */
function printDeviceEvent(event: DeviceEvent): void {
  switch (event.kind) {
    case 'attachment':
      return printAttachment(event.event);
    case 'contacts-unavailable':
      return console.log(`contact list unavailable (${safe(event.reason)}): everyone counts as a stranger for now`);
    case 'offline-delivered':
      return console.log(`${event.count} message${event.count > 1 ? 's' : ''} arrived while you were offline`);
    case 'nat':
      return console.log(`NAT: ${describeNat(event.report)}`);
    case 'buddies-added':
      for (const user of event.users) console.log(`${safe(user)} is now your buddy`);
      return;
    case 'promotion':
      return printPromotion(event.event);
    case 'failure':
      // The login server away for a while is an everyday event: the list we have stands, and it is asked again.
      if (event.what === 'nat-detection') console.log(`NAT type not found: ${safe(event.reason)}`);
      if (event.what === 'presence') console.log(`presence not sent: ${safe(event.reason)}`);
      return;
  }
}

/** Prints the chat as it comes: messages (read once shown, unless the front end says not), receipts, typing, presence. */
function printChat(chat: ChatClient, me: string, markReadOnShow: boolean): void {
  chat.onMessage((m) => {
    console.log(formatMessage(m, me));
    if (markReadOnShow) chat.markRead([m]);
  });
  chat.onRead((r) => console.log(`${safe(r.user)} read ${r.ids.length === 1 ? 'your message' : `${r.ids.length} of your messages`}`));
  chat.onTyping((t) => t.active && console.log(`${safe(t.user)} is typing…`));
  chat.onPresence((p) => console.log(`${safe(p.user)} is ${STATE_NAMES.get(p.state) ?? 'online'}${p.text ? `: ${safe(p.text)}` : ''}`));
}

export function formatGroupMessage(m: { from: string; text: string; sentAtMs: number; mentions: readonly string[] }, me: string, name: string): string {
  const time = new Date(m.sentAtMs).toISOString().slice(11, 19);
  const mention = m.mentions.includes(me) ? '   (mentions you)' : '';
  return `[${time}] ${safe(name)} · ${m.from === me ? 'you' : safe(m.from)}: ${terminalLines(m.text)}${mention}`;
}

/** Prints group messages and changes as they come (for `parley online`). */
export function printGroups(groups: GroupClient, me: string): void {
  const nameOf = (id: string) => groups.list().find((g) => g.groupId === id)?.name ?? id.slice(0, 8);
  groups.onMessage((m: GroupMessage) => console.log(formatGroupMessage(m, me, nameOf(m.groupId))));
  groups.onEvent((e) => {
    if (e.kind === 'joined') console.log(`you are in the group ${safe(e.name)} (made by ${safe(e.admin)}; id ${e.groupId.slice(0, 8)})`);
    if (e.kind === 'membership') {
      const what = [...e.added.map((u) => `${safe(u)} joined`), ...e.removed.map((u) => `${safe(u)} left`), ...(e.renamed ? [`renamed to ${safe(nameOf(e.groupId))}`] : [])];
      if (what.length > 0) console.log(`${safe(nameOf(e.groupId))}: ${what.join(', ')}`);
    }
  });
}

/** The device core on the real network for one command: held by this process, its files in the profile, what it does printed. */
export async function openDevice(
  account: Account,
  descriptor: NetworkDescriptor,
  options: { policy?: Partial<DevicePolicy>; markReadOnShow?: boolean } & Partial<Pick<DeviceOptions, 'attach' | 'detectNat' | 'announcePresence' | 'cpuCores'>> = {},
): Promise<Device> {
  takeThisDevice(account);
  return startDevice(realEnv, {
    account,
    descriptor,
    store: profileStore(account),
    policy: { callsFrom: 'buddies', readReceipts: true, ...options.policy },
    attach: options.attach ?? 'once',
    ...(options.detectNat ? { detectNat: true } : {}),
    ...(options.announcePresence ? { announcePresence: true } : {}),
    ...(options.cpuCores ? { cpuCores: options.cpuCores } : {}),
    // Every `parley supernode` speaks TLS on its web port: links there look like HTTPS.
    webTls: connectTlsUnverified,
    listen: (device) => {
      device.onEvent(printDeviceEvent);
      printChat(device.chat, account.username, options.markReadOnShow !== false);
      printGroups(device.groups, account.username);
    },
  });
}

const describeLifetime = (l: MappingLifetime) =>
  l.goneAfterMs === null ? `at least ${l.aliveAfterMs / 1000} s (alive after every wait tried)` : `between ${l.aliveAfterMs / 1000} s and ${l.goneAfterMs / 1000} s`;

/** `parley nat [--lifetime]`: what this device is behind, found through a supernode (RFC 5780). */
export async function nat(account: Account, descriptor: NetworkDescriptor, options: { lifetime?: boolean } = {}): Promise<void> {
  const attachment = await openAttachment(account, descriptor);
  try {
    const report = await attachment.detectNat();
    if (!report) throw new CommandError('not attached to a supernode');
    console.log(`NAT: ${describeNat(report)}`);
    const { client } = attachment;
    const supernode = client.supernode;
    if (options.lifetime && supernode && report.type !== 'udp-blocked' && report.type !== 'web-only') {
      console.log('measuring how long the NAT keeps an idle mapping (about 2 minutes)…');
      const lifetime = await detectMappingLifetime(realEnv, { host: supernode.host, port: supernode.port }, undefined, client.localAddress?.host);
      console.log(`NAT mapping lifetime: ${describeLifetime(lifetime)}`);
    }
  } finally {
    attachment.close();
  }
}

const describePath = (c: Connection) =>
  `${c.path.kind} path (${c.path.local.type} ${c.path.local.address.host}:${c.path.local.address.port} → ${c.path.remote.type} ${safe(c.path.remote.address.host)}:${c.path.remote.address.port})`;

/** Connections others start (`parley connect`): said, echoed (so the other side can time the path), closed when idle. Not those a call or conference here expects. */
function answerConnections(device: Device): void {
  const IDLE_MS = 30_000;
  const connector: Connector = device.connector;
  connector.onConnection((c) => {
    if (device.calls.expectsConnectionFrom(c.user) || device.conferences.expectsConnectionFrom(c.user)) return;
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
  const device = await openDevice(account, descriptor, { policy: { callsFrom: 'nobody' } });
  try {
    const user = to.toLowerCase();
    const records = await device.client.find(user);
    const key = records[0]?.device.dhKey;
    if (!key) throw new CommandError(`${to} has no device online`);
    const outcome = await device.connector.connect(user, key);
    if (!outcome.ok) throw new CommandError(`no connection to ${to}: ${outcome.error === 'refused' ? 'refused (not a buddy?)' : outcome.error === 'no_answer' ? 'no answer' : 'no path worked'}`);
    const c = outcome.connection;
    console.log(`connected to ${to} (device ${toHex(key).slice(0, 16)}) over a ${describePath(c)} in ${Math.round(c.setupMs)} ms`);
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
    await device.close();
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

/**
 * Stays attached until Ctrl-C, so others can find this device; meanwhile, unless the user
 * forbids it, the device becomes a supernode when a supernode's dial-back finds it reachable.
 */
export async function online(account: Account, descriptor: NetworkDescriptor, options: OnlineOptions): Promise<void> {
  const device = await openDevice(account, descriptor, {
    policy: { callsFrom: options.callsFrom ?? 'buddies', readReceipts: options.readReceipts !== false },
    attach: 'persist',
    detectNat: true,
    announcePresence: true,
  });
  await device.startPromotion({ allowed: options.allowPromotion, port: options.port, ...(options.host ? { host: options.host } : {}), ...(options.promoteAfterMs !== undefined ? { promoteAfterMs: options.promoteAfterMs } : {}) });
  answerConnections(device);
  device.calls.onIncoming((call) => console.log(`${safe(call.peer)} is calling (parley online takes no calls: answer in the app or with parley answer)`));
  // Presence: what `parley status` saved, pushed to buddies whenever it changes.
  const pushStatus = () => device.setPresence(loadStatus(account), { alreadySaved: true }).catch((error: unknown) => console.log(`presence not sent: ${terminalError(error)}`));
  watchFile(account.statusPath, { interval: 1000 }, pushStatus);
  console.log(`${account.username} is online (Ctrl-C to go offline)`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      unwatchFile(account.statusPath);
      void device.close().finally(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Finds a user through the overlay; when it does not, asks the login server, and says which. */
export async function whois(account: Account, descriptor: NetworkDescriptor, username: string): Promise<void> {
  const attachment = await openAttachment(account, descriptor);
  const { client } = attachment;
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
    attachment.close();
  }
}

function formatMessage(m: ReceivedMessage, me: string): string {
  const time = new Date(m.sentAtMs).toISOString().slice(11, 19);
  const from = safe(m.from);
  const where = m.from === me ? ` (from your other device, to ${safe(m.conversation)})` : '';
  return `[${time}] ${from}${where}: ${terminalLines(m.text)}${m.offline ? '   (sent while you were offline)' : ''}${m.request ? `   (not a buddy yet: parley buddies accept ${from} if they asked, else add)` : ''}`;
}

const STATE_NAMES = new Map<PresenceState, string>([
  [PresenceState.ONLINE, 'online'],
  [PresenceState.AWAY, 'away'],
  [PresenceState.DO_NOT_DISTURB, 'busy (do not disturb)'],
  [PresenceState.OFFLINE, 'offline'],
]);

export { STATUS_STATES, type StatusName };

/** `parley status <online|away|dnd|invisible> [text]`: saved for this device; a running `parley online` pushes it to buddies. */
export function setStatus(account: Account, state: string, text: string): void {
  if (!isStatusName(state)) throw new CommandError(`status is one of ${Object.keys(STATUS_STATES).join(', ')}`);
  profileStore(account).saveStatus({ state, text });
  console.log(`status: ${state}${text ? ` — ${text}` : ''} (buddies see it while parley online runs)`);
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
  const device = await openDevice(account, descriptor, { policy: { callsFrom: 'nobody' } });
  const session = device.chat;
  try {
    if (message !== undefined) return await sendOne(session, to.toLowerCase(), message);
    console.log(`chatting with ${to}: type a line and press Enter (Ctrl-D ends)`);
    // On a terminal, keys are seen as they are typed, and the other side sees that this user is typing.
    const terminal = process.stdin.isTTY === true;
    const lines = createInterface({ input: process.stdin, terminal, ...(terminal ? { output: process.stdout } : {}) });
    const typing = new TypingSignal(realEnv.clock, (active) => void session.setTyping(to.toLowerCase(), active).catch((error: unknown) => console.log(`typing indicator not sent: ${terminalError(error)}`)));
    if (terminal) process.stdin.on('keypress', () => typing.keystroke());
    for await (const line of lines) {
      typing.stop();
      if (line.trim()) await sendOne(session, to.toLowerCase(), line);
    }
    await session.acknowledged(ACK_WAIT_MS);
  } finally {
    await device.close();
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
