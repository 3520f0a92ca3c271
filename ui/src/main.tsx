// The Parley app: buddies with presence, chat with history, typing and unread counts, group chats,
// calls with a live panel. Everything goes through the daemon's local API (HTTP, and WebSockets for events
// and audio). Plain buttons, labels and live regions, so it works from the keyboard and with a
// screen reader; one column below 600 px.
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api, ApiError, takeToken, type Buddy, type BuddyRequests, type CallView, type ConferenceView, type DaemonEvent, type Message } from './api.js';
import { AudioEngine, loadDevicePrefs, saveDevicePrefs, type AudioDevicePrefs } from './audio.js';
import { CallTimer, LevelMeters } from './call-panel.js';
import { GroupChat, GroupList, useGroups } from './groups.js';
import { FindPeople, MyStatus, RequestList } from './people.js';
import { SettingsPanel } from './settings.js';
import { SignIn } from './signin.js';

const STATE_LABEL: Record<Buddy['state'], string> = { online: 'online', away: 'away', busy: 'busy', offline: 'offline' };
const TYPING_PAUSE_MS = 3_000;
const byUser = (a: Buddy, b: Buddy) => a.user.localeCompare(b.user);

declare global {
  interface Window {
    /** Diagnostics: what the call played on this page (the browser tests compare it with what was said). */
    parleyDiagnostics?: { heardSamples(): number[]; timedFrames(): ReturnType<AudioEngine['timedFrames']> };
  }
}

function notify(title: string, body: string): void {
  if (!('Notification' in window) || !document.hidden) return;
  if (Notification.permission === 'granted') new Notification(title, { body });
}

/** Who is signed in decides the screen: sign up / log in, or the app for that user. */
function Root({ api }: { api: Api }) {
  const [user, setUser] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.request<{ user: string | null }>('GET', '/account').then((a) => setUser(a.user), (e: unknown) => setError(e instanceof ApiError ? e.message : String(e)));
  }, []);
  if (user === undefined) return error ? <p role="alert">{error}</p> : <p role="status">Connecting to the Parley daemon…</p>;
  if (user === null) return <SignIn api={api} onSignedIn={setUser} />;
  return <App key={user} api={api} me={user} onSignedOut={() => setUser(null)} />;
}

function App({ api, me, onSignedOut }: { api: Api; me: string; onSignedOut: () => void }) {
  const [buddies, setBuddies] = useState<Buddy[]>([]);
  const [requests, setRequests] = useState<BuddyRequests>({ incoming: [], outgoing: [] });
  const [showSettings, setShowSettings] = useState(false);
  const [devices, setDevicesState] = useState<AudioDevicePrefs>(loadDevicePrefs);
  const setDevices = (d: AudioDevicePrefs) => (saveDevicePrefs(d), setDevicesState(d));
  const [selected, setSelected] = useState<string | null>(null);
  const [messages, setMessages] = useState<Record<string, Message[]>>({});
  const [unread, setUnread] = useState<Record<string, number>>({});
  const [read, setRead] = useState<Set<string>>(new Set());
  const [typing, setTyping] = useState<Record<string, boolean>>({});
  const [calls, setCalls] = useState<Record<string, CallView>>({});
  const [conferences, setConferences] = useState<Record<string, ConferenceView>>({});
  const [error, setError] = useState<string | null>(null);
  const [connected, setConnected] = useState(false);
  const selectedRef = useRef<string | null>(null);
  selectedRef.current = selected;
  const audio = useRef<AudioEngine | null>(null);
  const [engine, setEngine] = useState<AudioEngine | null>(null);

  const fail = (e: unknown) => setError(e instanceof ApiError ? e.message : String(e));
  const groups = useGroups(api, fail, notify);
  const group = groups.groups.find((g) => g.id === groups.selected);
  // One conversation open at a time: a buddy's or a group's.
  useEffect(() => void (groups.selected && setSelected(null)), [groups.selected]);
  useEffect(() => void (selected && groups.select(null)), [selected]);

  // Presence from events is the newest there is: a list asked for before an event may answer after it.
  const presenceSeen = useRef(new Map<string, Pick<Buddy, 'state' | 'text'>>());
  const loadBuddies = () =>
    api.request<{ buddies: Buddy[] }>('GET', '/buddies').then((b) => setBuddies(b.buddies.map((x) => ({ ...x, ...presenceSeen.current.get(x.user) })).sort(byUser)), fail);
  /** A conversation's history (the newest `limit` messages) in place of what the page had. */
  const loadConversation = (user: string, limit = 100) =>
    api.request<{ messages: Message[] }>('GET', `/messages?with=${encodeURIComponent(user)}&limit=${limit}`).then((h) => setMessages((all) => ({ ...all, [user]: h.messages })));
  const appendMessage = (m: Message) => setMessages((all) => ({ ...all, [m.conversation]: [...(all[m.conversation] ?? []), m] }));
  const keepCall = (c: CallView) => setCalls((all) => ({ ...all, [c.id]: c }));
  const keepConference = (c: ConferenceView) => setConferences((all) => ({ ...all, [c.id]: c }));
  // Requests, with the words each asker sent (they came as a message).
  const loadRequests = () =>
    api.request<BuddyRequests>('GET', '/buddy-requests').then((r) => {
      setRequests(r);
      for (const { from } of r.incoming) {
        loadConversation(from, 5).catch(() => {});
      }
    }, fail);
  const signOut = () => api.request('POST', '/account/logout').then(onSignedOut, fail);

  useEffect(() => {
    let socket: WebSocket | null = null;
    let retry: number | undefined;
    const open = () => {
      socket = new WebSocket(api.socketUrl('/events'));
      socket.onopen = () => {
        setConnected(true);
        setError(null);
        // What changed before the socket listened is in the lists: ask for them once it does.
        loadBuddies();
        loadRequests();
        groups.reload();
      };
      socket.onclose = () => {
        setConnected(false);
        retry = window.setTimeout(open, 2_000);
      };
      socket.onmessage = (event: MessageEvent<string>) => received(JSON.parse(event.data) as DaemonEvent);
    };
    open();
    return () => {
      window.clearTimeout(retry);
      if (socket) {
        socket.onclose = null;
        socket.close();
      }
    };
  }, []);

  const received = (event: DaemonEvent) => {
    if (groups.received(event)) return;
    switch (event.type) {
      case 'message': {
        const m = event.message;
        appendMessage(m);
        setTyping((t) => ({ ...t, [m.conversation]: false }));
        if (selectedRef.current !== m.conversation || document.hidden) {
          setUnread((u) => ({ ...u, [m.conversation]: (u[m.conversation] ?? 0) + 1 }));
          notify(`Message from ${m.from}`, m.text);
        } else api.request('POST', '/messages/read', { with: m.conversation }).catch(() => {});
        return;
      }
      case 'presence':
        presenceSeen.current.set(event.user, { state: event.state, text: event.text });
        setBuddies((list) => {
          const rest = list.filter((b) => b.user !== event.user);
          return [...rest, { user: event.user, state: event.state, text: event.text }].sort(byUser);
        });
        return;
      case 'typing':
        setTyping((t) => ({ ...t, [event.user]: event.active }));
        return;
      case 'read':
        setRead((r) => new Set([...r, ...event.ids]));
        return;
      case 'call':
        keepCall(event.call);
        if (event.call.direction === 'incoming' && event.call.state === 'ringing') notify(`${event.call.peer} is calling`, 'Answer in Parley');
        return;
      case 'conference':
        keepConference(event.conference);
        if (event.conference.state === 'invited') notify(`${event.conference.host ?? 'Someone'} invites you to a conference`, 'Join in Parley');
        return;
      case 'account':
        if (event.user !== me) onSignedOut();
        return;
      case 'buddies':
        loadBuddies();
        return;
      case 'requests':
        loadRequests();
        notify('Parley', 'Your buddy requests changed');
        return;
    }
  };

  // A conversation opened: its history, and its unread count cleared.
  useEffect(() => {
    if (!selected) return;
    setUnread((u) => ({ ...u, [selected]: 0 }));
    api.request('POST', '/messages/read', { with: selected }).catch(() => {});
    loadConversation(selected).catch(fail);
  }, [selected]);

  // Audio runs while a call is under way (or rings here): the microphone is asked for then.
  const live = Object.values(calls).filter((c) => c.state !== 'ended');
  const liveConferences = Object.values(conferences).filter((c) => c.state !== 'ended');
  const conference = liveConferences.find((c) => c.state === 'active' || c.state === 'joining');
  const invitation = liveConferences.find((c) => c.state === 'invited');
  const needsAudio = live.some((c) => c.state === 'active' || c.state === 'connecting' || c.direction === 'outgoing') || !!conference;
  useEffect(() => {
    if (needsAudio && !audio.current) {
      AudioEngine.start(api.socketUrl('/audio'), devices).then((engine) => {
        audio.current = engine;
        setEngine(engine);
        window.parleyDiagnostics = { heardSamples: () => engine.heardSamples(), timedFrames: () => engine.timedFrames() };
      }, (e: unknown) => setError(`No microphone: ${String(e)}`));
    }
    if (!needsAudio && audio.current) {
      audio.current.stop();
      audio.current = null;
      setEngine(null);
      window.parleyDiagnostics = undefined;
    }
  }, [needsAudio]);

  // Live call statistics, once a second.
  useEffect(() => {
    if (!live.some((c) => c.state === 'active')) return;
    const timer = window.setInterval(() => {
      api.request<{ calls: CallView[] }>('GET', '/calls').then((r) => setCalls(Object.fromEntries(r.calls.map((c) => [c.id, c]))), () => {});
    }, 1_000);
    return () => window.clearInterval(timer);
  }, [live.some((c) => c.state === 'active')]);

  const act = (call: CallView, action: string) => api.request<CallView>('POST', `/calls/${call.id}/${action}`).then(keepCall, fail);
  const confAct = (c: ConferenceView, action: string, user?: string) =>
    api.request<ConferenceView>('POST', `/conferences/${c.id}/${action}`, user ? { user } : undefined).then(keepConference, fail);
  const startConference = (users: string[]) => api.request<ConferenceView>('POST', '/conferences', { users }).then(keepConference, fail);
  const startCall = (user: string) => api.request<CallView>('POST', '/calls', { to: user }).then(keepCall, fail);
  const ringing = live.find((c) => c.direction === 'incoming' && c.state === 'ringing');
  const current = live.find((c) => !(c.direction === 'incoming' && c.state === 'ringing'));
  const lastEnded = useMemo(() => Object.values(calls).filter((c) => c.state === 'ended').at(-1), [calls]);

  return (
    <div class="app">
      <header>
        <h1>Parley</h1>
        <span class="me">Signed in as {me}</span>
        <span class={connected ? 'status ok' : 'status down'} role="status">{connected ? 'Connected' : 'Offline: reconnecting…'}</span>
        <span class="header-buttons">
          <button aria-expanded={showSettings} onClick={() => setShowSettings(!showSettings)}>
            Settings
          </button>
          <button onClick={signOut}>Sign out</button>
        </span>
      </header>
      {showSettings && <SettingsPanel api={api} devices={devices} setDevices={setDevices} onError={fail} onClose={() => setShowSettings(false)} />}
      {error && (
        <p class="error" role="alert">
          {error} <button onClick={() => setError(null)}>Dismiss</button>
        </p>
      )}
      {ringing && (
        <section class="incoming" role="alertdialog" aria-labelledby="incoming-title">
          <h2 id="incoming-title">{ringing.peer} is calling</h2>
          <button class="answer" onClick={() => act(ringing, 'answer')} autoFocus>
            Answer
          </button>
          <button onClick={() => act(ringing, 'decline')}>Decline</button>
        </section>
      )}
      {invitation && (
        <section class="incoming" role="alertdialog" aria-labelledby="invitation-title">
          <h2 id="invitation-title">{invitation.host ?? 'Someone'} invites you to a conference</h2>
          <button class="answer" onClick={() => confAct(invitation, 'join')} autoFocus>
            Join
          </button>
          <button onClick={() => confAct(invitation, 'decline')}>Decline</button>
        </section>
      )}
      <nav aria-label="Buddies">
        <MyStatus api={api} onError={fail} />
        <h2>Buddies</h2>
        {buddies.length === 0 && <p>No buddies yet.</p>}
        <ul>
          {buddies.map((b) => (
            <li key={b.user}>
              <button class={b.user === selected ? 'buddy selected' : 'buddy'} aria-current={b.user === selected ? 'true' : undefined} onClick={() => setSelected(b.user)}>
                <span class={`dot ${b.state}`} aria-hidden="true" />
                <span class="name">{b.user}</span>
                <span class="presence">
                  {STATE_LABEL[b.state]}
                  {b.text ? `: ${b.text}` : ''}
                </span>
                {(unread[b.user] ?? 0) > 0 && <span class="unread" aria-label={`${unread[b.user]} unread`}>{unread[b.user]}</span>}
              </button>
            </li>
          ))}
        </ul>
        {!conference && !current && buddies.some((b) => b.state !== 'offline') && <StartConference buddies={buddies.filter((b) => b.state !== 'offline')} start={startConference} />}
        <GroupList state={groups} buddies={buddies} />
        <RequestList api={api} requests={requests} lastWords={(user) => messages[user]?.filter((m) => m.from === user).at(-1)?.text} onError={fail} onAnswered={() => (loadRequests(), loadBuddies())} />
        <FindPeople api={api} me={me} buddies={buddies.map((b) => b.user)} requests={requests} onError={fail} onAsked={loadRequests} />
      </nav>
      <main>
        {current && <CallPanel call={current} act={act} engine={engine} />}
        {conference && <ConferencePanel conference={conference} me={me} act={confAct} buddies={buddies} />}
        {!current && !conference && lastEnded && <p class="ended" role="status">Call with {lastEnded.peer} ended{lastEnded.end ? `: ${lastEnded.end.reason.replace('_', ' ')}` : ''}</p>}
        {group ? (
          <GroupChat api={api} me={me} group={group} messages={groups.messages[group.id] ?? []} buddies={buddies} busy={!!current || !!conference} onError={fail} onConference={keepConference} onSent={() => groups.loadMessages(group.id)} onChanged={groups.keep} />
        ) : selected ? <Chat api={api} user={selected} messages={messages[selected] ?? []} typing={typing[selected] ?? false} me={me} onCall={() => startCall(selected)} onEdit={(edit) => api.request('POST', `/buddies/${encodeURIComponent(selected)}/${edit}`).then(() => (setSelected(null), loadBuddies()), fail)} busy={!!current || !!conference} read={read} onError={fail} onSent={appendMessage} /> : <p>Pick a buddy or a group to chat or call.</p>}
      </main>
    </div>
  );
}

function StartConference({ buddies, start }: { buddies: Buddy[]; start: (users: string[]) => void }) {
  const [chosen, setChosen] = useState<string[]>([]);
  return (
    <form
      class="start-conference"
      onSubmit={(e) => {
        e.preventDefault();
        if (chosen.length > 0) start(chosen);
        setChosen([]);
      }}
    >
      <fieldset>
        <legend>Conference</legend>
        {buddies.map((b) => (
          <label key={b.user}>
            <input type="checkbox" checked={chosen.includes(b.user)} onChange={(e) => setChosen((c) => ((e.target as HTMLInputElement).checked ? [...c, b.user] : c.filter((u) => u !== b.user)))} /> {b.user}
          </label>
        ))}
        <button type="submit" disabled={chosen.length === 0}>
          Start a conference
        </button>
      </fieldset>
    </form>
  );
}

function ConferencePanel({ conference, me, act, buddies }: { conference: ConferenceView; me: string; act: (c: ConferenceView, action: string, user?: string) => void; buddies: Buddy[] }) {
  const hosting = conference.host === me;
  // The host may invite more: buddies online and not in it yet.
  const invitable = buddies.filter((b) => b.state !== 'offline' && !conference.roster.some((r) => r.user === b.user));
  const [invitee, setInvitee] = useState('');
  return (
    <section class="call" aria-label="Conference">
      <h2>{conference.state === 'joining' ? 'Joining the conference…' : 'In a conference'}</h2>
      <ul class="roster" aria-label="Who is in it">
        {conference.roster.map((r) => {
          const roles = [r.host ? 'host' : '', r.mixer ? 'mixes' : '', r.speaking ? 'speaking' : ''].filter(Boolean).join(', ');
          return (
            <li key={r.user}>
              <span class={r.speaking ? 'speaking' : ''}>{r.user}</span>
              {roles && <span class="roles"> ({roles})</span>}
              {hosting && r.user !== me && (
                <button class="kick" onClick={() => act(conference, 'kick', r.user)}>
                  Remove {r.user}
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {hosting && conference.state === 'active' && invitable.length > 0 && (
        <form
          class="invite"
          onSubmit={(e) => {
            e.preventDefault();
            const user = invitee || invitable[0]!.user;
            act(conference, 'invite', user);
            setInvitee('');
          }}
        >
          <label for="invitee">Invite a buddy</label>
          <select id="invitee" value={invitee || invitable[0]!.user} onChange={(e) => setInvitee((e.target as HTMLSelectElement).value)}>
            {invitable.map((b) => (
              <option key={b.user} value={b.user}>
                {b.user}
              </option>
            ))}
          </select>
          <button type="submit">Invite</button>
        </form>
      )}
      <div class="buttons">
        <button class="hangup" onClick={() => act(conference, 'leave')}>
          Leave
        </button>
      </div>
    </section>
  );
}

function CallPanel({ call, act, engine }: { call: CallView; act: (call: CallView, action: string) => void; engine: AudioEngine | null }) {
  const { held, muted } = call;
  const s = call.stats;
  const peerState = [call.heldByPeer ? 'has put the call on hold' : '', call.mutedByPeer ? 'is muted' : ''].filter(Boolean).join(' and ');
  return (
    <section class="call" aria-label={`Call with ${call.peer}`}>
      <div class="call-head">
        <h2>
          {call.state === 'active' ? 'In a call with' : call.state === 'ringing' || call.state === 'calling' ? 'Calling' : 'Connecting to'} {call.peer}
        </h2>
        {call.answeredAtMs !== null && call.state === 'active' && <CallTimer sinceMs={call.answeredAtMs} />}
      </div>
      <p class="peer-state" role="status">
        {peerState && `${call.peer} ${peerState}`}
      </p>
      {s && (
        // Each term with its value in one cell, so a narrow panel wraps pairs, never splits them.
        <dl class="stats">
          {(
            [
              ['Path', s.path ?? '—'],
              ['Bitrate', `${Math.round(s.bitrate / 1000)} kbit/s`],
              ['Loss', `${s.lossPercent.toFixed(1)} %`],
              ['Jitter', `${s.jitterMs.toFixed(1)} ms`],
              ['MOS', s.mos?.toFixed(2) ?? '—'],
            ] as const
          ).map(([term, value]) => (
            <div key={term}>
              <dt>{term}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      )}
      {engine && call.state === 'active' && <LevelMeters engine={engine} peer={call.peer} />}
      <div class="buttons">
        <button class="hangup" onClick={() => act(call, 'hangup')}>
          Hang up
        </button>
        <button aria-pressed={held} disabled={call.state !== 'active'} onClick={() => act(call, held ? 'resume' : 'hold')}>
          {held ? 'Resume' : 'Hold'}
        </button>
        <button aria-pressed={muted} disabled={call.state !== 'active'} onClick={() => act(call, muted ? 'unmute' : 'mute')}>
          {muted ? 'Unmute' : 'Mute'}
        </button>
      </div>
    </section>
  );
}

function Chat(props: { api: Api; user: string; messages: Message[]; typing: boolean; me: string; onCall: () => void; onEdit: (edit: 'remove' | 'block') => void; busy: boolean; read: Set<string>; onError: (e: unknown) => void; onSent: (m: Message) => void }) {
  const [draft, setDraft] = useState('');
  const typingSent = useRef<number>(0);
  const send = (event: Event) => {
    event.preventDefault();
    const text = draft.trim();
    if (!text) return;
    setDraft('');
    typingSent.current = 0;
    props.api
      .request<{ id: string }>('POST', '/messages', { to: props.user, text })
      .then((r) => props.onSent({ id: r.id, conversation: props.user, from: props.me, sentAtMs: Date.now(), text, offline: false }), props.onError);
  };
  const onInput = (value: string) => {
    setDraft(value);
    // Typing is said at the first key and again after a pause, not at every key.
    if (Date.now() - typingSent.current > TYPING_PAUSE_MS) {
      typingSent.current = Date.now();
      props.api.request('POST', '/typing', { to: props.user, active: true }).catch(() => {});
    }
  };
  return (
    <section class="chat" aria-label={`Chat with ${props.user}`}>
      <div class="chat-head">
        <h2>{props.user}</h2>
        <span class="buttons">
          <button class="call-button" onClick={props.onCall} disabled={props.busy}>
            Call {props.user}
          </button>
          <button onClick={() => props.onEdit('remove')}>Remove {props.user}</button>
          <button onClick={() => props.onEdit('block')}>Block {props.user}</button>
        </span>
      </div>
      <div role="log" aria-live="polite" aria-label={`Messages with ${props.user}`}>
        <ol class="messages">
          {props.messages.map((m) => (
            <li key={m.id} class={m.from === props.me ? 'mine' : 'theirs'}>
              <span class="from">{m.from}</span> <span class="text">{m.text}</span>
              {m.from === props.me && props.read.has(m.id) && <span class="read"> · read</span>}
            </li>
          ))}
        </ol>
      </div>
      <p class="typing" aria-live="polite">{props.typing ? `${props.user} is typing…` : ''}</p>
      <form onSubmit={send}>
        <label for="draft">Message to {props.user}</label>
        <input id="draft" value={draft} onInput={(e) => onInput((e.target as HTMLInputElement).value)} autoComplete="off" maxLength={4000} />
        <button type="submit">Send</button>
      </form>
    </section>
  );
}

const token = takeToken();
const root = document.getElementById('app')!;
if (!token) {
  render(<p role="alert">Open this page from the address the Parley daemon printed (it carries the key to this device).</p>, root);
} else {
  if ('Notification' in window && Notification.permission === 'default') void Notification.requestPermission().catch(() => {});
  render(<Root api={new Api(token)} />, root);
}
