// The app in a real browser: Debian's Chromium, headless, driven by playwright-core, against the
// README's main job (`parley local --app`: a local network and two demo users' daemons). Each
// user's browser has a fake microphone playing a WAV file. Alice and bob (buddies) see each other online, chat (typing
// shown, unread counted), and alice calls bob from the keyboard; bob answers; what bob's page
// plays must be alice's recording (spectral similarity at the delay its envelope gives). Screenshots
// of the main screens go to docs/screenshots/. Then a conference: started from the buddy list,
// joined from the invitation, the roster on both pages, left.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { appUrls, browserWithMicrophone, CHROMIUM, type PageWindow } from '../support/browser.js';
import { startParley, stopParley } from '../support/processes.js';
import { encodeWav } from '../../src/media/wav.js';
import { findDelay, spectralSimilarity, testSignal } from '../../src/media/audio-compare.js';

const SCREENSHOTS = new URL('../../../docs/screenshots/', import.meta.url).pathname;

test('two users in the browser: presence, chat, and a call whose audio is what the caller\'s microphone played', { timeout: 180_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), 'Debian chromium is installed (scripts/setup)');
  const dir = mkdtempSync(join(tmpdir(), 'parley-browser-'));
  const local = await startParley(['local', '--app', '--dir', join(dir, 'net'), '--port', '0'], /bob's app: http/, 60_000);
  const urls = appUrls(local.output, ['alice', 'bob']);
  const browsers: Browser[] = [];
  const said = testSignal(4, 7);
  writeFileSync(join(dir, 'alice.wav'), encodeWav(said));
  writeFileSync(join(dir, 'bob.wav'), encodeWav(new Int16Array(48_000)));
  mkdirSync(SCREENSHOTS, { recursive: true });
  try {
    browsers.push(await browserWithMicrophone(join(dir, 'alice.wav')), await browserWithMicrophone(join(dir, 'bob.wav')));
    const [alice, bob] = (await Promise.all(browsers.map((b) => b.newPage({ viewport: { width: 900, height: 640 } })))) as [Page, Page];
    await alice.goto(urls[0]!);
    await bob.goto(urls[1]!);
    // The token left the address bar once read.
    assert.ok(!alice.url().includes('token='), alice.url());
    await alice.getByRole('button', { name: /bob.*online/ }).waitFor({ timeout: 20_000 });
    await bob.getByRole('button', { name: /alice.*online/ }).waitFor({ timeout: 20_000 });

    // Chat: the message arrives unread, opening the conversation clears the count, typing shows.
    await alice.getByRole('button', { name: /bob/ }).click();
    await alice.getByLabel('Message to bob').fill('hello bob');
    await alice.getByLabel('Message to bob').press('Enter');
    await alice.getByRole('log').getByText('hello bob').waitFor();
    await bob.getByLabel('1 unread').waitFor({ timeout: 10_000 });
    await bob.getByRole('button', { name: /alice/ }).click();
    await bob.getByRole('log').getByText('hello bob').waitFor();
    assert.equal(await bob.getByLabel('1 unread').count(), 0, 'read once opened');
    await alice.getByRole('log').getByText('· read').waitFor({ timeout: 10_000 });
    await alice.getByLabel('Message to bob').fill('are you there?');
    await bob.getByText('alice is typing…').waitFor({ timeout: 10_000 });
    await alice.getByLabel('Message to bob').press('Enter');
    await bob.getByRole('log').getByText('are you there?').waitFor();
    await bob.screenshot({ path: join(SCREENSHOTS, 'chat.png') });

    // The call, from the keyboard: Tab to the call button, Enter.
    await alice.getByRole('button', { name: 'Call bob' }).focus();
    await alice.keyboard.press('Enter');
    await bob.getByRole('alertdialog', { name: 'alice is calling' }).waitFor({ timeout: 20_000 });
    await bob.screenshot({ path: join(SCREENSHOTS, 'incoming-call.png') });
    await bob.getByRole('button', { name: 'Answer' }).click();
    await alice.getByRole('heading', { name: 'In a call with bob' }).waitFor({ timeout: 20_000 });
    await bob.getByRole('heading', { name: 'In a call with alice' }).waitFor({ timeout: 20_000 });
    // Four seconds of what bob's page played, once it has that much.
    await bob.waitForFunction(() => ((globalThis as PageWindow).parleyDiagnostics?.heardSamples().length ?? 0) >= 48_000 * 4, undefined, { timeout: 30_000, polling: 250 });
    await alice.getByText('Path').waitFor();
    await alice.screenshot({ path: join(SCREENSHOTS, 'call.png') });
    const heard = Int16Array.from(await bob.evaluate(() => (globalThis as PageWindow).parleyDiagnostics!.heardSamples().slice(-48_000 * 3)));
    if (process.env.PARLEY_KEEP_AUDIO) writeFileSync(process.env.PARLEY_KEEP_AUDIO, encodeWav(heard));
    // The fake microphone loops the file from wherever it was: find the loop's phase by the
    // loudness envelope, then compare spectra there (the browser's gain control and noise
    // suppression reshape loudness, not pitch). Another signal of the same kind sets the floor.
    const looped = new Int16Array(said.length * 3);
    for (let i = 0; i < 3; i++) looped.set(said, i * said.length);
    const window = heard.subarray(0, 48_000 * 2);
    const { delayMs } = findDelay(window, looped, said.length / 48);
    const similarity = spectralSimilarity(looped.subarray(delayMs * 48, delayMs * 48 + window.length), window, 0);
    const floor = spectralSimilarity(testSignal(4, 99).subarray(0, window.length), window, 0);
    const status = await alice.evaluate(async () => (await fetch('/v1/status', { headers: { authorization: `Bearer ${(globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }).sessionStorage.getItem('parley-token')}` } })).json());
    console.log(`alice's daemon, audio from her page: ${JSON.stringify((status as { audio: unknown }).audio)}`);
    console.log(`bob's page heard alice's microphone with spectral similarity ${similarity.toFixed(3)} (another signal: ${floor.toFixed(3)})`);
    assert.ok(similarity > 0.65 && similarity - floor > 0.15, `what bob heard matches what alice said: similarity ${similarity.toFixed(3)}, another signal ${floor.toFixed(3)}`);

    await alice.getByRole('button', { name: 'Hang up' }).click();
    await bob.getByText(/Call with alice ended/).waitFor({ timeout: 10_000 });

    // A conference: alice picks bob and starts it, bob joins from the invitation, both see the roster.
    await alice.getByRole('checkbox', { name: 'bob' }).check();
    await alice.getByRole('button', { name: 'Start a conference' }).click();
    await bob.getByRole('alertdialog', { name: 'alice invites you to a conference' }).waitFor({ timeout: 20_000 });
    await bob.getByRole('button', { name: 'Join' }).click();
    for (const page of [alice, bob]) {
      await page.getByRole('heading', { name: 'In a conference' }).waitFor({ timeout: 20_000 });
      await page.getByRole('list', { name: 'Who is in it' }).getByText(/alice \(host/).waitFor({ timeout: 20_000 });
      await page.getByRole('list', { name: 'Who is in it' }).getByText('bob', { exact: true }).waitFor();
    }
    await alice.screenshot({ path: join(SCREENSHOTS, 'conference.png') });
    await alice.getByRole('button', { name: 'Leave' }).click();
    await bob.getByRole('heading', { name: 'In a conference' }).waitFor({ state: 'detached', timeout: 20_000 });

    // A phone-sized screen: one column, everything reachable.
    await bob.setViewportSize({ width: 360, height: 740 });
    await bob.screenshot({ path: join(SCREENSHOTS, 'phone.png'), fullPage: true });
  } finally {
    for (const b of browsers) await b.close();
    await stopParley(local.child);
    rmSync(dir, { recursive: true, force: true });
  }
});
