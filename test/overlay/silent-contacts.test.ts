// Contacts that did not answer, and how long requests wait: pure, told the time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SilentContacts } from '../../src/overlay/silent-contacts.js';
import { MAX_TIMEOUT_MS, MIN_GIVE_UP_MS, RttEstimator } from '../../src/overlay/rtt.js';

test('a contact that failed is skipped until it proves alive or its hold ends; holds double, bounded', () => {
  const silent = new SilentContacts(1_000, 4_000, 3);
  silent.failed('a', 0);
  assert.ok(silent.isSilent('a', 999) && !silent.isSilent('a', 1_000));
  silent.failed('a', 1_000);
  assert.ok(silent.isSilent('a', 2_999) && !silent.isSilent('a', 3_000), 'second failure in a row: twice as long');
  silent.failed('a', 3_000);
  silent.failed('a', 7_000);
  assert.ok(silent.isSilent('a', 10_999) && !silent.isSilent('a', 11_000), 'capped at the longest hold');
  silent.alive('a');
  assert.ok(!silent.isSilent('a', 7_001), 'proved alive: asked again at once');
  silent.failed('a', 20_000);
  assert.ok(!silent.isSilent('a', 21_000), 'and its failures forgotten');
  for (const key of ['b', 'c', 'd']) silent.failed(key, 30_000);
  assert.equal(silent.size, 3, 'bounded');
  assert.ok(!silent.isSilent('a', 30_000) && silent.isSilent('d', 30_000), 'the oldest forgotten first');
});

test('timeouts follow measured round trips (RFC 6298 smoothing), within bounds', () => {
  const rtt = new RttEstimator();
  assert.equal(rtt.giveUpMs(), MAX_TIMEOUT_MS, 'nothing timed yet: the old fixed wait');
  assert.equal(rtt.slowAfterMs(), MAX_TIMEOUT_MS);
  for (let i = 0; i < 50; i++) rtt.sample(40 + (i % 2) * 20);
  const smoothed = rtt.smoothedMs!;
  assert.ok(smoothed > 40 && smoothed < 60, `smoothed ${smoothed}`);
  assert.ok(rtt.slowAfterMs() > 60 && rtt.slowAfterMs() < 150, `slow after ${rtt.slowAfterMs()}`);
  assert.ok(rtt.slowAfterMs(3) > 2.9 * rtt.slowAfterMs() && rtt.slowAfterMs(3) < 3.1 * rtt.slowAfterMs(), 'three round trips wait three times as long');
  assert.equal(rtt.giveUpMs(), MIN_GIVE_UP_MS, 'a fast network gives up after the floor');
  for (let i = 0; i < 50; i++) rtt.sample(2_000);
  assert.equal(rtt.giveUpMs(), MAX_TIMEOUT_MS, 'a slow one after the ceiling');
  rtt.sample(Number.NaN);
  rtt.sample(-1);
  assert.equal(rtt.samples, 100, 'nonsense samples are ignored');
});
