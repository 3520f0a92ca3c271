// The machine's own microphone and speaker, through sox's `rec` and `play` (which use
// PulseAudio, ALSA or whatever sox was built with): raw 48 kHz mono 16-bit samples through
// pipes. When sox is not installed, or has no device, the caller is told why and gets silence.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { AudioSink, AudioSource } from './media-stream.js';
import { OPUS_SAMPLE_RATE } from './opus.js';

const RAW = ['-q', '-t', 'raw', '-r', String(OPUS_SAMPLE_RATE), '-e', 'signed-integer', '-b', '16', '-c', '1', '-L'];
/** At most this much captured audio waits to be sent (a stalled call must not grow memory). */
const MAX_BUFFERED_SAMPLES = OPUS_SAMPLE_RATE;

/** The full path of `command` on PATH, or null. */
export function findCommand(command: string, path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return null;
}

export const SOX_MISSING = "sox's rec and play were not found (Debian: apt-get install sox)";

/** Starts rec or play on a raw pipe; `failed` learns why it could not start or why it ended badly. */
function spawnSox(command: string, stdio: ['ignore' | 'pipe', 'ignore' | 'pipe', 'pipe'], failed: (why: string) => void): ChildProcess {
  const child = spawn(command, [...RAW, '-'], { stdio });
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-500)));
  child.on('error', (error) => failed(error.message));
  child.on('exit', (code) => {
    if (code !== 0 && code !== null) failed(`${command} exited with ${code}: ${errors.trim()}`);
  });
  return child;
}

/** What the microphone says, as an AudioSource: silence while nothing has come (or after `rec` ended). */
export class Microphone implements AudioSource {
  private chunks: Int16Array[] = [];
  private buffered = 0;
  private leftover: Buffer | null = null;
  private readonly child: ChildProcess;
  /** Why it stopped, when it did. */
  failure: string | null = null;

  constructor(rec: string) {
    this.child = spawnSox(rec, ['ignore', 'pipe', 'pipe'], (failure) => (this.failure = failure));
    this.child.stdout!.on('data', (chunk: Buffer) => this.take(chunk));
  }

  private take(chunk: Buffer): void {
    const bytes = this.leftover ? Buffer.concat([this.leftover, chunk]) : chunk;
    const even = bytes.length & ~1;
    this.leftover = even < bytes.length ? bytes.subarray(even) : null;
    const samples = new Int16Array(even / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(2 * i);
    this.chunks.push(samples);
    this.buffered += samples.length;
    // Keep the newest second: old audio is worth less than low delay.
    while (this.buffered > MAX_BUFFERED_SAMPLES && this.chunks.length > 1) this.buffered -= this.chunks.shift()!.length;
  }

  read(samples: number): Int16Array {
    const out = new Int16Array(samples);
    let at = 0;
    while (at < samples && this.chunks.length > 0) {
      const head = this.chunks[0]!;
      const take = Math.min(head.length, samples - at);
      out.set(head.subarray(0, take), at);
      at += take;
      if (take === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(take);
      this.buffered -= take;
    }
    return out;
  }

  close(): void {
    this.child.kill();
  }
}

/** The speaker, as an AudioSink: each played frame goes to `play`. */
export class Speaker implements AudioSink {
  private readonly child: ChildProcess;
  failure: string | null = null;

  constructor(play: string) {
    this.child = spawnSox(play, ['pipe', 'ignore', 'pipe'], (failure) => (this.failure = failure));
    this.child.stdin!.on('error', () => {}); // play went away: failure says why
  }

  write(_atMs: number, samples: Int16Array): void {
    if (this.failure || !this.child.stdin!.writable) return;
    const bytes = Buffer.alloc(samples.length * 2);
    for (let i = 0; i < samples.length; i++) bytes.writeInt16LE(samples[i]!, 2 * i);
    this.child.stdin!.write(bytes);
  }

  close(): void {
    this.child.stdin!.end();
  }
}
