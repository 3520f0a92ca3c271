// The daemon's local API from the page: the token came in the address's fragment (never sent to
// a server, kept for this tab only), requests carry it, errors come back typed.
export interface Buddy {
  user: string;
  state: 'online' | 'away' | 'busy' | 'offline';
  text: string;
}
export interface Message {
  id: string;
  conversation: string;
  from: string;
  sentAtMs: number;
  text: string;
  offline: boolean;
}
export interface CallView {
  id: string;
  peer: string;
  direction: 'outgoing' | 'incoming';
  state: string;
  end: { reason: string; by: 'local' | 'remote' } | null;
  /** Epoch ms, this machine's clock (the daemon's and the page's are one). */
  answeredAtMs: number | null;
  held: boolean;
  muted: boolean;
  heldByPeer: boolean;
  mutedByPeer: boolean;
  stats: { path: string | null; bitrate: number; lossPercent: number; jitterMs: number; rttMs: number | null; mos: number | null } | null;
}
export interface ConferenceView {
  id: string;
  state: string;
  host: string | null;
  roster: { user: string; host: boolean; mixer: boolean; speaking: boolean }[];
  end: { reason: string; by: 'local' | 'remote' } | null;
}
/** A group as the daemon shows it (docs/groups.md). */
export interface GroupInfo {
  id: string;
  name: string;
  admin: string;
  members: string[];
  /** This user is still a member. */
  active: boolean;
  /** This device signs the group's changes. */
  isAdmin: boolean;
  /** Each member's read mark: the lamport (as text) of the last message they have seen. */
  readMarks: Record<string, string>;
}
export interface GroupMessage {
  group: string;
  id: string;
  from: string;
  sentAtMs: number;
  text: string;
  mentions: string[];
  /** Display order, as text (a bigint). */
  lamport: string;
}
export type DaemonEvent =
  | { type: 'message'; message: Message }
  | { type: 'presence'; user: string; state: Buddy['state']; text: string }
  | { type: 'typing'; user: string; active: boolean }
  | { type: 'read'; user: string; ids: string[] }
  | { type: 'call'; call: CallView }
  | { type: 'conference'; conference: ConferenceView }
  | { type: 'account'; user: string | null }
  | { type: 'buddies' }
  | { type: 'requests' }
  | { type: 'group-message'; message: GroupMessage }
  /** A group was joined, changed, or a member read up to a point: ask for the list again. */
  | { type: 'groups' };
export interface BuddyRequests {
  incoming: { id: number; from: string }[];
  outgoing: { id: number; to: string }[];
}
export interface FoundUser {
  user: string;
  displayName: string;
  online: boolean | null;
  buddy: boolean;
}
export interface Settings {
  discoverable: boolean;
  callsFrom: 'buddies' | 'anyone';
  allowSupernode: boolean;
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function takeToken(): string | null {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromHash) {
    sessionStorage.setItem('parley-token', fromHash);
    history.replaceState(null, '', location.pathname);
  }
  return sessionStorage.getItem('parley-token');
}

export class Api {
  constructor(private readonly token: string) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`/v1${path}`, { method, headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    } catch {
      throw new ApiError('offline', 'The Parley daemon is not answering. Is it still running?');
    }
    if (response.status === 204) return undefined as T;
    const json = (await response.json().catch(() => ({}))) as T & { error?: { code: string; message: string } };
    if (!response.ok) throw new ApiError(json.error?.code ?? 'error', json.error?.message ?? `${response.status}`);
    return json;
  }

  socketUrl(path: string): string {
    return `ws://${location.host}/v1${path}?token=${encodeURIComponent(this.token)}`;
  }
}
export interface OwnPresence {
  state: 'online' | 'away' | 'dnd' | 'invisible';
  text: string;
}
