// The token bucket, told the time: a burst, then a steady rate; and for streams, a debt that says
// how long to stop reading.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket } from '../../src/util/token-bucket.js';

test('a bucket gives its burst at once, then its rate; a take it cannot cover takes nothing', () => {
  const bucket = new TokenBucket(1_000, 1_000, 0);
  assert.equal(bucket.takeMany(1_000, 0), true);
  assert.equal(bucket.takeMany(1, 0), false);
  assert.equal(bucket.takeMany(500, 499), false, 'not quite 500 back yet');
  assert.equal(bucket.takeMany(500, 500), true);
});

test('takeOwing takes past zero and says how long until the debt is paid; paid, the next take owes nothing', () => {
  const bucket = new TokenBucket(1_000, 2_000, 0);
  assert.equal(bucket.takeOwing(600, 0), 0, 'within the burst');
  assert.equal(bucket.takeOwing(1_400, 0), 500, '1 000 owed at 2 000 a second');
  assert.equal(bucket.takeMany(1, 499), false, 'still in debt');
  assert.equal(bucket.takeOwing(100, 550), 0, 'paid back, and 100 of the 100 earned since');
  assert.equal(bucket.takeOwing(1, 550), 1, 'one more owes half a millisecond, rounded up');
});
