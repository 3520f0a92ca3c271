// The clients a supernode serves: one session per attached device, with its verified presence
// record and when it was last heard from. Bounded globally and per user; a session silent for
// `deadAfterMs` is dropped (its client is gone or cut off). Time comes from the injected clock.
import { err, ok } from '../result.js';
import { toHex } from '../crypto/bytes.js';
import { Role } from '../crypto/certificate.js';
import { verifyPresenceRecord } from '../overlay/presence.js';
import { AttachRefusal } from '../wire/messages.js';
import { TokenBucket } from '../overlay/token-bucket.js';
/**
 * Keep-alive: clients ping every 25 s (Skype refreshed every 120 s). Shorter, because the ping
 * also tells the client its supernode is alive — a dead one is noticed within one interval plus
 * the pong timeout, and failover needs that — and because 25 s stays inside the shortest idle
 * timeouts of NATs and firewalls seen in practice. Cost: one ~60-byte frame each way per
 * client per 25 s, 400 frames/s at 10 000 clients.
 */
export const DEFAULT_KEEPALIVE_INTERVAL_MS = 25_000;
export const DEFAULT_MAX_CLIENTS = 10_000;
export const DEFAULT_MAX_DEVICES_PER_USER = 8;
export const LOOKUP_BURST = 20;
export const LOOKUPS_PER_SECOND = 5;
/**
 * Routed messages per client: chat and call signalling go this way, so far more than lookups
 * (a route to a user found in the last minute costs no lookup: the supernode caches it).
 */
export const ROUTE_BURST = 400;
export const ROUTES_PER_SECOND = 200;
export const DEFAULT_ATTACHMENT_LIMITS = {
    maxClients: DEFAULT_MAX_CLIENTS,
    maxDevicesPerUser: DEFAULT_MAX_DEVICES_PER_USER,
    keepaliveIntervalMs: DEFAULT_KEEPALIVE_INTERVAL_MS,
};
export class Attachments {
    verifier;
    limits;
    byDevice = new Map();
    byUser = new Map();
    /** Attach requests refused, by reason (for metrics). */
    refused = new Map();
    /** Sessions dropped because their client went silent. */
    droppedSilent = 0;
    constructor(verifier, limits = DEFAULT_ATTACHMENT_LIMITS) {
        this.verifier = verifier;
        this.limits = limits;
    }
    get size() {
        return this.byDevice.size;
    }
    /** A silent session is dropped after three keep-alive intervals. */
    get deadAfterMs() {
        return 3 * this.limits.keepaliveIntervalMs;
    }
    /** Attaches the device at the other end of `link`, whose presence record must be its own; refusals are counted. */
    attach(link, presenceBytes, nowMs, wallTimeMs) {
        const attached = this.tryAttach(link, presenceBytes, nowMs, wallTimeMs);
        if (!attached.ok)
            this.refused.set(attached.error.code, (this.refused.get(attached.error.code) ?? 0) + 1);
        return attached;
    }
    tryAttach(link, presenceBytes, nowMs, wallTimeMs) {
        const device = link.peer;
        if (device.role !== Role.DEVICE)
            return err({ code: 'not_a_device', refusal: AttachRefusal.NOT_A_DEVICE, message: 'only devices attach' });
        const presence = verifyPresenceRecord(presenceBytes, this.verifier, wallTimeMs, device.username);
        if (!presence.ok)
            return err({ code: 'bad_presence', refusal: AttachRefusal.BAD_PRESENCE, presenceError: presence.error.code, message: presence.error.message });
        // The record must be this link's device: same Noise key as the one the handshake proved.
        if (toHex(presence.value.device.dhKey) !== toHex(device.dhKey)) {
            return err({ code: 'bad_presence', refusal: AttachRefusal.BAD_PRESENCE, presenceError: 'wrong_user', message: 'the record is for another device' });
        }
        const key = toHex(device.dhKey);
        const existing = this.byDevice.get(key);
        if (existing) {
            // The device reconnected: the new link replaces the old one.
            if (existing.link !== link)
                existing.link.close();
            this.remove(existing);
        }
        else {
            if (this.byDevice.size >= this.limits.maxClients)
                return err({ code: 'full', refusal: AttachRefusal.FULL, message: 'this supernode serves as many clients as it may' });
            if ((this.byUser.get(device.username)?.size ?? 0) >= this.limits.maxDevicesPerUser) {
                return err({ code: 'too_many_devices', refusal: AttachRefusal.TOO_MANY_DEVICES, message: `at most ${this.limits.maxDevicesPerUser} devices of one user here` });
            }
        }
        // The record's certificate is the link's device (checked above): keep one copy of it.
        const record = { ...presence.value, device };
        const session = { link, device, presence: record, lastHeardMs: nowMs, lookups: existing?.lookups ?? null, routes: existing?.routes ?? null };
        this.byDevice.set(key, session);
        let devices = this.byUser.get(device.username);
        if (!devices)
            this.byUser.set(device.username, (devices = new Set()));
        devices.add(session);
        return ok(session);
    }
    heard(session, nowMs) {
        session.lastHeardMs = nowMs;
    }
    remove(session) {
        const key = toHex(session.device.dhKey);
        if (this.byDevice.get(key) === session)
            this.byDevice.delete(key);
        const devices = this.byUser.get(session.device.username);
        devices?.delete(session);
        if (devices?.size === 0)
            this.byUser.delete(session.device.username);
    }
    /** The session of the device with this Noise static key, if it is attached here. */
    sessionOf(dhKey) {
        return this.byDevice.get(toHex(dhKey));
    }
    /** The sessions of a user attached here. */
    sessionsOf(username) {
        return [...(this.byUser.get(username) ?? [])];
    }
    /** Drops sessions silent for longer than `deadAfterMs`; returns them (their links are closed by the caller). */
    sweep(nowMs) {
        const dead = [...this.byDevice.values()].filter((s) => nowMs - s.lastHeardMs > this.deadAfterMs);
        for (const session of dead)
            this.remove(session);
        this.droppedSilent += dead.length;
        return dead;
    }
}
/** Spends one of the client's lookups; false when it has none left for now. */
export function takeLookup(session, nowMs) {
    session.lookups ??= new TokenBucket(LOOKUP_BURST, LOOKUPS_PER_SECOND, nowMs);
    return session.lookups.take(nowMs);
}
/** Spends one of the client's routed messages; false when it has none left for now. */
export function takeRoute(session, nowMs) {
    session.routes ??= new TokenBucket(ROUTE_BURST, ROUTES_PER_SECOND, nowMs);
    return session.routes.take(nowMs);
}
//# sourceMappingURL=attachments.js.map