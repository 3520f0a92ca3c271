// Holds items that arrive before their consumer set a handler, then hands them over in order.
// Sockets and links deliver from the moment they exist; their owner sets the handler a moment
// later (after an await), and nothing may be lost in between.
export class Inbox<T> {
  private handler: ((item: T) => void) | null = null;
  private held: T[] = [];

  deliver(item: T): void {
    if (this.handler) this.handler(item);
    else this.held.push(item);
  }

  setHandler(handler: (item: T) => void): void {
    this.handler = handler;
    const held = this.held;
    this.held = [];
    for (const item of held) handler(item);
  }
}
