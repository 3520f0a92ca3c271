// `parley call <user>` and `parley answer`: voice calls from the command line, with WAV files
// for what is said (--in) and what is heard (--out). Live statistics every few seconds and at
// the end. On a terminal, `parley call` also takes keys: h holds or resumes, m mutes, q hangs up.
import { readFileSync, writeFileSync } from 'node:fs';
import { realEnv } from '../env/real.js';
import type { Account } from '../client/account.js';
import type { NetworkDescriptor } from '../crypto/descriptor.js';
import { availableParallelism } from 'node:os';
import type { Call, CallEnd, CallManager, CallStats } from '../client/calls.js';
import { Conference, type ConferenceManager, type ConferenceEnd } from '../client/conference.js';
import { BufferSource, RecordingSink, type AudioSink, type AudioSource } from '../media/media-stream.js';
import { findCommand, Microphone, SOX_MISSING, Speaker } from '../media/system-audio.js';
import { encodeWav, parseWav } from '../media/wav.js';
import { CommandError } from './command-error.js';
import { terminalText as safe } from './terminal-text.js';
import { openDevice } from './overlay-commands.js';
import type { Device } from '../client/device.js';
import { GroupError } from '../groups/group-client.js';

export interface CallOptions {
  /** A WAV file to send (default: silence). */
  readonly in?: string;
  /** Where to write what was heard (48 kHz mono WAV). */
  readonly out?: string;
  /** End the call after this many seconds (default: when --in has been sent, plus a second). */
  readonly seconds?: number;
  readonly frameMs?: 10 | 20;
}

const STATS_EVERY_MS = 5_000;
const SIGNAL_ACK_WAIT_MS = 3_000;
/** After the input file has been sent: a moment for the last words to arrive. */
const TAIL_MS = 1_500;

/** What to send: the WAV file, else the microphone through sox, else silence (and why). */
function loadSource(path: string | undefined): { source: AudioSource; seconds: number | null; close: () => void } {
  if (!path) {
    const rec = findCommand('rec');
    if (!rec) {
      console.log(`no microphone: ${SOX_MISSING}; sending silence (or give --in FILE.wav)`);
      return { source: { read: (n) => new Int16Array(n) }, seconds: null, close: () => {} };
    }
    const microphone = new Microphone(rec);
    console.log(`sending what the microphone hears (sox: ${rec})`);
    return { source: microphone, seconds: null, close: () => microphone.close() };
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new CommandError(`cannot read ${path}`);
  }
  const parsed = parseWav(bytes);
  if (!parsed.ok) throw new CommandError(`${path}: ${parsed.error.code}: ${parsed.error.message}`);
  return { source: new BufferSource(parsed.value), seconds: parsed.value.length / 48_000, close: () => {} };
}

/** A stop signal ends the call or conference (and --out is written); if that has not finished after this, the process writes what it has and exits. */
const STOP_GRACE_MS = 5_000;

/**
 * Ctrl-C (SIGINT) and SIGTERM (a service manager, `kill`, a test harness) both end the call or
 * conference the polite way, so the other side hears a goodbye and --out holds what was heard
 * so far; should that hang, `finish` runs and the process exits after STOP_GRACE_MS. Returns the cleanup.
 */
function onStopSignals(stop: () => void, finish: () => void): () => void {
  let grace: NodeJS.Timeout | null = null;
  const handler = (signal: NodeJS.Signals) => {
    if (grace) return;
    console.log(`${signal}: ending`);
    grace = setTimeout(() => {
      finish();
      process.exit(signal === 'SIGTERM' ? 143 : 130);
    }, STOP_GRACE_MS);
    grace.unref();
    stop();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Where heard audio goes: the --out file (written once, at the end or on a stop signal), else the speaker through sox. */
function audioOut(path: string | undefined): { sink: AudioSink; finish: () => void } {
  if (path) {
    const recording = new RecordingSink();
    let written = false;
    return {
      sink: recording,
      finish: () => {
        if (written) return;
        written = true;
        writeFileSync(path, encodeWav(recording.samples()));
        console.log(`wrote what you heard to ${path}`);
      },
    };
  }
  const play = findCommand('play');
  if (!play) {
    console.log(`no speaker: ${SOX_MISSING}; what you hear is not played (or give --out FILE.wav)`);
    return { sink: { write: () => {} }, finish: () => {} };
  }
  const speaker = new Speaker(play);
  return {
    sink: speaker,
    finish: () => {
      if (speaker.failure) console.log(`the speaker failed: ${safe(speaker.failure)}`);
      speaker.close();
    },
  };
}

export function describeStats(s: CallStats): string {
  return [
    `path ${s.path ?? 'none'}`,
    `${s.codec} ${s.frameMs} ms frames at ${Math.round(s.bitrate / 1000)} kbit/s`,
    `sent ${s.packetsSent} packets (${(s.bytesSent / 1024).toFixed(1)} KiB)`,
    `received ${s.packetsReceived}`,
    `lost ${s.lossPercent.toFixed(1)}%, late ${s.latePercent.toFixed(1)}%, concealed ${s.concealedPercent.toFixed(1)}%`,
    `jitter ${s.jitterMs.toFixed(1)} ms`,
    `buffer ${Math.round(s.bufferMs)} ms`,
    ...(s.rttMs !== null ? [`RTT ${s.rttMs.toFixed(1)} ms`] : []),
    ...(s.mos !== null ? [`MOS ${s.mos.toFixed(2)}`] : []),
    ...(s.heldByPeer ? ['held by the other side'] : []),
    ...(s.mutedByPeer ? ['muted by the other side'] : []),
  ].join(', ');
}

const END_TEXT: Record<CallEnd['reason'], string> = {
  hung_up: 'hung up',
  declined: 'declined',
  busy: 'busy',
  refused: 'refused (not taking calls from you)',
  unsupported_codec: 'no codec in common',
  no_answer: 'no answer',
  cancelled: 'cancelled',
  answered_elsewhere: 'answered on another device',
  unavailable: 'not online',
  no_path: 'no network path worked',
  media_lost: 'no audio arrived for 10 s',
  replaced: 'you called each other at once: going on with one call',
  conference: 'the call goes on as a conference',
};

/** Runs `call` until it ends (or `limitMs`), printing stats; writes what was heard. */
async function runCall(call: Call, finish: () => void, limitMs: number | null): Promise<CallEnd> {
  call.onState((state) => {
    if (state === 'ringing' && call.direction === 'outgoing') console.log(`ringing ${safe(call.peer)}…`);
    if (state === 'connecting') console.log('answered; connecting…');
    if (state === 'active') console.log(`in a call with ${safe(call.peer)}: ${describeStats(call.stats())}`);
  });
  const live = setInterval(() => call.state === 'active' && console.log(describeStats(call.stats())), STATS_EVERY_MS);
  let limit: NodeJS.Timeout | null = null;
  const limitFrom = () => limitMs !== null && (limit = setTimeout(() => call.hangup(), limitMs));
  if (call.state === 'active') limitFrom();
  call.onState((state) => state === 'active' && limitFrom());
  const keys = interactiveKeys(call);
  const signals = onStopSignals(() => call.hangup(), finish);
  const end = await call.ended;
  signals();
  keys();
  clearInterval(live);
  if (limit) clearTimeout(limit);
  if (end.reason === 'replaced' && call.replacement) {
    console.log(END_TEXT.replaced);
    return runCall(call.replacement, finish, limitMs);
  }
  const final = call.stats();
  console.log(`call ended: ${END_TEXT[end.reason]}${end.by === 'remote' && end.reason === 'hung_up' ? ` by ${safe(call.peer)}` : ''}`);
  if (final.packetsSent > 0) console.log(describeStats(final));
  finish();
  return end;
}

/** h: hold/resume, m: mute/unmute, q: hang up (on a terminal only). Returns the cleanup. */
function interactiveKeys(call: Call): () => void {
  if (!process.stdin.isTTY) return () => {};
  let held = false;
  let muted = false;
  process.stdin.setRawMode(true);
  process.stdin.resume();
  const onKey = (chunk: Buffer) => {
    const key = chunk.toString();
    if (key === 'h') {
      held = !held;
      call.hold(held);
      console.log(held ? 'on hold' : 'resumed');
    } else if (key === 'm') {
      muted = !muted;
      call.mute(muted);
      console.log(muted ? 'muted' : 'unmuted');
    } else if (key === 'q' || key === '\u0003') {
      call.hangup();
    }
  };
  process.stdin.on('data', onKey);
  return () => {
    process.stdin.off('data', onKey);
    process.stdin.setRawMode(false);
    process.stdin.pause();
  };
}

async function withCalls<T>(account: Account, descriptor: NetworkDescriptor, options: { frameMs?: 10 | 20; callsFrom?: 'buddies' | 'anyone' }, body: (calls: CallManager, conferences: ConferenceManager, device: Device) => Promise<T>): Promise<T> {
  // NAT type and upload are not measured here: every CLI member counts the same, and the cores decide.
  const device = await openDevice(account, descriptor, {
    policy: { callsFrom: options.callsFrom ?? 'buddies', readReceipts: true, ...(options.frameMs ? { frameMs: options.frameMs } : {}) },
    cpuCores: availableParallelism(),
  });
  try {
    return await body(device.calls, device.conferences, device);
  } finally {
    // The last signal (BYE, CANCEL) must reach the other side before this process goes.
    await device.close({ acknowledgeWithinMs: SIGNAL_ACK_WAIT_MS });
  }
}

/** `parley call <user>`: rings every online device of the user; the first to answer gets the call. */
export async function call(account: Account, descriptor: NetworkDescriptor, to: string, options: CallOptions): Promise<void> {
  const { source, seconds, close } = loadSource(options.in);
  const { sink, finish } = audioOut(options.out);
  const end = await withCalls(account, descriptor, options, async (calls) => {
    const started = realEnv.clock.now();
    const outgoing = await calls.call(to.toLowerCase(), { source, sink });
    outgoing.onState((state) => state === 'active' && console.log(`connected in ${Math.round(realEnv.clock.now() - started)} ms from dialling`));
    const limitMs = options.seconds !== undefined ? options.seconds * 1000 : seconds !== null ? seconds * 1000 + TAIL_MS : null;
    return runCall(outgoing, finish, limitMs);
  }).finally(close);
  if (end.by === 'remote' && end.reason !== 'hung_up') throw new CommandError(`${to}: ${END_TEXT[end.reason]}`);
}

/** `parley answer`: waits for a call (or a conference invitation) and answers it with --in, recording --out, until it ends. */
export async function answer(account: Account, descriptor: NetworkDescriptor, options: CallOptions & { callsFrom?: 'buddies' | 'anyone' }): Promise<void> {
  const { source, close } = loadSource(options.in);
  await withCalls(account, descriptor, options, async (calls, conferences) => {
    console.log(`${account.username} is waiting for a call (Ctrl-C to stop)`);
    let stopWaiting = () => {};
    const incoming = await new Promise<Call | Conference | null>((resolve) => {
      calls.onIncoming(resolve);
      conferences.onInvite(resolve);
      const stopped = () => resolve(null);
      process.once('SIGINT', stopped);
      process.once('SIGTERM', stopped);
      stopWaiting = () => {
        process.off('SIGINT', stopped);
        process.off('SIGTERM', stopped);
      };
    });
    stopWaiting();
    if (!incoming) return;
    const { sink, finish } = audioOut(options.out);
    const limitMs = options.seconds !== undefined ? options.seconds * 1000 : null;
    if (incoming instanceof Conference) {
      console.log(`${safe(incoming.host?.user ?? 'someone')} invites you to a conference; joining`);
      incoming.join({ source, sink });
      await runConference(incoming, finish, limitMs);
      return;
    }
    console.log(`${safe(incoming.peer)} is calling; answering`);
    incoming.accept({ source, sink });
    await runCall(incoming, finish, limitMs);
  }).finally(close);
}

const CONFERENCE_END_TEXT: Record<ConferenceEnd['reason'], string> = {
  left: 'you left',
  declined: 'declined',
  kicked: 'the host removed you',
  removed: 'the others lost your audio',
  cancelled: 'the invitation was withdrawn',
  answered_elsewhere: 'joined on another device',
  alone: 'everyone else left',
  no_answer: 'nobody answered',
};

export function describeRoster(conference: Conference): string {
  const path = conference.legPath;
  const entries = conference.roster().map((r) => {
    const roles = [...(r.host ? ['host'] : []), ...(r.mixer ? ['mixes'] : []), ...(r.speaking ? ['speaking'] : [])];
    return roles.length > 0 ? `${r.user} (${roles.join(', ')})` : r.user;
  });
  return `conference: ${entries.join(', ')}${path ? `; your leg to the mixer: ${path}` : ''}`;
}

/** Runs `conference` until it ends (or this side leaves after `limitMs` from joining), printing the roster as it changes. */
async function runConference(conference: Conference, finish: () => void, limitMs: number | null): Promise<ConferenceEnd> {
  let shown = '';
  const show = () => {
    if (conference.state !== 'active') return;
    const text = describeRoster(conference);
    if (text !== shown) console.log(safe((shown = text)));
  };
  conference.onChange(show);
  const live = setInterval(show, 1_000);
  let limit: NodeJS.Timeout | null = null;
  const limitFrom = () => limitMs !== null && limit === null && (limit = setTimeout(() => conference.leave(), limitMs));
  if (conference.state === 'active') limitFrom();
  conference.onChange(() => conference.state === 'active' && limitFrom());
  const signals = onStopSignals(() => conference.leave(), finish);
  const end = await conference.ended;
  signals();
  clearInterval(live);
  if (limit) clearTimeout(limit);
  console.log(`conference ended: ${CONFERENCE_END_TEXT[end.reason]}`);
  finish();
  return end;
}

/** `parley conference <user>…`: hosts a conference and invites the users; the best placed participant mixes. */
export async function conference(account: Account, descriptor: NetworkDescriptor, users: readonly string[], options: CallOptions): Promise<void> {
  if (users.length === 0) throw new CommandError('whom? parley conference <user> <user> …');
  const { source, seconds, close } = loadSource(options.in);
  const { sink, finish } = audioOut(options.out);
  const end = await withCalls(account, descriptor, options, async (_calls, conferences) => {
    const hosted = await conferences.start(users.map((u) => u.toLowerCase()), { source, sink });
    console.log(`inviting ${safe(users.join(', '))}…`);
    const limitMs = options.seconds !== undefined ? options.seconds * 1000 : seconds !== null ? seconds * 1000 + TAIL_MS : null;
    return runConference(hosted, finish, limitMs);
  }).finally(close);
  if (end.reason === 'alone' && end.by === 'remote') console.log('nobody (else) is in it');
}

/** `parley group call <group>`: a conference hosted here with the group's other current members invited. */
export async function groupCall(account: Account, descriptor: NetworkDescriptor, resolve: (groups: readonly { id: string; name: string }[]) => string, options: CallOptions): Promise<void> {
  const { source, seconds, close } = loadSource(options.in);
  const { sink, finish } = audioOut(options.out);
  const end = await withCalls(account, descriptor, options, async (_calls, _conferences, device) => {
    const id = resolve(device.groups.list().map((g) => ({ id: g.groupId, name: g.name })));
    let hosted: Conference;
    try {
      hosted = await device.startGroupCall(id, { source, sink });
    } catch (error) {
      if (error instanceof GroupError) throw new CommandError(error.message);
      throw error;
    }
    const group = device.groups.group(id);
    console.log(`calling the group ${safe(group.name)}: inviting ${safe(group.members.filter((u) => u !== account.username).join(', '))}…`);
    const limitMs = options.seconds !== undefined ? options.seconds * 1000 : seconds !== null ? seconds * 1000 + TAIL_MS : null;
    return runConference(hosted, finish, limitMs);
  }).finally(close);
  if (end.reason === 'alone' && end.by === 'remote') console.log('nobody (else) is in it');
}
