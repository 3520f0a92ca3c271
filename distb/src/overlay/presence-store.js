// The presence records a supernode holds for the overlay: per user, the newest record of each
// device (by sequence). Expired records are dropped when touched and by `sweep`. Bounded in
// total and per user; a full store refuses new users but still updates known ones. A withdrawn
// record (its device left) leaves a mark of its sequence, so that record or an older one
// offered again (re-replication from a replica the withdrawal missed) is refused as stale.
import { toHex } from '../crypto/bytes.js';
export const DEFAULT_MAX_RECORDS = 200_000;
export const DEFAULT_MAX_DEVICES_PER_USER = 16;
export class PresenceStore {
    maxRecords;
    maxDevicesPerUser;
    byUser = new Map();
    count = 0;
    /** Per device, the newest sequence withdrawn and until when that record could still be offered (its signed expiry). */
    withdrawn = new Map();
    constructor(maxRecords = DEFAULT_MAX_RECORDS, maxDevicesPerUser = DEFAULT_MAX_DEVICES_PER_USER) {
        this.maxRecords = maxRecords;
        this.maxDevicesPerUser = maxDevicesPerUser;
    }
    get size() {
        return this.count;
    }
    put(record) {
        let devices = this.byUser.get(record.username);
        const key = toHex(record.device.dhKey);
        if ((this.withdrawn.get(key)?.sequence ?? -1) >= record.sequence)
            return 'stale';
        const existing = devices?.get(key);
        if (existing) {
            // The same record may come back with a later expiry: a path cache's short-lived copy
            // must not make the replica refuse the real one.
            if (existing.sequence > record.sequence || (existing.sequence === record.sequence && existing.expiresAtMs >= record.expiresAtMs))
                return 'stale';
            devices.set(key, record);
            return 'stored';
        }
        if (this.count >= this.maxRecords)
            return 'full';
        if (!devices)
            this.byUser.set(record.username, (devices = new Map()));
        if (devices.size >= this.maxDevicesPerUser) {
            // Replace the record that expires first: a user's current devices matter most.
            const oldest = [...devices.entries()].sort((a, b) => a[1].expiresAtMs - b[1].expiresAtMs)[0];
            devices.delete(oldest[0]);
            this.count--;
        }
        devices.set(key, record);
        this.count++;
        return 'stored';
    }
    /**
     * Takes back `record` (verified, and offered by a supernode it names): the device's record of
     * this sequence or older goes, and such records are refused until `record` expires. True when
     * a record was removed.
     */
    withdraw(record, wallTimeMs) {
        const key = toHex(record.device.dhKey);
        const mark = this.withdrawn.get(key);
        if (!mark || mark.sequence < record.sequence) {
            // Marks live no longer than the records they stand for; bounded like the records themselves.
            if (!mark && this.withdrawn.size >= this.maxRecords) {
                for (const [k, m] of this.withdrawn)
                    if (m.untilMs <= wallTimeMs)
                        this.withdrawn.delete(k);
                if (this.withdrawn.size >= this.maxRecords)
                    this.withdrawn.delete(this.withdrawn.keys().next().value);
            }
            this.withdrawn.set(key, { sequence: record.sequence, untilMs: record.expiresAtMs });
        }
        return this.evict(record.username, record.device.dhKey, record.sequence);
    }
    /** Forgets the device's record if it is of `sequence` or older (a copy known to be stale); true when one went. */
    evict(username, deviceKey, sequence) {
        const devices = this.byUser.get(username);
        const key = toHex(deviceKey);
        const held = devices?.get(key);
        if (!devices || !held || held.sequence > sequence)
            return false;
        devices.delete(key);
        this.count--;
        if (devices.size === 0)
            this.byUser.delete(username);
        return true;
    }
    /** The user's live records. */
    get(username, wallTimeMs) {
        const devices = this.byUser.get(username);
        if (!devices)
            return [];
        for (const [key, record] of devices) {
            if (record.expiresAtMs <= wallTimeMs) {
                devices.delete(key);
                this.count--;
            }
        }
        if (devices.size === 0)
            this.byUser.delete(username);
        return [...devices.values()];
    }
    users() {
        return [...this.byUser.keys()];
    }
    sweep(wallTimeMs) {
        for (const username of this.users())
            this.get(username, wallTimeMs);
        for (const [key, mark] of this.withdrawn)
            if (mark.untilMs <= wallTimeMs)
                this.withdrawn.delete(key);
    }
}
//# sourceMappingURL=presence-store.js.map