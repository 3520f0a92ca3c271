// Holds items that arrive before their consumer set a handler, then hands them over in order.
// Sockets and links deliver from the moment they exist; their owner sets the handler a moment
// later (after an await), and nothing may be lost in between.
export class Inbox {
    handler = null;
    /** Items waiting for a handler; none once a handler is set (no array kept per idle socket). */
    held = null;
    deliver(item) {
        if (this.handler)
            this.handler(item);
        else
            (this.held ??= []).push(item);
    }
    setHandler(handler) {
        this.handler = handler;
        const held = this.held;
        this.held = null;
        if (held)
            for (const item of held)
                handler(item);
    }
}
/**
 * A one-time event (a close) that a handler set later still receives: the event may happen
 * while its owner is still awaiting the object that reports it. Every handler added is called.
 */
export class Latch {
    handlers = [];
    fired = false;
    value;
    get hasFired() {
        return this.fired;
    }
    fire(value) {
        if (this.fired)
            return;
        this.fired = true;
        this.value = value;
        for (const handler of this.handlers)
            handler(value);
    }
    addHandler(handler) {
        this.handlers.push(handler);
        if (this.fired)
            handler(this.value);
    }
}
//# sourceMappingURL=inbox.js.map