// The audio worklet: runs on the browser's audio thread. Input (the microphone, after the
// browser's echo cancellation and noise suppression) is cut into 10 ms frames of 480 samples and
// posted to the page, which sends them to the daemon; frames the page posts back are played
// from a small queue. Little enough work for the audio thread: copies, no allocation per sample.
const FRAME = 480;
/** Frames kept waiting to be played; more is latency, so the oldest go. */
const MAX_QUEUED = 8;

declare const sampleRate: number;
declare function registerProcessor(name: string, processor: unknown): void;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}

class ParleyAudio extends AudioWorkletProcessor {
  private capture = new Float32Array(FRAME);
  private captured = 0;
  private playing: Float32Array[] = [];
  private offset = 0;

  constructor() {
    super();
    this.port.onmessage = (event: MessageEvent<Float32Array>) => {
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
        this.capture[this.captured++] = input[i]!;
        if (this.captured === FRAME) {
          this.port.postMessage(this.capture, [this.capture.buffer]);
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
          continue;
        }
        output[i] = head[this.offset++]!;
        if (this.offset === head.length) {
          this.playing.shift();
          this.offset = 0;
        }
      }
      for (let c = 1; c < (outputs[0]?.length ?? 0); c++) outputs[0]![c]!.set(output);
    }
    return true;
  }
}

if (sampleRate !== 48_000) throw new Error(`the audio runs at ${sampleRate} Hz, not 48 kHz`);
registerProcessor('parley-audio', ParleyAudio);
