// Opus (RFC 6716) at 48 kHz, mono, through libopus compiled to WebAssembly. The WebAssembly
// module is the one @evan/opus ships; its JavaScript wrapper is not used because it cannot
// conceal a lost frame of a given length or decode in-band FEC (it always asks for 120 ms with
// decode_fec = 0), and a call needs both. Here libopus's own entry points are called directly:
// opus_encode, opus_decode(…, frame_size, decode_fec) and the CTLs.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { err, ok, type CodedError, type Result } from '../result.js';

export const OPUS_SAMPLE_RATE = 48_000;
/** Samples per millisecond at 48 kHz. */
export const SAMPLES_PER_MS = OPUS_SAMPLE_RATE / 1000;
/** The longest frame Opus has: 120 ms. */
const MAX_FRAME_SAMPLES = 120 * SAMPLES_PER_MS;
/** RFC 6716's largest packet for one frame (1275 bytes); a little more room for safety. */
const MAX_PACKET_BYTES = 1500;

// libopus CTL requests (opus_defines.h).
const CTL = {
  setBitrate: 4002,
  setMaxBandwidth: 4004,
  setVbr: 4006,
  setComplexity: 4010,
  setInbandFec: 4012,
  setPacketLossPerc: 4014,
  setDtx: 4016,
  setSignal: 4024,
  getLookahead: 4027,
} as const;
const APPLICATION_VOIP = 2048;
const SIGNAL_VOICE = 3001;
const BANDWIDTH_FULLBAND = 1105;

// The WebAssembly API as far as it is used here (this project's TypeScript libs do not declare it).
interface WebAssemblyApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: Record<string, Record<string, () => number>>) => { readonly exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

interface OpusExports {
  readonly memory: { readonly buffer: ArrayBuffer };
  malloc(bytes: number): number;
  free(pointer: number): void;
  opus_strerror(code: number): number;
  opus_encoder_get_size(channels: number): number;
  opus_encoder_init(state: number, rate: number, channels: number, application: number): number;
  opus_encode(state: number, pcm: number, frameSize: number, out: number, maxBytes: number): number;
  opus_encoder_ctl_set(state: number, request: number, value: number): number;
  opus_encoder_ctl_get(state: number, request: number): number;
  opus_decoder_get_size(channels: number): number;
  opus_decoder_init(state: number, rate: number, channels: number): number;
  opus_decode(state: number, data: number, length: number, pcm: number, frameSize: number, decodeFec: number): number;
}

let instance: OpusExports | null = null;

/** libopus, instantiated once per process (each encoder and decoder has its own state in it). */
function opus(): OpusExports {
  if (instance) return instance;
  const require = createRequire(import.meta.url);
  // V8 compiles a WebAssembly module on as many background threads as it likes, and each thread's
  // malloc arena keeps what its compilation used: 15-20 MB of a process's resident memory for
  // libopus's 400 KB, for good. On one background thread, the arena is one and small; the codec
  // runs as fast (the same code, tiered up the same way; bench/client-rss.ts, issue 22). The flag
  // is read at each compilation, and libopus is the only WebAssembly a Parley process compiles.
  setFlagsFromString('--wasm-num-compilation-tasks=1');
  // The SIMD build is about twice as fast; every Node that runs Parley has WebAssembly SIMD.
  const load = (file: string) => new wasm.Module(readFileSync(require.resolve(`@evan/opus/wasm/${file}`)));
  let module: object;
  try {
    module = load('simd.wasm');
  } catch {
    // No SIMD here after all: the plain build (which throws, to the caller, if it fails too).
    module = load('opus.wasm');
  }
  const ignore = () => 0;
  const created = new wasm.Instance(module, {
    wasi_snapshot_preview1: { fd_seek: ignore, fd_write: ignore, fd_close: ignore, proc_exit: ignore },
    env: { emscripten_notify_memory_growth: ignore },
  });
  instance = created.exports as unknown as OpusExports;
  return instance;
}

export type OpusError = CodedError<'invalid_packet' | 'bad_frame' | 'codec_failure'>;

function cString(lib: OpusExports, pointer: number): string {
  const bytes = new Uint8Array(lib.memory.buffer, pointer, 64);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(bytes.subarray(0, end < 0 ? bytes.length : end));
}

function check(lib: OpusExports, code: number, what: string): number {
  if (code < 0) throw new Error(`opus ${what}: ${cString(lib, lib.opus_strerror(code))}`);
  return code;
}

/** Frame lengths Opus encodes, in ms. 10 ms is the low-latency mode, 20 ms the default. */
export type FrameMs = 10 | 20 | 40 | 60;

export interface EncoderSettings {
  readonly frameMs: FrameMs;
  /** Bits per second (12 000-40 000 for calls). */
  readonly bitrate: number;
}

/** One direction's encoder: 16-bit mono PCM at 48 kHz in, Opus packets out. */
export class OpusEncoder {
  private readonly lib = opus();
  private state: number;
  private readonly pcm: number;
  private readonly out: number;
  readonly frameSamples: number;
  private currentBitrate = 0;

  constructor(settings: EncoderSettings) {
    this.frameSamples = settings.frameMs * SAMPLES_PER_MS;
    const lib = this.lib;
    this.state = lib.malloc(lib.opus_encoder_get_size(1));
    this.pcm = lib.malloc(this.frameSamples * 2);
    this.out = lib.malloc(MAX_PACKET_BYTES);
    check(lib, lib.opus_encoder_init(this.state, OPUS_SAMPLE_RATE, 1, APPLICATION_VOIP), 'encoder init');
    check(lib, lib.opus_encoder_ctl_set(this.state, CTL.setSignal, SIGNAL_VOICE), 'signal');
    check(lib, lib.opus_encoder_ctl_set(this.state, CTL.setMaxBandwidth, BANDWIDTH_FULLBAND), 'bandwidth');
    check(lib, lib.opus_encoder_ctl_set(this.state, CTL.setVbr, 1), 'vbr');
    check(lib, lib.opus_encoder_ctl_set(this.state, CTL.setComplexity, 5), 'complexity');
    // No DTX: silence is still sent (Skype did too), which keeps NAT bindings and the jitter estimate alive.
    check(lib, lib.opus_encoder_ctl_set(this.state, CTL.setDtx, 0), 'dtx');
    this.setBitrate(settings.bitrate);
  }

  get bitrate(): number {
    return this.currentBitrate;
  }

  /** The encoder's lookahead in samples (part of the mouth-to-ear delay). */
  get lookaheadSamples(): number {
    return this.lib.opus_encoder_ctl_get(this.state, CTL.getLookahead);
  }

  setBitrate(bitsPerSecond: number): void {
    const bps = Math.round(Math.min(510_000, Math.max(6_000, bitsPerSecond)));
    check(this.lib, this.lib.opus_encoder_ctl_set(this.state, CTL.setBitrate, bps), 'bitrate');
    this.currentBitrate = bps;
  }

  /**
   * The loss the receiver reports, in percent: above zero, each packet also carries a coarse
   * copy of the frame before it (in-band FEC, which libopus sizes by this figure).
   */
  setExpectedLoss(percent: number): void {
    const loss = Math.round(Math.min(100, Math.max(0, percent)));
    check(this.lib, this.lib.opus_encoder_ctl_set(this.state, CTL.setInbandFec, loss > 0 ? 1 : 0), 'fec');
    check(this.lib, this.lib.opus_encoder_ctl_set(this.state, CTL.setPacketLossPerc, loss), 'loss');
  }

  /** One frame of exactly `frameSamples` samples. */
  encode(frame: Int16Array): Uint8Array {
    if (frame.length !== this.frameSamples) throw new RangeError(`an Opus frame here is ${this.frameSamples} samples, not ${frame.length}`);
    const lib = this.lib;
    new Int16Array(lib.memory.buffer, this.pcm, this.frameSamples).set(frame);
    const length = check(lib, lib.opus_encode(this.state, this.pcm, this.frameSamples, this.out, MAX_PACKET_BYTES), 'encode');
    return new Uint8Array(lib.memory.buffer, this.out, length).slice();
  }

  close(): void {
    if (!this.state) return;
    for (const pointer of [this.state, this.pcm, this.out]) this.lib.free(pointer);
    this.state = 0;
  }
}

/** One direction's decoder, with loss concealment and in-band FEC recovery. */
export class OpusDecoder {
  private readonly lib = opus();
  private state: number;
  private readonly data: number;
  private readonly pcm: number;

  constructor() {
    const lib = this.lib;
    this.state = lib.malloc(lib.opus_decoder_get_size(1));
    this.data = lib.malloc(MAX_PACKET_BYTES);
    this.pcm = lib.malloc(MAX_FRAME_SAMPLES * 2);
    check(lib, lib.opus_decoder_init(this.state, OPUS_SAMPLE_RATE, 1), 'decoder init');
  }

  /** A packet from the network: its samples, or a typed error (the decoder's state is unharmed). */
  decode(packet: Uint8Array): Result<Int16Array, OpusError> {
    if (packet.length === 0 || packet.length > MAX_PACKET_BYTES) return err({ code: 'invalid_packet', message: `an Opus packet of ${packet.length} bytes` });
    return this.run(packet, MAX_FRAME_SAMPLES, 0);
  }

  /** `samples` of concealment for a frame that never came (libopus's PLC). */
  conceal(samples: number): Int16Array {
    const result = this.run(null, samples, 0);
    return result.ok ? result.value : new Int16Array(samples);
  }

  /**
   * The frame before `next`, rebuilt from the FEC copy `next` carries (or concealed when it
   * carries none): `samples` long.
   */
  recover(next: Uint8Array, samples: number): Int16Array {
    if (next.length === 0 || next.length > MAX_PACKET_BYTES) return this.conceal(samples);
    const result = this.run(next, samples, 1);
    return result.ok ? result.value : this.conceal(samples);
  }

  private run(packet: Uint8Array | null, frameSamples: number, fec: 0 | 1): Result<Int16Array, OpusError> {
    if (!Number.isInteger(frameSamples / (SAMPLES_PER_MS * 2.5)) || frameSamples <= 0 || frameSamples > MAX_FRAME_SAMPLES) {
      return err({ code: 'bad_frame', message: `${frameSamples} samples is not an Opus frame length` });
    }
    const lib = this.lib;
    if (packet) new Uint8Array(lib.memory.buffer, this.data, packet.length).set(packet);
    const count = lib.opus_decode(this.state, packet ? this.data : 0, packet ? packet.length : 0, this.pcm, frameSamples, fec);
    if (count < 0) return err({ code: count === -4 ? 'invalid_packet' : 'codec_failure', message: `opus decode: ${cString(lib, lib.opus_strerror(count))}` });
    return ok(new Int16Array(lib.memory.buffer, this.pcm, count).slice());
  }

  close(): void {
    if (!this.state) return;
    for (const pointer of [this.state, this.data, this.pcm]) this.lib.free(pointer);
    this.state = 0;
  }
}
