// A reliable, ordered stream of payloads from one device to another over frames that may be
// lost, repeated or reordered (routed signalling): sequence numbers, cumulative
// acknowledgements, retransmission with backoff, a bounded window and reorder buffer. Pure: the
// caller gives the time, sends the frames and runs the timer.
import { create } from '@bufbuild/protobuf';
import { E2eStreamFrameSchema, E2eStreamItemSchema, type E2eStreamFrame } from '../wire/messages.js';

/** Items in flight (sent, not yet acknowledged) per device pair. */
export const STREAM_WINDOW = 512;
/** Payload bytes packed into one frame (a routed payload carries at most 16 KiB). */
export const MAX_FRAME_PAYLOAD_BYTES = 12 * 1024;
/** Items waiting to be sent or acknowledged per device pair; beyond, `enqueue` refuses. */
export const MAX_QUEUED_ITEMS = 20_000;
/** Items held out of order per device pair, waiting for a gap to fill. */
export const MAX_EARLY_ITEMS = 2048;
/**
 * Their bytes (a peer could otherwise make us hold 2 048 items of 16 KiB behind one gap it never
 * fills). What does not fit is dropped unacknowledged and comes again with the sender's retries;
 * the item that fills the gap always fits, so the stream never stalls on it.
 */
export const MAX_EARLY_BYTES = 1024 * 1024;
export const FIRST_RETRY_MS = 1_000;
export const MAX_RETRY_MS = 30_000;

interface Outgoing {
  readonly seq: number;
  readonly payload: Uint8Array;
  sentAtMs: number | null;
  attempts: number;
  /** Called once the peer acknowledged the item (to forget a copy kept elsewhere). */
  readonly acknowledged: (() => void) | undefined;
}

export class DeviceStream {
  private nextSeq = 1;
  private readonly outgoing: Outgoing[] = [];
  /** Everything up to here arrived (contiguously). */
  private received = 0;
  private readonly early = new Map<number, Uint8Array>();
  private earlyBytes = 0;
  private ackOwed = false;
  /** The peer's stream we are receiving (its epoch); 0 before its first frame. */
  private remoteEpoch = 0n;

  /**
   * `epoch` names this sending stream: greater than any earlier one from this device (the
   * start time, say), so a peer that kept the old stream's state resets when it sees the new.
   */
  constructor(readonly epoch: bigint) {}

  get pending(): number {
    return this.outgoing.length;
  }

  /** How often the oldest unacknowledged item was sent (0 when none is outstanding). */
  get oldestAttempts(): number {
    return this.outgoing[0]?.attempts ?? 0;
  }

  /** Whether the peer should hear our acknowledgement soon. */
  get owesAck(): boolean {
    return this.ackOwed;
  }

  /** Queues a payload; false when the queue is full (the peer is not acknowledging). `acknowledged` runs once the peer has it. */
  enqueue(payload: Uint8Array, acknowledged?: () => void): boolean {
    if (this.outgoing.length >= MAX_QUEUED_ITEMS) return false;
    this.outgoing.push({ seq: this.nextSeq++, payload, sentAtMs: null, attempts: 0, acknowledged });
    return true;
  }

  private retryAfterMs(item: Outgoing): number {
    return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, item.attempts - 1));
  }

  private due(item: Outgoing, nowMs: number): boolean {
    return item.sentAtMs === null || nowMs - item.sentAtMs >= this.retryAfterMs(item);
  }

  /** The next frame to send now: due items within the window, and our acknowledgement; null when there is nothing. */
  nextFrame(nowMs: number): E2eStreamFrame | null {
    const items = [];
    let bytes = 0;
    const window = Math.min(this.outgoing.length, STREAM_WINDOW);
    for (let i = 0; i < window; i++) {
      const item = this.outgoing[i]!;
      if (!this.due(item, nowMs)) continue;
      if (items.length > 0 && bytes + item.payload.byteLength > MAX_FRAME_PAYLOAD_BYTES) break;
      item.sentAtMs = nowMs;
      item.attempts++;
      bytes += item.payload.byteLength;
      items.push(create(E2eStreamItemSchema, { seq: BigInt(item.seq), payload: item.payload }));
    }
    if (items.length === 0 && !this.ackOwed) return null;
    this.ackOwed = false;
    const base = this.outgoing[0]?.seq ?? this.nextSeq;
    return create(E2eStreamFrameSchema, { items, ack: BigInt(this.received), base: BigInt(base), epoch: this.epoch, ackEpoch: this.remoteEpoch });
  }

  /** When the earliest retransmission falls due (null: nothing in flight). */
  nextDueMs(): number | null {
    let earliest: number | null = null;
    const window = Math.min(this.outgoing.length, STREAM_WINDOW);
    for (let i = 0; i < window; i++) {
      const item = this.outgoing[i]!;
      const at = item.sentAtMs === null ? 0 : item.sentAtMs + this.retryAfterMs(item);
      if (earliest === null || at < earliest) earliest = at;
    }
    return earliest;
  }

  /** Takes a frame from the peer; returns the payloads that are now in order, each once. */
  receive(frame: E2eStreamFrame): Uint8Array[] {
    // An acknowledgement of an earlier stream of ours (before a restart) says nothing of this one.
    if (frame.ackEpoch === this.epoch) {
      const acked = Number(frame.ack);
      let done = 0;
      while (done < this.outgoing.length && this.outgoing[done]!.seq <= acked) done++;
      if (done > 0) for (const item of this.outgoing.splice(0, done)) item.acknowledged?.();
    }
    if (frame.epoch < this.remoteEpoch) return []; // a late frame of the peer's previous stream
    if (frame.epoch > this.remoteEpoch) {
      // The peer restarted its stream: its sequence numbers start again.
      this.remoteEpoch = frame.epoch;
      this.received = 0;
      this.early.clear();
      this.earlyBytes = 0;
    }
    // A peer that lost its state learns where the stream stands from our base; we learn it from theirs.
    const base = Number(frame.base);
    if (base - 1 > this.received) {
      for (const [seq, payload] of this.early) if (seq < base) this.forgetEarly(seq, payload);
      this.received = base - 1;
    }
    const delivered: Uint8Array[] = [];
    for (const item of frame.items) {
      const seq = Number(item.seq);
      this.ackOwed = true; // repeats too: our earlier acknowledgement may have been lost
      if (seq <= this.received || this.early.has(seq)) continue;
      if (seq > this.received + MAX_EARLY_ITEMS) continue; // too far ahead: it will be sent again
      if (seq !== this.received + 1 && this.earlyBytes + item.payload.byteLength > MAX_EARLY_BYTES) continue; // no room: it will be sent again
      this.early.set(seq, item.payload);
      this.earlyBytes += item.payload.byteLength;
    }
    for (let next = this.early.get(this.received + 1); next !== undefined; next = this.early.get(this.received + 1)) {
      this.forgetEarly(this.received + 1, next);
      this.received++;
      delivered.push(next);
    }
    return delivered;
  }

  /** Bytes held out of order, waiting for a gap to fill (at most MAX_EARLY_BYTES, plus the item that fills it). */
  get heldOutOfOrderBytes(): number {
    return this.earlyBytes;
  }

  private forgetEarly(seq: number, payload: Uint8Array): void {
    this.early.delete(seq);
    this.earlyBytes -= payload.byteLength;
  }
}
