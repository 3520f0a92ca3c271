// Every chat message the simulator sends, and every time one is shown: a message shown twice
// is a violation at once; one never shown is a violation once the network has healed.

/** The text a sim message carries: its tag, so a delivery names its message without trusting ids. */
export const messageText = (tag: number): string => `sim message ${tag}`;

export function tagOf(text: string): number | null {
  const match = /^sim message (\d+)$/.exec(text);
  return match ? Number(match[1]) : null;
}

interface Entry {
  readonly from: string;
  readonly to: string;
  readonly sentAtMs: number;
  deliveries: number;
  deliveredAtMs: number | null;
}

export class MessageLedger {
  private nextTag = 1;
  private readonly entries = new Map<number, Entry>();
  /** Shown before the send resolved (the delivery can outrun its sender's bookkeeping). */
  private readonly early = new Map<number, number>();
  /** Sends the chat refused (no device for the recipient, a full queue): not promised, not lost. */
  refusedAtSend = 0;

  /** A tag for the next message (counted whether or not the send succeeds). */
  take(): number {
    return this.nextTag++;
  }

  /** The chat accepted message `tag`: from now on it must be shown exactly once. */
  accepted(tag: number, from: string, to: string, atMs: number): void {
    const early = this.early.get(tag) ?? 0;
    this.early.delete(tag);
    this.entries.set(tag, { from, to, sentAtMs: atMs, deliveries: early, deliveredAtMs: early > 0 ? atMs : null });
  }

  /** Message `tag` was shown to `to`; returns how often it has been shown now. */
  shown(tag: number, atMs: number): number {
    const entry = this.entries.get(tag);
    if (!entry) {
      const count = (this.early.get(tag) ?? 0) + 1;
      this.early.set(tag, count);
      return count;
    }
    entry.deliveries++;
    entry.deliveredAtMs ??= atMs;
    return entry.deliveries;
  }

  get sent(): number {
    return this.entries.size;
  }

  /** Messages the chat accepted and no one has been shown yet. */
  undelivered(): { tag: number; from: string; to: string; sentAtMs: number }[] {
    const list: { tag: number; from: string; to: string; sentAtMs: number }[] = [];
    for (const [tag, e] of this.entries) if (e.deliveries === 0) list.push({ tag, from: e.from, to: e.to, sentAtMs: e.sentAtMs });
    return list;
  }

  /** Delivery times of the messages shown (ms from send to first show). */
  deliveryMs(): number[] {
    const times: number[] = [];
    for (const e of this.entries.values()) if (e.deliveredAtMs !== null) times.push(e.deliveredAtMs - e.sentAtMs);
    return times;
  }
}
