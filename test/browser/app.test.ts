// The app in a real browser: Debian's Chromium, headless, driven by playwright-core. The README's
// main job (`parley local --app`: a local network and the demo users alice and bob, each with a
// daemon) runs, and beside it two daemons where nobody is signed in yet. Each browser has a fake
// microphone playing a WAV file. Carol and dave sign up in their pages, dave finds carol by a
// prefix and asks her to be a buddy, she accepts; they chat (typing shown, unread counted, read
// receipts), and carol calls dave from the keyboard; he answers; what dave's page plays must be
// carol's recording (spectral similarity at the delay its envelope gives); the panel counts the
// call's time, its meters move, and dave's hold and mute show on carol's side. Carol also finds alice
// by her exact name and becomes her buddy; her conference with dave takes alice in from the
// panel; she makes a group of the three. Then settings, signing out and in again. Screenshots of the main screens go to
// docs/screenshots/.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { appUrls, browserWithMicrophone, CHROMIUM, type PageWindow } from '../support/browser.js';
import { startParley, stopParley, type RunningParley } from '../support/processes.js';
import { encodeWav } from '../../src/media/wav.js';
import { findDelay, spectralSimilarity, testSignal } from '../../src/media/audio-compare.js';

const SCREENSHOTS = new URL('../../../docs/screenshots/', import.meta.url).pathname;

/** What a test reads of a page's level meters (this project's tests compile without the DOM's types). */
type MeterPage = { document: { getElementById(id: string): { value: number } | null } };

/** Signs up in a page showing the sign-up form. */
async function signUp(page: Page, user: string): Promise<void> {
  await page.getByRole('heading', { name: 'Sign up' }).waitFor({ timeout: 20_000 });
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(`${user} has a password`);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByText(`Signed in as ${user}`).waitFor({ timeout: 20_000 });
}

test('two users sign up in the browser, become buddies, chat, and call: the callee hears what the caller\'s microphone played', { timeout: 240_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), 'Debian chromium is installed (scripts/setup)');
  const dir = mkdtempSync(join(tmpdir(), 'parley-browser-'));
  const local = await startParley(['local', '--app', '--dir', join(dir, 'net'), '--port', '0'], /bob's app: http/, 60_000);
  const [aliceUrl] = appUrls(local.output, ['alice']);
  const daemons: RunningParley[] = [];
  const freshUrls: string[] = [];
  for (const user of ['carol', 'dave']) {
    const daemon = await startParley(['daemon', '--network', join(dir, 'net', 'network.json'), '--profile', join(dir, `${user}-profile`)], /app \(sign up or log in there\): http/);
    daemons.push(daemon);
    freshUrls.push(/app \(sign up or log in there\): (http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]+)/.exec(daemon.output)![1]!);
  }
  const browsers: Browser[] = [];
  const said = testSignal(4, 7);
  writeFileSync(join(dir, 'carol.wav'), encodeWav(said));
  writeFileSync(join(dir, 'silence.wav'), encodeWav(new Int16Array(48_000)));
  mkdirSync(SCREENSHOTS, { recursive: true });
  try {
    browsers.push(await browserWithMicrophone(join(dir, 'carol.wav')), await browserWithMicrophone(join(dir, 'silence.wav')));
    const viewport = { viewport: { width: 900, height: 640 } };
    const carol = await browsers[0]!.newPage(viewport);
    const dave = await browsers[1]!.newPage(viewport);
    const alice = await (await browsers[1]!.newContext(viewport)).newPage();
    // The demo user of npm start is in already and sees bob online.
    await alice.goto(aliceUrl!);
    assert.ok(!alice.url().includes('token='), 'the token left the address bar once read');
    await alice.getByRole('button', { name: /bob.*online/ }).waitFor({ timeout: 20_000 });

    await carol.goto(freshUrls[0]!);
    await dave.goto(freshUrls[1]!);
    await carol.getByRole('heading', { name: 'Sign up' }).waitFor({ timeout: 20_000 });
    await carol.screenshot({ path: join(SCREENSHOTS, 'signup.png') });
    await signUp(carol, 'carol');
    // The page's icon needs no token; a password too short is refused in words before it is sent.
    assert.equal(await carol.evaluate(async () => (await fetch('/favicon.ico')).status), 200);
    await dave.getByLabel('User name').fill('dave');
    await dave.getByLabel('Password').fill('short');
    await dave.getByRole('button', { name: 'Sign up' }).click();
    await dave.getByRole('alert').getByText('The password needs at least 8 characters.').waitFor({ timeout: 10_000 });
    // A taken name is refused, as the login server words it.
    await dave.getByLabel('User name').fill('carol');
    await dave.getByLabel('Password').fill('another password');
    await dave.getByRole('button', { name: 'Sign up' }).click();
    await dave.getByRole('alert').getByText(/taken/).waitFor({ timeout: 10_000 });
    await signUp(dave, 'dave');

    // Dave finds carol by a prefix and asks; carol sees the request with his words and accepts.
    await dave.getByRole('textbox', { name: /Find people/ }).fill('car');
    await dave.getByRole('button', { name: 'Search' }).click();
    await dave.getByRole('button', { name: 'Ask carol to be a buddy' }).click();
    await dave.getByText('Waiting for carol to answer').waitFor({ timeout: 10_000 });
    await carol.getByText('dave wants to be your buddy').waitFor({ timeout: 20_000 });
    await carol.getByText(/it is dave/).waitFor({ timeout: 10_000 });
    await carol.screenshot({ path: join(SCREENSHOTS, 'buddy-request.png') });
    await carol.getByRole('button', { name: 'Accept dave' }).click();
    await carol.getByRole('button', { name: /dave.*online/ }).waitFor({ timeout: 20_000 });
    await dave.getByRole('button', { name: /carol.*online/ }).waitFor({ timeout: 20_000 });
    await dave.getByText('Waiting for carol to answer').waitFor({ state: 'detached', timeout: 10_000 });

    // Chat: the message arrives unread, opening the conversation clears the count, typing shows.
    await carol.getByRole('button', { name: /^dave/ }).click();
    await carol.getByLabel('Message to dave').fill('hello dave');
    await carol.getByLabel('Message to dave').press('Enter');
    await carol.getByRole('log').getByText('hello dave').waitFor();
    await dave.getByLabel('1 unread').waitFor({ timeout: 10_000 });
    await dave.getByRole('button', { name: /^carol/ }).click();
    await dave.getByRole('log').getByText('hello dave').waitFor();
    assert.equal(await dave.getByLabel('1 unread').count(), 0, 'read once opened');
    await carol.getByRole('log').getByText('· read').waitFor({ timeout: 10_000 });
    await carol.getByLabel('Message to dave').fill('are you there?');
    await dave.getByText('carol is typing…').waitFor({ timeout: 10_000 });
    await carol.getByLabel('Message to dave').press('Enter');
    await dave.getByRole('log').getByText('are you there?').waitFor();
    await dave.screenshot({ path: join(SCREENSHOTS, 'chat.png') });

    // The call, from the keyboard: Tab to the call button, Enter.
    await carol.getByRole('button', { name: 'Call dave' }).focus();
    await carol.keyboard.press('Enter');
    await dave.getByRole('alertdialog', { name: 'carol is calling' }).waitFor({ timeout: 20_000 });
    await dave.screenshot({ path: join(SCREENSHOTS, 'incoming-call.png') });
    await dave.getByRole('button', { name: 'Answer' }).click();
    await carol.getByRole('heading', { name: 'In a call with dave' }).waitFor({ timeout: 20_000 });
    await dave.getByRole('heading', { name: 'In a call with carol' }).waitFor({ timeout: 20_000 });
    // The last four of six seconds of what dave's page played (the first are the browser's gain control and echo canceller settling in).
    await dave.waitForFunction(() => ((globalThis as PageWindow).parleyDiagnostics?.heardSamples().length ?? 0) >= 48_000 * 6, undefined, { timeout: 30_000, polling: 250 });
    await carol.getByText('Path').waitFor();
    // The call's time counts from the answer; the meters show carol's voice going out and coming in at dave's.
    const callSeconds = (await carol.getByRole('timer', { name: 'Call time' }).textContent())!.split(':').reduce((sum, part) => sum * 60 + Number(part), 0);
    assert.ok(callSeconds >= 4 && callSeconds < 120, `the call's time after six seconds heard: ${callSeconds} s`);
    const meterAbove = (page: Page, id: string) => page.waitForFunction((meter) => ((globalThis as unknown as MeterPage).document.getElementById(meter)?.value ?? 0) > 0.3, id, { timeout: 10_000, polling: 100 });
    await meterAbove(carol, 'level-in');
    await meterAbove(dave, 'level-out');
    // Each statistic sits above its own value (a narrow panel wraps pairs, never splits one).
    const [jitterTerm, jitterValue] = await Promise.all([carol.getByText('Jitter', { exact: true }).boundingBox(), carol.locator('dd', { hasText: / ms$/ }).boundingBox()]);
    assert.ok(jitterTerm && jitterValue && Math.abs(jitterTerm.x - jitterValue.x) < 1 && jitterValue.y > jitterTerm.y, `jitter's value under its name: ${JSON.stringify([jitterTerm, jitterValue])}`);
    // Dave mutes and holds: carol's panel says so, and stops saying so when he is back.
    await dave.getByRole('button', { name: 'Mute' }).click();
    await carol.getByRole('status').getByText('dave is muted').waitFor({ timeout: 10_000 });
    await dave.getByRole('button', { name: 'Hold' }).click();
    await carol.getByRole('status').getByText('dave has put the call on hold and is muted').waitFor({ timeout: 10_000 });
    await carol.screenshot({ path: join(SCREENSHOTS, 'call.png') });
    await dave.getByRole('button', { name: 'Resume' }).click();
    await dave.getByRole('button', { name: 'Unmute' }).click();
    await carol.getByText(/dave (is muted|has put)/).waitFor({ state: 'detached', timeout: 10_000 });
    const heard = Int16Array.from(await dave.evaluate(() => (globalThis as PageWindow).parleyDiagnostics!.heardSamples().slice(-48_000 * 4)));
    if (process.env.PARLEY_KEEP_AUDIO) writeFileSync(process.env.PARLEY_KEEP_AUDIO, encodeWav(heard));
    // The fake microphone loops the file from wherever it was: find the loop's phase by the
    // loudness envelope, then compare spectra there (the browser's gain control and noise
    // suppression reshape loudness, not pitch). Each second is aligned on its own and the median
    // counts, so one hiccup of a loaded headless browser (a burst its queue drops) does not decide.
    // Another signal of the same kind sets the floor.
    const looped = new Int16Array(said.length * 3);
    for (let i = 0; i < 3; i++) looped.set(said, i * said.length);
    const other = testSignal(4, 99);
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const seconds = [0, 1, 2, 3].map((i) => heard.subarray(i * 48_000, (i + 1) * 48_000));
    const similarities = seconds.map((second) => {
      const { delayMs } = findDelay(second, looped, said.length / 48);
      return spectralSimilarity(looped.subarray(delayMs * 48, delayMs * 48 + second.length), second, 0);
    });
    const floors = seconds.map((second, i) => spectralSimilarity(other.subarray(i * 48_000, (i + 1) * 48_000), second, 0));
    const [similarity, floor] = [median(similarities), median(floors)];
    console.log(`dave's page heard carol's microphone with spectral similarity ${similarities.map((v) => v.toFixed(2)).join(' ')} a second, median ${similarity.toFixed(3)} (another signal: ${floor.toFixed(3)})`);
    assert.ok(similarity > 0.65 && similarity - floor > 0.15, `what dave heard matches what carol said: similarity ${similarity.toFixed(3)}, another signal ${floor.toFixed(3)}`);
    await carol.getByRole('button', { name: 'Hang up' }).click();
    await dave.getByText(/Call with carol ended/).waitFor({ timeout: 10_000 });

    // Carol finds alice by her exact name (online, in the overlay), asks; alice accepts.
    await carol.getByRole('textbox', { name: /Find people/ }).fill('alice');
    await carol.getByRole('button', { name: 'Search' }).click();
    await carol.getByRole('list', { name: 'Search results' }).getByText('online').waitFor({ timeout: 10_000 });
    await carol.getByRole('button', { name: 'Ask alice to be a buddy' }).click();
    await alice.getByRole('button', { name: 'Accept carol' }).click({ timeout: 20_000 });
    await carol.getByRole('button', { name: /alice.*online/ }).waitFor({ timeout: 20_000 });

    // A conference: carol picks dave and starts it, dave joins; carol invites alice from the panel.
    await carol.getByRole('checkbox', { name: 'dave', exact: true }).check();
    await carol.getByRole('button', { name: 'Start a conference' }).click();
    await dave.getByRole('alertdialog', { name: 'carol invites you to a conference' }).waitFor({ timeout: 20_000 });
    await dave.getByRole('button', { name: 'Join' }).click();
    await carol.getByRole('list', { name: 'Who is in it' }).getByText('dave', { exact: true }).waitFor({ timeout: 20_000 });
    await carol.getByLabel('Invite a buddy').selectOption('alice');
    await carol.getByRole('button', { name: 'Invite' }).click();
    await alice.getByRole('alertdialog', { name: 'carol invites you to a conference' }).waitFor({ timeout: 20_000 });
    await alice.getByRole('button', { name: 'Join' }).click();
    for (const page of [carol, dave, alice]) {
      await page.getByRole('heading', { name: 'In a conference' }).waitFor({ timeout: 20_000 });
      const roster = page.getByRole('list', { name: 'Who is in it' });
      await roster.getByText(/carol \(host/).waitFor({ timeout: 20_000 });
      for (const user of ['dave', 'alice']) await roster.getByText(new RegExp(`^${user}$|^${user} \\(`)).first().waitFor({ timeout: 20_000 });
    }
    await carol.screenshot({ path: join(SCREENSHOTS, 'conference.png') });
    await carol.getByRole('button', { name: 'Leave' }).click();
    await dave.getByRole('list', { name: 'Who is in it' }).getByText(/carol/).waitFor({ state: 'detached', timeout: 20_000 });

    // A group: carol makes one with dave and alice; the message reaches both with its mention
    // marked for dave, their read marks come back to carol, dave answers, and carol, the admin,
    // removes alice, whose page then says she is out.
    await carol.getByLabel('Group name').fill('hikers');
    await carol.getByRole('checkbox', { name: 'Add dave' }).check();
    await carol.getByRole('checkbox', { name: 'Add alice' }).check();
    await carol.getByRole('button', { name: 'Make the group' }).click();
    await carol.getByRole('list', { name: 'Members of hikers' }).getByText('alice', { exact: true }).waitFor({ timeout: 20_000 });
    await carol.getByLabel('Message to hikers').fill('hello @dave and alice');
    await carol.getByLabel('Message to hikers').press('Enter');
    const groupLog = (page: Page) => page.getByRole('log', { name: 'Messages in hikers' });
    await groupLog(carol).getByText('hello @dave and alice').waitFor({ timeout: 10_000 });
    await dave.getByLabel('1 unread in hikers').waitFor({ timeout: 30_000 });
    await dave.getByRole('button', { name: /^hikers/ }).click();
    await groupLog(dave).getByText('mentions you').waitFor({ timeout: 10_000 });
    await alice.getByRole('button', { name: /^hikers/ }).click({ timeout: 30_000 });
    await groupLog(alice).getByText('hello @dave and alice').waitFor({ timeout: 10_000 });
    assert.equal(await groupLog(alice).getByText('mentions you').count(), 0, 'alice was not named');
    await groupLog(carol).getByText('read by 2').waitFor({ timeout: 30_000 });
    await dave.getByLabel('Message to hikers').fill('hi both');
    await dave.getByLabel('Message to hikers').press('Enter');
    await groupLog(carol).getByText('hi both').waitFor({ timeout: 30_000 });
    await groupLog(alice).getByText('hi both').waitFor({ timeout: 30_000 });
    await carol.screenshot({ path: join(SCREENSHOTS, 'group.png') });
    await carol.getByRole('button', { name: 'Remove alice from the group' }).click();
    await alice.getByText('You are no longer in this group.').waitFor({ timeout: 30_000 });
    await carol.getByRole('list', { name: 'Members of hikers' }).getByText('alice', { exact: true }).waitFor({ state: 'detached', timeout: 10_000 });

    // Settings: who may call, kept by the daemon (a fresh panel reads it back).
    await carol.getByRole('button', { name: 'Settings' }).click();
    await carol.getByLabel('Who may call me').selectOption('anyone');
    await carol.getByLabel('Microphone').waitFor();
    await carol.screenshot({ path: join(SCREENSHOTS, 'settings.png') });
    // Each setting's name is in its menu's column, above it.
    const [callsLabel, callsMenu] = await Promise.all([carol.getByText('Who may call me').boundingBox(), carol.getByLabel('Who may call me').boundingBox()]);
    assert.ok(callsLabel && callsMenu && Math.abs(callsLabel.x - callsMenu.x) < 4 && callsLabel.y < callsMenu.y, `"Who may call me" above its menu: ${JSON.stringify([callsLabel, callsMenu])}`);
    await carol.getByRole('button', { name: 'Close settings' }).click();
    await carol.getByRole('button', { name: 'Settings' }).click();
    await carol.getByLabel('Who may call me').waitFor();
    assert.equal(await carol.getByLabel('Who may call me').inputValue(), 'anyone');
    await carol.getByRole('button', { name: 'Close settings' }).click();

    // Her status, as dave sees it.
    await carol.getByLabel('My status').selectOption('away');
    await carol.getByLabel('Status message').fill('at lunch');
    await carol.getByRole('button', { name: 'Set status' }).click();
    await dave.getByRole('button', { name: /carol.*away: at lunch/ }).waitFor({ timeout: 10_000 });

    // Signing out goes back to the door; logging in with the password comes back with the buddies.
    await carol.getByRole('button', { name: 'Sign out' }).click();
    await carol.getByRole('heading', { name: 'Sign up' }).waitFor({ timeout: 20_000 });
    await carol.getByRole('button', { name: 'Log in instead' }).click();
    await carol.getByLabel('User name').fill('carol');
    await carol.getByLabel('Password').fill('not her password');
    await carol.getByRole('button', { name: 'Log in' }).click();
    await carol.getByRole('alert').getByText(/wrong/i).waitFor({ timeout: 10_000 });
    await carol.getByLabel('Password').fill('carol has a password');
    await carol.getByRole('button', { name: 'Log in' }).click();
    await carol.getByRole('button', { name: /dave.*online/ }).waitFor({ timeout: 20_000 });

    // A phone-sized screen: one column, everything reachable.
    await dave.setViewportSize({ width: 360, height: 740 });
    await dave.screenshot({ path: join(SCREENSHOTS, 'phone.png'), fullPage: true });
  } finally {
    for (const b of browsers) await b.close();
    for (const d of daemons) await stopParley(d.child);
    await stopParley(local.child);
    rmSync(dir, { recursive: true, force: true });
  }
});
