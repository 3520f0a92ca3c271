// `parley group …`: group chats from the command line. Each subcommand brings the device online
// (as `parley chat` does), does its one thing, waits for the member devices to acknowledge (what
// is not acknowledged is sealed and left with the login server), and goes offline; `list` and
// `history` read the profile's groups file only. `parley online` prints group messages as they come.
import { realEnv } from '../env/real.js';
import type { Account } from '../client/account.js';
import type { NetworkDescriptor } from '../crypto/descriptor.js';
import { GroupSession } from '../groups/group-session.js';
import { GroupError } from '../groups/group-client.js';
import { GroupHistory } from '../groups/group-history.js';
import { currentMembers } from '../groups/membership.js';
import { groupHistoryPath } from '../client/profile-files.js';
import { CommandError } from './command-error.js';
import { formatGroupMessage, openDevice } from './overlay-commands.js';
import { terminalText as safe } from './terminal-text.js';
import type { CallOptions } from './call-commands.js';

const ACK_WAIT_MS = 10_000;
/** How long `group read` listens for what is on its way before it prints. */
const READ_LISTEN_MS = 3_000;

export const GROUP_SUBCOMMANDS = ['create', 'list', 'invite', 'remove', 'rename', 'leave', 'send', 'read', 'history', 'call'] as const;

/** Groups as the profile keeps them (no network): id, name, members. */
function storedGroups(account: Account): { id: string; name: string; members: string[]; active: boolean; admin: string }[] {
  const store = GroupHistory.open(groupHistoryPath(account));
  try {
    const out = [];
    for (const { json } of store.loadSessions()) {
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(json);
      } catch {
        // an unreadable entry is skipped
      }
      const session = parsed ? GroupSession.fromJSON(parsed as never, { user: account.username, device: new Uint8Array(32) }) : null;
      if (session) out.push({ id: session.id, name: session.state.name, members: currentMembers(session.state), active: session.active, admin: session.state.admin });
    }
    return out;
  } finally {
    store.close();
  }
}

/** A group named by its id, a prefix of it (at least 6 hex digits), or its name when only one group has it. */
export function resolveGroup(groups: readonly { id: string; name: string }[], ref: string | undefined): string {
  if (!ref) throw new CommandError('name the group: its name, or its id (or the first 6+ digits of it) from parley group list');
  const byId = /^[0-9a-f]{6,32}$/.test(ref) ? groups.filter((g) => g.id.startsWith(ref)) : [];
  const matches = byId.length > 0 ? byId : groups.filter((g) => g.name === ref);
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length === 0) throw new CommandError(`no group "${ref}" on this device (parley group list)`);
  throw new CommandError(`${matches.length} groups are called "${ref}": name one by its id (parley group list)`);
}

/** Runs `parley group <subcommand> …` for this account. */
export async function group(account: Account, descriptor: NetworkDescriptor, args: readonly string[], options: { limit: number }, callOptions: CallOptions = {}): Promise<void> {
  const [sub, ...rest] = args;
  const me = account.username;
  if (sub === 'call') {
    // A conference with the group's other members (src/client/group-call.ts); the call's own device, not this file's.
    return (await import('./call-commands.js')).groupCall(account, descriptor, (groups) => resolveGroup(groups, rest[0]), callOptions);
  }
  if (sub === 'list') {
    const groups = storedGroups(account);
    if (groups.length === 0) console.log('no groups on this device yet (parley group create <name> [members…])');
    for (const g of groups) console.log(`${g.id.slice(0, 8)}  ${safe(g.name)}  ${g.members.length} member${g.members.length === 1 ? '' : 's'}${g.admin === me ? ', you are its admin' : ''}${g.active ? '' : '  (you are no longer a member)'}`);
    return;
  }
  if (sub === 'history') {
    const id = resolveGroup(storedGroups(account), rest[0]);
    const store = GroupHistory.open(groupHistoryPath(account));
    try {
      const name = storedGroups(account).find((g) => g.id === id)!.name;
      const messages = store.messages(id, options.limit);
      if (messages.length === 0) console.log('no messages in this group on this device yet');
      for (const m of messages) console.log(formatGroupMessage(m, me, name));
    } finally {
      store.close();
    }
    return;
  }
  if (!sub || !(GROUP_SUBCOMMANDS as readonly string[]).includes(sub)) throw new CommandError(`parley group ${GROUP_SUBCOMMANDS.join('|')} …  (parley group --help)`);
  const device = await openDevice(account, descriptor, { policy: { callsFrom: 'nobody' }, markReadOnShow: false });
  const groups = device.groups;
  try {
    const known = () => groups.list().map((g) => ({ id: g.groupId, name: g.name }));
    switch (sub) {
      case 'create': {
        const [name, ...members] = rest;
        if (!name) throw new CommandError('parley group create <name> [member…]');
        const id = await groups.create(name, members.map((m) => m.toLowerCase()));
        console.log(`made the group ${safe(name)} (id ${id.slice(0, 8)}) with ${members.length + 1} member${members.length === 0 ? '' : 's'}; you are its admin on this device`);
        break;
      }
      case 'invite':
      case 'remove': {
        const [ref, ...users] = rest;
        const id = resolveGroup(known(), ref);
        if (users.length === 0) throw new CommandError(`parley group ${sub} <group> <user…>`);
        for (const user of users) await (sub === 'invite' ? groups.invite(id, user.toLowerCase()) : groups.remove(id, user.toLowerCase()));
        console.log(`${sub === 'invite' ? 'added' : 'removed'} ${users.map(safe).join(', ')}`);
        break;
      }
      case 'rename': {
        const [ref, ...words] = rest;
        await groups.rename(resolveGroup(known(), ref), words.join(' '));
        console.log(`renamed to ${safe(words.join(' '))}`);
        break;
      }
      case 'leave':
        await groups.leave(resolveGroup(known(), rest[0]));
        console.log('you left the group (its history stays on this device)');
        break;
      case 'send': {
        const [ref, ...words] = rest;
        const id = resolveGroup(known(), ref);
        const text = words.join(' ');
        if (!text) throw new CommandError('parley group send <group> <message>');
        // @name mentions a member.
        const mentions = [...text.matchAll(/@([\p{L}\p{N}._-]+)/gu)].map((m) => m[1]!.toLowerCase());
        const sent = await groups.send(id, text, mentions);
        console.log(`sent to ${sent.devices} device${sent.devices === 1 ? '' : 's'} of the group's members`);
        break;
      }
      case 'read': {
        const id = resolveGroup(known(), rest[0]);
        await new Promise<void>((resolve) => realEnv.clock.after(READ_LISTEN_MS, resolve));
        const view = groups.group(id);
        for (const m of groups.history(id, options.limit)) console.log(formatGroupMessage(m, me, view.name));
        const marks = Object.entries(view.readMarks).filter(([u]) => u !== me);
        if (marks.length > 0) console.log(`read marks: ${marks.map(([u, l]) => `${safe(u)} up to ${l}`).join(', ')}`);
        await groups.markRead(id);
        break;
      }
    }
    await device.messenger.acknowledged(ACK_WAIT_MS);
  } catch (error) {
    if (error instanceof GroupError) throw new CommandError(error.message);
    throw error;
  } finally {
    await device.close();
  }
}
