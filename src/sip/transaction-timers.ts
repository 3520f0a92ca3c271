// What a SIP transaction (RFC 3261 section 17) is given: the clock its timers run on, the
// transport to send through (the destination is fixed when the transaction is made), whether
// that transport is reliable (no retransmissions over TCP or TLS, section 17.1.1.2), and the
// timer bases of section 17.1.1.1 and table 4.
import type { Clock, Timer } from '../env/types.js';
import type { SipMessage } from './message.js';

export interface TransactionTimers {
  /** The round-trip estimate: 500 ms by default. */
  readonly t1Ms: number;
  /** The longest retransmission interval of non-INVITE requests and INVITE responses: 4 s. */
  readonly t2Ms: number;
  /** How long a message may stay in the network: 5 s. */
  readonly t4Ms: number;
}

export const DEFAULT_TIMERS: TransactionTimers = { t1Ms: 500, t2Ms: 4_000, t4Ms: 5_000 };

export interface TransactionIo {
  readonly clock: Clock;
  readonly send: (message: SipMessage) => void;
  /** TCP, TLS, SCTP: the transport retransmits, so the transaction does not. */
  readonly reliable: boolean;
  readonly timers?: TransactionTimers;
}

/** Named timers of one transaction, each cancelled on replacement and on close. */
export class TimerSet<Name extends string> {
  private readonly running = new Map<Name, Timer>();

  constructor(private readonly clock: Clock) {}

  start(name: Name, delayMs: number, fire: () => void): void {
    this.stop(name);
    this.running.set(name, this.clock.after(delayMs, () => {
      this.running.delete(name);
      fire();
    }));
  }

  /** As start, but a delay of 0 (a reliable transport's timers D, I, J and K) fires at once, not on a later turn. */
  startOrFire(name: Name, delayMs: number, fire: () => void): void {
    if (delayMs === 0) fire();
    else this.start(name, delayMs, fire);
  }

  stop(name: Name): void {
    this.running.get(name)?.cancel();
    this.running.delete(name);
  }

  stopAll(): void {
    for (const timer of this.running.values()) timer.cancel();
    this.running.clear();
  }

  get size(): number {
    return this.running.size;
  }
}
