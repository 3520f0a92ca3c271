// Proof that the media is standard: the SRTP packets of a test call, with the call's key in an
// SDP a=crypto line (RFC 4568), are sent over UDP to ffmpeg — an SRTP and RTP/Opus stack nobody
// here wrote — which decrypts and decodes them to a WAV file that must match the call's input.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseWav } from '../../src/media/wav.js';
import { findDelay, spectralSimilarity } from '../../src/media/audio-compare.js';
import { OPUS_PAYLOAD_TYPE } from '../../src/rtp/rtp.js';
import { SRTP_SUITE } from '../../src/rtp/srtp.js';
import { testSeed, withSeed } from '../support/seed.js';
import { virtualCall } from '../support/virtual-call.js';
/** Whether something listens on UDP `port`, over IPv4 or IPv6 (from /proc: ffmpeg prints nothing when it is ready). */
function udpBound(port) {
    const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    const table = (file) => {
        try {
            return readFileSync(file, 'utf8');
        }
        catch {
            return '';
        }
    };
    return (table('/proc/net/udp') + table('/proc/net/udp6')).split('\n').some((line) => line.trim().split(/\s+/)[1]?.endsWith(suffix));
}
async function until(condition, timeoutMs, what) {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
        if (Date.now() > deadline)
            throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
}
test('ffmpeg decrypts and decodes a call\'s SRTP into the audio that was sent', { timeout: 60_000 }, () => withSeed(testSeed(), async (seed) => {
    const call = await virtualCall(seed, { lossRate: 0, jitterMs: 0 }, { seconds: 3 });
    const dir = mkdtempSync(join(tmpdir(), 'parley-ffmpeg-'));
    // Closed in finally, also when the test fails: an open socket or a live ffmpeg holds the run.
    const socket = createSocket('udp4');
    let ffmpeg = null;
    let giveUp;
    try {
        await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
        // A port for ffmpeg: free a moment ago (ffmpeg binds it; RTCP would use the next one).
        const probe = createSocket('udp4');
        await new Promise((resolve) => probe.bind(0, '127.0.0.1', resolve));
        const port = probe.address().port & ~1;
        probe.close();
        const inline = Buffer.concat([call.key.key, call.key.salt]).toString('base64');
        const sdp = [
            'v=0',
            'o=- 0 0 IN IP4 127.0.0.1',
            's=parley test call',
            'c=IN IP4 127.0.0.1',
            't=0 0',
            `m=audio ${port} RTP/SAVP ${OPUS_PAYLOAD_TYPE}`,
            `a=rtpmap:${OPUS_PAYLOAD_TYPE} opus/48000/2`,
            `a=crypto:1 ${SRTP_SUITE} inline:${inline}`,
            '',
        ].join('\n');
        writeFileSync(join(dir, 'call.sdp'), sdp);
        const out = join(dir, 'heard.wav');
        const decoder = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'warning', '-protocol_whitelist', 'file,udp,rtp,srtp', '-i', join(dir, 'call.sdp'), '-t', '2.5', '-ac', '1', '-ar', '48000', '-y', out]);
        let errors = '';
        ffmpeg = decoder;
        decoder.stderr.on('data', (chunk) => (errors += chunk.toString()));
        const exited = new Promise((resolve) => decoder.on('exit', resolve));
        let exitCode;
        void exited.then((c) => (exitCode = c));
        await until(() => udpBound(port) || exitCode !== undefined, 15_000, 'ffmpeg to listen').catch((error) => {
            decoder.kill('SIGKILL');
            throw new Error(`${error.message} on port ${port}: ${errors}`);
        });
        assert.equal(exitCode, undefined, `ffmpeg ended before listening: ${errors}`);
        for (const packet of call.sent) {
            socket.send(packet, port, '127.0.0.1');
            await new Promise((resolve) => setTimeout(resolve, 2));
        }
        const code = await Promise.race([exited, new Promise((resolve) => (giveUp = setTimeout(() => resolve('timeout'), 20_000)))]);
        assert.equal(code, 0, `ffmpeg: ${errors}`);
        const heard = parseWav(readFileSync(out));
        assert.ok(heard.ok, JSON.stringify(heard));
        const { delayMs } = findDelay(call.input, heard.value, 200);
        // ffmpeg stops after 2.5 s of output (-t): compare that much.
        const similarity = spectralSimilarity(call.input.subarray(0, heard.value.length - delayMs * 48), heard.value, delayMs);
        assert.ok(similarity > 0.95, `ffmpeg's decoding is ${similarity} similar to the input (delay ${delayMs} ms)`);
        assert.ok(heard.value.length >= 48 * 2400, `${heard.value.length} samples`);
    }
    finally {
        clearTimeout(giveUp);
        socket.close();
        if (ffmpeg && ffmpeg.exitCode === null && ffmpeg.signalCode === null)
            ffmpeg.kill('SIGKILL');
        if (!process.env.KEEP_FFMPEG_DIR)
            rmSync(dir, { recursive: true, force: true });
        else
            console.log(dir);
    }
}));
//# sourceMappingURL=ffmpeg-interop.test.js.map