// The page's side of call audio: the microphone through the browser's echo cancellation, noise
// suppression and gain control, into an AudioWorklet that cuts it into 10 ms frames for the
// daemon's audio socket; what the socket sends back is played by the same worklet. What was
// heard is kept for a few seconds for diagnostics (and the browser tests).
import type { AudioLevels, PlayFrame, WorkletMessage } from './worklet.js';

export type { AudioLevels } from './worklet.js';

const FRAME = 480;
const DEVICES_KEY = 'parley-audio-devices';

/** A frame of call audio and when it entered (captured) or left (played) this page, epoch ms on the audio clock. */
export interface TimedFrame {
  readonly atMs: number;
  readonly samples: Int16Array;
}

/** A frame with its audio clock's time (seconds), as the worklet stamped it. */
interface ClockedFrame {
  readonly at: number;
  readonly samples: Int16Array;
}

/** The microphone and speaker chosen in this browser (null: the system's default). */
export interface AudioDevicePrefs {
  readonly microphone: string | null;
  readonly speaker: string | null;
}

export function loadDevicePrefs(): AudioDevicePrefs {
  try {
    const saved = JSON.parse(localStorage.getItem(DEVICES_KEY) ?? '{}') as Partial<Record<keyof AudioDevicePrefs, unknown>>;
    return { microphone: typeof saved.microphone === 'string' ? saved.microphone : null, speaker: typeof saved.speaker === 'string' ? saved.speaker : null };
  } catch {
    return { microphone: null, speaker: null };
  }
}

export function saveDevicePrefs(prefs: AudioDevicePrefs): void {
  localStorage.setItem(DEVICES_KEY, JSON.stringify(prefs));
}

/** The audio devices this browser shows (their names once the page has had the microphone). */
export async function audioDevices(): Promise<{ inputs: MediaDeviceInfo[]; outputs: MediaDeviceInfo[] }> {
  const all = await navigator.mediaDevices.enumerateDevices();
  return { inputs: all.filter((d) => d.kind === 'audioinput'), outputs: all.filter((d) => d.kind === 'audiooutput') };
}
const HEARD_FRAMES_KEPT = 1_000;

export class AudioEngine {
  private readonly heard: Int16Array[] = [];
  /**
   * Diagnostics for timing end to end: frames as captured, and as played (bounded like `heard`),
   * with the audio clock's time; mapped to wall time only when asked for (the mapping is linear,
   * so the frame path pays nothing for it).
   */
  private readonly captured: ClockedFrame[] = [];
  private readonly played: ClockedFrame[] = [];
  private readonly waiting = new Map<number, Int16Array>();
  private seq = 0;
  private readonly levelListeners = new Set<(levels: AudioLevels) => void>();

  private constructor(
    private readonly context: AudioContext,
    private readonly stream: MediaStream,
    private readonly socket: WebSocket,
  ) {}

  static async start(socketUrl: string, devices: AudioDevicePrefs): Promise<AudioEngine> {
    const chosen = devices.microphone ? { deviceId: { exact: devices.microphone } } : {};
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1, ...chosen } });
    const context = new AudioContext({ sampleRate: 48_000, latencyHint: 'interactive' });
    // Not every browser can pick the speaker of an AudioContext; those play on the default.
    const sinkable = context as AudioContext & { setSinkId?: (id: string) => Promise<void> };
    if (devices.speaker && sinkable.setSinkId) await sinkable.setSinkId(devices.speaker).catch(() => {});
    await context.audioWorklet.addModule('/worklet.js');
    const node = new AudioWorkletNode(context, 'parley-audio', { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1] });
    context.createMediaStreamSource(stream).connect(node);
    node.connect(context.destination);
    const socket = new WebSocket(socketUrl);
    socket.binaryType = 'arraybuffer';
    const engine = new AudioEngine(context, stream, socket);
    node.port.onmessage = (event: MessageEvent<WorkletMessage>) => {
      const message = event.data;
      if ('played' in message) return engine.startedPlaying(message.seqs, message.played);
      if ('levels' in message) return engine.levelsHeard(message.levels);
      const pcm = new Int16Array(FRAME);
      for (let i = 0; i < FRAME; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(message.captured[i]! * 32767)));
      engine.keepTimed(engine.captured, { at: message.at, samples: pcm });
      if (socket.readyState === WebSocket.OPEN) socket.send(pcm.buffer);
    };
    socket.onmessage = (event: MessageEvent<ArrayBuffer>) => {
      const pcm = new Int16Array(event.data);
      engine.keep(pcm);
      const samples = new Float32Array(pcm.length);
      for (let i = 0; i < pcm.length; i++) samples[i] = pcm[i]! / 32768;
      const seq = engine.seq++;
      engine.waiting.set(seq, pcm);
      if (engine.waiting.size > HEARD_FRAMES_KEPT) engine.waiting.delete(engine.waiting.keys().next().value!);
      node.port.postMessage({ seq, samples } satisfies PlayFrame, [samples.buffer]);
    };
    await context.resume();
    return engine;
  }

  /** The microphone's and speaker's levels, 20 times a second; returns the unsubscribe. */
  onLevels(listener: (levels: AudioLevels) => void): () => void {
    this.levelListeners.add(listener);
    return () => this.levelListeners.delete(listener);
  }

  private levelsHeard(levels: AudioLevels): void {
    for (const listener of this.levelListeners) listener(levels);
  }

  private keep(frame: Int16Array): void {
    this.heard.push(frame);
    if (this.heard.length > HEARD_FRAMES_KEPT) this.heard.shift();
  }

  /** Epoch ms of the audio clock's zero, comparable between pages on one machine (the audio clock's time in seconds × 1000 is added). */
  private clockEpochMs(): number {
    const stamp = this.context.getOutputTimestamp();
    return performance.timeOrigin + (stamp.performanceTime ?? performance.now()) - (stamp.contextTime ?? this.context.currentTime) * 1000;
  }

  private startedPlaying(seqs: Float64Array, at: Float64Array): void {
    for (let i = 0; i < seqs.length; i++) {
      const samples = this.waiting.get(seqs[i]!);
      if (!samples) continue;
      this.waiting.delete(seqs[i]!);
      this.keepTimed(this.played, { at: at[i]!, samples });
    }
  }

  private keepTimed(list: ClockedFrame[], frame: ClockedFrame): void {
    list.push(frame);
    if (list.length > HEARD_FRAMES_KEPT) list.shift();
  }

  /** Frames as the microphone gave them and as the speaker played them, with their times. */
  timedFrames(): { captured: TimedFrame[]; played: TimedFrame[]; outputLatencyMs: number } {
    const zero = this.clockEpochMs();
    const timed = (list: ClockedFrame[]) => list.map((f) => ({ atMs: zero + f.at * 1000, samples: f.samples }));
    return { captured: timed(this.captured), played: timed(this.played), outputLatencyMs: ((this.context.outputLatency || 0) + this.context.baseLatency) * 1000 };
  }

  /** The last seconds of what the call played here, 48 kHz. */
  heardSamples(): number[] {
    return this.heard.flatMap((f) => Array.from(f));
  }

  stop(): void {
    this.socket.close();
    for (const track of this.stream.getTracks()) track.stop();
    void this.context.close();
  }
}
