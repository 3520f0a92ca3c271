// Objective comparison of what was sent with what was heard: the delay between them (by
// cross-correlating 1 ms energy envelopes) and a spectral similarity (the mean cosine between
// their short-time spectra, 0-1, over the frames where the reference has sound). A codec that
// keeps the sound keeps the spectrum, even where it does not keep the waveform; loss and bad
// concealment lower the figure. Used by the call tests and the latency benchmark.
import { SAMPLES_PER_MS } from './opus.js';
const ENVELOPE_SAMPLES = SAMPLES_PER_MS;
function envelope(samples) {
    const out = new Float64Array(Math.floor(samples.length / ENVELOPE_SAMPLES));
    for (let i = 0; i < out.length; i++) {
        let sum = 0;
        for (let j = 0; j < ENVELOPE_SAMPLES; j++)
            sum += Math.abs(samples[i * ENVELOPE_SAMPLES + j]);
        out[i] = sum / ENVELOPE_SAMPLES;
    }
    return out;
}
/** The delay (ms, 0-maxDelayMs) at which `recorded` best matches `reference`, and how well (normalised correlation of envelopes). */
export function findDelay(reference, recorded, maxDelayMs = 1000) {
    const a = envelope(reference);
    const b = envelope(recorded);
    const meanA = a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);
    const meanB = b.reduce((s, v) => s + v, 0) / Math.max(1, b.length);
    let best = { delayMs: 0, correlation: -Infinity };
    for (let d = 0; d <= maxDelayMs && d < b.length; d++) {
        let num = 0;
        let da = 0;
        let db = 0;
        const n = Math.min(a.length, b.length - d);
        for (let i = 0; i < n; i++) {
            const x = a[i] - meanA;
            const y = b[i + d] - meanB;
            num += x * y;
            da += x * x;
            db += y * y;
        }
        const correlation = da > 0 && db > 0 ? num / Math.sqrt(da * db) : 0;
        if (correlation > best.correlation)
            best = { delayMs: d, correlation };
    }
    return best;
}
const WINDOW = 20 * SAMPLES_PER_MS;
/** Analysis frequencies: 48 steps, log-spaced from 100 Hz to 8 kHz (wideband speech). */
const FREQUENCIES = Array.from({ length: 48 }, (_, i) => 100 * (8000 / 100) ** (i / 47));
const HANN = Float64Array.from({ length: WINDOW }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (WINDOW - 1)));
const COEFFICIENTS = FREQUENCIES.map((f) => 2 * Math.cos((2 * Math.PI * f) / (SAMPLES_PER_MS * 1000)));
/** Magnitudes at FREQUENCIES of one window (Goertzel, Hann-windowed). */
function spectrum(samples, start) {
    const out = new Float64Array(FREQUENCIES.length);
    COEFFICIENTS.forEach((coefficient, k) => {
        let s1 = 0;
        let s2 = 0;
        for (let i = 0; i < WINDOW; i++) {
            const s0 = (samples[start + i] ?? 0) * HANN[i] + coefficient * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        out[k] = Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - coefficient * s1 * s2));
    });
    return out;
}
function energy(samples, start) {
    let sum = 0;
    for (let i = 0; i < WINDOW; i++)
        sum += (samples[start + i] ?? 0) ** 2;
    return sum / WINDOW;
}
/** Mean spectral cosine similarity of `recorded` (shifted back by `delayMs`) to `reference`, over the windows where the reference is not quiet. */
export function spectralSimilarity(reference, recorded, delayMs) {
    const shift = Math.round(delayMs * SAMPLES_PER_MS);
    let total = 0;
    let count = 0;
    for (let start = 0; start + WINDOW <= reference.length; start += WINDOW) {
        if (energy(reference, start) < 1e4)
            continue; // below about -50 dBFS: silence
        const a = spectrum(reference, start);
        const b = spectrum(recorded, start + shift);
        let dot = 0;
        let na = 0;
        let nb = 0;
        for (let k = 0; k < a.length; k++) {
            dot += a[k] * b[k];
            na += a[k] ** 2;
            nb += b[k] ** 2;
        }
        total += na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
        count++;
    }
    return count === 0 ? 0 : total / count;
}
/** The amplitude of the `hz` component of `samples` (Goertzel; a pure tone of amplitude A gives about A). */
export function toneStrength(samples, hz) {
    if (samples.length === 0)
        return 0;
    const coefficient = 2 * Math.cos((2 * Math.PI * hz) / (SAMPLES_PER_MS * 1000));
    let s1 = 0;
    let s2 = 0;
    for (const v of samples) {
        const s0 = v + coefficient * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return (2 * Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - coefficient * s1 * s2))) / samples.length;
}
/** `seconds` of the sum of pure tones at `frequencies`, each of `amplitude`. */
export function tones(frequencies, seconds, amplitude = 4000) {
    const out = new Int16Array(Math.round(seconds * 1000 * SAMPLES_PER_MS));
    for (let i = 0; i < out.length; i++) {
        let v = 0;
        for (const hz of frequencies)
            v += Math.sin((2 * Math.PI * hz * i) / (SAMPLES_PER_MS * 1000));
        out[i] = Math.round(amplitude * v);
    }
    return out;
}
/**
 * A test signal like speech in its rhythm: 160 ms tones at changing pitches with harmonics, each
 * followed by 40 ms of quiet, so that a lost or concealed frame, a wrong delay or a wrong
 * spectrum all show. `seed` picks the pitches.
 */
export function testSignal(seconds, seed = 1) {
    const out = new Int16Array(Math.round(seconds * 1000 * SAMPLES_PER_MS));
    let state = seed >>> 0 || 1;
    const next = () => {
        state = (state * 1664525 + 1013904223) >>> 0;
        return state / 2 ** 32;
    };
    const segment = 200 * SAMPLES_PER_MS;
    const tone = 160 * SAMPLES_PER_MS;
    for (let start = 0; start < out.length; start += segment) {
        const pitch = 120 + next() * 280;
        const amplitude = 4000 + next() * 6000;
        for (let i = 0; i < tone && start + i < out.length; i++) {
            const t = i / (SAMPLES_PER_MS * 1000);
            const fade = Math.min(1, i / 240, (tone - i) / 240);
            let v = 0;
            for (let h = 1; h <= 8; h++)
                v += Math.sin(2 * Math.PI * pitch * h * t) / h;
            out[start + i] = Math.round(amplitude * fade * v * 0.6);
        }
    }
    return out;
}
//# sourceMappingURL=audio-compare.js.map