// Voice media: mouth-to-ear latency file to file on loopback (real UDP sockets and timers, one
// process: a sender with markers in its input, a receiver recording what it plays), bytes on the
// wire per direction, the CPU a call's audio costs, and the memory of a process in a call.
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { realEnv } from '../src/env/real.js';
import { BufferSource, MediaReceiver, MediaSender, RecordingSink, DEFAULT_BITRATE } from '../src/media/media-stream.js';
import { OpusDecoder, OpusEncoder, SAMPLES_PER_MS, type FrameMs } from '../src/media/opus.js';
import { SrtpReceiver, SrtpSender } from '../src/rtp/srtp.js';
import { encodeRtp, OPUS_PAYLOAD_TYPE } from '../src/rtp/rtp.js';
import { testSignal } from '../src/media/audio-compare.js';
import { ConferenceMixer } from '../src/media/mixer.js';
import { Scheduler } from '../src/env/virtual/scheduler.js';

/** IPv4 (20) and UDP (8) headers: what each packet adds on the wire. */
const IP_UDP_BYTES = 28;

export interface MediaLatency {
  frameMs: FrameMs;
  /** Marker delays once the jitter buffer has adapted (from SETTLED_AFTER_MS on): median and range, ms. */
  medianMs: number;
  minMs: number;
  maxMs: number;
  markers: number;
  /** The largest marker delay before that: the buffer starts deep on purpose (jitter-buffer.ts). */
  startMaxMs: number;
  /** What the sender put on the wire, per second of call (SRTP packets; and with IP/UDP headers). */
  bytesPerSecond: number;
  wireBytesPerSecond: number;
  packetBytes: { min: number; max: number };
}

/** Input: silence with a 10 ms burst (1 kHz) every 500 ms, starting at 300 ms. */
function markerSignal(seconds: number): { samples: Int16Array; markersMs: number[] } {
  const samples = new Int16Array(seconds * 1000 * SAMPLES_PER_MS);
  const markersMs: number[] = [];
  for (let at = 300; at + 50 < seconds * 1000; at += 500) {
    markersMs.push(at);
    for (let i = 0; i < 10 * SAMPLES_PER_MS; i++) samples[at * SAMPLES_PER_MS + i] = Math.round(12000 * Math.sin((2 * Math.PI * 1000 * i) / (SAMPLES_PER_MS * 1000)));
  }
  return { samples, markersMs };
}

/** Where each marker begins in the recording: the first sample above a quarter of its amplitude. */
function onsets(recorded: Int16Array, markersMs: number[]): { atMs: number; delayMs: number }[] {
  return markersMs.flatMap((at) => {
    for (let i = at * SAMPLES_PER_MS; i < Math.min(recorded.length, (at + 400) * SAMPLES_PER_MS); i++) {
      if (Math.abs(recorded[i]!) > 3000) return [{ atMs: at, delayMs: i / SAMPLES_PER_MS - at }];
    }
    return [];
  });
}

/**
 * The jitter buffer starts 200 ms deep, holds that 3 s and then adapts down a frame at a time:
 * markers from here on measure the conversation's delay, the ones before it the call's start.
 */
export const SETTLED_AFTER_MS = 8_000;
/** Long enough for a dozen settled markers. */
export const CALL_SECONDS = 14;

const newKey = () => ({ key: realEnv.random.bytes(16), salt: realEnv.random.bytes(14) });

/**
 * A → B, directly or through a conference mixer on a third socket (A and B its two remote
 * participants: B hears the mix of everyone but itself, which is A).
 */
async function latency(frameMs: FrameMs, seconds: number, viaMixer: { phaseMs: number } | null = null): Promise<MediaLatency> {
  const [a, b, m] = [createSocket('udp4'), createSocket('udp4'), createSocket('udp4')];
  await Promise.all([a, b, m].map((s) => new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve))));
  const key = newKey();
  const toB = viaMixer ? newKey() : key;
  const mixer = viaMixer ? new ConferenceMixer(realEnv.clock, realEnv.random, frameMs) : null;
  if (mixer && viaMixer) {
    const fromA = mixer.add('a', { path: { send: (bytes) => m.send(bytes, a.address().port, '127.0.0.1') }, ourKey: newKey(), theirKey: key });
    mixer.add('b', { path: { send: (bytes) => m.send(bytes, b.address().port, '127.0.0.1') }, ourKey: toB, theirKey: newKey() });
    m.on('message', (bytes, from) => from.port === a.address().port && fromA.receive(new Uint8Array(bytes)));
    mixer.start(viaMixer.phaseMs);
  }
  const target = viaMixer ? m : b;
  const { samples, markersMs } = markerSignal(seconds);
  const origin = realEnv.clock.now();
  // The sender's input and the receiver's output share the timeline: capture starts at `origin`.
  const sink = new RecordingSink(origin);
  const receiver = new MediaReceiver(realEnv.clock, toB, sink, { frameMs });
  b.on('message', (bytes) => receiver.receive(new Uint8Array(bytes)));
  const sizes: number[] = [];
  const sender = new MediaSender(
    realEnv.clock,
    realEnv.random,
    {
      send: (bytes) => {
        sizes.push(bytes.length);
        a.send(bytes, target.address().port, '127.0.0.1');
      },
    },
    key,
    new BufferSource(samples),
    { frameMs },
  );
  sender.start();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 300));
  sender.stop();
  receiver.stop();
  mixer?.stop();
  for (const socket of [a, b, m]) socket.close();
  const found = onsets(sink.samples(), markersMs);
  const delays = found.filter((o) => o.atMs >= SETTLED_AFTER_MS).map((o) => o.delayMs).sort((x, y) => x - y);
  const durationS = seconds;
  return {
    frameMs,
    medianMs: delays[Math.floor(delays.length / 2)] ?? NaN,
    minMs: delays[0] ?? NaN,
    maxMs: delays[delays.length - 1] ?? NaN,
    markers: delays.length,
    startMaxMs: Math.max(...found.filter((o) => o.atMs < SETTLED_AFTER_MS).map((o) => o.delayMs)),
    bytesPerSecond: sender.stats.bytes / durationS,
    wireBytesPerSecond: (sender.stats.bytes + IP_UDP_BYTES * sender.stats.packets) / durationS,
    packetBytes: { min: Math.min(...sizes), max: Math.max(...sizes) },
  };
}

export interface MediaCpu {
  /** Encode + SRTP protect + unprotect + decode, per second of one direction's audio, µs. */
  microsPerAudioSecond: number;
  /** A call runs that in both directions on each end: percent of one core per call, per end. */
  percentOfCorePerCall: number;
}

/** The work of one call's audio, without timers: 50 frames (a second at 20 ms) at a time. */
function cpu(): MediaCpu {
  const encoder = new OpusEncoder({ frameMs: 20, bitrate: DEFAULT_BITRATE });
  const decoder = new OpusDecoder();
  const key = realEnv.random.bytes(16);
  const salt = realEnv.random.bytes(14);
  const protect = new SrtpSender(key, salt);
  const unprotect = new SrtpReceiver(key, salt);
  const input = testSignal(1, 3);
  let sequence = 0;
  const second = () => {
    for (let f = 0; f < 50; f++) {
      const payload = encoder.encode(input.subarray(f * 960, f * 960 + 960));
      const packet = protect.protect(encodeRtp({ marker: false, payloadType: OPUS_PAYLOAD_TYPE, sequence, timestamp: sequence * 960, ssrc: 1, payload }));
      sequence = (sequence + 1) & 0xffff;
      const plain = unprotect.unprotect(packet);
      if (plain.ok) decoder.decode(plain.value.subarray(12));
    }
  };
  for (let i = 0; i < 5; i++) second();
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < 5; i++) second();
    rounds.push(Number(process.hrtime.bigint() - started) / 1000 / 5);
  }
  rounds.sort((x, y) => x - y);
  const micros = rounds[3]!;
  encoder.close();
  decoder.close();
  // Each end encodes and protects its own direction and unprotects and decodes the other: one "second" of the loop.
  return { microsPerAudioSecond: micros, percentOfCorePerCall: micros / 10_000 };
}

export interface MediaMemory {
  /** RSS of a process holding a call's media (both directions on loopback), and of Node doing nothing. */
  callRssMiB: number;
  bareNodeRssMiB: number;
}

function memory(): MediaMemory {
  const child = fileURLToPath(new URL('./media-rss.js', import.meta.url));
  const call = spawnSync(process.execPath, ['--expose-gc', child], { encoding: 'utf8', timeout: 60_000 });
  const bare = spawnSync(process.execPath, ['-e', 'setTimeout(() => console.log(process.memoryUsage().rss), 500)'], { encoding: 'utf8' });
  return { callRssMiB: Number(call.stdout.trim()) / 2 ** 20, bareNodeRssMiB: Number(bare.stdout.trim()) / 2 ** 20 };
}

/** Where the mixer's ticks fall after A's packets, ms (each participant has its own phase). */
export const MIXER_PHASES_MS = [4, 10, 16];

export async function benchMedia(): Promise<{ latency: MediaLatency[]; throughMixer: MediaLatency[]; cpu: MediaCpu; memory: MediaMemory }> {
  const results: MediaLatency[] = [];
  await latency(20, 1); // warm-up: the codec's first frames and the JIT
  for (const frameMs of [20, 10] as const) results.push(await latency(frameMs, CALL_SECONDS));
  // The mixer's frame clock against A's packets: a fifth, half and four fifths of a frame after them.
  const throughMixer: MediaLatency[] = [];
  for (const phaseMs of MIXER_PHASES_MS) throughMixer.push(await latency(20, CALL_SECONDS, { phaseMs: 20 + phaseMs }));
  return { latency: results, throughMixer, cpu: cpu(), memory: memory() };
}

/** How long the bench lets the callee's device ring before answering. */
export const RING_BEFORE_ANSWER_MS = 1_000;

export interface CallSetup {
  /** Virtual network: each hop 5 ms one way (devices behind NATs: 40 ms round trip between them). */
  dialToRingingMs: number;
  acceptToActiveMs: number;
  /** From the callee's accept until each side has played the other's first packet. */
  acceptToTwoWayAudioMs: number;
  path: string | null;
}

/** Dial to ringing, and answer to two-way audio, through the overlay on the virtual network (exact, seeded). */
export async function benchCallSetup(): Promise<CallSetup> {
  const { overlayWorld } = await import('../test/support/supernodes.js');
  const { device } = await import('../test/support/devices.js');
  const { CallManager } = await import('../src/client/calls.js');
  const world = await overlayWorld(1, 3, { link: () => ({ latencyMs: 5 }) });
  const phone = async (user: string, buddy: string) => {
    const d = await device(world, user, [buddy]);
    const calls = new CallManager(d.host.env(), d.messenger, d.connector);
    d.policy.accept = (other, relation) => calls.expectsConnectionFrom(other) || relation === 'buddy';
    return { ...d, calls };
  };
  const alice = await phone('alice', 'bob');
  const bob = await phone('bob', 'alice');
  await world.elapse(1_000);
  const now = () => world.network.scheduler.now();
  const firstPlayed = (mark: (at: number) => void) => ({ source: new BufferSource(testSignal(5, 1)), sink: { write: (at: number, samples: Int16Array) => samples.some((v) => v !== 0) && mark(at) } });
  let aliceHeard = Infinity;
  let bobHeard = Infinity;
  const dialed = now();
  let ringing = NaN;
  let active = NaN;
  const incoming = new Promise<import('../src/client/calls.js').Call>((resolve) => bob.calls.onIncoming(resolve));
  const call = await world.drive(alice.calls.call('bob', firstPlayed((at) => (aliceHeard = Math.min(aliceHeard, at)))));
  call.onState((state) => {
    if (state === 'ringing') ringing = now();
    if (state === 'active') active = now();
  });
  const ringingCall = await world.drive(incoming);
  // A person answers after a ring or two; the path is opened meanwhile.
  await world.elapse(RING_BEFORE_ANSWER_MS);
  const accepted = now();
  ringingCall.accept(firstPlayed((at) => (bobHeard = Math.min(bobHeard, at))));
  await world.elapse(2_000);
  const path = call.stats().path;
  call.hangup();
  await world.drive(ringingCall.ended);
  for (const d of [alice, bob]) {
    d.chat.close();
    d.messenger.close();
    d.attached.close();
  }
  for (const s of world.supernodes) s.running.close();
  return { dialToRingingMs: ringing - dialed, acceptToActiveMs: active - accepted, acceptToTwoWayAudioMs: Math.max(aliceHeard, bobHeard) - accepted, path };
}

export interface MixerCpu {
  participants: number;
  /** How many of them talk (the others send silence and hear the shared mix). */
  talkers: number;
  /** Percent of one core the mixer's audio work takes (all participants' SRTP, decode, level, mix, encode, SRTP). */
  percentOfCore: number;
  perParticipantPercent: number;
  /** Encodings per frame: one per talker and one shared by all the silent. */
  encodesPerFrame: number;
}

/**
 * The real `ConferenceMixer` on a clock the bench moves (no timers): `participants` legs, the
 * first `talkers` of them talking (a different speech-like signal each), the others silent.
 * What each participant sends is made beforehand: their work, not the mixer's.
 */
export function benchMixerCpu(participants = 10, talkers = participants): MixerCpu {
  const frames = 50;
  const seconds = 6;
  const clock = new Scheduler();
  const mixer = new ConferenceMixer(clock, realEnv.random, 20);
  const legs = Array.from({ length: participants }, (_, i) => {
    const up = newKey();
    const talker = new OpusEncoder({ frameMs: 20, bitrate: DEFAULT_BITRATE });
    const talkerSrtp = new SrtpSender(up.key, up.salt);
    const input = i < talkers ? testSignal(1, i + 1) : new Int16Array(48_000);
    const upstream = Array.from({ length: frames * seconds }, (_, f) =>
      talkerSrtp.protect(encodeRtp({ marker: false, payloadType: OPUS_PAYLOAD_TYPE, sequence: f, timestamp: f * 960, ssrc: i + 1, payload: talker.encode(input.subarray((f % frames) * 960, (f % frames) * 960 + 960)) })),
    );
    talker.close();
    return { upstream, input: mixer.add(`p${i}`, { path: { send: () => {} }, ourKey: newKey(), theirKey: up }) };
  });
  mixer.start(10);
  let frame = 0;
  // A second of audio: each participant's packet arrives, then the mixer's tick runs.
  const second = () => {
    for (let f = 0; f < frames; f++, frame++) {
      for (const leg of legs) leg.input.receive(leg.upstream[frame]!);
      clock.runUntil(clock.now() + 20);
    }
  };
  second();
  const encodesBefore = mixer.stats.encodes;
  const framesBefore = frame;
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const started = process.hrtime.bigint();
    second();
    rounds.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const encodesPerFrame = (mixer.stats.encodes - encodesBefore) / (frame - framesBefore);
  mixer.stop();
  rounds.sort((a, b) => a - b);
  const percent = rounds[2]! / 10; // ms of work per 1000 ms of audio
  return { participants, talkers, percentOfCore: percent, perParticipantPercent: percent / participants, encodesPerFrame };
}
