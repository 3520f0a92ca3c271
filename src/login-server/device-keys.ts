// Device signing keys imported once: a re-login checks one signature with the device's key,
// and importing the raw key into a KeyObject costs about as much again as the check (issue 22).
// Only keys of registered devices are put in (the caller found the device first), so a stranger
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

  /** The KeyObject of `key` (named `text`, its canonical base64url), or null if it is no Ed25519 key. */
  get(text: string, key: Uint8Array): KeyObject | null {
    let object = this.keys.get(text);
    if (object) {
      this.keys.delete(text); // most recently used: to the end
    } else {
      object = publicKeyObject(key) ?? undefined;
      if (!object) return null;
      if (this.keys.size >= this.maxKeys) this.keys.delete(this.keys.keys().next().value!);
    }
    this.keys.set(text, object);
    return object;
  }
}
