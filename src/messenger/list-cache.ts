// Lists looked up by user (a user's online devices, its registered devices), kept for `ttlMs`:
// a lookup per message would be rate-limited by the supernode or the login server. An empty or
// failed answer is not kept (the user may come online any moment).
export class ListCache<T> {
  private readonly entries = new Map<string, { list: Promise<T[]>; atMs: number }>();

  constructor(private readonly ttlMs: number) {}

  get(user: string, nowMs: number, lookUp: () => Promise<T[]>): Promise<T[]> {
    const cached = this.entries.get(user);
    if (cached && nowMs - cached.atMs < this.ttlMs) return cached.list;
    const list = lookUp();
    this.entries.set(user, { list, atMs: nowMs });
    list.then(
      (found) => found.length === 0 && this.entries.delete(user),
      () => this.entries.delete(user),
    );
    return list;
  }

  /** Forgets what is known of `user` (it is known to be out of date). */
  forget(user: string): void {
    this.entries.delete(user);
  }
}
