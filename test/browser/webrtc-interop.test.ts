// Interop: a plain WebRTC page with no Parley code in it (Debian's Chromium, headless, a fake
// microphone playing a tone file), given the SDP offer a Parley peer makes (libwebrtc through
// the stack Parley uses: media/wrtc-peer.ts), answers it; they connect, the page hears Parley's
// tone (inbound audio with energy), Parley hears the page's tone at its frequency, and a data
// channel message goes each way. Then the same with both sides relay-only through a supernode's
// TURN service (on loopback), each with the REST-API credentials its device would be handed:
// what the app's page will be given (docs/calls.md, "TURN credentials for WebRTC peers").
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Browser } from 'playwright-core';
import { realEnv } from '../../src/env/real.js';
import { encodeWav } from '../../src/media/wav.js';
import { wrtcStack } from '../../src/media/wrtc-peer.js';
import { RTC_AUDIO_FRAME_SAMPLES, type RtcIceServer, type RtcPeer } from '../../src/media/rtc-peer.js';
import { startStunService, type StunService } from '../../src/supernode/stun-service.js';
import { LOOPBACK_PEERS } from '../../src/turn/peer-policy.js';
import { iceServersFor } from '../../src/client/webrtc-ice-servers.js';
import { browserWithMicrophone, CHROMIUM } from '../support/browser.js';

/**
 * The page: plain WebRTC as any site writes it, nothing of Parley's. `answer(sdp)` answers an
 * offer with the microphone and echoes the first data channel message; `report()` says what came.
 */
const PLAIN_PAGE = `<!doctype html><html><body><script>
let pc = null;
let message = null;
let analyser = null;
async function answer(sdp, config) {
  pc = new RTCPeerConnection(config);
  pc.ontrack = (e) => {
    const stream = new MediaStream([e.track]);
    const audio = new Audio();
    audio.srcObject = stream;
    audio.play();
    const context = new AudioContext();
    analyser = context.createAnalyser();
    analyser.fftSize = 4096;
    context.createMediaStreamSource(stream).connect(analyser);
  };
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  pc.ondatachannel = (e) => { e.channel.onmessage = (m) => { message = String(m.data); e.channel.send('hello parley'); }; };
  await pc.setRemoteDescription({ type: 'offer', sdp });
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  await pc.setLocalDescription(await pc.createAnswer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
  });
  return pc.localDescription.sdp;
}
async function report() {
  let packets = 0, energy = 0;
  (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') { packets = s.packetsReceived; energy = s.totalAudioEnergy; } });
  const bins = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(bins);
  let peak = 0;
  for (let i = 1; i < bins.length; i++) if (bins[i] > bins[peak]) peak = i;
  const stats = new Map();
  (await pc.getStats()).forEach((s) => stats.set(s.id, s));
  const transport = [...stats.values()].find((s) => s.type === 'transport');
  const pair = stats.get(transport?.selectedCandidatePairId);
  const kind = (id) => stats.get(id)?.candidateType ?? null;
  const path = pair ? { local: kind(pair.localCandidateId), remote: kind(pair.remoteCandidateId) } : null;
  return { dc: message, packets, energy, peakHz: (peak * analyser.context.sampleRate) / analyser.fftSize, state: pc.connectionState, path };
}
</script></body></html>`;

/** The page's two functions, as the test calls them (this project compiles without the DOM's types). */
type PageWindow = {
  answer(sdp: string, config: { iceServers: RtcIceServer[]; iceTransportPolicy?: 'relay' }): Promise<string>;
  report(): Promise<{ dc: string | null; packets: number; energy: number; peakHz: number; state: string; path: { local: string; remote: string } | null }>;
};

function tone(hz: number, seconds: number): Int16Array {
  return Int16Array.from({ length: 48_000 * seconds }, (_, i) => Math.round(8_000 * Math.sin((2 * Math.PI * hz * i) / 48_000)));
}

/** Power of `hz` in `samples` (Goertzel), normalised by length. */
function powerAt(samples: Int16Array, rate: number, hz: number): number {
  const w = (2 * Math.PI * hz) / rate;
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    const s = x + 2 * Math.cos(w) * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return (s1 * s1 + s2 * s2 - 2 * Math.cos(w) * s1 * s2) / samples.length;
}

/**
 * The page answers a Parley peer's offer. `relay`: both sides only through a supernode's TURN
 * relay, each with the credentials its device would be handed (the scheme a page uses).
 */
async function callPage(options: { relay: boolean }): Promise<void> {
  assert.ok(existsSync(CHROMIUM), 'Debian chromium is installed (scripts/setup)');
  const dir = mkdtempSync(join(tmpdir(), 'parley-interop-'));
  writeFileSync(join(dir, 'page-tone.wav'), encodeWav(tone(660, 20)));
  let browser: Browser | null = null;
  let peer: RtcPeer | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let server: Server | null = null;
  let stun: StunService | null = null;
  try {
    stun = options.relay ? await startStunService(realEnv, { host: '127.0.0.1', port: 0, advertisedHost: '127.0.0.1', allowPeers: LOOPBACK_PEERS }) : null;
    const serversFor = (user: string, tag: string): RtcIceServer[] => {
      if (!stun) return [];
      const { username, password } = stun.credentials(user, tag);
      return iceServersFor({ server: stun.primary, turn: { username, password } });
    };
    const policy = options.relay ? { iceTransportPolicy: 'relay' as const } : {};
    browser = await browserWithMicrophone(join(dir, 'page-tone.wav'));
    const page = await browser.newPage();
    // Served over http://127.0.0.1, a secure context (a page set from a string is not, and has no microphone).
    server = createServer((_request, response) => response.end(PLAIN_PAGE));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    peer = wrtcStack(realEnv.clock).createPeer({ iceServers: serversFor('alice', '0123456789abcdef'), ...policy });
    const input = peer.addAudio();
    const ours = tone(440, 1);
    let at = 0;
    timer = setInterval(() => {
      input.write(ours.subarray(at, at + RTC_AUDIO_FRAME_SAMPLES));
      at = (at + RTC_AUDIO_FRAME_SAMPLES) % ours.length;
    }, 10);
    const heard: Int16Array[] = [];
    let rate = 48_000;
    const enough = new Promise<void>((resolve) =>
      peer!.onAudio((samples, sampleRate) => {
        rate = sampleRate;
        if (samples.some((v) => v !== 0)) heard.push(samples.slice());
        if (heard.length === 150) resolve();
      }),
    );
    const channel = peer.createChannel('chat');
    channel.onOpen(() => channel.send('hello page'));
    const reply = new Promise<string>((resolve) => channel.onMessage((data) => resolve(String(data))));
    const connected = new Promise<void>((resolve) => peer!.onConnectionState((state) => state === 'connected' && resolve()));
    const offer = await peer.describe('offer', 3_000);
    const config = { iceServers: serversFor('bob', 'fedcba9876543210'), ...policy };
    const answer = await page.evaluate(([sdp, c]) => (globalThis as unknown as PageWindow).answer(sdp, c), [offer, config] as const);
    await peer.applyRemote('answer', answer);
    await connected;
    assert.equal(await reply, 'hello parley');
    await enough;
    const tail = heard.slice(50, 150);
    const all = new Int16Array(tail.length * tail[0]!.length);
    tail.forEach((f, i) => all.set(f, i * f.length));
    const [at660, at440] = [powerAt(all, rate, 660), powerAt(all, rate, 440)];
    assert.ok(at660 > 10 * at440, `Parley hears the page's 660 Hz, not its own 440 Hz (power ${at660.toExponential(2)} against ${at440.toExponential(2)})`);
    const pageSide = await page.evaluate(() => (globalThis as unknown as PageWindow).report());
    const seen = JSON.stringify(pageSide);
    assert.equal(pageSide.state, 'connected', seen);
    assert.equal(pageSide.dc, 'hello page', seen);
    assert.ok(pageSide.packets > 10, `the page received audio packets: ${seen}`);
    assert.ok(pageSide.energy > 0, `and they carry sound: ${seen}`);
    assert.ok(Math.abs(pageSide.peakHz - 440) < 15, `the page hears Parley's 440 Hz at its loudest: ${seen}`);
    if (options.relay) {
      assert.deepEqual(pageSide.path, { local: 'relay', remote: 'relay' }, seen);
      assert.ok(stun!.turn.relayed.toPeers > 0 && stun!.turn.relayed.toClients > 0, 'the media went through the supernode');
    }
  } finally {
    if (timer) clearInterval(timer);
    peer?.close();
    await browser?.close();
    server?.close();
    stun?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a plain WebRTC page answers a Parley peer's offer: connected, audio each way, data channel each way", { timeout: 90_000 }, () => callPage({ relay: false }));

test("the same page and peer only through a supernode's TURN relay, with the credentials a device is handed (the scheme a page uses): relay to relay", { timeout: 90_000 }, () => callPage({ relay: true }));
