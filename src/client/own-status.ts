// The presence a user sets for a device (`parley status`, the app): its names, what each tells
// buddies on the wire, and how it is kept in the profile (read back as "online, no text" when
// missing or damaged).
import { PresenceState } from '../wire/messages.js';

/** The states a user may set, and what each tells buddies. */
export const STATUS_STATES = { online: PresenceState.ONLINE, away: PresenceState.AWAY, dnd: PresenceState.DO_NOT_DISTURB, invisible: PresenceState.OFFLINE } as const;
export type StatusName = keyof typeof STATUS_STATES;

export interface OwnStatus {
  readonly state: StatusName;
  readonly text: string;
}

export const DEFAULT_STATUS: OwnStatus = Object.freeze({ state: 'online', text: '' });

export function isStatusName(name: string): name is StatusName {
  return Object.hasOwn(STATUS_STATES, name);
}

/** The saved status from its file's text: the default when the text is not a status. */
export function parseOwnStatus(text: string): OwnStatus {
  try {
    const saved = JSON.parse(text) as { state?: unknown; text?: unknown };
    const state = typeof saved.state === 'string' && isStatusName(saved.state) ? saved.state : 'online';
    return { state, text: typeof saved.text === 'string' ? saved.text : '' };
  } catch {
    return DEFAULT_STATUS; // damaged: the default, as documented
  }
}

export function formatOwnStatus(status: OwnStatus): string {
  return `${JSON.stringify({ state: status.state, text: status.text })}\n`;
}
