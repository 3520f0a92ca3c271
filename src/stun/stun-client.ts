// STUN transactions from one UDP socket: requests with retransmission (RFC 8489 section 6.2.1,
// with a shorter first timeout because Parley talks to supernodes a few tens of ms away),
// answers matched by transaction id. Answers that match nothing are counted and dropped.
import type { Clock, Endpoint, Random, Timer, UdpSocket } from '../env/types.js';
import { err, ok, type Result } from '../result.js';
import { StunClass, StunMethod, decodeStun, encodeStun, looksLikeStun, type DecodedStun, type StunAttribute } from './stun.js';
import { toHex } from '../crypto/bytes.js';

export interface StunAnswer {
  readonly message: DecodedStun;
  /** Where the answer came from (RFC 5780 tests look at this). */
  readonly from: Endpoint;
  /** From the first send to the answer. */
  readonly rttMs: number;
}

export interface RequestOptions {
  /** The first retransmission timeout; it doubles after each send. */
  readonly rtoMs?: number;
  /** Sends in all, the first included. */
  readonly attempts?: number;
  /** Gives up this long after the first send, whatever the attempts. */
  readonly deadlineMs?: number;
  /** Binding unless given (TURN's Allocate, Refresh, CreatePermission, ChannelBind). */
  readonly method?: number;
  /** Adds MESSAGE-INTEGRITY with this key. */
  readonly integrityKey?: Uint8Array;
}

interface Pending {
  readonly startedMs: number;
  readonly resolve: (answer: Result<StunAnswer, { code: 'timeout' }>) => void;
  timer: Timer | null;
  deadline: Timer | null;
}

export class StunTransactions {
  private readonly pending = new Map<string, Pending>();
  /** Datagrams that were not an answer to a request of ours. */
  stray = 0;

  constructor(
    readonly socket: UdpSocket,
    private readonly clock: Clock,
    private readonly random: Random,
    /** Datagrams that are not STUN answers go here (the same socket may carry other protocols), with the STUN message when they are one. */
    private readonly other: (bytes: Uint8Array, from: Endpoint, message?: DecodedStun) => void = () => {},
  ) {
    socket.onMessage((bytes, from) => this.receive(bytes, from));
  }

  /**
   * Sends a request until answered or given up. `attributes` may depend on the transaction id
   * (an XORed IPv6 address is XORed with it): then they are a function of it.
   */
  request(to: Endpoint, attributes: StunAttribute[] | ((transactionId: Uint8Array) => StunAttribute[]) = [], options: RequestOptions = {}): Promise<Result<StunAnswer, { code: 'timeout' }>> {
    const transactionId = this.random.bytes(12);
    const listed = typeof attributes === 'function' ? attributes(transactionId) : attributes;
    const bytes = encodeStun({ method: options.method ?? StunMethod.BINDING, cls: StunClass.REQUEST, transactionId, attributes: listed, classic: false }, { fingerprint: true, ...(options.integrityKey ? { integrityKey: options.integrityKey } : {}) });
    const key = toHex(transactionId);
    const attempts = options.attempts ?? 7;
    let rto = options.rtoMs ?? 100;
    return new Promise((resolve) => {
      const entry: Pending = {
        startedMs: this.clock.now(),
        resolve: (answer) => {
          entry.timer?.cancel();
          entry.deadline?.cancel();
          this.pending.delete(key);
          resolve(answer);
        },
        timer: null,
        deadline: null,
      };
      this.pending.set(key, entry);
      let sent = 0;
      const send = () => {
        sent++;
        this.socket.send(bytes.slice(), to);
        // After the last send, one more timeout to wait for its answer.
        entry.timer = this.clock.after(rto, sent < attempts ? send : () => entry.resolve(err({ code: 'timeout' })));
        rto *= 2;
      };
      send();
      if (options.deadlineMs !== undefined) entry.deadline = this.clock.after(options.deadlineMs, () => entry.resolve(err({ code: 'timeout' })));
    });
  }

  private receive(bytes: Uint8Array, from: Endpoint): void {
    if (!looksLikeStun(bytes)) return this.other(bytes, from);
    const decoded = decodeStun(bytes);
    if (!decoded.ok) return this.other(bytes, from);
    if (decoded.value.cls !== StunClass.SUCCESS && decoded.value.cls !== StunClass.ERROR) return this.other(bytes, from, decoded.value);
    const entry = this.pending.get(toHex(decoded.value.transactionId));
    if (!entry) {
      this.stray++;
      return;
    }
    entry.resolve(ok({ message: decoded.value, from, rttMs: this.clock.now() - entry.startedMs }));
  }

  /** Gives up every request in flight. */
  close(): void {
    for (const entry of [...this.pending.values()]) entry.resolve(err({ code: 'timeout' }));
  }
}
