import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inbox, MAX_HELD_ITEMS } from '../../src/env/inbox.js';

test('items that come before the handler are handed over in order once it is set, then the rest directly', () => {
  const inbox = new Inbox<number>();
  assert.equal(inbox.deliver(1), true);
  assert.equal(inbox.deliver(2), true);
  const seen: number[] = [];
  inbox.setHandler((n) => seen.push(n));
  assert.deepEqual(seen, [1, 2]);
  inbox.deliver(3);
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(inbox.refused, 0);
});

test('without a handler, at most MAX_HELD_ITEMS are held: the newest beyond are refused and counted', () => {
  const inbox = new Inbox<number>();
  for (let i = 0; i < MAX_HELD_ITEMS; i++) assert.equal(inbox.deliver(i), true, `item ${i} held`);
  assert.equal(inbox.deliver(MAX_HELD_ITEMS), false);
  assert.equal(inbox.deliver(MAX_HELD_ITEMS + 1), false);
  assert.equal(inbox.refused, 2);
  const seen: number[] = [];
  inbox.setHandler((n) => seen.push(n));
  assert.deepEqual(seen, Array.from({ length: MAX_HELD_ITEMS }, (_, i) => i), 'the oldest are kept, in order');
  // With a handler, nothing is held, so nothing more is refused.
  for (let i = 0; i < MAX_HELD_ITEMS + 10; i++) assert.equal(inbox.deliver(-1), true);
  assert.equal(inbox.refused, 2);
});

test('the bound can be set per inbox', () => {
  const inbox = new Inbox<string>(1);
  assert.equal(inbox.deliver('a'), true);
  assert.equal(inbox.deliver('b'), false);
  assert.equal(inbox.refused, 1);
});

test('a paused inbox holds what comes (within its bound) and hands it over in order on resume; a handler may pause again', () => {
  const inbox = new Inbox<number>(4);
  const seen: number[] = [];
  inbox.setHandler((n) => {
    seen.push(n);
    if (n === 2) inbox.pause();
  });
  inbox.pause();
  for (const n of [1, 2, 3, 4]) assert.equal(inbox.deliver(n), true);
  assert.equal(inbox.deliver(5), false, 'the bound holds while paused');
  assert.deepEqual(seen, []);
  inbox.resume();
  assert.deepEqual(seen, [1, 2], 'the handler paused after 2: the rest stays held');
  inbox.deliver(6);
  inbox.resume();
  assert.deepEqual(seen, [1, 2, 3, 4, 6], 'in order, the newer after the held');
  inbox.deliver(7);
  assert.deepEqual(seen.at(-1), 7, 'handed straight over when not paused');
});
