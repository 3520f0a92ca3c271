// The daemon's client: one signed-in device attached to the overlay, with chat, presence, calls
// and conferences, seen through the `DaemonCore` the local API serves. Presence of buddies is
// remembered as it arrives; every change is an event. Calls and conferences take their audio
// from the app's audio socket.
import type { Account } from '../client/account.js';
import type { NetworkDescriptor } from '../crypto/descriptor.js';
import { toHex } from '../crypto/bytes.js';
import type { Clock, Env, Timer, TlsConnect } from '../env/types.js';
import type { Call, CallAudio } from '../client/calls.js';
import type { Conference } from '../client/conference.js';
import { PresenceState } from '../wire/messages.js';
import { ChatError, type ReceivedMessage } from '../chat/chat-client.js';
import type { GroupView } from '../groups/group-client.js';
import { editContact } from '../client/contact-list.js';
import { LoginError } from '../client/login-client.js';
import { startDevice, type Device, type DevicePolicy } from '../client/device.js';
import { profileStore } from '../client/profile-files.js';
import { normaliseUsername } from '../wire/usernames.js';
import { readSettings, writeSettings } from './settings.js';
import { SocketAudio } from './socket-audio.js';
import { sizeYoungGenerationFor } from '../ops/young-generation.js';
import type { AudioLink, BuddyEdit, BuddyRequestWords, BuddyRequestsView, BuddyView, CallAction, DaemonSettings, FoundUser, OwnPresence, ConferenceAction, ConferenceView, CallView, DaemonCore, DaemonEvent, DaemonStatus, GroupAction, GroupInfoView, GroupMessageView, MessageView, PresenceName } from './api-types.js';

const PRESENCE_NAMES: Record<PresenceState, PresenceName> = {
  [PresenceState.UNSPECIFIED]: 'online',
  [PresenceState.ONLINE]: 'online',
  [PresenceState.AWAY]: 'away',
  [PresenceState.DO_NOT_DISTURB]: 'busy',
  [PresenceState.OFFLINE]: 'offline',
};
/** Calls and conferences remembered after they end, for `GET /v1/calls` and `/v1/conferences`. */
const ENDED_KEPT = 20;
/** Unread messages remembered for read receipts: per conversation, and conversations. */
const MAX_UNREAD_KEPT = 200;
const MAX_UNREAD_CONVERSATIONS = 100;

/** At most one refresh of the contact list or the requests this often, however many hints arrive. */
const HINT_GAP_MS = 1_000;
/** The lists are asked for this often anyway (a change no hint told of). */
const LISTS_REFRESH_MS = 15_000;
/** Strangers' presence kept until the contact list says whether they became buddies. */
const MAX_STRANGER_PRESENCE = 100;
const SEARCH_LIMIT = 20;

/** What the daemon's device needs of its machine. */
export interface SessionHost {
  /** This machine's cores: what the device counts for when a conference elects its mixer. */
  readonly cpuCores: number;
  /** TLS for links to a supernode's web port (real TLS in the daemon; none on the virtual network). */
  readonly webTls?: TlsConnect;
}

export class ClientSession implements DaemonCore {
  private readonly listeners = new Set<(event: DaemonEvent) => void>();
  private readonly buddyPresence = new Map<string, { state: PresenceName; text: string }>();
  private readonly callsById = new Map<string, Call>();
  private refresh: Timer;
  private readonly socketAudio = new SocketAudio();
  private readonly env: Env;
  /** Read by the device at every call: a change of settings applies to the next one. */
  private readonly policy: DevicePolicy;
  private settingsNow: DaemonSettings;
  private requestsSeen = '';
  /** Hints (a stranger's presence, a stranger's message) ask the login server again, coalesced. */
  private readonly contactsHint: Coalesced;
  private readonly requestsHint: Coalesced;
  /** When each call was answered, on the wall clock (the app counts the call's time from it). */
  private readonly answeredAtMs = new WeakMap<Call, number>();

  private constructor(
    private readonly account: Account,
    private readonly device: Device,
    policy: DevicePolicy,
    settings: DaemonSettings,
  ) {
    this.env = device.env;
    this.policy = policy;
    this.settingsNow = settings;
    const { chat, calls, conferences } = device;
    const clock = this.env.clock;
    // The login server away: counted by the device, and asked again at the next hint or refresh.
    this.contactsHint = coalesced(clock, () => this.device.refreshContacts().then(() => {}), HINT_GAP_MS, (error) => device.fail('contacts', error));
    this.requestsHint = coalesced(clock, () => this.refreshRequests(), HINT_GAP_MS, (error) => device.fail('buddy-requests', error));
    chat.onMessage((m) => {
      this.keepUnread(m);
      this.emit({ type: 'message', message: messageView(m) });
      // A stranger's words usually come with a buddy request: look for it now, not at the next refresh.
      if (m.request) this.requestsHint.run();
    });
    chat.onPresence((p) => this.rememberPresence(p.user, p.state, p.text));
    // Presence goes to buddies only: a stranger's means they accepted us, and our list is behind.
    chat.onStrangerPresence((p) => {
      this.strangerPresence.set(p.user, { state: p.state, text: p.text });
      if (this.strangerPresence.size > MAX_STRANGER_PRESENCE) this.strangerPresence.delete(this.strangerPresence.keys().next().value!);
      this.contactsHint.run();
    });
    chat.onTyping((t) => this.emit({ type: 'typing', user: t.user, active: t.active }));
    chat.onRead((r) => this.emit({ type: 'read', user: r.user, ids: r.ids }));
    device.groups.onMessage((m) => this.emit({ type: 'group-message', message: { group: m.groupId, id: m.id, from: m.from, sentAtMs: m.sentAtMs, text: m.text, mentions: m.mentions, lamport: m.lamport.toString() } }));
    device.groups.onEvent(() => this.emit({ type: 'groups' }));
    calls.onIncoming((call) => this.track(call));
    conferences.onInvite((conference) => this.trackConference(conference));
    device.onEvent((event) => {
      if (event.kind === 'buddies-added') this.buddiesAdded(event.users);
      // A supernode's traffic is a server's: its young generation may grow again (src/ops/young-generation.ts).
      if (event.kind === 'promotion' && event.event.kind === 'promoted') sizeYoungGenerationFor('server');
      if (event.kind === 'promotion' && event.event.kind === 'demoted') sizeYoungGenerationFor('client');
    });
    // Buddy requests follow changes made elsewhere (the device follows the contact list and the messages kept for us).
    const followRequests = () => {
      this.requestsHint.run();
      this.refresh = clock.after(LISTS_REFRESH_MS, followRequests);
    };
    this.refresh = clock.after(LISTS_REFRESH_MS, followRequests);
  }

  private view(call: Call): CallView {
    return callView(call, this.answeredAtMs);
  }

  /** A call's or conference's audio: the app's microphone and speaker, over the audio socket. */
  private audio(): CallAudio {
    return { source: this.socketAudio, sink: this.socketAudio };
  }

  /** Presence of strangers who may have just become buddies (bounded), used once the list says so. */
  private readonly strangerPresence = new Map<string, { state: PresenceState; text: string }>();

  private rememberPresence(user: string, state: PresenceState, text: string): void {
    const view = { state: PRESENCE_NAMES[state] ?? 'online', text };
    this.buddyPresence.set(user, view);
    this.emit({ type: 'presence', user, ...view });
  }

  /** New buddies (a request accepted): the list changed, and presence seen while they were strangers counts now. */
  private buddiesAdded(added: readonly string[]): void {
    this.emit({ type: 'buddies' });
    // A request of ours that was accepted is gone from the list.
    this.requestsHint.run();
    for (const user of added) {
      const seen = this.strangerPresence.get(user);
      this.strangerPresence.delete(user);
      if (seen) this.rememberPresence(user, seen.state, seen.text);
    }
  }

  private async refreshRequests(): Promise<void> {
    const seen = JSON.stringify(await this.buddyRequests());
    if (seen === this.requestsSeen) return;
    this.requestsSeen = seen;
    this.emit({ type: 'requests' });
  }

  /**
   * Signs in `account`'s device on the overlay: the device core, staying online (it keeps trying
   * when no supernode answers yet), its NAT found and published, its presence told to buddies.
   */
  static async start(env: Env, account: Account, descriptor: NetworkDescriptor, host: SessionHost): Promise<ClientSession> {
    const settings = readSettings(account.settingsPath);
    const policy: DevicePolicy = { callsFrom: settings.callsFrom, readReceipts: true };
    const device = await startDevice(env, {
      account,
      descriptor,
      store: profileStore(account),
      policy,
      attach: 'persist',
      detectNat: true,
      announcePresence: true,
      followEveryMs: LISTS_REFRESH_MS,
      cpuCores: host.cpuCores,
      ...(host.webTls ? { webTls: host.webTls } : {}),
    });
    const session = new ClientSession(account, device, policy, settings);
    // The session runs without promotion (a port taken, say): counted and told as a 'failure'.
    await session.startPromoter().catch((error: unknown) => device.fail('promotion', error));
    return session;
  }

  /** Lets this device become a supernode when the user allows it (the network's dial-back decides when). */
  private async startPromoter(): Promise<void> {
    if (!this.settingsNow.allowSupernode) return this.device.stopPromotion();
    await this.device.startPromotion({ allowed: true, port: 0 });
  }

  onEvent(listener: (event: DaemonEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: DaemonEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  status(): DaemonStatus {
    const supernode = this.device.client.supernode;
    return { user: this.account.username, device: toHex(this.device.deviceKey), supernode: supernode ? `${supernode.host}:${supernode.port}` : null, nat: this.device.natType, audio: { ...this.socketAudio.stats } };
  }

  buddies(): BuddyView[] {
    return this.device.contacts.buddies().map((user) => ({ user, ...(this.buddyPresence.get(user) ?? { state: 'offline' as const, text: '' }) }));
  }

  async sendMessage(to: string, text: string): Promise<{ id: string; recipientOnline: number }> {
    const sent = await this.device.chat.send(to, text);
    return { id: sent.id, recipientOnline: sent.recipientOnline };
  }

  groups(): GroupInfoView[] {
    return this.device.groups.list().map(groupInfoView);
  }

  async createGroup(name: string, members: readonly string[]): Promise<GroupInfoView> {
    const id = await this.device.groups.create(name, members);
    return groupInfoView(this.device.groups.group(id));
  }

  groupMessages(id: string, limit: number): GroupMessageView[] {
    return this.device.groups.history(id, limit).map((m) => ({ group: m.groupId, id: m.id, from: m.from, sentAtMs: m.sentAtMs, text: m.text, mentions: m.mentions, lamport: m.lamport.toString() }));
  }

  async sendGroupMessage(id: string, text: string, mentions: readonly string[]): Promise<{ id: string; devices: number }> {
    const sent = await this.device.groups.send(id, text, mentions);
    return { id: sent.id, devices: sent.devices };
  }

  async groupAction(id: string, action: GroupAction, argument?: string): Promise<GroupInfoView> {
    const groups = this.device.groups;
    if (action === 'invite') await groups.invite(id, argument ?? '');
    else if (action === 'remove') await groups.remove(id, argument ?? '');
    else if (action === 'rename') await groups.rename(id, argument ?? '');
    else if (action === 'leave') await groups.leave(id);
    else await groups.markRead(id);
    return groupInfoView(groups.group(id));
  }

  messages(withUser: string, limit: number): MessageView[] {
    return this.device.history.conversation(withUser, { limit }).map(messageView);
  }

  /** Received messages the user has not seen yet, by conversation (bounded: a peer cannot make us keep more). */
  private readonly unread = new Map<string, ReceivedMessage[]>();

  private keepUnread(m: ReceivedMessage): void {
    if (m.from === this.account.username) return;
    const list = this.unread.get(m.conversation) ?? [];
    list.push(m);
    if (list.length > MAX_UNREAD_KEPT) list.shift();
    this.unread.delete(m.conversation);
    this.unread.set(m.conversation, list);
    if (this.unread.size > MAX_UNREAD_CONVERSATIONS) this.unread.delete(this.unread.keys().next().value!);
  }

  markRead(withUser: string): void {
    const list = this.unread.get(withUser);
    if (!list) return;
    this.unread.delete(withUser);
    this.device.chat.markRead(list);
  }

  setTyping(to: string, active: boolean): Promise<void> {
    return this.device.chat.setTyping(to, active);
  }

  async call(to: string): Promise<CallView> {
    const call = await this.device.calls.call(to, this.audio());
    this.track(call);
    return this.view(call);
  }

  calls(): CallView[] {
    return [...this.callsById.values()].map((call) => this.view(call));
  }

  /** Events for every change of the call; kept for the list a while after it ends. */
  private track(call: Call): void {
    const id = toHex(call.id);
    this.callsById.set(id, call);
    // The end is told once, with its reason, when `ended` resolves.
    call.onState((state) => {
      if (state === 'active') this.answeredAtMs.set(call, this.env.clock.wallTimeMs());
      if (state !== 'ended') this.emit({ type: 'call', call: this.view(call) });
    });
    call.onHoldOrMute(() => call.state !== 'ended' && this.emit({ type: 'call', call: this.view(call) }));
    void call.ended.then((end) => {
      this.emit({ type: 'call', call: this.view(call) });
      if (end.reason === 'replaced' && call.replacement) this.track(call.replacement);
      pruneEnded(this.callsById);
    });
    if (call.direction === 'incoming') this.emit({ type: 'call', call: this.view(call) });
  }

  private readonly conferencesById = new Map<string, Conference>();

  /** Events for every change of the conference (roster, mixer, state); kept for the list a while after it ends. */
  private trackConference(conference: Conference): void {
    const id = toHex(conference.id);
    if (this.conferencesById.has(id)) return;
    this.conferencesById.set(id, conference);
    const emit = () => this.emit({ type: 'conference', conference: conferenceView(conference) });
    conference.onChange(() => conference.state !== 'ended' && emit());
    void conference.ended.then(() => {
      emit();
      pruneEnded(this.conferencesById);
    });
    emit();
  }

  async startConference(users: readonly string[]): Promise<ConferenceView> {
    const conference = await this.device.conferences.start(users, this.audio());
    this.trackConference(conference);
    return conferenceView(conference);
  }

  /** A group call: a conference hosted here with the group's other current members invited (a GroupError when it cannot). */
  async startGroupCall(groupId: string): Promise<ConferenceView> {
    const conference = await this.device.startGroupCall(groupId, this.audio());
    this.trackConference(conference);
    return conferenceView(conference);
  }

  conferences(): ConferenceView[] {
    return [...this.conferencesById.values()].map(conferenceView);
  }

  async conferenceAction(id: string, action: ConferenceAction, user?: string): Promise<ConferenceView | null> {
    const conference = this.conferencesById.get(id);
    if (!conference || conference.state === 'ended') return null;
    switch (action) {
      case 'join':
        if (conference.state !== 'invited') return null;
        conference.join(this.audio());
        break;
      case 'decline':
        if (conference.state !== 'invited') return null;
        conference.decline();
        break;
      case 'leave':
        conference.leave();
        break;
      case 'invite':
        if (!user || !(await conference.invite(user))) return null;
        break;
      case 'kick':
        if (!user || !conference.isHost || !conference.members.some((m) => m.user === user)) return null;
        conference.kick(user);
        break;
    }
    return conferenceView(conference);
  }

  callAction(id: string, action: CallAction): CallView | null {
    const call = this.callsById.get(id);
    if (!call || call.state === 'ended') return null;
    const ringing = call.direction === 'incoming' && call.state === 'ringing';
    switch (action) {
      case 'answer':
        if (!ringing) return null;
        call.accept(this.audio());
        break;
      case 'decline':
        if (!ringing) return null;
        call.decline();
        break;
      case 'hangup':
        call.hangup();
        break;
      case 'hold':
      case 'resume':
        call.hold(action === 'hold');
        break;
      case 'mute':
      case 'unmute':
        call.mute(action === 'mute');
        break;
    }
    return this.view(call);
  }

  async buddyRequests(): Promise<BuddyRequestsView> {
    const answer = await this.account.call<{ incoming: { id: number; from: string }[]; outgoing: { id: number; to: string }[] }>('GET', '/v1/buddy-requests');
    return { incoming: answer.incoming.map((r) => ({ id: r.id, from: r.from })), outgoing: answer.outgoing.map((r) => ({ id: r.id, to: r.to })) };
  }

  async requestBuddy(to: string, message: string | undefined): Promise<BuddyRequestWords> {
    // The login server carries the request, not the words: those go end to end, and their
    // arrival tells the other's daemon to look at its requests now.
    await this.account.call('POST', '/v1/buddy-requests', { to });
    this.requestsHint.run();
    if (!message) return 'none';
    try {
      await this.device.chat.send(to, message);
      return 'sent';
    } catch (error) {
      // No device at all (never logged in): nothing to seal the words for. The request is made;
      // failing it would tell the page it was not.
      if (error instanceof ChatError && error.code === 'offline') return 'no_device';
      throw error;
    }
  }

  async answerBuddyRequest(id: number, action: 'accept' | 'decline'): Promise<boolean> {
    try {
      await this.account.call('POST', `/v1/buddy-requests/${id}/${action}`);
    } catch (error) {
      if (error instanceof LoginError && error.status === 404) return false;
      throw error;
    }
    this.requestsHint.run();
    if (action === 'accept') this.contactsHint.run();
    return true;
  }

  async search(query: string): Promise<FoundUser[]> {
    const name = query.endsWith('*') ? null : normaliseUsername(query);
    const exact = name?.ok ? name.value : null;
    const [listed, known, online] = await Promise.all([
      this.account.call<{ users: { username: string; displayName: string }[] }>('GET', `/v1/directory/search?q=${encodeURIComponent(query)}&limit=${SEARCH_LIMIT}`),
      // An exact name is also looked up where non-discoverable users are found: by name, and in the overlay.
      // Either failing leaves the search what the directory listed: counted, not thrown. No such user (404) is an answer, not a failure.
      exact
        ? this.account.call<{ username: string; displayName: string }>('GET', `/v1/directory/users/${encodeURIComponent(exact)}`).catch((error: unknown) => {
            if (!(error instanceof LoginError && error.status === 404)) this.device.fail('search', error);
            return null;
          })
        : null,
      exact
        ? this.device.client.find(exact).then(
            (records) => records.length > 0,
            (error: unknown) => {
              this.device.fail('search', error);
              return false;
            },
          )
        : null,
    ]);
    const users = new Map(listed.users.map((u) => [u.username, u.displayName]));
    if (known) users.set(known.username, known.displayName);
    const buddies = new Set(this.device.contacts.buddies());
    return [...users]
      .filter(([user]) => user !== this.account.username)
      .map(([user, displayName]) => ({ user, displayName, online: user === exact ? online : null, buddy: buddies.has(user) }));
  }

  settings(): DaemonSettings {
    return this.settingsNow;
  }

  async updateSettings(change: Partial<DaemonSettings>): Promise<DaemonSettings> {
    const before = this.settingsNow;
    const after: DaemonSettings = { ...before, ...change };
    if (after.discoverable !== before.discoverable) await this.account.call('PATCH', '/v1/account/privacy', { discoverable: after.discoverable });
    this.settingsNow = after;
    this.policy.callsFrom = after.callsFrom;
    writeSettings(this.account.settingsPath, after);
    if (after.allowSupernode !== before.allowSupernode) await this.startPromoter();
    return after;
  }

  presence(): OwnPresence {
    return this.device.presence();
  }

  async setPresence(presence: OwnPresence): Promise<OwnPresence> {
    await this.device.setPresence(presence);
    return presence;
  }

  async editBuddy(user: string, edit: BuddyEdit): Promise<void> {
    await editContact((method, path, body) => this.account.call(method, path, body), user, edit);
    await this.device.contacts.refresh();
    if (edit !== 'unblock') this.buddyPresence.delete(user);
    this.emit({ type: 'buddies' });
  }

  attachAudio(speaker: (frame: Uint8Array) => void): AudioLink {
    const audio = this.socketAudio;
    audio.connect(speaker);
    let attached = true;
    return {
      microphone: (bytes) => attached && audio.microphone(bytes),
      detach: () => {
        // Only if no newer page took over meanwhile.
        if (attached && audio.isConnectedTo(speaker)) audio.connect(null);
        attached = false;
      },
    };
  }

  async close(): Promise<void> {
    this.refresh.cancel();
    for (const call of this.callsById.values()) call.hangup();
    for (const conference of this.conferencesById.values()) conference.leave();
    this.contactsHint.stop();
    this.requestsHint.stop();
    // The last signals (BYE, leave) are acknowledged before the device goes.
    await this.device.close({ acknowledgeWithinMs: 3_000 });
  }
}

interface Coalesced {
  /** Asks for a run: now, or once after the one under way (asks meanwhile merge into that one). */
  run(): void;
  stop(): void;
}

/** Runs `work` at most once per `gapMs`, however often it is asked for; failures go to `failed` and wait for the next ask. */
function coalesced(clock: Clock, work: () => Promise<void>, gapMs: number, failed: (error: unknown) => void): Coalesced {
  let busy = false;
  let again = false;
  let timer: Timer | undefined;
  let stopped = false;
  const run = (): void => {
    if (busy) {
      again = true;
      return;
    }
    if (stopped) return;
    busy = true;
    void work()
      .catch(failed)
      .finally(() => {
        if (stopped) return;
        timer = clock.after(gapMs, () => {
          busy = false;
          if (again) {
            again = false;
            run();
          }
        });
      });
  };
  return {
    run,
    stop: () => {
      stopped = true;
      timer?.cancel();
    },
  };
}

/** Forgets the oldest ended calls or conferences beyond ENDED_KEPT. */
function pruneEnded(byId: Map<string, { state: string }>): void {
  const ended = [...byId.entries()].filter(([, x]) => x.state === 'ended');
  for (const [key] of ended.slice(0, Math.max(0, ended.length - ENDED_KEPT))) byId.delete(key);
}

function messageView(m: MessageView): MessageView {
  return { id: m.id, conversation: m.conversation, from: m.from, sentAtMs: m.sentAtMs, text: m.text, offline: m.offline };
}

function conferenceView(conference: Conference): ConferenceView {
  return {
    id: toHex(conference.id),
    state: conference.state,
    host: conference.host?.user ?? null,
    roster: conference.state === 'ended' ? [] : conference.roster().map((r) => ({ user: r.user, host: r.host, mixer: r.mixer, speaking: r.speaking })),
    end: conference.endedWith,
  };
}

function callView(call: Call, answeredAtMs: WeakMap<Call, number>): CallView {
  const s = call.stats();
  return {
    id: toHex(call.id),
    peer: call.peer,
    direction: call.direction,
    state: call.state,
    end: call.endedWith,
    answeredAtMs: answeredAtMs.get(call) ?? null,
    held: call.held,
    muted: call.muted,
    heldByPeer: call.heldByPeer,
    mutedByPeer: call.mutedByPeer,
    stats: call.state === 'active' ? { path: s.path, bitrate: s.bitrate, lossPercent: s.lossPercent, latePercent: s.latePercent, concealedPercent: s.concealedPercent, jitterMs: s.jitterMs, rttMs: s.rttMs, mos: s.mos } : null,
  };
}

function groupInfoView(g: GroupView): GroupInfoView {
  return { id: g.groupId, name: g.name, admin: g.admin, members: g.members, active: g.active, isAdmin: g.isAdmin, readMarks: g.readMarks };
}
