// The WebRTC stack on Node: Google's libwebrtc through @roamhq/wrtc (its Linux binary ships in
// the npm package @roamhq/wrtc-linux-x64; nothing is downloaded or built at install). Chosen by
// measurement against werift and against teaching Parley's own RTP engine DTLS and SDP
// (docs/calls.md, "WebRTC"). This file adapts its browser-shaped API to `RtcPeer`; audio goes in
// and out through its non-standard RTCAudioSource / RTCAudioSink, 10 ms frames of PCM, so
// libwebrtc does Opus, the jitter buffer and congestion control as a browser does.
//
// Loaded when a peer is first made, not at import: a device that never calls over WebRTC does
// not pay for the 26 MB library, and a platform without the binary gets a clear error then.
import { createRequire } from 'node:module';
import type { Clock, Timer } from '../env/types.js';
import { Listeners } from '../util/listeners.js';
import { RTC_AUDIO_FRAME_SAMPLES, RTC_AUDIO_RATE, type RtcAudioInput, type RtcConnectionState, type RtcDataChannel, type RtcDescriptionType, type RtcPeer, type RtcPeerOptions, type RtcSelectedPair, type RtcStack } from './rtc-peer.js';

// The part of wrtc's (browser-shaped) API used here; this project compiles without the DOM's types.
interface WrtcEventTarget {
  addEventListener(type: string, listener: (event: never) => void): void;
  removeEventListener(type: string, listener: (event: never) => void): void;
}
interface WrtcTrack {
  readonly kind: string;
  stop(): void;
}
interface WrtcChannel extends WrtcEventTarget {
  readonly label: string;
  readonly readyState: 'connecting' | 'open' | 'closing' | 'closed';
  binaryType: string;
  send(data: string | ArrayBuffer | Uint8Array): void;
  close(): void;
}
interface WrtcStatsReport {
  forEach(fn: (stats: { type: string; id: string; [key: string]: unknown }) => void): void;
}
interface WrtcPeerConnection extends WrtcEventTarget {
  readonly connectionState: RtcConnectionState;
  readonly iceGatheringState: 'new' | 'gathering' | 'complete';
  readonly localDescription: { readonly sdp: string } | null;
  addTrack(track: WrtcTrack): unknown;
  createDataChannel(label: string): WrtcChannel;
  createOffer(): Promise<{ type: string; sdp: string }>;
  createAnswer(): Promise<{ type: string; sdp: string }>;
  setLocalDescription(description: { type: string; sdp: string }): Promise<void>;
  setRemoteDescription(description: { type: string; sdp: string }): Promise<void>;
  getStats(): Promise<WrtcStatsReport>;
  close(): void;
}
interface WrtcAudioSource {
  createTrack(): WrtcTrack;
  onData(data: { samples: Int16Array; sampleRate: number; bitsPerSample?: number; channelCount?: number; numberOfFrames?: number }): void;
}
interface WrtcAudioSink {
  ondata: ((data: { samples: Int16Array; sampleRate: number; channelCount: number }) => void) | null;
  stop(): void;
}
interface Wrtc {
  RTCPeerConnection: new (configuration: { iceServers: { urls: string[]; username?: string; credential?: string }[]; iceTransportPolicy?: string }) => WrtcPeerConnection;
  nonstandard: {
    RTCAudioSource: new () => WrtcAudioSource;
    RTCAudioSink: new (track: WrtcTrack) => WrtcAudioSink;
  };
}

let loaded: Wrtc | null = null;

function wrtc(): Wrtc {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('@roamhq/wrtc') as Wrtc;
    // libwebrtc's teardown crashes (SIGSEGV, exit 139) when a process that stopped an audio
    // track ends by running out of work; not stopping the track keeps the process alive for
    // ever instead. Ending it with process.exit once nothing is left to do skips that teardown
    // (measured: 139 every time without this, 0 with it). One turn later, so that what other
    // `beforeExit` listeners start (node:test prints its summary there) is done first.
    process.once('beforeExit', () => setImmediate(() => process.exit(process.exitCode ?? 0)));
    return loaded;
  } catch (cause) {
    const platform = `${process.platform}-${process.arch}, Node ${process.version}`;
    throw new Error(`@roamhq/wrtc (libwebrtc) did not load on ${platform}: run npm install; WebRTC calls need it`, { cause });
  }
}

/** The stack, with `clock` for the bound on ICE gathering. */
export function wrtcStack(clock: Clock): RtcStack {
  return { createPeer: (options) => new WrtcPeer(clock, options) };
}

class WrtcChannelAdapter implements RtcDataChannel {
  constructor(private readonly channel: WrtcChannel) {
    channel.binaryType = 'arraybuffer';
  }

  get label(): string {
    return this.channel.label;
  }

  get open(): boolean {
    return this.channel.readyState === 'open';
  }

  send(data: string | Uint8Array): void {
    this.channel.send(data);
  }

  onOpen(listener: () => void): () => void {
    return listen(this.channel, 'open', () => listener());
  }

  onMessage(listener: (data: string | Uint8Array) => void): () => void {
    return listen(this.channel, 'message', (event: { data: string | ArrayBuffer }) => listener(typeof event.data === 'string' ? event.data : new Uint8Array(event.data)));
  }

  close(): void {
    this.channel.close();
  }
}

function listen<E>(target: WrtcEventTarget, type: string, listener: (event: E) => void): () => void {
  const handler = listener as (event: never) => void;
  target.addEventListener(type, handler);
  return () => target.removeEventListener(type, handler);
}

class WrtcPeer implements RtcPeer {
  private readonly pc: WrtcPeerConnection;
  private readonly sinks: WrtcAudioSink[] = [];
  private readonly tracks: WrtcTrack[] = [];
  private readonly audio = new Listeners<[Int16Array, number]>();
  private closed = false;

  constructor(
    private readonly clock: Clock,
    options: RtcPeerOptions,
  ) {
    const { RTCPeerConnection, nonstandard } = wrtc();
    this.pc = new RTCPeerConnection({
      iceServers: options.iceServers.map((s) => ({ urls: [...s.urls], ...(s.username !== undefined ? { username: s.username } : {}), ...(s.credential !== undefined ? { credential: s.credential } : {}) })),
      ...(options.iceTransportPolicy ? { iceTransportPolicy: options.iceTransportPolicy } : {}),
    });
    listen(this.pc, 'track', (event: { track: WrtcTrack }) => {
      if (event.track.kind !== 'audio' || this.closed) return;
      const sink = new nonstandard.RTCAudioSink(event.track);
      sink.ondata = (data) => this.audio.emit(data.channelCount === 1 ? data.samples : firstChannel(data.samples, data.channelCount), data.sampleRate);
      this.sinks.push(sink);
    });
  }

  addAudio(): RtcAudioInput {
    const source = new (wrtc().nonstandard.RTCAudioSource)();
    const track = source.createTrack();
    this.tracks.push(track);
    this.pc.addTrack(track);
    return {
      write: (samples) => {
        if (samples.length !== RTC_AUDIO_FRAME_SAMPLES) throw new RangeError(`an audio frame is ${RTC_AUDIO_FRAME_SAMPLES} samples (10 ms), not ${samples.length}`);
        if (this.closed) return;
        // The binding reads the whole ArrayBuffer under the view: a view into a larger one is copied.
        source.onData({ samples: samples.byteLength === samples.buffer.byteLength ? samples : samples.slice(), sampleRate: RTC_AUDIO_RATE });
      },
    };
  }

  onAudio(listener: (samples: Int16Array, sampleRate: number) => void): () => void {
    return this.audio.add(listener);
  }

  createChannel(label: string): RtcDataChannel {
    return new WrtcChannelAdapter(this.pc.createDataChannel(label));
  }

  onChannel(listener: (channel: RtcDataChannel) => void): () => void {
    return listen(this.pc, 'datachannel', (event: { channel: WrtcChannel }) => listener(new WrtcChannelAdapter(event.channel)));
  }

  async describe(type: RtcDescriptionType, gatherTimeoutMs: number): Promise<string> {
    const description = type === 'offer' ? await this.pc.createOffer() : await this.pc.createAnswer();
    await this.pc.setLocalDescription(description);
    if (this.pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        let timer: Timer | null = null;
        let stop = () => {};
        const done = () => {
          timer?.cancel();
          stop();
          resolve();
        };
        timer = this.clock.after(gatherTimeoutMs, done);
        stop = listen(this.pc, 'icegatheringstatechange', () => this.pc.iceGatheringState === 'complete' && done());
      });
    }
    return this.pc.localDescription?.sdp ?? description.sdp;
  }

  async applyRemote(type: RtcDescriptionType, sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type, sdp });
  }

  get connectionState(): RtcConnectionState {
    return this.pc.connectionState;
  }

  onConnectionState(listener: (state: RtcConnectionState) => void): () => void {
    return listen(this.pc, 'connectionstatechange', () => listener(this.pc.connectionState));
  }

  async selectedPair(): Promise<RtcSelectedPair | null> {
    if (this.closed) return null;
    const report = await this.pc.getStats();
    const byId = new Map<string, { type: string; [key: string]: unknown }>();
    report.forEach((stats) => byId.set(stats.id, stats));
    let pairId: string | undefined;
    for (const stats of byId.values()) if (stats.type === 'transport' && typeof stats['selectedCandidatePairId'] === 'string') pairId = stats['selectedCandidatePairId'];
    const pair = pairId ? byId.get(pairId) : [...byId.values()].find((s) => s.type === 'candidate-pair' && s['nominated'] === true && s['state'] === 'succeeded');
    if (!pair) return null;
    const kind = (id: unknown) => String(byId.get(String(id))?.['candidateType'] ?? 'unknown');
    return { local: kind(pair['localCandidateId']), remote: kind(pair['remoteCandidateId']) };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const sink of this.sinks) sink.stop();
    for (const track of this.tracks) track.stop();
    this.pc.close();
  }
}

/** The first channel of interleaved samples (libwebrtc may hand stereo Opus back as two channels). */
function firstChannel(samples: Int16Array, channels: number): Int16Array {
  const out = new Int16Array(Math.floor(samples.length / channels));
  for (let i = 0; i < out.length; i++) out[i] = samples[i * channels]!;
  return out;
}
