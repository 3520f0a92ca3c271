// Requests and answers over a secure link: each request carries an id, the answer repeats it.
// Pending requests per link are bounded and time out on the injected clock.
import type { Clock, Timer } from '../env/types.js';
import type { SecureLink } from '../crypto/secure-link.js';
import type { Envelope } from '../wire/messages.js';

export const DEFAULT_RPC_TIMEOUT_MS = 3_000;
export const MAX_PENDING_PER_LINK = 64;

export class RpcError extends Error {
  constructor(
    readonly code: 'timeout' | 'closed' | 'busy',
    message: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/** The request id of an answer-type message, if it is one. */
function answerId(envelope: Envelope): bigint | null {
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
  private nextId = 1n;
  private readonly pending = new Map<bigint, { resolve: (e: Envelope) => void; reject: (e: RpcError) => void; timer: Timer }>();
  private closed = false;
  /** When a message last went either way (the owner closes links idle too long). */
  lastActiveMs: number;
  /** When a message last came from the other end (proof it is alive: client/liveness.ts). */
  lastReceivedMs: number;

  constructor(
    readonly link: SecureLink,
    private readonly clock: Clock,
    private readonly onRequest: (envelope: Envelope, channel: RpcChannel) => void,
  ) {
    this.lastActiveMs = clock.now();
    this.lastReceivedMs = this.lastActiveMs;
    link.onMessage((envelope) => {
      this.lastActiveMs = this.clock.now();
      this.lastReceivedMs = this.lastActiveMs;
      const id = answerId(envelope);
      if (id === null) return this.onRequest(envelope, this);
      const waiter = this.pending.get(id);
      if (!waiter) return; // late or unsolicited: ignored
      this.pending.delete(id);
      waiter.timer.cancel();
      waiter.resolve(envelope);
    });
    link.onClose(() => this.fail());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Requests waiting for an answer. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Sends a request built with a fresh id; resolves with the answer carrying that id. */
  request(build: (requestId: bigint) => Envelope['body'], timeoutMs = DEFAULT_RPC_TIMEOUT_MS): Promise<Envelope> {
    if (this.closed) return Promise.reject(new RpcError('closed', 'the link is closed'));
    if (this.pending.size >= MAX_PENDING_PER_LINK) return Promise.reject(new RpcError('busy', 'too many requests in flight on this link'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = this.clock.after(timeoutMs, () => {
        this.pending.delete(id);
        reject(new RpcError('timeout', `no answer within ${timeoutMs} ms`));
      });
      this.pending.set(id, { resolve, reject, timer });
      this.lastActiveMs = this.clock.now();
      this.link.send(build(id));
    });
  }

  reply(body: Envelope['body']): void {
    if (!this.closed) this.link.send(body);
  }

  private fail(): void {
    this.closed = true;
    for (const waiter of this.pending.values()) {
      waiter.timer.cancel();
      waiter.reject(new RpcError('closed', 'the link closed'));
    }
    this.pending.clear();
  }
}
