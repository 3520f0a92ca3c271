// Listeners that can be removed: `add` returns the function that removes the listener again, so
// a listener whose owner has gone does not stay, and the list does not grow, for the life of
// the object that emits.
export class Listeners<A extends unknown[]> {
  private readonly entries = new Set<{ readonly listener: (...args: A) => void }>();

  /** Adds `listener` (the same function twice is called twice); returns its removal. */
  add(listener: (...args: A) => void): () => void {
    const entry = { listener };
    this.entries.add(entry);
    return () => void this.entries.delete(entry);
  }

  /** Calls every listener (those added while it runs wait for the next time). */
  emit(...args: A): void {
    for (const { listener } of [...this.entries]) listener(...args);
  }

  get size(): number {
    return this.entries.size;
  }
}
