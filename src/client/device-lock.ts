// One device, one process: a device attached twice (say `parley online` and `parley answer` on
// one profile) would take its supernode session from itself back and forth, and calls to it
// would fail "not online". The process that brings a device online holds a lock file in the
// user's profile folder; a second one is refused with who holds it. A holder that died (its pid
// is gone) does not count: its lock is taken over.
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

export interface DeviceHolder {
  readonly pid: number;
  /** What holds it, for people: "parley online", "parley daemon". */
  readonly command: string;
  readonly sinceMs: number;
}

export type DeviceLock = { readonly ok: true; release(): void } | { readonly ok: false; readonly holder: DeviceHolder };

/** Whether a process with this pid runs (on this machine). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // it runs, as another user
  }
}

function readHolder(path: string): DeviceHolder | null {
  try {
    const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<DeviceHolder>;
    return typeof raw.pid === 'number' && Number.isInteger(raw.pid) && raw.pid > 0 ? { pid: raw.pid, command: String(raw.command ?? 'parley'), sinceMs: Number(raw.sinceMs ?? 0) } : null;
  } catch {
    return null; // an unreadable lock is taken over (see takeDevice)
  }
}

/**
 * Takes the device's lock at `path` for this process (again, if it holds it already). Refused
 * while another live process holds it; a dead holder's or an unreadable lock is taken over.
 */
export function takeDevice(path: string, holder: DeviceHolder, alive: (pid: number) => boolean = processAlive): DeviceLock {
  for (let attempt = 0; attempt < 3; attempt++) {
    // Written whole under another name, then linked into place: the link either makes the
    // lock, complete, or fails because one exists; two processes never both take it.
    const staged = `${path}.${holder.pid}`;
    writeFileSync(staged, `${JSON.stringify(holder)}\n`, { mode: 0o600 });
    try {
      linkSync(staged, path);
      return { ok: true, release: () => releaseIfOurs(path, holder.pid) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(staged, { force: true });
    }
    const current = readHolder(path);
    if (current && current.pid === holder.pid) return { ok: true, release: () => releaseIfOurs(path, holder.pid) };
    if (current && alive(current.pid)) return { ok: false, holder: current };
    rmSync(path, { force: true }); // its holder is gone (or the file is not a lock): take it over
  }
  const current = readHolder(path);
  return current ? { ok: false, holder: current } : { ok: false, holder: { pid: 0, command: 'another command', sinceMs: 0 } };
}

function releaseIfOurs(path: string, pid: number): void {
  if (readHolder(path)?.pid === pid) rmSync(path, { force: true });
}
