// The machine's own microphone and speaker, through sox's `rec` and `play` (which use
// PulseAudio, ALSA or whatever sox was built with): raw 48 kHz mono 16-bit samples through
// pipes. When sox is not installed, or has no device, the caller is told why and gets silence.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { OPUS_SAMPLE_RATE } from './opus.js';
const RAW = ['-q', '-t', 'raw', '-r', String(OPUS_SAMPLE_RATE), '-e', 'signed-integer', '-b', '16', '-c', '1', '-L'];
/** At most this much captured audio waits to be sent (a stalled call must not grow memory). */
const MAX_BUFFERED_SAMPLES = OPUS_SAMPLE_RATE;
/** The full path of `command` on PATH, or null. */
export function findCommand(command, path = process.env.PATH ?? '') {
    for (const dir of path.split(delimiter)) {
        if (dir && existsSync(join(dir, command)))
            return join(dir, command);
    }
    return null;
}
export const SOX_MISSING = "sox's rec and play were not found (Debian: apt-get install sox)";
/** Starts rec or play on a raw pipe; `failed` learns why it could not start or why it ended badly. */
function spawnSox(command, stdio, failed) {
    const child = spawn(command, [...RAW, '-'], { stdio });
    let errors = '';
    child.stderr.on('data', (chunk) => (errors = (errors + chunk.toString()).slice(-500)));
    child.on('error', (error) => failed(error.message));
    child.on('exit', (code) => {
        if (code !== 0 && code !== null)
            failed(`${command} exited with ${code}: ${errors.trim()}`);
    });
    return child;
}
/** What the microphone says, as an AudioSource: silence while nothing has come (or after `rec` ended). */
export class Microphone {
    chunks = [];
    buffered = 0;
    leftover = null;
    child;
    /** Why it stopped, when it did. */
    failure = null;
    constructor(rec) {
        this.child = spawnSox(rec, ['ignore', 'pipe', 'pipe'], (failure) => (this.failure = failure));
        this.child.stdout.on('data', (chunk) => this.take(chunk));
    }
    take(chunk) {
        const bytes = this.leftover ? Buffer.concat([this.leftover, chunk]) : chunk;
        const even = bytes.length & ~1;
        this.leftover = even < bytes.length ? bytes.subarray(even) : null;
        const samples = new Int16Array(even / 2);
        for (let i = 0; i < samples.length; i++)
            samples[i] = bytes.readInt16LE(2 * i);
        this.chunks.push(samples);
        this.buffered += samples.length;
        // Keep the newest second: old audio is worth less than low delay.
        while (this.buffered > MAX_BUFFERED_SAMPLES && this.chunks.length > 1)
            this.buffered -= this.chunks.shift().length;
    }
    read(samples) {
        const out = new Int16Array(samples);
        let at = 0;
        while (at < samples && this.chunks.length > 0) {
            const head = this.chunks[0];
            const take = Math.min(head.length, samples - at);
            out.set(head.subarray(0, take), at);
            at += take;
            if (take === head.length)
                this.chunks.shift();
            else
                this.chunks[0] = head.subarray(take);
            this.buffered -= take;
        }
        return out;
    }
    close() {
        this.child.kill();
    }
}
/** The speaker, as an AudioSink: each played frame goes to `play`. */
export class Speaker {
    child;
    failure = null;
    constructor(play) {
        this.child = spawnSox(play, ['pipe', 'ignore', 'pipe'], (failure) => (this.failure = failure));
        this.child.stdin.on('error', () => { }); // play went away: failure says why
    }
    write(_atMs, samples) {
        if (this.failure || !this.child.stdin.writable)
            return;
        const bytes = Buffer.alloc(samples.length * 2);
        for (let i = 0; i < samples.length; i++)
            bytes.writeInt16LE(samples[i], 2 * i);
        this.child.stdin.write(bytes);
    }
    close() {
        this.child.stdin.end();
    }
}
//# sourceMappingURL=system-audio.js.map