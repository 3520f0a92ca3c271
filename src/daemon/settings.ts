// The app's settings for one user on one device, kept in the profile (owner-only JSON). A file
// that is missing, unreadable or has fields of the wrong type counts as the defaults for those
// fields: a damaged file never stops the daemon.
import { existsSync, readFileSync } from 'node:fs';
import { writePrivate } from '../crypto/key-files.js';
import type { DaemonSettings } from './api-types.js';

export const DEFAULT_SETTINGS: DaemonSettings = Object.freeze({ discoverable: false, callsFrom: 'buddies', allowSupernode: true });

export function readSettings(path: string): DaemonSettings {
  let raw: unknown;
  try {
    raw = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : null;
  } catch {
    raw = null; // a damaged settings file: the defaults, field by field below
  }
  const fields = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  return {
    discoverable: typeof fields.discoverable === 'boolean' ? fields.discoverable : DEFAULT_SETTINGS.discoverable,
    callsFrom: fields.callsFrom === 'anyone' || fields.callsFrom === 'buddies' ? fields.callsFrom : DEFAULT_SETTINGS.callsFrom,
    allowSupernode: typeof fields.allowSupernode === 'boolean' ? fields.allowSupernode : DEFAULT_SETTINGS.allowSupernode,
  };
}

export function writeSettings(path: string, settings: DaemonSettings): void {
  writePrivate(path, `${JSON.stringify(settings, null, 2)}\n`);
}
