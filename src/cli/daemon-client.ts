// The CLI through a running daemon: when this user's daemon runs on this profile, commands that
// would bring the same device online a second time (a message, buddies, search) ask the daemon's
// local API instead. Where it listens is in `<profile>/<user>/daemon.json`; the token is the
// install's. A file left behind by a daemon that died (its process is gone, or nothing answers)
// counts as no daemon.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandError } from './command-error.js';

export class DaemonClient {
  private constructor(
    readonly base: string,
    private readonly token: string,
  ) {}

  /** The running daemon of `user` on `profileDir`, or null when none runs. */
  static find(profileDir: string, user: string): DaemonClient | null {
    const infoPath = join(profileDir, user, 'daemon.json');
    const tokenPath = join(profileDir, 'api-token');
    if (!existsSync(infoPath) || !existsSync(tokenPath)) return null;
    let info: { port?: unknown; pid?: unknown };
    try {
      info = JSON.parse(readFileSync(infoPath, 'utf8')) as { port?: unknown; pid?: unknown };
    } catch {
      return null; // a damaged daemon.json: no daemon we can talk to
    }
    if (typeof info.port !== 'number' || typeof info.pid !== 'number' || !processAlive(info.pid)) return null;
    return new DaemonClient(`http://127.0.0.1:${info.port}/v1`, readFileSync(tokenPath, 'utf8').trim());
  }

  /** A request to the API; its refusals become the CLI's errors, as the daemon words them. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, { method, headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    } catch (error) {
      throw new CommandError(`the daemon at ${this.base} does not answer (${(error as Error).message}); stop it or remove its daemon.json`);
    }
    if (response.status === 204) return undefined as T;
    // A body that is not JSON: the status alone says what happened (below).
    const json = (await response.json().catch(() => ({}))) as T & { error?: { code: string; message: string } };
    if (!response.ok) throw new CommandError(json.error?.message ?? `the daemon answered ${response.status}`);
    return json;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it lives, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
