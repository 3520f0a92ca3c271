// Server transactions (RFC 3261 section 17.2): the INVITE state machine of figure 7 with the
// Accepted state of RFC 6026 (timers G, H, I, L) and the non-INVITE one of figure 8 (timer J).
// The transaction absorbs retransmitted requests (answering with the last response), sends the
// TU's responses, retransmits an INVITE's non-2xx final over unreliable transports until the
// ACK comes, and reports when it ends. Requests reach it already matched (transaction-keys.ts).
import type { SipRequest, SipResponse } from './message.js';
import { responseTo } from './responses.js';
import { DEFAULT_TIMERS, TimerSet, type TransactionIo, type TransactionTimers } from './transaction-timers.js';

export type ServerTransactionState = 'trying' | 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

export type ServerTransactionEvent =
  /** The ACK for a non-2xx final response arrived (an INVITE transaction). */
  | { readonly kind: 'ack'; readonly ack: SipRequest }
  /** Timer H: the ACK never came. */
  | { readonly kind: 'timeout' }
  | { readonly kind: 'terminated' };

export class ServerTransaction {
  private stateNow: ServerTransactionState;
  private readonly timers: TimerSet<'G' | 'H' | 'I' | 'J' | 'L'>;
  private readonly t: TransactionTimers;
  private last: SipResponse | null = null;
  /** Retransmitted requests absorbed. */
  absorbed = 0;

  constructor(
    readonly request: SipRequest,
    private readonly io: TransactionIo,
    private readonly onEvent: (event: ServerTransactionEvent) => void,
  ) {
    if (request.method === 'ACK') throw new Error('ACK has no server transaction'); // a bug in the caller
    this.t = io.timers ?? DEFAULT_TIMERS;
    this.timers = new TimerSet(io.clock);
    this.stateNow = this.isInvite ? 'proceeding' : 'trying';
    // Section 17.2.1: an INVITE is answered with 100 Trying at once so the client stops
    // retransmitting it, whatever the TU takes to decide.
    if (this.isInvite) this.sendResponse(responseTo(request, 100, 'Trying'));
  }

  get state(): ServerTransactionState {
    return this.stateNow;
  }

  private get isInvite(): boolean {
    return this.request.method === 'INVITE';
  }

  /** A retransmission of the request (or, for an INVITE, its ACK) matched to this transaction. */
  receive(request: SipRequest): void {
    if (request.method === 'ACK') {
      if (this.isInvite && this.stateNow === 'completed') {
        this.timers.stop('G');
        this.timers.stop('H');
        this.stateNow = 'confirmed';
        this.onEvent({ kind: 'ack', ack: request });
        this.timers.startOrFire('I', this.io.reliable ? 0 : this.t.t4Ms, () => this.terminate());
      }
      return;
    }
    this.absorbed++;
    // Answer the retransmission with the last response, except in Trying (nothing sent yet)
    // and in Accepted (the TU retransmits its 2xx itself).
    if (this.last && (this.stateNow === 'proceeding' || this.stateNow === 'completed')) this.io.send(this.last);
  }

  /** The TU's response to the request. Ignored once a final response has gone (except 2xx retransmissions in Accepted). */
  respond(response: SipResponse): void {
    const provisional = response.status < 200;
    if (this.stateNow === 'accepted' && response.status >= 200 && response.status < 300) {
      this.sendResponse(response);
      return;
    }
    if (this.stateNow !== 'trying' && this.stateNow !== 'proceeding') return;
    this.sendResponse(response);
    if (provisional) {
      this.stateNow = 'proceeding';
      return;
    }
    if (this.isInvite && response.status < 300) {
      this.stateNow = 'accepted';
      this.timers.start('L', 64 * this.t.t1Ms, () => this.terminate());
      return;
    }
    this.stateNow = 'completed';
    if (this.isInvite) {
      if (!this.io.reliable) this.retransmitEvery(this.t.t1Ms);
      this.timers.start('H', 64 * this.t.t1Ms, () => {
        this.onEvent({ kind: 'timeout' });
        this.terminate();
      });
    } else this.timers.startOrFire('J', this.io.reliable ? 0 : 64 * this.t.t1Ms, () => this.terminate());
  }

  close(): void {
    this.timers.stopAll();
    this.stateNow = 'terminated';
  }

  private sendResponse(response: SipResponse): void {
    this.last = response;
    this.io.send(response);
  }

  private retransmitEvery(intervalMs: number): void {
    this.timers.start('G', intervalMs, () => {
      if (this.last) this.io.send(this.last);
      this.retransmitEvery(Math.min(intervalMs * 2, this.t.t2Ms));
    });
  }

  private terminate(): void {
    this.timers.stopAll();
    if (this.stateNow === 'terminated') return;
    this.stateNow = 'terminated';
    this.onEvent({ kind: 'terminated' });
  }
}
