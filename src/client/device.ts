// One device, composed once: the attachment to the overlay, the end-to-end chat, the contact
// list, presence, calls and conferences, NAT detection and promotion to supernode, built from an
// injected `Env`, an account (the login server as this user) and a store (where the device keeps
// its state). It prints nothing: what happens is told as typed events, and the CLI, the daemon
// and the tests are front ends over the same code. Every failure it does not hand to a caller is
// counted by kind (`failures`) and told as a 'failure' event, never swallowed silently.
import { fromBase64Url, toBase64Url } from '../crypto/bytes.js';
import type { NetworkDescriptor } from '../crypto/descriptor.js';
import type { NodeIdentity } from '../crypto/identity.js';
import type { Env, Timer, TlsConnect } from '../env/types.js';
import type { FrameMs } from '../media/opus.js';
import { natTypeToWire, type NatReport } from '../nat/nat-detection.js';
import { Connector, type LocalNetwork } from './connector.js';
import { localIpv6Toward } from './ipv6-address.js';
import { NatType } from '../wire/messages.js';
import { ChatClient } from '../chat/chat-client.js';
import { Messenger } from '../messenger/messenger.js';
import type { Relation } from '../messenger/transport.js';
import type { ChatHistory } from '../chat/history.js';
import { GroupClient } from '../groups/group-client.js';
import { MemoryGroupStore, type GroupStore } from '../groups/group-history.js';
import { overlayTransport } from './overlay-transport.js';
import { loginServerOfflineStore } from './login-offline-store.js';
import type { AttachedClient, AttachmentEvent } from './attachment.js';
import { DeviceAttachment, type HostCacheStore } from './device-attachment.js';
import { CallManager } from './calls.js';
import { ConferenceManager, type Conference } from './conference.js';
import type { CallAudio } from './call.js';
import { groupCallInvitees } from './group-call.js';
import { CONTACTS_REFRESH_MS, ContactList } from './contact-list.js';
import { STATUS_STATES, type OwnStatus } from './own-status.js';
import type { Promoter, PromotionEvent } from './promotion.js';

/** The login server as this device's user: its certified identity, and API calls with its token. */
export interface DeviceAccount {
  readonly username: string;
  identity(): Promise<NodeIdentity>;
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
}

/** Where the device keeps what outlives it (files in a profile folder; memory in tests). */
export interface DeviceStore extends HostCacheStore {
  openHistory(): ChatHistory;
  /** The groups' sessions and messages (default: memory, gone with the process: tests, the simulator). */
  openGroupHistory?(): GroupStore & { close(): void };
  loadStatus(): OwnStatus;
  saveStatus(status: OwnStatus): void;
}

/** The user's choices, read at each decision (a change applies to the next call). */
export interface DevicePolicy {
  /** Whose calls, conference invitations and connections this device takes. */
  callsFrom: 'buddies' | 'anyone' | 'nobody';
  /** Tell senders when this user has read their messages. */
  readReceipts: boolean;
  /** The audio frame length of calls made here (default: the call manager's). */
  frameMs?: FrameMs;
  /** Connect through relays only: the other side never learns this machine's addresses (WebRTC's iceTransportPolicy "relay"). */
  relayOnly?: boolean;
}

/** Where a promoted device listens, and after how long online it may be checked. */
export interface PromotionSettings {
  /** The user's setting: may this machine become a supernode? */
  readonly allowed: boolean;
  /** Where this device listens for dial-backs, and serves as a supernode once promoted (0: any free port). */
  readonly port: number;
  readonly host?: string;
  readonly promoteAfterMs?: number;
}

export interface DeviceOptions {
  readonly account: DeviceAccount;
  readonly descriptor: NetworkDescriptor;
  readonly store: DeviceStore;
  readonly policy: DevicePolicy;
  /**
   * 'once': startDevice fails when no supernode answers (a command that does one thing now).
   * 'persist': the device starts anyway and keeps trying, with a growing, jittered pause, until
   * it attaches (a device that stays online: the daemon, `parley online`).
   */
  readonly attach: 'once' | 'persist';
  /** Find what this device is behind once attached, and publish it in its presence record. */
  readonly detectNat?: boolean;
  /** Push the saved status to buddies once started (a command that only sends one message does not). */
  readonly announcePresence?: boolean;
  /** How often the contact list and the messages kept at the login server are asked for (default CONTACTS_REFRESH_MS). */
  readonly followEveryMs?: number;
  /** This machine's cores: what the device counts for when a conference elects its mixer (default 1). */
  readonly cpuCores?: number;
  /** Subscribes before anything starts, so nothing the start brings (offline messages, attachment) is missed. */
  readonly listen?: (device: Device) => void;
  /** TLS for links to a supernode's web port (see AttachConfig.webTls); plain TCP there without it. */
  readonly webTls?: TlsConnect;
}

/** What the device tells its front end. */
export type DeviceEvent =
  | { readonly kind: 'attachment'; readonly event: AttachmentEvent }
  | { readonly kind: 'contacts-unavailable'; readonly reason: string }
  | { readonly kind: 'offline-delivered'; readonly count: number }
  | { readonly kind: 'nat'; readonly report: NatReport }
  | { readonly kind: 'buddies-added'; readonly users: readonly string[] }
  | { readonly kind: 'promotion'; readonly event: PromotionEvent }
  | { readonly kind: 'failure'; readonly what: DeviceFailure; readonly reason: string };

/**
 * Failures the device meets on its own (not in a call a front end made), counted by kind; and
 * those a front end meets in work it does for the device and does not hand on (`fail`): the
 * daemon's buddy-request follow, the extra lookups of a search.
 */
export type DeviceFailure = 'attach' | 'bootstrap-list' | 'contacts' | 'offline-fetch' | 'presence' | 'nat-detection' | 'promotion' | 'turn-credentials' | 'buddy-requests' | 'search';

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export class Device {
  readonly username: string;
  /** This device's key (its DH public key): how peers address it. */
  readonly deviceKey: Uint8Array;
  readonly attachment: DeviceAttachment;
  readonly client: AttachedClient;
  /** The end-to-end streams to other devices: chat, calls and the connector each take their kinds of payload from it. */
  readonly messenger: Messenger;
  readonly chat: ChatClient;
  /** Group chats, on the same messenger (src/groups/). */
  readonly groups: GroupClient;
  private readonly groupHistory: GroupStore & { close(): void };
  readonly contacts: ContactList;
  readonly history: ChatHistory;
  readonly connector: Connector;
  readonly calls: CallManager;
  readonly conferences: ConferenceManager;
  /** What this device is behind, once found (null until then, or if it could not be). */
  natType: NatReport['type'] | null = null;
  private natWire: NatType = NatType.UNSPECIFIED;
  private readonly listeners = new Set<(event: DeviceEvent) => void>();
  private readonly failureCounts = new Map<DeviceFailure, number>();
  private promoter: Promoter | null = null;
  /** Counts starts and stops of promotion: a start whose code is still loading yields to a later one. */
  private promotionRequests = 0;
  private follow: Timer | null = null;
  private closed = false;
  private status: OwnStatus;

  /** Built by startDevice: nothing here starts yet. */
  constructor(
    readonly env: Env,
    private readonly options: DeviceOptions,
    private readonly identity: NodeIdentity,
  ) {
    const { account, descriptor, store, policy } = options;
    this.username = account.username;
    this.deviceKey = identity.dh.publicKey;
    this.status = store.loadStatus();
    this.attachment = new DeviceAttachment(env, { username: account.username, identity, descriptor, loginServer: account, store, ...(options.webTls ? { webTls: options.webTls } : {}) });
    this.client = this.attachment.client;
    const verifier = this.attachment.verifier;
    this.client.onEvent((event) => this.emit({ kind: 'attachment', event }));
    this.history = store.openHistory();
    this.contacts = new ContactList((since) => account.call('GET', `/v1/contacts${since === null ? '' : `?since=${since}`}`));
    this.messenger = new Messenger(env, {
      identity,
      verifier,
      username: account.username,
      transport: overlayTransport(this.client),
      offline: loginServerOfflineStore(account),
      relationOf: (user) => this.contacts.relationOf(user),
      // Every device of a group's members talks to every other: not a stranger's handshakes.
      fellowMember: (user) => this.groups.sharesGroupWith(user),
    });
    this.chat = new ChatClient(env, this.messenger, {
      history: this.history,
      buddies: () => this.contacts.buddies(),
      ...(policy.readReceipts ? {} : { readReceipts: false }),
    });
    this.groupHistory = store.openGroupHistory?.() ?? new MemoryGroupStore();
    this.groups = new GroupClient(env, this.messenger, { identity, verifier, store: this.groupHistory });
    // Connections are taken from those the policy allows, and from whoever a call or conference
    // here expects (a stranger invited to this user's conference).
    const allowed = (relation: Relation) => relation === 'buddy' ? policy.callsFrom !== 'nobody' : relation === 'stranger' && policy.callsFrom === 'anyone';
    const expected = (user: string) => this.calls.expectsConnectionFrom(user) || this.conferences.expectsConnectionFrom(user);
    this.connector = new Connector(env, this.messenger, () => this.localNetwork(), (user, relation) => expected(user) || allowed(relation));
    const frame = policy.frameMs ? { frameMs: policy.frameMs } : {};
    const acceptFrom = (_user: string, relation: Relation) => allowed(relation);
    this.calls = new CallManager(env, this.messenger, this.connector, { ...frame, acceptFrom });
    // A fellow member of a group may invite this device to a conference (a group call), as a
    // buddy may: group members talk to each other without being buddies.
    const acceptConferenceFrom = (user: string, relation: Relation) => allowed(relation) || (policy.callsFrom !== 'nobody' && relation !== 'blocked' && this.groups.sharesGroupWith(user));
    const self = { user: account.username, device: this.deviceKey };
    // What this device counts for when a conference elects its mixer.
    const facts = () => ({ natType: this.natWire, uploadKbps: 0, cpuCores: options.cpuCores ?? 1 });
    this.conferences = new ConferenceManager(env, this.messenger, this.connector, { ...frame, self, facts, calls: this.calls, acceptFrom: acceptConferenceFrom });
  }

  /** A group call: a conference hosted here with every other current member of the group invited. Throws a GroupError. */
  startGroupCall(groupId: string, audio: CallAudio): Promise<Conference> {
    return this.conferences.start(groupCallInvitees(this.groups, this.username, groupId), audio);
  }

  onEvent(listener: (event: DeviceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: DeviceEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** Failures met on the device's own initiative so far, by kind. */
  get failures(): ReadonlyMap<DeviceFailure, number> {
    return this.failureCounts;
  }

  /** Counts a failure and tells it as a 'failure' event (for front ends too: what they do not hand on, they report here). */
  fail(what: DeviceFailure, error: unknown): void {
    this.failureCounts.set(what, (this.failureCounts.get(what) ?? 0) + 1);
    this.emit({ kind: 'failure', what, reason: reasonOf(error) });
  }

  /** Asks for the contact list; new buddies are told and learn this user's presence. Resolves with them. */
  async refreshContacts(): Promise<readonly string[]> {
    const added = await this.contacts.refresh();
    if (added.length > 0) {
      this.emit({ kind: 'buddies-added', users: added });
      if (this.options.announcePresence) await this.pushPresence();
    }
    return added;
  }

  /** Fetches what the login server kept for this device; resolves with how many messages it held. */
  async fetchOffline(): Promise<number> {
    const count = await this.chat.fetchOffline();
    if (count > 0) this.emit({ kind: 'offline-delivered', count });
    return count;
  }

  /** The status this user set for the device. */
  presence(): OwnStatus {
    return this.status;
  }

  /**
   * Tells buddies `status` and keeps it as this device's; saves it too unless it came from the
   * store already (`parley status` wrote it, and a running `parley online` follows that file:
   * writing it again would look like another change).
   */
  async setPresence(status: OwnStatus, options: { alreadySaved?: boolean } = {}): Promise<void> {
    this.status = status;
    if (!options.alreadySaved) this.options.store.saveStatus(status);
    await this.pushPresence();
  }

  private pushPresence(): Promise<void> {
    return this.chat.setPresence(STATUS_STATES[this.status.state], this.status.text);
  }

  /** Finds what this device is behind and publishes it (see DeviceAttachment.detectNat); null when not attached. */
  async detectNat(): Promise<NatReport | null> {
    const report = await this.attachment.detectNat();
    if (!report) return null;
    this.natType = report.type;
    this.natWire = natTypeToWire(report.type);
    this.emit({ kind: 'nat', report });
    return report;
  }

  /**
   * This device's side of a connection: its supernode's STUN/TURN service, credentials, and the
   * interface it uses. Dual-stack when both ends have IPv6: the supernode said where its STUN
   * answers over IPv6 and this machine has an IPv6 address that routes there (asked afresh
   * each time: a laptop moves between networks).
   */
  async localNetwork(): Promise<LocalNetwork> {
    const supernode = this.client.supernode;
    if (!supernode) throw new Error('not attached to a supernode');
    const turn = await this.client.turnCredentials().catch((error: unknown) => {
      this.fail('turn-credentials', error);
      return null;
    });
    const localHost = this.client.localAddress?.host;
    // TURN over TCP answers on whichever port the link reached (the web port behind a web-only firewall).
    const turnTcp = this.client.supernodeEndpoint;
    const server6 = turn?.server6;
    const localHost6 = server6 ? await localIpv6Toward(this.env.net, server6) : null;
    return {
      server: turn?.server ?? { host: supernode.host, port: supernode.port },
      turn: turn ? { username: turn.username, password: turn.password } : null,
      ...(localHost ? { localHost } : {}),
      ...(server6 && localHost6 ? { server6, localHost6 } : {}),
      ...(turnTcp ? { turnTcp } : {}),
      // Behind a firewall that passes only TLS the link came through TLS: TURN goes the same way.
      ...(this.client.supernodeOverTls && this.options.webTls ? { turnTls: this.options.webTls } : {}),
      ...(this.options.policy.relayOnly ? { relayOnly: true } : {}),
    };
  }

  /**
   * Lets this device become a supernode when the user allows it (the network's dial-back
   * decides when); a promoter already running is replaced. Events come as 'promotion'.
   */
  async startPromotion(settings: PromotionSettings): Promise<void> {
    this.stopPromotion();
    const request = this.promotionRequests;
    // The promoter brings a supernode's code (DHT, STUN and TURN servers, routing): loaded when a
    // device may become one, not by every client that starts (resident memory, issue 22).
    const { Promoter } = await import('./promotion.js');
    // Stopped, closed or started again while the code loaded: the later request stands.
    if (this.closed || request !== this.promotionRequests) return;
    const { account } = this.options;
    const promoter = new Promoter(this.env, {
      identity: this.identity,
      verifier: this.attachment.verifier,
      client: this.client,
      port: settings.port,
      ...(settings.host ? { host: settings.host } : {}),
      policy: { allowed: settings.allowed, ...(settings.promoteAfterMs !== undefined ? { minUptimeMs: settings.promoteAfterMs } : {}) },
      certify: async (attestation) => {
        const issued = await account.call<{ certificate: string }>('POST', '/v1/devices/current/supernode-certificate', { attestation: toBase64Url(attestation) });
        const certificate = fromBase64Url(issued.certificate);
        if (!certificate) throw new Error('the login server sent an unreadable certificate');
        return certificate;
      },
    });
    this.promoter = promoter;
    promoter.onEvent((event) => this.emit({ kind: 'promotion', event }));
    await promoter.start();
  }

  stopPromotion(): void {
    this.promotionRequests++;
    this.promoter?.close();
    this.promoter = null;
  }

  /** Starts what a device does on its own: attach, the contact list, what waited, presence, and following the login server. */
  async start(): Promise<void> {
    await this.attachment.attach(this.options.attach, (what, error) => this.fail(what, error));
    if (this.options.detectNat) this.detectNatOnceAttached();
    // The first answer is the list as it stands, not buddies just added: nobody is told anything.
    await this.contacts.refresh().catch((error: unknown) => {
      // Everyone counts as a stranger until the list comes (asked again at every follow).
      this.fail('contacts', error);
      this.emit({ kind: 'contacts-unavailable', reason: reasonOf(error) });
    });
    await this.fetchOffline().catch((error: unknown) => this.fail('offline-fetch', error));
    if (this.options.announcePresence) await this.pushPresence().catch((error: unknown) => this.fail('presence', error));
    this.followLoginServer();
  }

  /** Detects the NAT at the first attachment (now, if attached already). */
  private detectNatOnceAttached(): void {
    const detect = () => void this.detectNat().catch((error: unknown) => this.fail('nat-detection', error));
    if (this.client.supernode) return detect();
    const listener = (event: DeviceEvent) => {
      if (event.kind !== 'attachment' || event.event.kind !== 'attached') return;
      this.listeners.delete(listener);
      detect();
    };
    this.listeners.add(listener);
  }

  /**
   * The contact list follows changes made elsewhere (a new buddy learns this user's presence),
   * and what the login server keeps for this device is fetched while it runs too: a buddy
   * request's words, or a message from a sender who thought this device offline.
   */
  private followLoginServer(): void {
    const everyMs = this.options.followEveryMs ?? CONTACTS_REFRESH_MS;
    const tick = () => {
      if (this.closed) return;
      this.follow = this.env.clock.after(everyMs, tick);
      this.refreshContacts().catch((error: unknown) => this.fail('contacts', error));
      this.fetchOffline().catch((error: unknown) => this.fail('offline-fetch', error));
    };
    this.follow = this.env.clock.after(everyMs, tick);
  }

  /**
   * Goes offline: waits up to `acknowledgeWithinMs` for the last messages and signals (a BYE,
   * a CANCEL) to be acknowledged, then closes everything and saves the host cache.
   */
  async close(options: { acknowledgeWithinMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.follow?.cancel();
    if (options.acknowledgeWithinMs) await this.chat.acknowledged(options.acknowledgeWithinMs);
    this.stopPromotion();
    this.chat.close();
    this.groups.close();
    this.messenger.close();
    this.history.close();
    this.groupHistory.close();
    this.attachment.close();
  }
}

/** Builds the device, lets `options.listen` subscribe, and starts it (see DeviceOptions.attach for when it fails). */
export async function startDevice(env: Env, options: DeviceOptions): Promise<Device> {
  const identity = await options.account.identity();
  const device = new Device(env, options, identity);
  options.listen?.(device);
  try {
    await device.start();
  } catch (error) {
    await device.close();
    throw error;
  }
  return device;
}
