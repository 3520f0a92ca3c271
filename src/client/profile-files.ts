// A device's state in its profile folder, for the front ends that run on a real machine (the
// CLI and the daemon): the host cache, the chat history, the status the user set. All owner-only
// (0600). Tests and the simulator give the device core an in-memory store instead.
import { existsSync, readFileSync } from 'node:fs';
import { writePrivate } from '../env/private-files.js';
import { HostCache, parseHostCache } from '../overlay/host-cache.js';
import { ChatHistory } from '../chat/history.js';
import { GroupHistory } from '../groups/group-history.js';
import { dirname, join } from 'node:path';
import type { Account } from './account.js';
import { takeDevice, type DeviceHolder } from './device-lock.js';
import { DEFAULT_STATUS, formatOwnStatus, parseOwnStatus, type OwnStatus } from './own-status.js';
import type { DeviceStore } from './device.js';

/** Where a device's files are (an Account's paths). */
export interface ProfilePaths {
  readonly hostCachePath: string;
  readonly historyPath: string;
  readonly statusPath: string;
}

export function profileStore(paths: ProfilePaths): DeviceStore {
  return {
    loadHostCache: (nowWallMs) => {
      if (!existsSync(paths.hostCachePath)) return new HostCache();
      // A damaged or foreign file is a cold start, not a failure: the bootstrap list takes over.
      const parsed = parseHostCache(readFileSync(paths.hostCachePath, 'utf8'), nowWallMs);
      return parsed.ok ? parsed.value : new HostCache();
    },
    saveHostCache: (cache) => writePrivate(paths.hostCachePath, cache.toJSON()),
    openHistory: () => ChatHistory.open(paths.historyPath),
    // Beside the chat history: the groups' sessions (sender keys) and messages.
    openGroupHistory: () => GroupHistory.open(groupHistoryPath(paths)),
    loadStatus: () => loadStatus(paths),
    saveStatus: (status) => writePrivate(paths.statusPath, formatOwnStatus(status)),
  };
}

/** The groups' file in the profile: beside the chat history. */
export function groupHistoryPath(paths: Pick<ProfilePaths, 'historyPath'>): string {
  return join(dirname(paths.historyPath), 'groups.sqlite');
}

/** The status saved for this device: online, no text, when none was set or the file is damaged. */
export function loadStatus(paths: Pick<ProfilePaths, 'statusPath'>): OwnStatus {
  try {
    return parseOwnStatus(readFileSync(paths.statusPath, 'utf8'));
  } catch {
    return DEFAULT_STATUS; // no file yet, or unreadable: the default, as documented
  }
}

/** Another process of this machine has the device online. */
export class DeviceBusyError extends Error {
  constructor(
    readonly user: string,
    readonly holder: DeviceHolder,
  ) {
    super(
      `${user}'s device is online in another command here (${holder.command}, pid ${holder.pid}): one process at a time holds a device. Stop that one; or run parley daemon, which other commands (chat, buddies, status) use while it runs; or use another device with --profile DIR`,
    );
    this.name = 'DeviceBusyError';
  }
}

/**
 * Takes this device for this process (one process at a time brings a device online), or throws
 * DeviceBusyError naming the process that has it. Returns the release.
 */
export function holdDevice(account: Pick<Account, 'username' | 'onlineLockPath'>, command: string, nowWallMs: number): () => void {
  const lock = takeDevice(account.onlineLockPath, { pid: process.pid, command, sinceMs: nowWallMs });
  if (!lock.ok) throw new DeviceBusyError(account.username, lock.holder);
  return () => lock.release();
}
