// WAV files (RIFF, PCM) for scripted calls: read any 8/16/24/32-bit integer or 32-bit float PCM
// file, mixed down to mono and resampled to 48 kHz; write 48 kHz mono 16-bit. A file is
// untrusted input: a malformed one is a typed error.
import { err, ok } from '../result.js';
import { OPUS_SAMPLE_RATE } from './opus.js';
const MAX_SECONDS = 3600;
export function parseWav(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const text = (at) => String.fromCharCode(...bytes.subarray(at, at + 4));
    if (bytes.length < 12 || text(0) !== 'RIFF' || text(8) !== 'WAVE')
        return err({ code: 'not_wav', message: 'not a RIFF/WAVE file' });
    let format = null;
    let at = 12;
    while (at + 8 <= bytes.length) {
        const id = text(at);
        const size = view.getUint32(at + 4, true);
        const body = at + 8;
        if (id === 'fmt ') {
            if (size < 16 || body + 16 > bytes.length)
                return err({ code: 'truncated', message: 'the fmt chunk is cut off' });
            let tag = view.getUint16(body, true);
            // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the sub-format GUID.
            if (tag === 0xfffe && size >= 40 && body + 26 <= bytes.length)
                tag = view.getUint16(body + 24, true);
            format = { tag, channels: view.getUint16(body + 2, true), rate: view.getUint32(body + 4, true), bits: view.getUint16(body + 14, true) };
        }
        else if (id === 'data') {
            if (!format)
                return err({ code: 'not_wav', message: 'data before fmt' });
            const end = Math.min(bytes.length, body + size);
            return decodeSamples(bytes.subarray(body, end), format);
        }
        at = body + size + (size & 1);
    }
    return err({ code: 'truncated', message: 'no data chunk' });
}
function decodeSamples(data, format) {
    const { tag, channels, rate, bits } = format;
    const isFloat = tag === 3 && bits === 32;
    if (!(tag === 1 && [8, 16, 24, 32].includes(bits)) && !isFloat)
        return err({ code: 'unsupported', message: `WAV format ${tag} with ${bits}-bit samples (PCM or 32-bit float only)` });
    if (channels < 1 || channels > 8 || rate < 8000 || rate > 192_000)
        return err({ code: 'unsupported', message: `${channels} channels at ${rate} Hz` });
    const width = bits / 8;
    const frames = Math.floor(data.length / (width * channels));
    if (frames / rate > MAX_SECONDS)
        return err({ code: 'unsupported', message: `longer than ${MAX_SECONDS} s` });
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const sample = (offset) => {
        if (isFloat)
            return view.getFloat32(offset, true);
        if (bits === 8)
            return (data[offset] - 128) / 128;
        if (bits === 16)
            return view.getInt16(offset, true) / 32768;
        if (bits === 24)
            return ((data[offset] | (data[offset + 1] << 8) | (view.getInt8(offset + 2) << 16)) / 8388608);
        return view.getInt32(offset, true) / 2147483648;
    };
    const mono = new Float32Array(frames);
    for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++)
            sum += sample((i * channels + c) * width);
        mono[i] = sum / channels;
    }
    return ok(toInt16(resample(mono, rate, OPUS_SAMPLE_RATE)));
}
/** Linear interpolation: enough for test files and speech; a real resampler belongs in front of a microphone. */
export function resample(input, from, to) {
    if (from === to)
        return input;
    const length = Math.floor((input.length * to) / from);
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) {
        const position = (i * from) / to;
        const left = Math.floor(position);
        const fraction = position - left;
        out[i] = input[left] * (1 - fraction) + (input[Math.min(left + 1, input.length - 1)] ?? 0) * fraction;
    }
    return out;
}
function toInt16(samples) {
    const out = new Int16Array(samples.length);
    for (let i = 0; i < samples.length; i++)
        out[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32768)));
    return out;
}
/** A 48 kHz mono 16-bit WAV file. */
export function encodeWav(samples, rate = OPUS_SAMPLE_RATE) {
    const out = new Uint8Array(44 + samples.length * 2);
    const view = new DataView(out.buffer);
    const put = (at, text) => out.set(new TextEncoder().encode(text), at);
    put(0, 'RIFF');
    view.setUint32(4, 36 + samples.length * 2, true);
    put(8, 'WAVE');
    put(12, 'fmt ');
    view.setUint32(16, 16, true);
    view.setUint16(20, 1, true);
    view.setUint16(22, 1, true);
    view.setUint32(24, rate, true);
    view.setUint32(28, rate * 2, true);
    view.setUint16(32, 2, true);
    view.setUint16(34, 16, true);
    put(36, 'data');
    view.setUint32(40, samples.length * 2, true);
    for (let i = 0; i < samples.length; i++)
        view.setInt16(44 + 2 * i, samples[i], true);
    return out;
}
//# sourceMappingURL=wav.js.map