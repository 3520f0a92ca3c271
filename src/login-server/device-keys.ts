// Device signing keys imported once: a re-login checks one signature with the device's key,
// and importing the raw key into a KeyObject costs about as much again as the check (issue 22).
// Only keys of registered devices are put in (after a login with one succeeded), so a stranger
// cannot fill the cache with keys of its own making; the least recently used goes first.
import type { KeyObject } from 'node:crypto';
import { publicKeyObject } from '../crypto/ed25519.js';

/** Device keys kept imported, per process: ~200 bytes each (the KeyObject and its base64url name). */
export const DEVICE_KEYS_CACHED = 10_000;

export class DeviceKeyCache {
  /** By the key's base64url text; the least recently used first. */
  private readonly keys = new Map<string, KeyObject>();

  constructor(private readonly maxKeys = DEVICE_KEYS_CACHED) {}

  get size(): number {
    return this.keys.size;
  }

  /** The imported key named `text` (its canonical base64url), if kept; now the most recently used. */
  peek(text: string): KeyObject | undefined {
    const object = this.keys.get(text);
    if (object) {
      this.keys.delete(text);
      this.keys.set(text, object);
    }
    return object;
  }

  /** Keeps `key` (named `text`) imported: call only for the key of a registered device. */
  remember(text: string, key: Uint8Array): void {
    if (this.keys.has(text)) return;
    const object = publicKeyObject(key);
    if (!object) return;
    if (this.keys.size >= this.maxKeys) this.keys.delete(this.keys.keys().next().value!);
    this.keys.set(text, object);
  }
}
