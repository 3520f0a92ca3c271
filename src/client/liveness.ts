// Whether a client's supernode is still there, as the client can tell: pure (told what arrived
// and when, it says when to ping and when to give up), so it runs the same on real sockets, the
// virtual network and in the simulator.
//
// A crashed supernode (power cut, a partition: no FIN, no RST) says nothing; only silence tells.
// So:
// - anything the supernode sends (an answer, a delivery, a pong) is proof of life: a client in
//   use never pings, and a busy link costs no keep-alive bytes at all;
// - a link silent for IDLE_PROBE_MS gets one ping; the answer may take what the link's measured
//   round trips say (two RFC 6298 RTOs, within [MIN_PONG_WAIT_MS, MAX_PONG_WAIT_MS]), not a fixed
//   5 s, and no answer by then means the supernode is gone.
// A dead supernode is noticed within IDLE_PROBE_MS + the pong wait of its last sign of life: on
// average half the probe interval plus the wait (~4 s), at worst the interval plus the wait.
import { RttEstimator } from '../overlay/rtt.js';

/**
 * A link silent this long is probed. 7 s: a dead supernode is noticed after ~4 s on average
 * (3.5 s of the interval plus ~0.5 s of pong wait), 7.5 s at worst. The bytes this costs (a ping and a pong, ~120 B
 * on the wire with TCP/IP headers, per 7 s of silence) are paid for by the refresh answers, which
 * no longer carry a host-cache list the client threw away (supernode/client-service.ts): an idle
 * client's periodic traffic stays below what it was with pings every 25 s (docs/overlay.md).
 */
export const IDLE_PROBE_MS = 7_000;
/**
 * The least a pong is waited for, however short the round trips: a supernode's event loop and a
 * busy client sit between a ping and its pong (as for requests between supernodes,
 * overlay/rtt.ts). A false alarm costs a failover (a handshake and a record published again,
 * ~4 KB and ~200 ms); a queue on the client's uplink that grows by more than the measured
 * round trips allow (a large upload) can cause one.
 */
export const MIN_PONG_WAIT_MS = 500;
/** The most (and, until a round trip was timed, what the estimator's first guess allows). */
export const MAX_PONG_WAIT_MS = 5_000;

export type LivenessStep =
  /** Nothing to do before `atMs` (ask again then: something may have arrived meanwhile). */
  | { readonly kind: 'wait'; readonly atMs: number }
  /** Send a ping now (and say so with `pinged`). */
  | { readonly kind: 'ping' }
  /** The supernode is gone: no sign of life within the pong wait of a ping. */
  | { readonly kind: 'dead'; readonly reason: string };

export class SupernodeLiveness {
  private lastHeardMs: number;
  private probe: { readonly nonce: bigint; readonly sentMs: number } | null = null;
  /** Round trips of pings (timed from the ping to its own pong). */
  readonly rtt = new RttEstimator();

  constructor(
    nowMs: number,
    private readonly idleProbeMs = IDLE_PROBE_MS,
    /** A fixed pong wait (tests, and clients configured so); otherwise it follows the round trips. */
    private readonly fixedPongWaitMs?: number,
  ) {
    this.lastHeardMs = nowMs;
  }

  /**
   * Something arrived from the supernode at `atMs`: it is alive. Anything that came once a ping
   * was out answers the ping as well as its pong would (on one TCP link it left the supernode
   * after the ping's moment, or close to it).
   */
  heard(atMs: number): void {
    if (atMs > this.lastHeardMs) this.lastHeardMs = atMs;
    if (this.probe && atMs >= this.probe.sentMs) this.probe = null;
  }

  /** A pong: proof of life, and a round trip when it answers the ping outstanding. */
  pong(nonce: bigint, nowMs: number): void {
    if (this.probe && this.probe.nonce === nonce) this.rtt.sample(nowMs - this.probe.sentMs);
    this.heard(nowMs);
  }

  pinged(nonce: bigint, nowMs: number): void {
    this.probe = { nonce, sentMs: nowMs };
  }

  /** How long a pong may take: two RTOs of the pings timed so far, within the bounds. */
  get pongWaitMs(): number {
    if (this.fixedPongWaitMs !== undefined) return this.fixedPongWaitMs;
    // Before any ping was timed the estimator answers its cautious maximum (3 s).
    return Math.min(MAX_PONG_WAIT_MS, Math.max(MIN_PONG_WAIT_MS, this.rtt.giveUpMs()));
  }

  step(nowMs: number): LivenessStep {
    if (this.probe) {
      const deadlineMs = this.probe.sentMs + this.pongWaitMs;
      if (nowMs >= deadlineMs) return { kind: 'dead', reason: `no pong within ${Math.round(this.pongWaitMs)} ms` };
      return { kind: 'wait', atMs: deadlineMs };
    }
    const dueMs = this.lastHeardMs + this.idleProbeMs;
    return nowMs >= dueMs ? { kind: 'ping' } : { kind: 'wait', atMs: dueMs };
  }
}
