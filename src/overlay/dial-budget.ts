// The connections a supernode opens to other supernodes, bounded (issue 19, item 11).
//
// Threat: the overlay must not become a tool that connects wherever a peer names. Before, a
// device could sign a presence record naming any host:port as its supernode, and every routed
// message to that user made supernodes dial there (80 connections to 127.0.0.1 from 40
// messages). What closes it, in three parts (this module is the third):
//  1. A record's supernode address is never dialed. Routing resolves the record's supernode *key*
//     (supernode.ts checked at attach that the record names the supernode it attached to): an
//     open link to that key, else the routing table's contact with that key (the table only
//     holds contacts that answered over a link authenticated with their key, configured
//     seeds, and senders whose key and host their own link proved), else a DHT lookup of the
//     key's node id, which finds the node only if the supernodes near it know it. Unknown keys
//     are remembered as unknown for a while, so a user naming a made-up key costs one lookup per
//     hold, not one per message (dht.ts).
//  2. Every dial names the key it expects: the Noise IK handshake fails unless the listener
//     holds that key, and the link is dropped unless its certificate is a supernode's.
//  3. This budget: dials in flight at once, in total and per destination host; an address whose
//     dial failed is not dialed again for a while. Each refusal is counted by reason.
// What remains: a supernode certificate holder (a promoted user's machine) can still put
// addresses into lookup answers; those dials go through this budget and its failure hold.
// Pure: told the time, no timers.
import { err, ok, type Result } from '../result.js';

/** Dials in flight at once (connect + handshake, ≤ 6 s each): enough for lookups and routes of a busy supernode. */
export const MAX_DIALS_IN_FLIGHT = 64;
/** Dials in flight at once to one host, whatever port or key: several supernodes may share a host, not hundreds. */
export const MAX_DIALS_IN_FLIGHT_PER_HOST = 4;
/** An address whose dial failed is not dialed again for this long. */
export const FAILED_DIAL_HOLD_MS = 10_000;
/** Failed addresses remembered at most (the oldest is forgotten first). */
export const MAX_REMEMBERED_FAILED_DIALS = 4096;

export type DialRefusal = 'in_flight_total' | 'in_flight_per_host' | 'failed_recently';

export interface DialTicket {
  /** The dial ended; a failed one holds its address back for FAILED_DIAL_HOLD_MS. Idempotent. */
  end(succeeded: boolean, nowMs: number): void;
}

export class DialBudget {
  private inFlight = 0;
  private readonly perHost = new Map<string, number>();
  /** host:port → until when it is not dialed (insertion order: oldest first). */
  private readonly failed = new Map<string, number>();
  /** Dials started, and refused by reason (for metrics). */
  dials = 0;
  readonly refused: Record<DialRefusal, number> = { in_flight_total: 0, in_flight_per_host: 0, failed_recently: 0 };

  constructor(
    private readonly maxInFlight = MAX_DIALS_IN_FLIGHT,
    private readonly maxInFlightPerHost = MAX_DIALS_IN_FLIGHT_PER_HOST,
    private readonly failedHoldMs = FAILED_DIAL_HOLD_MS,
    private readonly maxRemembered = MAX_REMEMBERED_FAILED_DIALS,
  ) {}

  /** A ticket to dial host:port now, or why not. */
  begin(host: string, port: number, nowMs: number): Result<DialTicket, DialRefusal> {
    const address = `${host}:${port}`;
    const heldUntil = this.failed.get(address);
    if (heldUntil !== undefined) {
      if (heldUntil > nowMs) return this.refuse('failed_recently');
      this.failed.delete(address);
    }
    if (this.inFlight >= this.maxInFlight) return this.refuse('in_flight_total');
    const onHost = this.perHost.get(host) ?? 0;
    if (onHost >= this.maxInFlightPerHost) return this.refuse('in_flight_per_host');
    this.inFlight++;
    this.perHost.set(host, onHost + 1);
    this.dials++;
    let open = true;
    return ok({
      end: (succeeded, endMs) => {
        if (!open) return;
        open = false;
        this.inFlight--;
        const left = (this.perHost.get(host) ?? 1) - 1;
        if (left > 0) this.perHost.set(host, left);
        else this.perHost.delete(host);
        if (succeeded) this.failed.delete(address);
        else this.holdBack(address, endMs + this.failedHoldMs);
      },
    });
  }

  /** Dials in flight now. */
  get dialsInFlight(): number {
    return this.inFlight;
  }

  private holdBack(address: string, untilMs: number): void {
    this.failed.delete(address);
    if (this.failed.size >= this.maxRemembered) this.failed.delete(this.failed.keys().next().value!);
    this.failed.set(address, untilMs);
  }

  private refuse(reason: DialRefusal): Result<never, DialRefusal> {
    this.refused[reason]++;
    return err(reason);
  }
}
