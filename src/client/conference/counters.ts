// Counts of what the conferences refused, ignored or failed to do, by name ("roster.full",
// "signal.bad_member", "send_failed"): every refusal is counted, none is silent.

export class ConferenceCounters {
  private readonly counts = new Map<string, number>();

  count(name: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }

  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  /** Every counter so far, by name. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
