export const DEFAULT_RPC_TIMEOUT_MS = 3_000;
export const MAX_PENDING_PER_LINK = 64;
export class RpcError extends Error {
    code;
    constructor(code, message) {
        super(message);
        this.code = code;
        this.name = 'RpcError';
    }
}
/** The request id of an answer-type message, if it is one. */
function answerId(envelope) {
    switch (envelope.body.case) {
        case 'foundNodes':
        case 'stored':
        case 'withdrawn':
        case 'foundPresence':
        case 'routeResult':
        case 'routeForwarded':
        case 'reachabilityResult':
        case 'turnCredentialsAnswer':
            return envelope.body.value.requestId;
        default:
            return null;
    }
}
export class RpcChannel {
    link;
    clock;
    onRequest;
    nextId = 1n;
    pending = new Map();
    closed = false;
    constructor(link, clock, onRequest) {
        this.link = link;
        this.clock = clock;
        this.onRequest = onRequest;
        link.onMessage((envelope) => {
            const id = answerId(envelope);
            if (id === null)
                return this.onRequest(envelope, this);
            const waiter = this.pending.get(id);
            if (!waiter)
                return; // late or unsolicited: ignored
            this.pending.delete(id);
            waiter.timer.cancel();
            waiter.resolve(envelope);
        });
        link.onClose(() => this.fail());
    }
    get isClosed() {
        return this.closed;
    }
    /** Sends a request built with a fresh id; resolves with the answer carrying that id. */
    request(build, timeoutMs = DEFAULT_RPC_TIMEOUT_MS) {
        if (this.closed)
            return Promise.reject(new RpcError('closed', 'the link is closed'));
        if (this.pending.size >= MAX_PENDING_PER_LINK)
            return Promise.reject(new RpcError('busy', 'too many requests in flight on this link'));
        const id = this.nextId++;
        return new Promise((resolve, reject) => {
            const timer = this.clock.after(timeoutMs, () => {
                this.pending.delete(id);
                reject(new RpcError('timeout', `no answer within ${timeoutMs} ms`));
            });
            this.pending.set(id, { resolve, reject, timer });
            this.link.send(build(id));
        });
    }
    reply(body) {
        if (!this.closed)
            this.link.send(body);
    }
    fail() {
        this.closed = true;
        for (const waiter of this.pending.values()) {
            waiter.timer.cancel();
            waiter.reject(new RpcError('closed', 'the link closed'));
        }
        this.pending.clear();
    }
}
//# sourceMappingURL=rpc.js.map