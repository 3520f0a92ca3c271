// The device-list cache: kept for its TTL; an empty answer not kept; a failed lookup answered
// with the last list found when that is recent, and asked again after the retry pause.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ListCache } from '../../src/messenger/list-cache.js';

test('a refused lookup is answered with the last list found (recent), asked again after the retry pause; an old one or none: the failure', async () => {
  const cache = new ListCache<string>(30_000, { forMs: 300_000, retryMs: 5_000 });
  let calls = 0;
  let answer: () => Promise<string[]> = async () => ['device-a'];
  const lookUp = () => {
    calls++;
    return answer();
  };
  assert.deepEqual(await cache.get('bob', 0, lookUp), ['device-a']);
  assert.deepEqual(await cache.get('bob', 29_000, lookUp), ['device-a']);
  assert.equal(calls, 1, 'kept for the TTL');
  answer = () => Promise.reject(new Error('refused'));
  assert.deepEqual(await cache.get('bob', 31_000, lookUp), ['device-a'], 'the last list, not the refusal');
  assert.equal(calls, 2);
  assert.deepEqual(await cache.get('bob', 35_000, lookUp), ['device-a']);
  assert.equal(calls, 2, 'not asked again before the retry pause');
  assert.deepEqual(await cache.get('bob', 36_000, lookUp), ['device-a']);
  assert.equal(calls, 3, 'asked again after it');
  // The last list found is too old: the refusal is the caller's.
  await assert.rejects(cache.get('bob', 301_000, lookUp), /refused/);
  // Nothing found before: the refusal is the caller's.
  await assert.rejects(cache.get('carol', 0, lookUp), /refused/);
});

test('an empty answer is neither kept nor served later; forget drops the last list too', async () => {
  const cache = new ListCache<string>(30_000);
  let answer: () => Promise<string[]> = async () => ['device-a'];
  const lookUp = () => answer();
  await cache.get('bob', 0, lookUp);
  answer = async () => [];
  assert.deepEqual(await cache.get('bob', 31_000, lookUp), []);
  answer = () => Promise.reject(new Error('refused'));
  await assert.rejects(cache.get('bob', 32_000, lookUp), /refused/, 'the user went offline: its old list is not served');
  answer = async () => ['device-b'];
  await cache.get('carol', 0, lookUp);
  cache.forget('carol');
  answer = () => Promise.reject(new Error('refused'));
  await assert.rejects(cache.get('carol', 1_000, lookUp), /refused/);
});
