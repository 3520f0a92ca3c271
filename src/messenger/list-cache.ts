// Lists looked up by user (a user's online devices, its registered devices), kept for `ttlMs`:
// a lookup per message would be rate-limited by the supernode or the login server. An empty
// answer is not kept (the user may come online any moment). A failed lookup (refused over the
// rate limit, or not answered) is answered with the last list found, when that is recent
// (`stale.forMs`), and asked again after `stale.retryMs`: a group's sender looking up 100
// members after 30 s idle has most lookups refused by its supernode, and their last lists beat
// none (a device gone since is found out when the route says so, and its copy sealed for the
// offline store). Without a recent list the failure is the caller's.
/** How long the last list found may answer for a failed lookup, and how soon that lookup is tried again. */
export const STALE_LIST_MS = 5 * 60_000;
export const STALE_RETRY_MS = 5_000;

export class ListCache<T> {
  private readonly entries = new Map<string, { list: Promise<T[]>; atMs: number }>();
  private readonly lastFound = new Map<string, { list: T[]; atMs: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly stale: { readonly forMs: number; readonly retryMs: number } = { forMs: STALE_LIST_MS, retryMs: STALE_RETRY_MS },
  ) {}

  get(user: string, nowMs: number, lookUp: () => Promise<T[]>): Promise<T[]> {
    const cached = this.entries.get(user);
    if (cached && nowMs - cached.atMs < this.ttlMs) return cached.list;
    const last = this.lastFound.get(user);
    const list = lookUp().then(
      (found) => {
        if (found.length === 0) {
          this.entries.delete(user);
          this.lastFound.delete(user);
        } else this.lastFound.set(user, { list: found, atMs: nowMs });
        return found;
      },
      (error: unknown) => {
        if (!last || nowMs - last.atMs > this.stale.forMs) {
          this.entries.delete(user);
          throw error;
        }
        // Served from the last list, and looked up again `retryMs` from now.
        this.entries.set(user, { list: Promise.resolve(last.list), atMs: nowMs - this.ttlMs + this.stale.retryMs });
        return last.list;
      },
    );
    this.entries.set(user, { list, atMs: nowMs });
    return list;
  }

  /** Forgets what is known of `user` (it is known to be out of date). */
  forget(user: string): void {
    this.entries.delete(user);
    this.lastFound.delete(user);
  }
}
