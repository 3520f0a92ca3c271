// The audio worklet: runs on the browser's audio thread. Input (the microphone, after the
// browser's echo cancellation and noise suppression) is cut into 10 ms frames of 480 samples and
// posted to the page, which sends them to the daemon; frames the page posts back are played
// from a small queue. Little enough work for the audio thread: copies, no allocation per sample.
// Each captured frame goes with the audio clock's time of its first sample, and the time each
// played frame starts is told back (in batches), so the page can time audio end to end. The
// level of what came in and what went out (RMS over 50 ms) is told for the call panel's meters:
// a sum of squares kept while the samples are copied anyway.
const FRAME = 480;
/** Frames kept waiting to be played; more is latency, so the oldest go. */
const MAX_QUEUED = 8;
/**
 * Standing delay is trimmed: over each TRIM_WINDOW frames played, the fewest frames waiting
 * behind the one starting is what the bursts from the socket did not need; beyond TRIM_SLACK
 * frames, those are dropped once.
 */
const TRIM_WINDOW = 100;
const TRIM_SLACK = 1;
/** Start times of played frames are told back this many at a time. */
const PLAYED_BATCH = 10;
/** Levels are told once per this many samples (50 ms). */
const LEVEL_WINDOW = 2_400;

/** A frame to play, numbered by the page. */
export interface PlayFrame {
  readonly seq: number;
  readonly samples: Float32Array;
}
/** Root mean square of the microphone's and the speaker's samples over the last LEVEL_WINDOW (full scale: 1). */
export interface AudioLevels {
  readonly input: number;
  readonly output: number;
}
/** What the worklet tells the page: a captured frame, when frames began to play (audio clock, seconds), or the levels. */
export type WorkletMessage = { readonly captured: Float32Array; readonly at: number } | { readonly played: Float64Array; readonly seqs: Float64Array } | { readonly levels: AudioLevels };

declare const currentTime: number;
declare const sampleRate: number;
declare function registerProcessor(name: string, processor: unknown): void;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}

class ParleyAudio extends AudioWorkletProcessor {
  private capture = new Float32Array(FRAME);
  private captured = 0;
  private playing: PlayFrame[] = [];
  private offset = 0;
  private playedAt = new Float64Array(PLAYED_BATCH);
  private playedSeqs = new Float64Array(PLAYED_BATCH);
  private playedCount = 0;
  private fewestWaiting = Infinity;
  private windowFrames = 0;
  private inputSquares = 0;
  private outputSquares = 0;
  private levelSamples = 0;

  constructor() {
    super();
    this.port.onmessage = (event: MessageEvent<PlayFrame>) => {
      this.playing.push(event.data);
      if (this.playing.length > MAX_QUEUED) {
        this.playing.shift();
        this.offset = 0;
      }
    };
  }

  process(inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const input = inputs[0]?.[0];
    if (input) {
      for (let i = 0; i < input.length; i++) {
        this.inputSquares += input[i]! * input[i]!;
        this.capture[this.captured++] = input[i]!;
        if (this.captured === FRAME) {
          const at = currentTime + (i + 1 - FRAME) / sampleRate;
          this.port.postMessage({ captured: this.capture, at } satisfies WorkletMessage, [this.capture.buffer]);
          this.capture = new Float32Array(FRAME);
          this.captured = 0;
        }
      }
    }
    const output = outputs[0]?.[0];
    if (output) {
      for (let i = 0; i < output.length; i++) {
        const head = this.playing[0];
        if (!head) {
          output[i] = 0;
          this.fewestWaiting = 0; // ran dry: nothing was more than needed
          continue;
        }
        if (this.offset === 0) {
          this.started(head.seq, currentTime + i / sampleRate);
          this.trimStanding();
        }
        output[i] = head.samples[this.offset++]!;
        this.outputSquares += output[i]! * output[i]!;
        if (this.offset === head.samples.length) {
          this.playing.shift();
          this.offset = 0;
        }
      }
      for (let c = 1; c < (outputs[0]?.length ?? 0); c++) outputs[0]![c]!.set(output);
    }
    this.levelSamples += output?.length ?? input?.length ?? 0;
    if (this.levelSamples >= LEVEL_WINDOW) this.tellLevels();
    return true;
  }

  private tellLevels(): void {
    const levels = { input: Math.sqrt(this.inputSquares / this.levelSamples), output: Math.sqrt(this.outputSquares / this.levelSamples) };
    this.port.postMessage({ levels } satisfies WorkletMessage);
    this.inputSquares = 0;
    this.outputSquares = 0;
    this.levelSamples = 0;
  }

  private trimStanding(): void {
    this.fewestWaiting = Math.min(this.fewestWaiting, this.playing.length - 1);
    if (++this.windowFrames < TRIM_WINDOW) return;
    // Dropped from behind the frame now starting, so the one playing is whole.
    const excess = this.fewestWaiting - TRIM_SLACK;
    if (excess > 0) this.playing.splice(1, excess);
    this.fewestWaiting = Infinity;
    this.windowFrames = 0;
  }

  private started(seq: number, at: number): void {
    this.playedAt[this.playedCount] = at;
    this.playedSeqs[this.playedCount] = seq;
    if (++this.playedCount < PLAYED_BATCH) return;
    this.port.postMessage({ played: this.playedAt, seqs: this.playedSeqs } satisfies WorkletMessage, [this.playedAt.buffer, this.playedSeqs.buffer]);
    this.playedAt = new Float64Array(PLAYED_BATCH);
    this.playedSeqs = new Float64Array(PLAYED_BATCH);
    this.playedCount = 0;
  }
}

if (sampleRate !== 48_000) throw new Error(`the audio runs at ${sampleRate} Hz, not 48 kHz`);
registerProcessor('parley-audio', ParleyAudio);
