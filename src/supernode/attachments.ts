// The clients a supernode serves: one session per attached device, with its verified presence
// record and when it was last heard from. Bounded globally and per user; a session silent for
// `deadAfterMs` is dropped (its client is gone or cut off). Time comes from the injected clock.
import { err, ok, type CodedError, type Result } from '../result.js';
import { equalBytes, toHex } from '../crypto/bytes.js';
import { Role, type CertificateVerifier, type VerifiedCertificate } from '../crypto/certificate.js';
import type { SecureLink } from '../crypto/secure-link.js';
import { verifyPresenceRecord, type PresenceErrorCode, type VerifiedPresence } from '../overlay/presence.js';
import { AttachRefusal } from '../wire/messages.js';
import { TokenBucket } from '../util/token-bucket.js';

/**
 * Keep-alive: a client must be heard from at least every 25 s (Skype refreshed every 120 s):
 * inside the shortest idle timeouts of NATs and firewalls seen in practice; a client silent for
 * three intervals is dropped. Clients ping sooner on their own, after 7 s without a word from
 * their supernode (client/liveness.ts: how a dead supernode is noticed in ~5 s), and not at all
 * while it sends them anything. Cost: one ~60-byte frame each way per idle client per 7 s,
 * ~1 400 frames/s at 10 000 idle clients.
 */
export const DEFAULT_KEEPALIVE_INTERVAL_MS = 25_000;
export const DEFAULT_MAX_CLIENTS = 10_000;
export const DEFAULT_MAX_DEVICES_PER_USER = 8;

export interface Session {
  readonly link: SecureLink;
  readonly device: VerifiedCertificate;
  presence: VerifiedPresence;
  lastHeardMs: number;
  /** Lookups this client may start: a burst of 20, then 5 per second. */
  /** Made at the first lookup or route (a full bucket either way): most clients never spend them, and a supernode holds thousands. */
  lookups: TokenBucket | null;
  routes: TokenBucket | null;
}

export const LOOKUP_BURST = 20;
export const LOOKUPS_PER_SECOND = 5;
/**
 * Routed messages per client: chat and call signalling go this way, so far more than lookups
 * (a route to a user found in the last minute costs no lookup: the supernode caches it).
 */
export const ROUTE_BURST = 400;
export const ROUTES_PER_SECOND = 200;

export interface AttachError extends CodedError<'full' | 'bad_presence' | 'wrong_supernode' | 'not_a_device' | 'too_many_devices'> {
  readonly refusal: AttachRefusal;
  readonly presenceError?: PresenceErrorCode;
}

/**
 * Secure links one device (one certificate: one Noise key) may hold open to a supernode at once,
 * attached or not. A device needs one; a reconnect or a race with the web port briefly makes two
 * or three. Without a bound, one certificate could hold thousands of links that never attach.
 */
export const DEFAULT_MAX_LINKS_PER_DEVICE = 4;
/**
 * A device link must attach within this long of its handshake, or it is closed: a client sends
 * its attach request at once (it waits DEFAULT_ATTACH_TIMEOUT_MS = 5 s for the answer).
 */
export const DEFAULT_ATTACH_DEADLINE_MS = 10_000;

export interface AttachmentLimits {
  readonly maxClients: number;
  readonly maxDevicesPerUser: number;
  readonly keepaliveIntervalMs: number;
  readonly maxLinksPerDevice: number;
  readonly attachDeadlineMs: number;
}

export const DEFAULT_ATTACHMENT_LIMITS: AttachmentLimits = {
  maxClients: DEFAULT_MAX_CLIENTS,
  maxDevicesPerUser: DEFAULT_MAX_DEVICES_PER_USER,
  keepaliveIntervalMs: DEFAULT_KEEPALIVE_INTERVAL_MS,
  maxLinksPerDevice: DEFAULT_MAX_LINKS_PER_DEVICE,
  attachDeadlineMs: DEFAULT_ATTACH_DEADLINE_MS,
};

export class Attachments {
  private readonly byDevice = new Map<string, Session>();
  private readonly byUser = new Map<string, Set<Session>>();
  /** Attach requests refused, by reason (for metrics). */
  readonly refused = new Map<AttachError['code'], number>();
  /**
   * Of those refused for their presence record, by what was wrong with it: 'not_yet_valid' and
   * 'expired' there mostly mean a device whose clock is off beyond the tolerance.
   */
  readonly refusedPresence = new Map<PresenceErrorCode, number>();
  /** Sessions dropped because their client went silent. */
  droppedSilent = 0;

  constructor(
    private readonly verifier: CertificateVerifier,
    readonly limits: AttachmentLimits = DEFAULT_ATTACHMENT_LIMITS,
    /**
     * This supernode's Noise key: a record must name it as the device's supernode, since other
     * supernodes route to the device by that key and believe its sender name from this one
     * only because the record names it (router.ts). Unset only in tests of this class alone.
     */
    private readonly supernodeKey?: Uint8Array,
  ) {}

  get size(): number {
    return this.byDevice.size;
  }

  /** A silent session is dropped after three keep-alive intervals. */
  get deadAfterMs(): number {
    return 3 * this.limits.keepaliveIntervalMs;
  }

  /** Attaches the device at the other end of `link`, whose presence record must be its own; refusals are counted. */
  attach(link: SecureLink, presenceBytes: Uint8Array, nowMs: number, wallTimeMs: number): Result<Session, AttachError> {
    const attached = this.tryAttach(link, presenceBytes, nowMs, wallTimeMs);
    if (!attached.ok) {
      const { code, presenceError } = attached.error;
      this.refused.set(code, (this.refused.get(code) ?? 0) + 1);
      if (presenceError !== undefined) this.refusedPresence.set(presenceError, (this.refusedPresence.get(presenceError) ?? 0) + 1);
    }
    return attached;
  }

  private tryAttach(link: SecureLink, presenceBytes: Uint8Array, nowMs: number, wallTimeMs: number): Result<Session, AttachError> {
    const device = link.peer;
    if (device.role !== Role.DEVICE) return err({ code: 'not_a_device', refusal: AttachRefusal.NOT_A_DEVICE, message: 'only devices attach' });
    const presence = verifyPresenceRecord(presenceBytes, this.verifier, wallTimeMs, device.username);
    if (!presence.ok) return err({ code: 'bad_presence', refusal: AttachRefusal.BAD_PRESENCE, presenceError: presence.error.code, message: presence.error.message });
    // The record must be this link's device: same Noise key as the one the handshake proved.
    if (toHex(presence.value.device.dhKey) !== toHex(device.dhKey)) {
      return err({ code: 'bad_presence', refusal: AttachRefusal.BAD_PRESENCE, presenceError: 'wrong_user', message: 'the record is for another device' });
    }
    if (this.supernodeKey && !equalBytes(presence.value.supernodes[0]?.dhKey ?? new Uint8Array(0), this.supernodeKey)) {
      return err({ code: 'wrong_supernode', refusal: AttachRefusal.BAD_PRESENCE, message: 'the record must name this supernode (its key) first' });
    }
    const key = toHex(device.dhKey);
    const existing = this.byDevice.get(key);
    if (existing) {
      // The device reconnected: the new link replaces the old one.
      if (existing.link !== link) existing.link.close();
      this.remove(existing);
    } else {
      if (this.byDevice.size >= this.limits.maxClients) return err({ code: 'full', refusal: AttachRefusal.FULL, message: 'this supernode serves as many clients as it may' });
      if ((this.byUser.get(device.username)?.size ?? 0) >= this.limits.maxDevicesPerUser) {
        return err({ code: 'too_many_devices', refusal: AttachRefusal.TOO_MANY_DEVICES, message: `at most ${this.limits.maxDevicesPerUser} devices of one user here` });
      }
    }
    // The record's certificate is the link's device (checked above): keep one copy of it.
    const record: VerifiedPresence = { ...presence.value, device };
    const session: Session = { link, device, presence: record, lastHeardMs: nowMs, lookups: existing?.lookups ?? null, routes: existing?.routes ?? null };
    this.byDevice.set(key, session);
    let devices = this.byUser.get(device.username);
    if (!devices) this.byUser.set(device.username, (devices = new Set()));
    devices.add(session);
    return ok(session);
  }

  heard(session: Session, nowMs: number): void {
    session.lastHeardMs = nowMs;
  }

  remove(session: Session): void {
    const key = toHex(session.device.dhKey);
    if (this.byDevice.get(key) === session) this.byDevice.delete(key);
    const devices = this.byUser.get(session.device.username);
    devices?.delete(session);
    if (devices?.size === 0) this.byUser.delete(session.device.username);
  }

  /** The session of the device with this Noise static key, if it is attached here. */
  sessionOf(dhKey: Uint8Array): Session | undefined {
    return this.byDevice.get(toHex(dhKey));
  }

  /** The sessions of a user attached here. */
  sessionsOf(username: string): Session[] {
    return [...(this.byUser.get(username) ?? [])];
  }

  /** Drops sessions silent for longer than `deadAfterMs`; returns them (their links are closed by the caller). */
  sweep(nowMs: number): Session[] {
    const dead = [...this.byDevice.values()].filter((s) => nowMs - s.lastHeardMs > this.deadAfterMs);
    for (const session of dead) this.remove(session);
    this.droppedSilent += dead.length;
    return dead;
  }
}

/** Spends one of the client's lookups; false when it has none left for now. */
export function takeLookup(session: Session, nowMs: number): boolean {
  session.lookups ??= new TokenBucket(LOOKUP_BURST, LOOKUPS_PER_SECOND, nowMs);
  return session.lookups.take(nowMs);
}

/** Spends one of the client's routed messages; false when it has none left for now. */
export function takeRoute(session: Session, nowMs: number): boolean {
  session.routes ??= new TokenBucket(ROUTE_BURST, ROUTES_PER_SECOND, nowMs);
  return session.routes.take(nowMs);
}
