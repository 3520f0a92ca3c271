// The bridge between Parley's audio sources and sinks and a WebRTC peer, on virtual time: the
// source is read every 10 ms, in order, and its frames reach the peer's input as they were; the
// peer's decoded frames reach the sink with the time they came; frames of another rate or
// length are refused and counted; after stop, nothing moves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { bridgeAudio } from '../../src/media/rtc-audio.js';
import { RTC_AUDIO_FRAME_SAMPLES } from '../../src/media/rtc-peer.js';
import { testSeed } from '../support/seed.js';

test('a source is read every 10 ms into the peer, decoded frames go to the sink with their time, odd frames are refused, stop ends both', async () => {
  const network = new VirtualNetwork(testSeed());
  const clock = network.scheduler;
  const elapse = (ms: number) => clock.drive(new Promise<void>((resolve) => clock.after(ms, resolve)));
  let read = 0;
  const source = {
    read: (samples: number) => {
      assert.equal(samples, RTC_AUDIO_FRAME_SAMPLES);
      return new Int16Array(samples).fill(++read);
    },
  };
  const written: number[] = [];
  const played: [number, number][] = [];
  let deliver: ((samples: Int16Array, rate: number) => void) | null = null;
  const peer = {
    onAudio: (listener: (samples: Int16Array, rate: number) => void) => {
      deliver = listener;
      return () => void (deliver = null);
    },
  };
  const startMs = clock.now();
  const bridge = bridgeAudio(clock, peer, { write: (samples) => void written.push(samples[0]!) }, { source, sink: { write: (atMs, samples) => void played.push([atMs - startMs, samples[0]!]) } });
  await elapse(1_000);
  assert.equal(bridge.stats.sent, 100);
  assert.deepEqual(written, Array.from({ length: 100 }, (_, i) => i + 1), 'every frame, in order, as the source gave it');

  deliver!(new Int16Array(RTC_AUDIO_FRAME_SAMPLES).fill(7), 48_000);
  deliver!(new Int16Array(RTC_AUDIO_FRAME_SAMPLES).fill(8), 16_000);
  deliver!(new Int16Array(2 * RTC_AUDIO_FRAME_SAMPLES).fill(9), 48_000);
  await elapse(5);
  deliver!(new Int16Array(RTC_AUDIO_FRAME_SAMPLES).fill(10), 48_000);
  assert.deepEqual(played, [
    [1_000, 7],
    [1_005, 10],
  ]);
  assert.deepEqual([bridge.stats.played, bridge.stats.refused], [2, 2]);

  bridge.stop();
  await elapse(100);
  assert.equal(bridge.stats.sent, 100, 'no frame after stop');
  assert.equal(deliver, null, 'the peer listener is removed');
});
