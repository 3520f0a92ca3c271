// Client transactions (RFC 3261 section 17.1): the INVITE state machine of figure 5 (timers A,
// B, D) and the non-INVITE one of figure 6 (timers E, F, K). The transaction sends the request,
// retransmits it over unreliable transports, passes responses up once each (retransmitted
// finals are absorbed, answered with the ACK again for an INVITE's non-2xx), and reports a
// timeout. It is told responses already matched to it (transaction-keys.ts) and time through
// the injected clock: no sockets, no globals.
import type { SipRequest, SipResponse } from './message.js';
import { ackFor } from './responses.js';
import { DEFAULT_TIMERS, TimerSet, type TransactionIo, type TransactionTimers } from './transaction-timers.js';

export type ClientTransactionState = 'calling' | 'trying' | 'proceeding' | 'completed' | 'terminated';

export type ClientTransactionEvent =
  | { readonly kind: 'response'; readonly response: SipResponse }
  /** Timer B or F: no final response in 64*T1. */
  | { readonly kind: 'timeout' }
  | { readonly kind: 'terminated' };

export class ClientTransaction {
  private stateNow: ClientTransactionState;
  private readonly timers: TimerSet<'A' | 'B' | 'D' | 'E' | 'F' | 'K'>;
  private readonly t: TransactionTimers;
  private ack: SipRequest | null = null;
  /** Requests sent, the first included (retransmissions are the rest). */
  sends = 0;

  constructor(
    readonly request: SipRequest,
    private readonly io: TransactionIo,
    private readonly onEvent: (event: ClientTransactionEvent) => void,
  ) {
    if (request.method === 'ACK') throw new Error('ACK has no client transaction'); // a bug in the caller, not bad input
    this.t = io.timers ?? DEFAULT_TIMERS;
    this.timers = new TimerSet(io.clock);
    this.stateNow = this.isInvite ? 'calling' : 'trying';
  }

  get state(): ClientTransactionState {
    return this.stateNow;
  }

  private get isInvite(): boolean {
    return this.request.method === 'INVITE';
  }

  /** Sends the request and starts the timers. */
  start(): void {
    this.send();
    const timeout = () => this.timeout();
    if (this.isInvite) {
      if (!this.io.reliable) this.retransmitEvery('A', this.t.t1Ms, Infinity);
      this.timers.start('B', 64 * this.t.t1Ms, timeout);
    } else {
      if (!this.io.reliable) this.retransmitEvery('E', this.t.t1Ms, this.t.t2Ms);
      this.timers.start('F', 64 * this.t.t1Ms, timeout);
    }
  }

  /** A response matched to this transaction. */
  receive(response: SipResponse): void {
    if (this.stateNow === 'terminated') return;
    const provisional = response.status < 200;
    if (this.isInvite) {
      if (this.stateNow === 'completed') {
        if (!provisional && response.status >= 300 && this.ack) this.io.send(this.ack); // the ACK was lost: send it again
        return;
      }
      if (provisional) {
        this.timers.stop('A');
        this.timers.stop('B'); // from here the TU's own timer (Timer C) bounds the wait
        this.stateNow = 'proceeding';
        this.onEvent({ kind: 'response', response });
      } else if (response.status < 300) {
        // The TU acknowledges a 2xx itself, end to end (section 13.2.2.4).
        this.onEvent({ kind: 'response', response });
        this.terminate();
      } else {
        this.ack = ackFor(this.request, response);
        this.io.send(this.ack);
        this.timers.stopAll();
        this.stateNow = 'completed';
        this.onEvent({ kind: 'response', response });
        this.timers.startOrFire('D', this.io.reliable ? 0 : Math.max(32_000, 64 * this.t.t1Ms), () => this.terminate());
      }
      return;
    }
    if (this.stateNow === 'completed') return;
    if (provisional) {
      if (this.stateNow === 'trying') this.stateNow = 'proceeding'; // Timer E runs on, then at T2 intervals (section 17.1.2.2)
      this.onEvent({ kind: 'response', response });
      return;
    }
    this.timers.stopAll();
    this.stateNow = 'completed';
    this.onEvent({ kind: 'response', response });
    this.timers.startOrFire('K', this.io.reliable ? 0 : this.t.t4Ms, () => this.terminate());
  }

  /** Stops every timer without an event (the TU is going away). */
  close(): void {
    this.timers.stopAll();
    this.stateNow = 'terminated';
  }

  private send(): void {
    this.sends++;
    this.io.send(this.request);
  }

  private retransmitEvery(name: 'A' | 'E', intervalMs: number, capMs: number): void {
    this.timers.start(name, intervalMs, () => {
      this.send();
      this.retransmitEvery(name, this.stateNow === 'proceeding' ? this.t.t2Ms : Math.min(intervalMs * 2, capMs), capMs);
    });
  }

  private timeout(): void {
    this.onEvent({ kind: 'timeout' });
    this.terminate();
  }

  private terminate(): void {
    this.timers.stopAll();
    if (this.stateNow === 'terminated') return;
    this.stateNow = 'terminated';
    this.onEvent({ kind: 'terminated' });
  }
}
