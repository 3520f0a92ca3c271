// A group call: a conference (conference.ts) hosted by this device, with the group's current
// members invited, each user's first device to join being in. Thin on purpose: the group only
// says whom to invite; the conference code does the rest. Members' devices let a fellow
// member's conference invitation in as they would a buddy's (device.ts).
import { GroupError, type GroupClient } from '../groups/group-client.js';
import { MAX_MEMBERS } from './conference.js';

/** The users a group call from `groupId` invites: every current member but this user. Throws a GroupError. */
export function groupCallInvitees(groups: GroupClient, self: string, groupId: string): string[] {
  const group = groups.group(groupId);
  if (!group.active) throw new GroupError('not_member', 'this user is not a member of the group');
  const others = group.members.filter((user) => user !== self);
  if (others.length === 0) throw new GroupError('not_member', 'nobody else is in the group to call');
  if (others.length + 1 > MAX_MEMBERS) throw new GroupError('too_many_members', `a group call holds at most ${MAX_MEMBERS} members (a conference's limit); this group has ${others.length + 1}`);
  return others;
}
