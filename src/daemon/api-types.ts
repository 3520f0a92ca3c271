// What the daemon's local API speaks: the views and events it answers with, and the DaemonCore
// and DaemonGate it is built over. Apart from the server (local-api.ts) so that its route modules,
// the session behind it and the CLI that calls it share these words without importing the server
// (and the route modules without forming a cycle with it).
export type PresenceName = 'online' | 'away' | 'busy' | 'offline';

export interface BuddyView {
  readonly user: string;
  readonly state: PresenceName;
  readonly text: string;
}

export interface MessageView {
  readonly id: string;
  readonly conversation: string;
  readonly from: string;
  readonly sentAtMs: number;
  readonly text: string;
  readonly offline: boolean;
}

/** A group as the app shows it (docs/groups.md). */
export interface GroupInfoView {
  readonly id: string;
  readonly name: string;
  readonly admin: string;
  readonly members: readonly string[];
  /** This user is still a member; this device signs the group's changes. */
  readonly active: boolean;
  readonly isAdmin: boolean;
  /** Each member's read mark (a lamport of the display order, as text). */
  readonly readMarks: Readonly<Record<string, string>>;
}

export interface GroupMessageView {
  readonly group: string;
  readonly id: string;
  readonly from: string;
  readonly sentAtMs: number;
  readonly text: string;
  readonly mentions: readonly string[];
  /** Display order: (lamport, sender, device, seq), lamport as text. */
  readonly lamport: string;
}

export type GroupAction = 'invite' | 'remove' | 'leave' | 'rename' | 'read';
export const GROUP_ACTIONS: readonly GroupAction[] = ['invite', 'remove', 'leave', 'rename', 'read'];

export type CallAction = 'answer' | 'decline' | 'hangup' | 'hold' | 'resume' | 'mute' | 'unmute';
export const CALL_ACTIONS: readonly CallAction[] = ['answer', 'decline', 'hangup', 'hold', 'resume', 'mute', 'unmute'];

export interface CallView {
  readonly id: string;
  readonly peer: string;
  readonly direction: 'outgoing' | 'incoming';
  readonly state: string;
  /** Once ended: why, and who ended it. */
  readonly end: { reason: string; by: 'local' | 'remote' } | null;
  /** When the call was answered (epoch ms, this machine's clock), null before. */
  readonly answeredAtMs: number | null;
  /** Hold and mute, asked for here and by the other side (it tells us). */
  readonly held: boolean;
  readonly muted: boolean;
  readonly heldByPeer: boolean;
  readonly mutedByPeer: boolean;
  readonly stats: {
    readonly path: string | null;
    readonly bitrate: number;
    /** Never arrived (the network's loss), %. */
    readonly lossPercent: number;
    /** Arrived too late to be played, %. */
    readonly latePercent: number;
    /** Frames played by concealment or FEC, %. */
    readonly concealedPercent: number;
    readonly jitterMs: number;
    readonly rttMs: number | null;
    readonly mos: number | null;
  } | null;
}

export type ConferenceAction = 'join' | 'decline' | 'leave' | 'invite' | 'kick';
export const CONFERENCE_ACTIONS: readonly ConferenceAction[] = ['join', 'decline', 'leave', 'invite', 'kick'];

export interface ConferenceView {
  readonly id: string;
  /** invited (ringing here), joining, active, ended. */
  readonly state: string;
  readonly host: string | null;
  readonly roster: readonly { readonly user: string; readonly host: boolean; readonly mixer: boolean; readonly speaking: boolean }[];
  readonly end: { reason: string; by: 'local' | 'remote' } | null;
}

export type DaemonEvent =
  | { readonly type: 'message'; readonly message: MessageView }
  | { readonly type: 'group-message'; readonly message: GroupMessageView }
  /** A group was joined, changed its members or name, or a member read up to a point: ask again. */
  | { readonly type: 'groups' }
  | { readonly type: 'presence'; readonly user: string; readonly state: PresenceName; readonly text: string }
  | { readonly type: 'typing'; readonly user: string; readonly active: boolean }
  | { readonly type: 'read'; readonly user: string; readonly ids: readonly string[] }
  | { readonly type: 'call'; readonly call: CallView }
  | { readonly type: 'conference'; readonly conference: ConferenceView }
  /** Someone signed in here (user) or out (null). */
  | { readonly type: 'account'; readonly user: string | null }
  /** The buddy list or the buddy requests changed: ask again. */
  | { readonly type: 'buddies' }
  | { readonly type: 'requests' };

export interface BuddyRequestsView {
  readonly incoming: readonly { readonly id: number; readonly from: string }[];
  readonly outgoing: readonly { readonly id: number; readonly to: string }[];
}

export interface FoundUser {
  readonly user: string;
  readonly displayName: string;
  /** Found online in the overlay (asked for an exact name only; null when not asked). */
  readonly online: boolean | null;
  readonly buddy: boolean;
}

export type CallsFrom = 'buddies' | 'anyone';

export interface DaemonSettings {
  /** Others find this user by prefix search. */
  readonly discoverable: boolean;
  /** Whose calls ring here: buddies only, or anyone (strangers still pass a rate limit). */
  readonly callsFrom: CallsFrom;
  /** This machine may serve others as a supernode when it is reachable and fast enough. */
  readonly allowSupernode: boolean;
}

/** What the user shows buddies: `invisible` looks offline to them. */
export type OwnPresenceName = 'online' | 'away' | 'dnd' | 'invisible';
export const OWN_PRESENCE_NAMES: readonly OwnPresenceName[] = ['online', 'away', 'dnd', 'invisible'];

export interface OwnPresence {
  readonly state: OwnPresenceName;
  readonly text: string;
}

export type BuddyEdit = 'remove' | 'block' | 'unblock';

export interface AccountView {
  /** Who is signed in here, or null. */
  readonly user: string | null;
}

export interface DaemonStatus {
  readonly user: string;
  readonly device: string;
  /** The supernode this device is attached to, or null while it looks for one. */
  readonly supernode: string | null;
  /** What this device is behind (RFC 5780 classes, as `parley nat` says), or null until found. */
  readonly nat: string | null;
  /** The app's audio socket: refused frames, microphone samples dropped (too old), missing (silence sent instead) and trimmed (standing delay dropped). */
  readonly audio: { readonly refused: number; readonly dropped: number; readonly missing: number; readonly trimmed: number };
}

/** How the words with a buddy request went: sent end to end, none given, or not sent because the user has no device yet. */
export type BuddyRequestWords = 'sent' | 'none' | 'no_device';

/** What the daemon does; the API only translates. */
export interface DaemonCore {
  status(): DaemonStatus;
  buddies(): BuddyView[];
  sendMessage(to: string, text: string): Promise<{ id: string; recipientOnline: number }>;
  messages(withUser: string, limit: number): MessageView[];
  setTyping(to: string, active: boolean): Promise<void>;
  groups(): GroupInfoView[];
  createGroup(name: string, members: readonly string[]): Promise<GroupInfoView>;
  groupMessages(id: string, limit: number): GroupMessageView[];
  sendGroupMessage(id: string, text: string, mentions: readonly string[]): Promise<{ id: string; devices: number }>;
  /** `user` for invite and remove, `name` for rename. */
  groupAction(id: string, action: GroupAction, argument?: string): Promise<GroupInfoView>;
  /** The user has seen the conversation with `withUser`: its senders learn which messages were read. */
  markRead(withUser: string): void;
  call(to: string): Promise<CallView>;
  calls(): CallView[];
  /** null: no such call (or the action does not apply to it now). */
  callAction(id: string, action: CallAction): CallView | null;
  startConference(users: readonly string[]): Promise<ConferenceView>;
  /** A conference hosted here with the group's other current members invited (a GroupError when it cannot). */
  startGroupCall(groupId: string): Promise<ConferenceView>;
  conferences(): ConferenceView[];
  /** null: no such conference (or the action does not apply to it now); `user` for invite and kick. */
  conferenceAction(id: string, action: ConferenceAction, user?: string): Promise<ConferenceView | null>;
  /** Events as they happen; returns the unsubscribe. */
  onEvent(listener: (event: DaemonEvent) => void): () => void;
  /** The app's microphone and speaker for calls (one page at a time: a newer one takes over). */
  attachAudio(speaker: (frame: Uint8Array) => void): AudioLink;
  buddyRequests(): Promise<BuddyRequestsView>;
  /** Asks `to` to be a buddy; the words, if any, go end to end. Says how the words went: the request stands either way. */
  requestBuddy(to: string, message: string | undefined): Promise<BuddyRequestWords>;
  /** false: no such request to this user. */
  answerBuddyRequest(id: number, action: 'accept' | 'decline'): Promise<boolean>;
  /** Users by prefix (the login server's directory, discoverable users) and, for an exact name, in the overlay. */
  search(query: string): Promise<FoundUser[]>;
  settings(): DaemonSettings;
  updateSettings(change: Partial<DaemonSettings>): Promise<DaemonSettings>;
  /** What this user shows buddies (kept for the device, as `parley status` keeps it). */
  presence(): OwnPresence;
  setPresence(presence: OwnPresence): Promise<OwnPresence>;
  /** Removes, blocks or unblocks a user on the contact list. */
  editBuddy(user: string, edit: BuddyEdit): Promise<void>;
}

/** Who is signed in on this daemon: nobody until the app signs up or logs in, then one session. */
export interface DaemonGate {
  account(): AccountView;
  signUp(username: string, password: string, discoverable: boolean): Promise<AccountView>;
  logIn(username: string, password: string): Promise<AccountView>;
  logOut(): Promise<void>;
  /** The signed-in session, or null. */
  core(): DaemonCore | null;
  /** Events of whichever session is signed in, and `account` when that changes. */
  onEvent(listener: (event: DaemonEvent) => void): () => void;
}

export interface AudioLink {
  /** One 10 ms frame from the microphone; false when it is not one. */
  microphone(bytes: Uint8Array): boolean;
  detach(): void;
}
