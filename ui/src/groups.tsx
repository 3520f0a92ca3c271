// Group chats in the app: the groups in the sidebar with unread counts, a form to make one, and a
// group's conversation (who wrote, mentions of this user, how many members have read each of this
// user's messages, the admin's invite/remove/rename, leaving, and a group call). The daemon does
// the work (docs/groups.md); events say a message came or the groups changed.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api, Buddy, ConferenceView, DaemonEvent, GroupInfo, GroupMessage } from './api.js';

/** The page's view of the groups, fed by the daemon's events. */
export interface GroupsState {
  groups: GroupInfo[];
  messages: Record<string, GroupMessage[]>;
  unread: Record<string, number>;
  selected: string | null;
  select: (id: string | null) => void;
  /** The list again from the daemon (after the events socket (re)opened). */
  reload: () => void;
  /** Handles a group event; false for any other event. */
  received: (event: DaemonEvent) => boolean;
  /** A group's history again (this device's own messages come back this way, not as events). */
  loadMessages: (id: string) => void;
  create: (name: string, members: string[]) => void;
  /** Keeps a group as the daemon just answered it. */
  keep: (group: GroupInfo) => void;
}

export function useGroups(api: Api, fail: (e: unknown) => void, notify: (title: string, body: string) => void): GroupsState {
  const [groups, setGroups] = useState<GroupInfo[]>([]);
  const [messages, setMessages] = useState<Record<string, GroupMessage[]>>({});
  const [unread, setUnread] = useState<Record<string, number>>({});
  const [selected, setSelected] = useState<string | null>(null);
  const selectedRef = useRef<string | null>(null);
  selectedRef.current = selected;

  const reload = () => api.request<{ groups: GroupInfo[] }>('GET', '/groups').then((r) => setGroups(r.groups), fail);
  const markRead = (id: string) => api.request('POST', `/groups/${id}/read`).catch(() => {});
  const loadMessages = (id: string) => api.request<{ messages: GroupMessage[] }>('GET', `/groups/${id}/messages?limit=200`).then((r) => setMessages((all) => ({ ...all, [id]: r.messages })), fail);

  useEffect(() => {
    if (!selected) return;
    setUnread((u) => ({ ...u, [selected]: 0 }));
    loadMessages(selected);
    markRead(selected);
  }, [selected]);

  const received = (event: DaemonEvent): boolean => {
    if (event.type === 'groups') {
      reload();
      return true;
    }
    if (event.type !== 'group-message') return false;
    const m = event.message;
    // Kept in display order: a message can arrive after one that sorts later.
    setMessages((all) => ({ ...all, [m.group]: [...(all[m.group] ?? []).filter((x) => x.id !== m.id), m].sort(byDisplayOrder) }));
    if (selectedRef.current === m.group && !document.hidden) markRead(m.group);
    else {
      setUnread((u) => ({ ...u, [m.group]: (u[m.group] ?? 0) + 1 }));
      notify(`${m.from} in a group`, m.text);
    }
    return true;
  };

  const keep = (g: GroupInfo) => setGroups((list) => (list.some((x) => x.id === g.id) ? list.map((x) => (x.id === g.id ? g : x)) : [...list, g]));
  const create = (name: string, members: string[]) =>
    api.request<GroupInfo>('POST', '/groups', { name, members }).then((g) => {
      keep(g);
      setSelected(g.id);
    }, fail);

  return { groups, messages, unread, selected, select: setSelected, reload, received, loadMessages, create, keep };
}

function byDisplayOrder(a: GroupMessage, b: GroupMessage): number {
  const [x, y] = [BigInt(a.lamport), BigInt(b.lamport)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The groups in the sidebar, and the form that makes one with some of the buddies. */
export function GroupList({ state, buddies }: { state: GroupsState; buddies: readonly Buddy[] }) {
  return (
    <section class="groups" aria-label="Groups">
      <h2>Groups</h2>
      {state.groups.length === 0 && <p>No groups yet.</p>}
      <ul>
        {state.groups.map((g) => (
          <li key={g.id}>
            <button class={g.id === state.selected ? 'buddy selected' : 'buddy'} aria-current={g.id === state.selected ? 'true' : undefined} onClick={() => state.select(g.id)}>
              <span class="name">{g.name}</span>
              <span class="presence">{g.active ? `${g.members.length} members` : 'left'}</span>
              {(state.unread[g.id] ?? 0) > 0 && <span class="unread" aria-label={`${state.unread[g.id]} unread in ${g.name}`}>{state.unread[g.id]}</span>}
            </button>
          </li>
        ))}
      </ul>
      <NewGroup buddies={buddies} create={state.create} />
    </section>
  );
}

function NewGroup({ buddies, create }: { buddies: readonly Buddy[]; create: (name: string, members: string[]) => void }) {
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  return (
    <form
      class="new-group"
      onSubmit={(e) => {
        e.preventDefault();
        if (!name.trim()) return;
        create(name.trim(), chosen);
        setName('');
        setChosen([]);
      }}
    >
      <fieldset>
        <legend>New group</legend>
        <label for="group-name">Group name</label>
        <input id="group-name" value={name} maxLength={128} autoComplete="off" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        {buddies.map((b) => (
          <label key={b.user}>
            <input type="checkbox" checked={chosen.includes(b.user)} onChange={(e) => setChosen((c) => ((e.target as HTMLInputElement).checked ? [...c, b.user] : c.filter((u) => u !== b.user)))} /> Add {b.user}
          </label>
        ))}
        <button type="submit" disabled={!name.trim()}>
          Make the group
        </button>
      </fieldset>
    </form>
  );
}

/** The users a draft names as `@user`, among the group's members (the daemon wants them apart from the text). */
export function mentionsIn(text: string, members: readonly string[]): string[] {
  const named = new Set([...text.matchAll(/@([a-z0-9_.-]+)/gi)].map((m) => m[1]!.toLowerCase()));
  return members.filter((m) => named.has(m));
}

/** How many other members have read up to a message (their read marks at or past its place). */
function readBy(group: GroupInfo, m: GroupMessage, me: string): number {
  const at = BigInt(m.lamport);
  return Object.entries(group.readMarks).filter(([user, mark]) => user !== me && user !== m.from && BigInt(mark) >= at).length;
}

export function GroupChat(props: {
  api: Api;
  me: string;
  group: GroupInfo;
  messages: readonly GroupMessage[];
  buddies: readonly Buddy[];
  busy: boolean;
  onError: (e: unknown) => void;
  onConference: (c: ConferenceView) => void;
  onSent: () => void;
  /** The group after the user's own change (the daemon says so to the others by an event). */
  onChanged: (group: GroupInfo) => void;
}) {
  const { api, me, group } = props;
  const [draft, setDraft] = useState('');
  const [invitee, setInvitee] = useState('');
  const [newName, setNewName] = useState('');
  const act = (action: string, body?: unknown) => api.request<GroupInfo>('POST', `/groups/${group.id}/${action}`, body).then(props.onChanged, props.onError);
  const send = (event: Event) => {
    event.preventDefault();
    const text = draft.trim();
    if (!text) return;
    setDraft('');
    // The history again, so the message shows in its place in the display order.
    api.request('POST', `/groups/${group.id}/messages`, { text, mentions: mentionsIn(text, group.members) }).then(props.onSent, props.onError);
  };
  const invitable = props.buddies.filter((b) => !group.members.includes(b.user));
  const chosenInvitee = invitable.some((b) => b.user === invitee) ? invitee : (invitable[0]?.user ?? '');
  return (
    <section class="chat" aria-label={`Group ${group.name}`}>
      <div class="chat-head">
        <h2>{group.name}</h2>
        {group.active && (
          <span class="buttons">
            <button class="call-button" disabled={props.busy} onClick={() => api.request<ConferenceView>('POST', `/groups/${group.id}/call`).then(props.onConference, props.onError)}>
              Call the group
            </button>
            <button onClick={() => act('leave')}>Leave {group.name}</button>
          </span>
        )}
      </div>
      <ul class="roster" aria-label={`Members of ${group.name}`}>
        {group.members.map((user) => (
          <li key={user}>
            <span>{user}</span>
            {user === group.admin && <span class="roles"> (admin)</span>}
            {group.isAdmin && group.active && user !== me && (
              <button class="kick" onClick={() => act('remove', { user })}>
                Remove {user} from the group
              </button>
            )}
          </li>
        ))}
      </ul>
      {!group.active && <p role="status">You are no longer in this group.</p>}
      {group.isAdmin && group.active && (
        <div class="group-admin">
          {invitable.length > 0 && (
            <form
              onSubmit={(e) => {
                e.preventDefault();
                if (chosenInvitee) act('invite', { user: chosenInvitee });
              }}
            >
              <label for="group-invitee">Add a buddy to the group</label>
              <select id="group-invitee" value={chosenInvitee} onChange={(e) => setInvitee((e.target as HTMLSelectElement).value)}>
                {invitable.map((b) => (
                  <option key={b.user} value={b.user}>
                    {b.user}
                  </option>
                ))}
              </select>
              <button type="submit">Add</button>
            </form>
          )}
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (newName.trim()) act('rename', { name: newName.trim() });
              setNewName('');
            }}
          >
            <label for="group-rename">New name</label>
            <input id="group-rename" value={newName} maxLength={128} autoComplete="off" onInput={(e) => setNewName((e.target as HTMLInputElement).value)} />
            <button type="submit" disabled={!newName.trim()}>
              Rename
            </button>
          </form>
        </div>
      )}
      <div role="log" aria-live="polite" aria-label={`Messages in ${group.name}`}>
        <ol class="messages">
          {props.messages.map((m) => {
            const readers = m.from === me ? readBy(group, m, me) : 0;
            const mentionsMe = m.mentions.includes(me);
            return (
              <li key={m.id} class={`${m.from === me ? 'mine' : 'theirs'}${mentionsMe ? ' mention' : ''}`}>
                <span class="from">{m.from}</span> <span class="text">{m.text}</span>
                {mentionsMe && <span class="read"> · mentions you</span>}
                {readers > 0 && <span class="read"> · read by {readers}</span>}
              </li>
            );
          })}
        </ol>
      </div>
      {group.active && (
        <form onSubmit={send}>
          <label for="group-draft">Message to {group.name}</label>
          <input id="group-draft" value={draft} onInput={(e) => setDraft((e.target as HTMLInputElement).value)} autoComplete="off" maxLength={4000} />
          <button type="submit">Send</button>
        </form>
      )}
    </section>
  );
}
