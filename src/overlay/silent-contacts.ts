// Supernodes that did not answer, remembered so that lookups do not wait for them again: one
// that failed is skipped until it proves alive (a request from it over a link authenticated
// with its key, or an answer) or its hold ends. Holds double with each failure in a row, so a
// supernode that is gone for good costs a timeout every few minutes at most, and one that only
// lost a packet is asked again soon. Bounded; pure (told the time).

/** First hold after a failure; doubled per failure in a row, up to SILENT_HOLD_MAX_MS. */
export const SILENT_HOLD_FIRST_MS = 30_000;
export const SILENT_HOLD_MAX_MS = 600_000;
/** Contacts remembered at most (the oldest is forgotten first). */
export const MAX_SILENT_CONTACTS = 4096;

export class SilentContacts {
  /** Key → failures in a row and until when it is skipped (insertion order: oldest first). */
  private readonly held = new Map<string, { failures: number; untilMs: number }>();

  constructor(
    private readonly firstHoldMs = SILENT_HOLD_FIRST_MS,
    private readonly maxHoldMs = SILENT_HOLD_MAX_MS,
    private readonly maxRemembered = MAX_SILENT_CONTACTS,
  ) {}

  get size(): number {
    return this.held.size;
  }

  /** `key` did not answer at `nowMs`. */
  failed(key: string, nowMs: number): void {
    const before = this.held.get(key);
    const failures = (before?.failures ?? 0) + 1;
    this.held.delete(key);
    if (this.held.size >= this.maxRemembered) this.held.delete(this.held.keys().next().value!);
    this.held.set(key, { failures, untilMs: nowMs + Math.min(this.maxHoldMs, this.firstHoldMs * 2 ** Math.min(failures - 1, 30)) });
  }

  /** Whether `key` is skipped at `nowMs`. */
  isSilent(key: string, nowMs: number): boolean {
    const entry = this.held.get(key);
    return entry !== undefined && entry.untilMs > nowMs;
  }

  /** `key` proved alive: asked again at once, and its failures forgotten. */
  alive(key: string): void {
    this.held.delete(key);
  }
}
