import { LoginError } from './login-client.js';
/**
 * Removes, blocks or unblocks `name` on the user's list. The list is versioned: a change made
 * elsewhere meanwhile is a 409, and the edit is made again on the new list (three tries).
 */
export async function editContact(call, name, edit) {
    for (let attempt = 0;; attempt++) {
        const list = await call('GET', '/v1/contacts');
        const others = list.entries.filter((e) => e.username !== name);
        const entries = edit === 'block' ? [...others, { username: name, kind: 'blocked' }] : others;
        try {
            await call('PUT', '/v1/contacts', { expectedVersion: list.version, entries });
            return;
        }
        catch (error) {
            if (!(error instanceof LoginError && error.status === 409) || attempt >= 2)
                throw error;
        }
    }
}
/** How often a running client asks whether the list changed (a buddy accepted, someone blocked). */
export const CONTACTS_REFRESH_MS = 30_000;
export class ContactList {
    fetch;
    kinds = new Map();
    version = null;
    /** `fetch(since)` asks the login server (`GET /v1/contacts?since=`). */
    constructor(fetch) {
        this.fetch = fetch;
    }
    relationOf(user) {
        const kind = this.kinds.get(user);
        return kind === 'blocked' ? 'blocked' : kind === 'buddy' ? 'buddy' : 'stranger';
    }
    buddies() {
        return [...this.kinds].filter(([, kind]) => kind === 'buddy').map(([user]) => user);
    }
    /** Fetches the list if it changed; returns the users who became buddies. */
    async refresh() {
        const answer = await this.fetch(this.version);
        if (answer.unchanged || !answer.entries)
            return [];
        const before = new Set(this.buddies());
        this.kinds = new Map(answer.entries.map((e) => [e.username, e.kind]));
        this.version = answer.version;
        return this.buddies().filter((user) => !before.has(user));
    }
}
//# sourceMappingURL=contact-list.js.map