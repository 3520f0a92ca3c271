// Finding people and becoming buddies: search by prefix (those who let themselves be found) or
// by exact name (also found online in the overlay), ask with a few words that go end to end, and
// answer the requests that came.
import { useEffect, useState } from 'preact/hooks';
import type { Api, BuddyRequests, FoundUser, OwnPresence } from './api.js';

const OWN_STATES: { value: OwnPresence['state']; label: string }[] = [
  { value: 'online', label: 'Online' },
  { value: 'away', label: 'Away' },
  { value: 'dnd', label: 'Busy (do not disturb)' },
  { value: 'invisible', label: 'Invisible (look offline)' },
];

/** What this user shows buddies: a state and a few words, set when the form is sent. */
export function MyStatus({ api, onError }: { api: Api; onError: (e: unknown) => void }) {
  const [presence, setPresence] = useState<OwnPresence>({ state: 'online', text: '' });
  const [saved, setSaved] = useState(true);
  useEffect(() => {
    api.request<OwnPresence>('GET', '/presence').then(setPresence, onError);
  }, []);
  const change = (next: OwnPresence) => (setPresence(next), setSaved(false));
  const submit = (event: Event) => {
    event.preventDefault();
    api.request<OwnPresence>('PUT', '/presence', presence).then((p) => (setPresence(p), setSaved(true)), onError);
  };
  return (
    <form class="my-status" onSubmit={submit}>
      <label for="my-state">My status</label>
      <select id="my-state" value={presence.state} onChange={(e) => change({ ...presence, state: (e.target as HTMLSelectElement).value as OwnPresence['state'] })}>
        {OWN_STATES.map((s) => (
          <option key={s.value} value={s.value}>
            {s.label}
          </option>
        ))}
      </select>
      <label for="my-text">Status message</label>
      <input id="my-text" value={presence.text} maxLength={200} onInput={(e) => change({ ...presence, text: (e.target as HTMLInputElement).value })} autoComplete="off" />
      <button type="submit" disabled={saved}>
        {saved ? 'Status set' : 'Set status'}
      </button>
    </form>
  );
}

export function FindPeople({ api, me, buddies, requests, onError, onAsked }: { api: Api; me: string; buddies: readonly string[]; requests: BuddyRequests; onError: (e: unknown) => void; onAsked: () => void }) {
  const [query, setQuery] = useState('');
  const [found, setFound] = useState<FoundUser[] | null>(null);
  const asked = new Set(requests.outgoing.map((r) => r.to));
  const search = (event: Event) => {
    event.preventDefault();
    const q = query.trim();
    if (!q) return;
    api.request<{ users: FoundUser[] }>('GET', `/search?q=${encodeURIComponent(q)}`).then((r) => setFound(r.users), onError);
  };
  const ask = (user: string) => api.request('POST', '/buddy-requests', { to: user, message: `Hi ${user}, it is ${me}: shall we be buddies on Parley?` }).then(onAsked, onError);
  return (
    <section class="people" aria-label="Find people">
      <form onSubmit={search} role="search">
        <label for="search">Find people (a name, or its start)</label>
        <input id="search" value={query} onInput={(e) => setQuery((e.target as HTMLInputElement).value)} maxLength={33} autoComplete="off" />
        <button type="submit">Search</button>
      </form>
      {found && (
        <ul class="found" aria-label="Search results" aria-live="polite">
          {found.length === 0 && <li>Nobody found by that name.</li>}
          {found.map((u) => (
            <li key={u.user}>
              <span class="name">{u.user}</span>
              {u.displayName !== u.user && <span class="presence"> ({u.displayName})</span>}
              {u.online !== null && <span class="presence"> · {u.online ? 'online' : 'offline'}</span>}{' '}
              {u.buddy || buddies.includes(u.user) ? (
                <span class="presence">buddy</span>
              ) : asked.has(u.user) ? (
                <span class="presence">asked</span>
              ) : (
                <button onClick={() => ask(u.user)}>Ask {u.user} to be a buddy</button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function RequestList({ api, requests, lastWords, onError, onAnswered }: { api: Api; requests: BuddyRequests; lastWords: (user: string) => string | undefined; onError: (e: unknown) => void; onAnswered: () => void }) {
  if (requests.incoming.length === 0 && requests.outgoing.length === 0) return null;
  const answer = (id: number, action: 'accept' | 'decline') => api.request('POST', `/buddy-requests/${id}/${action}`).then(onAnswered, onError);
  return (
    <section class="requests" aria-label="Buddy requests">
      <h2>Buddy requests</h2>
      <ul>
        {requests.incoming.map((r) => (
          <li key={r.id}>
            <p>
              <span class="name">{r.from}</span> wants to be your buddy
            </p>
            {lastWords(r.from) && <q class="words">{lastWords(r.from)}</q>}
            <div class="buttons">
              <button class="answer" onClick={() => answer(r.id, 'accept')}>
                Accept {r.from}
              </button>
              <button onClick={() => answer(r.id, 'decline')}>Decline {r.from}</button>
            </div>
          </li>
        ))}
        {requests.outgoing.map((r) => (
          <li key={r.id} class="presence">
            Waiting for {r.to} to answer
          </li>
        ))}
      </ul>
    </section>
  );
}
