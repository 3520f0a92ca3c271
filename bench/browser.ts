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
import type { Browser, Page } from 'playwright-core';
import { appUrls, browserWithMicrophone, CHROMIUM, type PageWindow } from '../test/support/browser.js';
import { encodeWav } from '../src/media/wav.js';
import { testSignal } from '../src/media/audio-compare.js';

const MAIN = new URL('../src/cli/main.js', import.meta.url).pathname;
const UI = new URL('../ui/', import.meta.url).pathname;
const ROUNDS = 5;

export interface BrowserFigures {
  /** app.js, worklet.js and app.css, gzipped (what a first load transfers besides the page). */
  bundleGzipBytes: number;
  firstLoadMs: number;
  /** Medians of ROUNDS calls, ms. */
  callToRingingMs: number;
  callToTwoWayAudioMs: number;
  rounds: number;
}

/** Resolves once this call's audio on the page (a new engine each call) has played something louder than silence. */
function hearing(page: Page): Promise<unknown> {
  return page.waitForFunction(() => ((globalThis as PageWindow).parleyDiagnostics?.heardSamples() ?? []).some((v) => Math.abs(v) > 1000), undefined, { timeout: 30_000, polling: 5 });
}

/** Resolves once the page has no call audio running (the last call's engine stopped). */
function quiet(page: Page): Promise<unknown> {
  return page.waitForFunction(() => (globalThis as PageWindow).parleyDiagnostics === undefined, undefined, { timeout: 30_000 });
}

export async function benchBrowser(): Promise<BrowserFigures | { skipped: string }> {
  if (!existsSync(CHROMIUM)) return { skipped: 'no Debian chromium (scripts/setup installs it)' };
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-browser-'));
  const local = spawn(process.execPath, [MAIN, 'local', '--app', '--dir', join(dir, 'net'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const browsers: Browser[] = [];
  try {
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`parley local --app did not start: ${output}`)), 60_000);
      local.stdout.on('data', (chunk: Buffer) => {
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
    const [alice, bob] = (await Promise.all(browsers.map((b) => b.newPage()))) as [Page, Page];
    const loadStarted = performance.now();
    await alice.goto(urls[0]!);
    await alice.getByRole('button', { name: /bob.*online/ }).waitFor({ timeout: 30_000 });
    const firstLoadMs = performance.now() - loadStarted;
    await bob.goto(urls[1]!);
    await bob.getByRole('button', { name: /alice.*online/ }).waitFor({ timeout: 30_000 });
    await alice.getByRole('button', { name: /bob/ }).click();
    const ringing: number[] = [];
    const twoWay: number[] = [];
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
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const bundleGzipBytes = ['app.js', 'worklet.js', 'app.css'].reduce((sum, file) => sum + gzipSync(readFileSync(join(UI, file))).length, 0);
    return { bundleGzipBytes, firstLoadMs, callToRingingMs: median(ringing), callToTwoWayAudioMs: median(twoWay), rounds: ROUNDS };
  } finally {
    for (const b of browsers) await b.close();
    local.kill('SIGINT');
    await new Promise((resolve) => local.on('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}
