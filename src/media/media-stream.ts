// One call's audio over one datagram path: the sender takes a frame from its source every frame
// time, encodes it with Opus, wraps it in RTP and SRTP and sends it (silence too: no silence
// suppression, so NAT bindings and the jitter estimate stay alive; on hold, one packet every 3 s);
// the receiver checks and decrypts what arrives, queues it in the adaptive jitter buffer and,
// once per frame, plays a decoded, FEC-rebuilt or concealed frame into its sink. Clock and path
// are injected: the same code runs on the virtual network and on real sockets.
import type { Clock, Random, Timer } from '../env/types.js';
import { every } from '../env/every.js';
import { decodeRtp, encodeRtp, OPUS_PAYLOAD_TYPE } from '../rtp/rtp.js';
import { SrtpReceiver, SrtpSender } from '../rtp/srtp.js';
import { JitterBuffer, type JitterStats } from './jitter-buffer.js';
import { OpusDecoder, OpusEncoder, SAMPLES_PER_MS, type FrameMs } from './opus.js';

/** Where datagrams go and come from (an ICE path, or a plain socket). */
export interface DatagramPath {
  send(bytes: Uint8Array): void;
}

/** Audio to send: `read` gives the next `samples` samples (48 kHz mono), silence when there is none. */
export interface AudioSource {
  read(samples: number): Int16Array;
}

/** Where played audio goes: `write` is called once per frame with the time the frame starts playing. */
export interface AudioSink {
  write(atMs: number, samples: Int16Array): void;
}

export interface SrtpKey {
  readonly key: Uint8Array;
  readonly salt: Uint8Array;
}

export const HOLD_INTERVAL_MS = 3_000;
/** 24 kbit/s: Opus wideband speech at full quality, within the seed's 5 KB/s with headers. */
export const DEFAULT_BITRATE = 24_000;

export interface SenderStats {
  packets: number;
  /** Frames not sent because the event loop was busy for longer than SENDER_MAX_CATCH_UP_MS. */
  skippedFrames: number;
  bytes: number;
  payloadBytes: number;
}

const NO_CSRCS: readonly number[] = [];

/**
 * A busy event loop (a stall at a call's start measured 105-270 ms) holds the sender's ticks
 * back; when it runs again the sender sends every frame that was due, at once, and the
 * receiver's buffer absorbs the burst. Frames older than this are skipped: the receiver would
 * drop them as stale anyway (its most is DEFAULT_MAX_DELAY_MS).
 */
export const SENDER_MAX_CATCH_UP_MS = 500;
/** The same bound for the player: ticks later than this are skipped, and the jitter buffer drops what went stale. */
export const RECEIVER_MAX_CATCH_UP_MS = 500;

export class MediaSender {
  private readonly encoder: OpusEncoder;
  private readonly srtp: SrtpSender;
  private readonly streamSsrc: number;
  private sequence: number;
  private timestamp: number;
  private ticker: Timer | null = null;
  private held = false;
  private muted = false;
  private lastHoldPacketMs = -Infinity;
  /** Packets and SRTP bytes sent; `payloadBytes` counts Opus bytes (RTCP's octet count). */
  readonly stats: SenderStats = { packets: 0, skippedFrames: 0, bytes: 0, payloadBytes: 0 };
  readonly frameSamples: number;

  constructor(
    private readonly clock: Clock,
    random: Random,
    private readonly path: DatagramPath,
    key: SrtpKey,
    private readonly source: AudioSource,
    readonly options: {
      readonly frameMs: FrameMs;
      readonly bitrate?: number;
      /** A mixer's: the sources (CSRCs, RFC 3550 6.1) in the frame it sends now, so receivers know who speaks. */
      readonly contributors?: () => readonly number[];
    } = { frameMs: 20 },
  ) {
    this.encoder = new OpusEncoder({ frameMs: options.frameMs, bitrate: options.bitrate ?? DEFAULT_BITRATE });
    this.frameSamples = this.encoder.frameSamples;
    this.srtp = new SrtpSender(key.key, key.salt);
    // Random SSRC, sequence and timestamp starts (RFC 3550 5.1): nothing to guess from them.
    const bytes = random.bytes(10);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.streamSsrc = view.getUint32(0);
    this.sequence = view.getUint16(4);
    this.timestamp = view.getUint32(6);
  }

  get bitrate(): number {
    return this.encoder.bitrate;
  }

  /** This stream's SSRC and what a sender report says about it now. */
  get ssrc(): number {
    return this.streamSsrc;
  }

  /** The RTP timestamp that goes with now (the next frame's), for sender reports. */
  get rtpTimestamp(): number {
    return this.timestamp;
  }

  /** Starts capturing now: the first frame is sent one frame time later, when it has been captured. */
  start(): void {
    if (this.ticker) return;
    this.ticker = every(this.clock, this.options.frameMs, this.clock.now() + this.options.frameMs, (_at, skipped) => this.tick(skipped), { maxCatchUpMs: SENDER_MAX_CATCH_UP_MS });
  }

  private tick(skipped: number): void {
    if (skipped > 0) {
      // Too far behind to be worth sending: skip those frames, keeping the source and the RTP
      // timestamps in real time (the receiver sees a jump in time, not a loss).
      this.source.read(skipped * this.frameSamples);
      this.timestamp = (this.timestamp + skipped * this.frameSamples) >>> 0;
      this.stats.skippedFrames += skipped;
    }
    this.send(this.source.read(this.frameSamples));
  }

  /**
   * Encodes and sends one frame now. The sender's own ticker calls it with what the source
   * captured; a mixer that runs its own frame clock calls it with each mix the moment it is
   * made (a second ticker would add up to a frame of waiting).
   */
  send(frame: Int16Array): void {
    const timestamp = this.nextTimestamp();
    if (timestamp !== null) this.packetize(timestamp, this.encoder.encode(this.held || this.muted ? new Int16Array(this.frameSamples) : frame));
  }

  /** Sends one frame another encoder made: a mixer's mix that several receivers hear alike, encoded once. */
  sendEncoded(payload: Uint8Array): void {
    const timestamp = this.nextTimestamp();
    if (timestamp !== null) this.packetize(timestamp, payload);
  }

  /** This frame's RTP timestamp, or null when on hold and no keep-alive packet is due. */
  private nextTimestamp(): number | null {
    const nowMs = this.clock.now();
    const timestamp = this.timestamp;
    this.timestamp = (this.timestamp + this.frameSamples) >>> 0;
    if (this.held) {
      if (nowMs - this.lastHoldPacketMs < HOLD_INTERVAL_MS) return null;
      this.lastHoldPacketMs = nowMs;
    }
    return timestamp;
  }

  private packetize(timestamp: number, payload: Uint8Array): void {
    const packet = this.srtp.protect(encodeRtp({ marker: false, payloadType: OPUS_PAYLOAD_TYPE, sequence: this.sequence, timestamp, ssrc: this.streamSsrc, payload, csrcs: this.options.contributors?.() ?? NO_CSRCS }));
    this.sequence = (this.sequence + 1) & 0xffff;
    this.stats.packets++;
    this.stats.bytes += packet.length;
    this.stats.payloadBytes += payload.length;
    this.path.send(packet);
  }

  /** On hold: one (silent) packet every 3 s keeps the path and its NAT bindings open. */
  hold(on: boolean): void {
    this.held = on;
    this.lastHoldPacketMs = -Infinity;
  }

  mute(on: boolean): void {
    this.muted = on;
  }

  setBitrate(bitsPerSecond: number): void {
    this.encoder.setBitrate(bitsPerSecond);
  }

  setExpectedLoss(percent: number): void {
    this.encoder.setExpectedLoss(percent);
  }

  stop(): void {
    this.ticker?.cancel();
    this.ticker = null;
    this.encoder.close();
  }
}

export interface ReceiverStats {
  /** Datagrams refused, by reason (SRTP tag, replay, malformed RTP, wrong payload type). */
  readonly refused: Map<string, number>;
  readonly jitter: JitterStats;
  /** RFC 3550 interarrival jitter, in ms. */
  jitterMs: number;
  played: number;
  /** Player ticks skipped because the event loop was busy for longer than RECEIVER_MAX_CATCH_UP_MS. */
  skippedFrames: number;
}

/** What became of the packets of the stream this receiver plays, so far. */
export interface ReceptionCounts {
  /** Packets the sequence numbers say were sent, from the first one seen to the highest. */
  readonly expected: number;
  /** Never arrived (RFC 3550's cumulative loss): the network's loss. */
  readonly lost: number;
  /** Arrived after their frame was played (or was dropped to catch up). */
  readonly late: number;
}

/**
 * Between the first packet's arrival and the tick that plays it: packets that follow a little
 * late (timers, the network) still make their tick. A quarter of a frame.
 */
const PLAYOUT_GUARD_FRACTION = 0.25;

export class MediaReceiver {
  private readonly decoder = new OpusDecoder();
  private readonly srtp: SrtpReceiver;
  private readonly buffer: JitterBuffer;
  private readonly frameSamples: number;
  private ticker: Timer | null = null;
  private lastTransit: number | null = null;
  private reception: { ssrc: number; base: number; cycles: number; max: number; received: number; expectedPrior: number; receivedPrior: number } | null = null;
  private jitter = 0;
  private stopped = false;
  private started = false;
  readonly stats: ReceiverStats;
  /** The contributing sources (CSRCs) of the latest packet: from a mixer, who speaks in what it sends. */
  contributors: readonly number[] = [];

  constructor(
    private readonly clock: Clock,
    key: SrtpKey,
    private readonly sink: AudioSink,
    readonly options: {
      readonly frameMs: FrameMs;
      readonly maxDelayMs?: number;
      /** Played on someone else's frame clock (`pull`), not its own ticker: a mixer's, so every input is ready at its tick. */
      readonly pulled?: boolean;
    } = { frameMs: 20 },
  ) {
    this.frameSamples = options.frameMs * SAMPLES_PER_MS;
    this.srtp = new SrtpReceiver(key.key, key.salt);
    this.buffer = new JitterBuffer({ frameSamples: this.frameSamples, samplesPerMs: SAMPLES_PER_MS, ...(options.maxDelayMs ? { maxDelayMs: options.maxDelayMs } : {}) });
    this.stats = { refused: new Map(), jitter: this.buffer.stats, jitterMs: 0, played: 0, skippedFrames: 0 };
  }

  /** The jitter buffer's current delay, in ms. */
  get bufferedMs(): number {
    return this.buffer.bufferedMs;
  }

  private refuse(reason: string): void {
    this.stats.refused.set(reason, (this.stats.refused.get(reason) ?? 0) + 1);
  }

  /** A datagram from the path. Anything that is not an authentic Opus RTP packet of this call is counted and dropped. */
  receive(bytes: Uint8Array): void {
    if (this.stopped) return;
    const plain = this.srtp.unprotect(bytes);
    if (!plain.ok) return this.refuse(plain.error.code);
    const rtp = decodeRtp(plain.value);
    if (!rtp.ok) return this.refuse(rtp.error.code);
    if (rtp.value.payloadType !== OPUS_PAYLOAD_TYPE) return this.refuse('unknown_payload_type');
    this.contributors = rtp.value.csrcs;
    const nowMs = this.clock.now();
    this.countSequence(rtp.value.ssrc, rtp.value.sequence);
    // RFC 3550 A.8: the interarrival jitter, in timestamp units then ms.
    const transit = nowMs * SAMPLES_PER_MS - rtp.value.timestamp;
    if (this.lastTransit !== null) {
      const d = Math.abs(transit - this.lastTransit);
      if (d < 2 ** 31) this.jitter += (d - this.jitter) / 16;
    }
    this.lastTransit = transit;
    this.stats.jitterMs = this.jitter / SAMPLES_PER_MS;
    this.buffer.insert(rtp.value.timestamp, rtp.value.payload, nowMs);
    this.started = true;
    // The first packet starts the playout clock, in phase with the packets.
    if (!this.ticker && !this.options.pulled) {
      this.ticker = every(this.clock, this.options.frameMs, nowMs + this.options.frameMs * PLAYOUT_GUARD_FRACTION, (at, skipped) => {
        this.stats.skippedFrames += skipped;
        this.play(at);
      }, { maxCatchUpMs: RECEIVER_MAX_CATCH_UP_MS });
    }
  }

  /** RFC 3550 A.1: the extended highest sequence number and the packets that came. */
  private countSequence(ssrc: number, sequence: number): void {
    const r = this.reception;
    if (!r || r.ssrc !== ssrc) {
      this.reception = { ssrc, base: sequence, cycles: 0, max: sequence, received: 1, expectedPrior: 0, receivedPrior: 0 };
      return;
    }
    r.received++;
    const delta = (sequence - r.max + 0x10000) % 0x10000;
    if (delta < 0x8000) {
      if (sequence < r.max) r.cycles += 0x10000;
      r.max = sequence;
    }
  }

  /** Lost (never arrived) and late packets so far, apart: only the first is the network's doing. */
  receptionCounts(): ReceptionCounts {
    const r = this.reception;
    if (!r) return { expected: 0, lost: 0, late: this.buffer.stats.late };
    const expected = r.cycles + r.max - r.base + 1;
    return { expected, lost: Math.max(0, expected - r.received), late: this.buffer.stats.late };
  }

  /** A report block about the stream this receiver plays (RFC 3550 6.4.1), or null before any packet. */
  receptionReport(): { ssrc: number; fractionLost: number; cumulativeLost: number; highestSequence: number; jitter: number } | null {
    const r = this.reception;
    if (!r) return null;
    const extended = r.cycles + r.max;
    const expected = extended - r.base + 1;
    const expectedInterval = expected - r.expectedPrior;
    const receivedInterval = r.received - r.receivedPrior;
    r.expectedPrior = expected;
    r.receivedPrior = r.received;
    const lostInterval = expectedInterval - receivedInterval;
    return {
      ssrc: r.ssrc,
      fractionLost: expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval),
      cumulativeLost: Math.max(0, expected - r.received),
      highestSequence: extended >>> 0,
      jitter: Math.round(this.jitter),
    };
  }

  /** Plays one frame into the sink now (a receiver made with `pulled`); nothing before the first packet. */
  pull(atMs: number): void {
    if (this.started && !this.stopped) this.play(atMs);
  }

  private play(atMs: number): void {
    const next = this.buffer.next(atMs);
    let samples: Int16Array;
    switch (next.kind) {
      case 'packet': {
        const decoded = this.decoder.decode(next.payload);
        if (!decoded.ok) this.refuse(decoded.error.code);
        samples = decoded.ok ? decoded.value : this.decoder.conceal(this.frameSamples);
        break;
      }
      case 'fec':
        samples = this.decoder.recover(next.next, this.frameSamples);
        break;
      case 'conceal':
        samples = this.decoder.conceal(this.frameSamples);
        break;
      case 'silence':
        samples = new Int16Array(this.frameSamples);
        break;
    }
    this.stats.played++;
    this.sink.write(atMs, samples);
  }

  stop(): void {
    this.stopped = true;
    this.ticker?.cancel();
    this.ticker = null;
    this.decoder.close();
  }
}

/** An AudioSource over samples in memory (a WAV file's): silence after the end. */
export class BufferSource implements AudioSource {
  private position = 0;

  constructor(private readonly samples: Int16Array) {}

  get finished(): boolean {
    return this.position >= this.samples.length;
  }

  read(samples: number): Int16Array {
    const out = new Int16Array(samples);
    out.set(this.samples.subarray(this.position, this.position + samples));
    this.position += samples;
    return out;
  }
}

/**
 * An AudioSink that records what was played on a timeline that starts at `originMs` (default:
 * the first frame played), with silence where nothing played.
 */
export class RecordingSink implements AudioSink {
  private chunks: Int16Array[] = [];
  private length = 0;

  constructor(private originMs?: number) {}

  write(atMs: number, samples: Int16Array): void {
    this.originMs ??= atMs;
    const position = Math.round((atMs - this.originMs) * SAMPLES_PER_MS);
    if (position > this.length) this.append(new Int16Array(position - this.length));
    this.append(samples);
  }

  private append(samples: Int16Array): void {
    this.chunks.push(samples);
    this.length += samples.length;
  }

  samples(): Int16Array {
    const out = new Int16Array(this.length);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    this.chunks = [out];
    return out;
  }
}
