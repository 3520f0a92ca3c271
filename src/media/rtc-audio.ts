// A call's audio between Parley's sources and sinks (WAV files, the system's audio through sox,
// the daemon's socket) and a WebRTC peer (rtc-peer.ts): every 10 ms on the injected clock the
// source gives a frame to the peer's audio input; each frame the peer decodes goes to the sink,
// stamped with the clock. The peer's engine does the rest (Opus, jitter buffer, concealment).
// A frame at another rate than 48 kHz, or of another length than 10 ms, is refused and counted:
// the sinks take 48 kHz mono.
import type { Clock, Timer } from '../env/types.js';
import { every } from '../env/every.js';
import type { AudioSink, AudioSource } from './media-stream.js';
import { RTC_AUDIO_FRAME_SAMPLES, RTC_AUDIO_RATE, type RtcAudioInput, type RtcPeer } from './rtc-peer.js';

export const RTC_FRAME_MS = 10;
/** A busy event loop sends the frames it owed, but from no further back than this (older ones are skipped and counted). */
const MAX_CATCH_UP_MS = 200;

export interface RtcAudioStats {
  /** Frames read from the source and written to the peer. */
  sent: number;
  /** Source frames skipped because the event loop was too late for them. */
  skipped: number;
  /** Decoded frames handed to the sink. */
  played: number;
  /** Decoded frames refused (not 10 ms at 48 kHz). */
  refused: number;
}

export interface RtcAudioBridge {
  readonly stats: RtcAudioStats;
  stop(): void;
}

/** Starts moving audio both ways between `audio` and `peer` (whose `input` came from `peer.addAudio()`); `stop` ends it. */
export function bridgeAudio(clock: Clock, peer: Pick<RtcPeer, 'onAudio'>, input: RtcAudioInput, audio: { readonly source: AudioSource; readonly sink: AudioSink }): RtcAudioBridge {
  const stats: RtcAudioStats = { sent: 0, skipped: 0, played: 0, refused: 0 };
  const timer: Timer = every(
    clock,
    RTC_FRAME_MS,
    clock.now() + RTC_FRAME_MS,
    (_scheduledMs, skipped) => {
      stats.skipped += skipped;
      input.write(audio.source.read(RTC_AUDIO_FRAME_SAMPLES));
      stats.sent++;
    },
    { maxCatchUpMs: MAX_CATCH_UP_MS },
  );
  const stopListening = peer.onAudio((samples, sampleRate) => {
    if (sampleRate !== RTC_AUDIO_RATE || samples.length !== RTC_AUDIO_FRAME_SAMPLES) {
      stats.refused++;
      return;
    }
    audio.sink.write(clock.now(), samples);
    stats.played++;
  });
  return {
    stats,
    stop: () => {
      timer.cancel();
      stopListening();
    },
  };
}
