// The host's duties in a conference: it rings invitees (every online device of a user; the first
// to join is in, the others stop ringing), takes their joins, sends every change of the roster to
// every member, and weighs the members' reports of a mixer whose mix arrives badly. The roster
// itself is the pure reducer's (roster.ts); this module holds what the host alone keeps: the
// devices each invitation rings, their timers, and who reported whom.
import { equalBytes } from '../../crypto/bytes.js';
import type { Env, Timer } from '../../env/types.js';
import type { FrameMs } from '../../media/opus.js';
import { RING_TIMEOUT_MS } from '../calls.js';
import type { ConferenceCounters } from './counters.js';
import { isHost, memberByKey, presentMembers, type Member, type RosterEvent, type RosterState } from './roster.js';
import type { ConferenceSignals } from './signals.js';

/** Devices one invitation rings (a user's online devices; the messenger says which). */
export const MAX_DEVICES_PER_INVITE = 8;

/** What the host duties need of their conference. */
export interface HostedConference {
  readonly id: Uint8Array;
  readonly frameMs: FrameMs;
  readonly me: Member;
  roster(): RosterState;
  /** Applies an event to the roster; false when the reducer refused it. */
  dispatch(event: RosterEvent): boolean;
}

interface Invitation {
  devices: Uint8Array[];
  /** Devices that said no. */
  refused: number;
  readonly timer: Timer;
}

export class HostDuties {
  private readonly invitations = new Map<string, Invitation>();
  /** Who found each member's mix degraded (member key → reporter keys). */
  private readonly degradedReports = new Map<string, Set<string>>();

  constructor(
    private readonly env: Env,
    private readonly signals: ConferenceSignals,
    private readonly counters: ConferenceCounters,
    private readonly conference: HostedConference,
  ) {}

  /** Invites every online device of `user` (or only `device`: the other side of a call that turns into this conference). */
  async invite(user: string, fromCall?: { readonly id: Uint8Array; readonly device: Uint8Array | null }): Promise<boolean> {
    const before = this.conference.roster();
    if (!this.conference.dispatch({ type: 'invite', user })) return false;
    const message = { kind: 'invite' as const, version: before.version, members: before.members, opus: true, frameMs: this.conference.frameMs, fromCall: fromCall?.id ?? null };
    const timer = this.env.clock.after(RING_TIMEOUT_MS, () => this.invitationOver(user, 'no answer'));
    this.invitations.set(user, { devices: [], refused: 0, timer });
    const devices = await this.signals.sendTo(user, fromCall?.device ? [fromCall.device] : 'all', this.conference.id, message);
    const invitation = this.invitations.get(user);
    if (invitation) invitation.devices = devices.slice(0, MAX_DEVICES_PER_INVITE);
    if (devices.length === 0) this.invitationOver(user, 'not online');
    return devices.length > 0;
  }

  /** An invitation over (declined, unanswered): the devices that still ring stop. */
  private invitationOver(user: string, reason: string): void {
    const invitation = this.invitations.get(user);
    if (!invitation) return;
    invitation.timer.cancel();
    this.invitations.delete(user);
    if (reason !== 'declined') for (const device of invitation.devices) void this.signals.sendTo(user, [device], this.conference.id, { kind: 'cancel', reason });
    this.conference.dispatch({ type: 'invite_over', user });
  }

  /** An invited device said no: the invitation is over once every device it rang did. */
  declined(from: { readonly user: string; readonly device: Uint8Array }): void {
    const invitation = this.invitations.get(from.user);
    if (!invitation || !invitation.devices.some((d) => equalBytes(d, from.device))) return this.counters.count('host.decline_uninvited');
    if (++invitation.refused >= invitation.devices.length) this.invitationOver(from.user, 'declined');
  }

  /** An invited device joins (the first of its user's devices); the others stop ringing. */
  joinAsked(from: { readonly user: string; readonly device: Uint8Array }, member: Member): void {
    const invitation = this.invitations.get(from.user);
    if (!invitation || member.user !== from.user || !equalBytes(member.device, from.device)) return this.counters.count('host.join_uninvited');
    if (!this.conference.dispatch({ type: 'join', member })) return;
    invitation.timer.cancel();
    this.invitations.delete(from.user);
    for (const device of invitation.devices) if (!equalBytes(device, from.device)) void this.signals.sendTo(from.user, [device], this.conference.id, { kind: 'cancel', reason: 'answered elsewhere' });
  }

  /** Every member but this device hears the roster as it is now. */
  publish(): void {
    const roster = this.conference.roster();
    for (const key of this.degradedReports.keys()) if (!memberByKey(roster, key)) this.degradedReports.delete(key);
    for (const m of roster.members) if (m.key !== roster.me) this.signals.send(this.conference.id, m, { kind: 'roster', version: roster.version, members: roster.members });
  }

  /**
   * `reporter` finds `target`'s mix bad. When half the others (at least one) say so, the target
   * is marked degraded in the roster and every member elects another mixer. One participant's
   * own bad link is not enough to move everyone.
   */
  degradedReported(reporter: Member, target: Member): void {
    const roster = this.conference.roster();
    if (!isHost(roster)) return this.counters.count('host.not_host');
    const reports = this.degradedReports.get(target.key) ?? new Set<string>();
    this.degradedReports.set(target.key, reports);
    reports.add(reporter.key);
    const others = presentMembers(roster).filter((m) => m.key !== target.key).length;
    if (target.facts.degraded || reports.size < Math.max(1, Math.ceil(others / 2))) return;
    this.conference.dispatch({ type: 'degraded', key: target.key });
  }

  /** The conference is over: no invitation rings on. */
  close(): void {
    for (const invitation of this.invitations.values()) invitation.timer.cancel();
    this.invitations.clear();
    this.degradedReports.clear();
  }
}
