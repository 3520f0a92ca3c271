// The presence records a supernode holds for the overlay: per user, the newest record of each
// device (by sequence). Expired records are dropped when touched and by `sweep`. Bounded in
// total and per user; a full store refuses new users but still updates known ones.
import { toHex } from '../crypto/bytes.js';
import type { VerifiedPresence } from './presence.js';

export const DEFAULT_MAX_RECORDS = 200_000;
export const DEFAULT_MAX_DEVICES_PER_USER = 16;

export type PutOutcome = 'stored' | 'stale' | 'full';

export class PresenceStore {
  private readonly byUser = new Map<string, Map<string, VerifiedPresence>>();
  private count = 0;

  constructor(
    readonly maxRecords = DEFAULT_MAX_RECORDS,
    readonly maxDevicesPerUser = DEFAULT_MAX_DEVICES_PER_USER,
  ) {}

  get size(): number {
    return this.count;
  }

  put(record: VerifiedPresence): PutOutcome {
    let devices = this.byUser.get(record.username);
    const key = toHex(record.device.dhKey);
    const existing = devices?.get(key);
    if (existing) {
      // The same record may come back with a later expiry: a path cache's short-lived copy
      // must not make the replica refuse the real one.
      if (existing.sequence > record.sequence || (existing.sequence === record.sequence && existing.expiresAtMs >= record.expiresAtMs)) return 'stale';
      devices!.set(key, record);
      return 'stored';
    }
    if (this.count >= this.maxRecords) return 'full';
    if (!devices) this.byUser.set(record.username, (devices = new Map()));
    if (devices.size >= this.maxDevicesPerUser) {
      // Replace the record that expires first: a user's current devices matter most.
      const oldest = [...devices.entries()].sort((a, b) => a[1].expiresAtMs - b[1].expiresAtMs)[0]!;
      devices.delete(oldest[0]);
      this.count--;
    }
    devices.set(key, record);
    this.count++;
    return 'stored';
  }

  /** The user's live records. */
  get(username: string, wallTimeMs: number): VerifiedPresence[] {
    const devices = this.byUser.get(username);
    if (!devices) return [];
    for (const [key, record] of devices) {
      if (record.expiresAtMs <= wallTimeMs) {
        devices.delete(key);
        this.count--;
      }
    }
    if (devices.size === 0) this.byUser.delete(username);
    return [...devices.values()];
  }

  users(): string[] {
    return [...this.byUser.keys()];
  }

  sweep(wallTimeMs: number): void {
    for (const username of this.users()) this.get(username, wallTimeMs);
  }
}
