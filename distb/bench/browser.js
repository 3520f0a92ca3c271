// The app in a real browser (Debian's Chromium, headless, fake media devices) against
// `parley local --app` on loopback: the bundle's size, the first load (navigation until the
// buddy list shows a buddy online), and from clicking Call to the callee's page ringing and to
// audio flowing both ways (both pages playing what the other's microphone says). The callee
// answers the moment it rings.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { appUrls, browserWithMicrophone, CHROMIUM } from '../test/support/browser.js';
import { encodeWav } from '../src/media/wav.js';
import { testSignal } from '../src/media/audio-compare.js';
import { summarise } from './measure.js';
const MAIN = new URL('../src/cli/main.js', import.meta.url).pathname;
const UI = new URL('../ui/', import.meta.url).pathname;
const ROUNDS = 5;
/** The first seconds of a call are the browser's gain control and echo canceller settling in; then this long is timed. */
const SETTLE_MS = 2_000;
const MOUTH_TO_EAR_MS = 7_000;
/** Seconds of sparse clicks for the caller's microphone: 50 ms of 800 Hz, sharp onset, once a second. */
function clicks(seconds) {
    const out = new Int16Array(seconds * 48_000);
    for (let s = 0; s < seconds; s++)
        for (let i = 0; i < 2_400; i++)
            out[s * 48_000 + 12_000 + i] = Math.round(12_000 * Math.sin((2 * Math.PI * 800 * i) / 48_000));
    return out;
}
/** When clicks start in timed frames: the first sample over 30% of the loudest, after 300 ms below it (epoch ms). */
function onsets(frames) {
    let peak = 0;
    for (const f of frames)
        for (let i = 0; i < f.samples.length; i++)
            peak = Math.max(peak, Math.abs(f.samples[i]));
    const threshold = peak * 0.3;
    const found = [];
    let lastLoudMs = -Infinity;
    for (const f of [...frames].sort((a, b) => a.atMs - b.atMs)) {
        for (let i = 0; i < f.samples.length; i++) {
            if (Math.abs(f.samples[i]) < threshold)
                continue;
            const atMs = f.atMs + i / 48;
            if (atMs - lastLoudMs > 300)
                found.push(atMs);
            lastLoudMs = atMs;
        }
    }
    return found;
}
/** Each click the caller's page captured, matched with the first the callee's played within half a second. */
function mouthToEar(caller, callee) {
    const sent = onsets(caller.captured);
    const heard = onsets(callee.played);
    // The caller's times are on its output clock (what it would play then): its output latency puts the capture back in place.
    const delays = sent.map((at) => heard.find((h) => h > at && h - at < 500)).flatMap((h, i) => (h === undefined ? [] : [h - sent[i] + caller.outputLatencyMs]));
    if (delays.length === 0)
        return { skipped: `no click matched (${sent.length} sent, ${heard.length} heard)` };
    return { delayMs: summarise(delays), clicks: delays.length, outputLatencyMs: callee.outputLatencyMs };
}
/** Resolves once this call's audio on the page (a new engine each call) has played something louder than silence. */
function hearing(page) {
    return page.waitForFunction(() => (globalThis.parleyDiagnostics?.heardSamples() ?? []).some((v) => Math.abs(v) > 1000), undefined, { timeout: 30_000, polling: 5 });
}
/** Resolves once the page has no call audio running (the last call's engine stopped). */
function quiet(page) {
    return page.waitForFunction(() => globalThis.parleyDiagnostics === undefined, undefined, { timeout: 30_000 });
}
/**
 * One call from the caller's page to the callee's: clicks timed once the call settles. With
 * `busy`, both pages' main threads are made busy 120 ms of every 400 ms (a heavy page's long
 * tasks), which call audio must not wait for.
 */
async function timedCall(caller, callee, busy) {
    await Promise.all([quiet(caller), quiet(callee)]);
    await caller.getByRole('button', { name: 'Call bob' }).click();
    await callee.getByRole('button', { name: 'Answer' }).click({ timeout: 30_000 });
    const jank = busy ? await Promise.all([caller, callee].map((p) => p.evaluate(() => setInterval(() => {
        const started = performance.now();
        while (performance.now() - started < 120)
            ;
    }, 400)))) : [];
    await callee.waitForFunction((ms) => (globalThis.parleyDiagnostics?.timedFrames().played.length ?? 0) >= ms / 10, SETTLE_MS + MOUTH_TO_EAR_MS, { timeout: 60_000, polling: 250 });
    const timed = (page) => page.evaluate((ms) => {
        const frames = globalThis.parleyDiagnostics.timedFrames();
        const since = Date.now() - ms;
        const recent = (list) => list.filter((f) => f.atMs >= since).map((f) => ({ atMs: f.atMs, samples: Array.from(f.samples) }));
        return { captured: recent(frames.captured), played: recent(frames.played), outputLatencyMs: frames.outputLatencyMs };
    }, MOUTH_TO_EAR_MS);
    const [callerFrames, calleeFrames] = await Promise.all([timed(caller), timed(callee)]);
    for (const [i, page] of [caller, callee].entries())
        if (jank[i] !== undefined)
            await page.evaluate((id) => clearInterval(id), jank[i]);
    await caller.getByRole('button', { name: 'Hang up' }).click();
    return mouthToEar(callerFrames, calleeFrames);
}
export async function benchBrowser() {
    if (!existsSync(CHROMIUM))
        return { skipped: 'no Debian chromium (scripts/setup installs it)' };
    const dir = mkdtempSync(join(tmpdir(), 'parley-bench-browser-'));
    const local = spawn(process.execPath, [MAIN, 'local', '--app', '--dir', join(dir, 'net'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const browsers = [];
    try {
        let output = '';
        await new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`parley local --app did not start: ${output}`)), 60_000);
            local.stdout.on('data', (chunk) => {
                output += chunk.toString();
                if (/bob's app: http/.test(output)) {
                    clearTimeout(timer);
                    resolve();
                }
            });
        });
        const urls = appUrls(output, ['alice', 'bob']);
        for (const [i, user] of ['alice', 'bob'].entries()) {
            writeFileSync(join(dir, `${user}.wav`), encodeWav(testSignal(4, i + 3)));
            browsers.push(await browserWithMicrophone(join(dir, `${user}.wav`)));
        }
        const [alice, bob] = (await Promise.all(browsers.map((b) => b.newPage())));
        const loadStarted = performance.now();
        await alice.goto(urls[0]);
        await alice.getByRole('button', { name: /bob.*online/ }).waitFor({ timeout: 30_000 });
        const firstLoadMs = performance.now() - loadStarted;
        await bob.goto(urls[1]);
        await bob.getByRole('button', { name: /alice.*online/ }).waitFor({ timeout: 30_000 });
        await alice.getByRole('button', { name: /bob/ }).click();
        const ringing = [];
        const twoWay = [];
        for (let round = 0; round < ROUNDS; round++) {
            await Promise.all([quiet(alice), quiet(bob)]);
            const clicked = performance.now();
            await alice.getByRole('button', { name: 'Call bob' }).click();
            await bob.getByRole('button', { name: 'Answer' }).waitFor({ timeout: 30_000 });
            ringing.push(performance.now() - clicked);
            await bob.getByRole('button', { name: 'Answer' }).click();
            await Promise.all([hearing(alice), hearing(bob)]);
            twoWay.push(performance.now() - clicked);
            await alice.getByRole('button', { name: 'Hang up' }).click();
            await bob.getByText(/Call with alice ended/).waitFor({ timeout: 30_000 });
            await alice.getByRole('button', { name: 'Call bob' }).and(alice.locator(':enabled')).waitFor({ timeout: 30_000 });
        }
        const bundleGzipBytes = ['app.js', 'worklet.js', 'app.css'].reduce((sum, file) => sum + gzipSync(readFileSync(join(UI, file))).length, 0);
        // Mouth to ear: alice's microphone now plays a click a second; bob answers; after the call
        // settles, each click as alice's audio thread took it against bob's as his played it.
        await browsers[0].close();
        writeFileSync(join(dir, 'clicks.wav'), encodeWav(clicks(4)));
        browsers[0] = await browserWithMicrophone(join(dir, 'clicks.wav'));
        const caller = await browsers[0].newPage();
        await caller.goto(urls[0]);
        await caller.getByRole('button', { name: /bob.*online/ }).click({ timeout: 30_000 });
        const quietPages = await timedCall(caller, bob, false);
        const busyPages = await timedCall(caller, bob, true);
        return { bundleGzipBytes, firstLoadMs, callToRingingMs: summarise(ringing).median, callToTwoWayAudioMs: summarise(twoWay).median, rounds: ROUNDS, mouthToEar: quietPages, mouthToEarBusyPages: busyPages };
    }
    finally {
        for (const b of browsers)
            await b.close();
        local.kill('SIGINT');
        await new Promise((resolve) => local.on('exit', resolve));
        rmSync(dir, { recursive: true, force: true });
    }
}
//# sourceMappingURL=browser.js.map