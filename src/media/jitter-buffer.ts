// The adaptive jitter buffer: packets go in as they arrive (any order), and once per frame the
// player asks what to play. It plays a frame as late as it must and no later: it starts with the
// first packet, stretches by a frame (concealment, without moving on) when packets keep coming
// too late to be played (two in two seconds: a single hiccup is only concealed) or keep being
// lost with the next packet not yet there (one frame more lets its in-band FEC rebuild them), and shrinks by
// a frame when nine in ten packets of the last two seconds, and no late one, had more than a
// frame and a half to spare. No timers and no sockets: the caller says what time it is.

/** What to play for one frame. */
export type Playout =
  | { readonly kind: 'packet'; readonly payload: Uint8Array }
  /** Lost, but the next packet is here: rebuild it from that packet's in-band FEC. */
  | { readonly kind: 'fec'; readonly next: Uint8Array }
  /** Lost (or a stretch): the decoder conceals. */
  | { readonly kind: 'conceal' }
  /** Nothing to play (not started, or the sender went quiet: held). */
  | { readonly kind: 'silence' };

export type InsertOutcome = 'queued' | 'late' | 'duplicate' | 'too_far';

export interface JitterBufferOptions {
  readonly frameSamples: number;
  readonly samplesPerMs: number;
  /** The most the buffer may hold back, in ms (default 200). */
  readonly maxDelayMs?: number;
}

const WINDOW_MS = 2_000;
/** After this many frames with nothing to play, the sender is taken to be quiet (on hold): silence, then a fresh start. */
const QUIET_FRAMES = 10;

export interface JitterStats {
  received: number;
  late: number;
  duplicate: number;
  concealed: number;
  recovered: number;
  stretched: number;
  shrunk: number;
  /** Frames dropped to catch up after a burst. */
  dropped: number;
}

export class JitterBuffer {
  private readonly packets = new Map<number, Uint8Array>();
  private lastTimestamp32 = 0;
  private lastExtended: number | null = null;
  /** The timestamp of the next frame to play; null until playing. */
  private playTs: number | null = null;
  private pendingStretch = 0;
  private missingInARow = 0;
  /** (time, ms of spare time it arrived with), for shrinking. */
  private readonly spare: { atMs: number; spareMs: number }[] = [];
  private lastShrinkMs = -Infinity;
  /** When packets came too late, in the last WINDOW_MS. */
  private readonly lateAt: number[] = [];
  /** When frames had to be concealed, in the last WINDOW_MS. */
  private readonly concealedAt: number[] = [];
  readonly stats: JitterStats = { received: 0, late: 0, duplicate: 0, concealed: 0, recovered: 0, stretched: 0, shrunk: 0, dropped: 0 };
  private readonly maxPackets: number;
  private readonly frameMs: number;

  constructor(private readonly options: JitterBufferOptions) {
    this.frameMs = options.frameSamples / options.samplesPerMs;
    this.maxPackets = Math.ceil((options.maxDelayMs ?? 200) / this.frameMs) * 2 + 4;
  }

  /** How much audio is waiting to be played, in ms (the buffer's current delay). */
  get bufferedMs(): number {
    if (this.playTs === null) return 0;
    let newest = this.playTs;
    for (const ts of this.packets.keys()) newest = Math.max(newest, ts + this.options.frameSamples);
    return (newest - this.playTs) / this.options.samplesPerMs;
  }

  get playing(): boolean {
    return this.playTs !== null;
  }

  /** A 32-bit RTP timestamp as a number that keeps rising across wraps. */
  private extend(timestamp: number): number {
    if (this.lastExtended === null) {
      this.lastExtended = timestamp;
      this.lastTimestamp32 = timestamp;
      return timestamp;
    }
    const delta = ((timestamp - this.lastTimestamp32 + 2 ** 31) % 2 ** 32 + 2 ** 32) % 2 ** 32 - 2 ** 31;
    const extended = this.lastExtended + delta;
    if (delta > 0) {
      this.lastExtended = extended;
      this.lastTimestamp32 = timestamp;
    }
    return extended;
  }

  insert(timestamp: number, payload: Uint8Array, nowMs: number): InsertOutcome {
    const ts = this.extend(timestamp);
    if (this.playTs !== null) {
      const aheadMs = (ts - this.playTs) / this.options.samplesPerMs;
      if (aheadMs < 0) {
        this.stats.late++;
        this.lateAt.push(nowMs);
        while (this.lateAt[0]! < nowMs - WINDOW_MS) this.lateAt.shift();
        // Late again: hold back one more frame from now on.
        if (this.lateAt.length >= 2 && aheadMs > -4 * this.frameMs && this.bufferedMs + this.frameMs <= (this.options.maxDelayMs ?? 200)) this.pendingStretch = 1;
        return 'late';
      }
      if (aheadMs > 2 * (this.options.maxDelayMs ?? 200)) {
        // The sender's clock jumped (a long hold, a restart): start again from this packet.
        this.restart();
      } else {
        this.spare.push({ atMs: nowMs, spareMs: aheadMs });
      }
    }
    if (this.packets.has(ts)) {
      this.stats.duplicate++;
      return 'duplicate';
    }
    if (this.packets.size >= this.maxPackets) return 'too_far';
    this.packets.set(ts, payload);
    this.stats.received++;
    return 'queued';
  }

  private restart(): void {
    this.packets.clear();
    this.playTs = null;
    this.spare.length = 0;
  }

  /** What to play for the frame that starts now. */
  next(nowMs: number): Playout {
    if (this.playTs === null) {
      // Start with the oldest packet; it is played now, so the buffer starts one frame deep.
      if (this.packets.size === 0) return { kind: 'silence' };
      this.playTs = Math.min(...this.packets.keys());
      this.missingInARow = 0;
    }
    if (this.pendingStretch > 0) {
      this.pendingStretch--;
      this.stats.stretched++;
      return { kind: 'conceal' };
    }
    this.maybeShrink(nowMs);
    this.catchUp();
    const ts = this.playTs!;
    this.playTs += this.options.frameSamples;
    for (const old of this.packets.keys()) if (old < ts) this.packets.delete(old);
    const payload = this.packets.get(ts);
    if (payload) {
      this.packets.delete(ts);
      this.missingInARow = 0;
      return { kind: 'packet', payload };
    }
    this.missingInARow++;
    if (this.missingInARow > QUIET_FRAMES) {
      // Quiet for a while (on hold): play silence, and begin afresh with the next packet.
      if (this.packets.size === 0) this.playTs = null;
      return { kind: 'silence' };
    }
    const next = this.packets.get(ts + this.options.frameSamples);
    if (next) {
      this.stats.recovered++;
      return { kind: 'fec', next };
    }
    this.stats.concealed++;
    // Losses keep coming and the next packet is never here in time for its FEC: hold one more frame.
    this.concealedAt.push(nowMs);
    while (this.concealedAt[0]! < nowMs - WINDOW_MS) this.concealedAt.shift();
    if (this.concealedAt.length >= 2 && this.bufferedMs < this.frameMs && this.bufferedMs + this.frameMs <= (this.options.maxDelayMs ?? 200)) {
      this.pendingStretch = 1;
      this.concealedAt.length = 0;
    }
    return { kind: 'conceal' };
  }

  /**
   * More than the most it may hold (a stalled sender or network sent a burst): what is that old
   * is stale for a conversation, so frames are dropped at once down to half the most.
   */
  private catchUp(): void {
    const max = this.options.maxDelayMs ?? 200;
    if (this.playTs === null || this.bufferedMs <= max) return;
    const keepMs = Math.max(2 * this.frameMs, max / 2);
    while (this.bufferedMs > keepMs) {
      this.packets.delete(this.playTs!);
      this.playTs! += this.options.frameSamples;
      this.stats.dropped++;
    }
    this.spare.length = 0;
  }

  /** A frame less when the last two seconds never needed it. */
  private maybeShrink(nowMs: number): void {
    while (this.spare.length > 0 && this.spare[0]!.atMs < nowMs - WINDOW_MS) this.spare.shift();
    if (this.spare.length < WINDOW_MS / this.frameMs / 2 || nowMs - this.lastShrinkMs < WINDOW_MS) return;
    while (this.lateAt.length > 0 && this.lateAt[0]! < nowMs - WINDOW_MS) this.lateAt.shift();
    const sorted = this.spare.map((s) => s.spareMs).sort((a, b) => a - b);
    const spare = sorted[Math.floor(sorted.length / 10)]!;
    if (this.lateAt.length > 0 || spare < 1.5 * this.frameMs || this.playTs === null || !this.packets.has(this.playTs + this.options.frameSamples)) return;
    // Skip one frame: every later packet is played a frame sooner.
    this.packets.delete(this.playTs);
    this.playTs += this.options.frameSamples;
    this.lastShrinkMs = nowMs;
    this.stats.shrunk++;
    for (const s of this.spare) s.spareMs -= this.frameMs;
  }
}
