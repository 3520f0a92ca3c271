// The user's contact list as the login server keeps it (versioned), held in memory by a running
// client and followed while it runs: asked again now and then with the version it has, which
// costs one small answer while nothing changed. It decides who is a buddy (presence, messages)
// and who is blocked.
import type { Relation } from '../messenger/transport.js';
import { LoginError } from './login-client.js';

/** A request to the login server as this user (`Account.call`). */
export type LoginCall = <T>(method: string, path: string, body?: unknown) => Promise<T>;

export type ContactEdit = 'remove' | 'block' | 'unblock';

/**
 * Removes, blocks or unblocks `name` on the user's list. The list is versioned: a change made
 * elsewhere meanwhile is a 409, and the edit is made again on the new list (three tries).
 */
export async function editContact(call: LoginCall, name: string, edit: ContactEdit): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const list = await call<{ version: number; entries: { username: string; kind: string }[] }>('GET', '/v1/contacts');
    const others = list.entries.filter((e) => e.username !== name);
    const entries = edit === 'block' ? [...others, { username: name, kind: 'blocked' }] : others;
    try {
      await call('PUT', '/v1/contacts', { expectedVersion: list.version, entries });
      return;
    } catch (error) {
      if (!(error instanceof LoginError && error.status === 409) || attempt >= 2) throw error;
    }
  }
}

interface ContactsAnswer {
  version: number;
  unchanged?: boolean;
  entries?: { username: string; kind: string }[];
}

/** How often a running client asks whether the list changed (a buddy accepted, someone blocked). */
export const CONTACTS_REFRESH_MS = 30_000;

export class ContactList {
  private kinds = new Map<string, string>();
  private version: number | null = null;

  /** `fetch(since)` asks the login server (`GET /v1/contacts?since=`). */
  constructor(private readonly fetch: (since: number | null) => Promise<ContactsAnswer>) {}

  relationOf(user: string): Relation {
    const kind = this.kinds.get(user);
    return kind === 'blocked' ? 'blocked' : kind === 'buddy' ? 'buddy' : 'stranger';
  }

  buddies(): string[] {
    return [...this.kinds].filter(([, kind]) => kind === 'buddy').map(([user]) => user);
  }

  /** Fetches the list if it changed; returns the users who became buddies. */
  async refresh(): Promise<string[]> {
    const answer = await this.fetch(this.version);
    if (answer.unchanged || !answer.entries) return [];
    const before = new Set(this.buddies());
    this.kinds = new Map(answer.entries.map((e) => [e.username, e.kind]));
    this.version = answer.version;
    return this.buddies().filter((user) => !before.has(user));
  }
}
