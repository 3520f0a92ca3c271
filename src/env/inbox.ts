// Holds items that arrive before their consumer set a handler, then hands them over in order.
// Sockets and links deliver from the moment they exist; their owner sets the handler a moment
// later (after an await), and nothing may be lost in between.

/**
 * Items held while no handler is set. The gap is a moment (an await), in which a socket
 * delivers a few chunks at most; an owner that never sets a handler (a bug, or a connection
 * nobody reads) must not let the peer fill memory: 256 chunks of at most 64 KiB is 16 MiB.
 */
export const MAX_HELD_ITEMS = 256;

export class Inbox<T> {
  private handler: ((item: T) => void) | null = null;
  /** Items waiting for a handler; none once a handler is set (no array kept per idle socket). */
  private held: T[] | null = null;
  /**
   * Items refused because MAX_HELD_ITEMS were held: the newest is refused (the oldest are the
   * start of what the peer sent, which the owner reads first). `deliver` says so, and the count
   * stays here; a byte stream that lost a chunk is broken, and the framing or the AEAD above it
   * fails and closes it.
   */
  refused = 0;

  constructor(private readonly maxHeld = MAX_HELD_ITEMS) {}

  /** While paused, items are held as before a handler is set (within the same bound). */
  private paused = false;

  /** Hands `item` over, or holds it; false when refused (held full, counted in `refused`). */
  deliver(item: T): boolean {
    if (this.handler && !this.paused) {
      this.handler(item);
      return true;
    }
    const held = (this.held ??= []);
    if (held.length >= this.maxHeld) {
      this.refused++;
      return false;
    }
    held.push(item);
    return true;
  }

  setHandler(handler: (item: T) => void): void {
    this.handler = handler;
    this.release();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.release();
  }

  /** Hands over what was held, in order; a handler that pauses again keeps the rest held. */
  private release(): void {
    const held = this.held;
    if (!held || !this.handler || this.paused) return;
    this.held = null;
    for (let i = 0; i < held.length; i++) {
      if (this.paused) {
        this.held = [...held.slice(i), ...(this.held ?? [])];
        return;
      }
      this.handler(held[i]!);
    }
  }
}

/**
 * A one-time event (a close) that a handler set later still receives: the event may happen
 * while its owner is still awaiting the object that reports it. Every handler added is called.
 */
export class Latch<T> {
  private readonly handlers: ((value: T) => void)[] = [];
  private fired = false;
  private value!: T;

  get hasFired(): boolean {
    return this.fired;
  }

  fire(value: T): void {
    if (this.fired) return;
    this.fired = true;
    this.value = value;
    for (const handler of this.handlers) handler(value);
  }

  addHandler(handler: (value: T) => void): void {
    this.handlers.push(handler);
    if (this.fired) handler(this.value);
  }
}
