// The password hash queue (src/login-server/hash-queue.ts): bounded in what runs and what waits,
// per source and in all; served round-robin across sources; refusals immediate and counted.
// Jobs are promises the test resolves by hand, so every step is exact.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FairQueue, type QueueRefusal } from '../../src/login-server/hash-queue.js';

/** A queue whose jobs finish when the test says, recording the order they started in. */
function harness(limits: { maxRunning: number; maxWaiting: number; maxPerSource: number; reservedForTrusted?: number }) {
  const started: string[] = [];
  const finishers = new Map<string, () => void>();
  const refusals: QueueRefusal[] = [];
  const depths: [number, number][] = [];
  const queue = new FairQueue(limits, { refused: (r) => refusals.push(r), changed: (running, waiting) => depths.push([running, waiting]) });
  const submit = (source: string | null, name: string, trusted = false) =>
    queue.run(
      source,
      () => {
        started.push(name);
        return new Promise<string>((resolve) => finishers.set(name, () => resolve(name)));
      },
      trusted,
    );
  const finish = async (name: string) => {
    finishers.get(name)!();
    // Let the finished job's continuation and the next job's start run.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { queue, started, refusals, depths, submit, finish };
}

test('a burst from one source waits behind itself: a later source is served next (round robin), not after the burst', async () => {
  const h = harness({ maxRunning: 2, maxWaiting: 20, maxPerSource: 10 });
  const burst = Array.from({ length: 8 }, (_, i) => h.submit('attacker', `a${i}`));
  const mine = h.submit('bystander', 'b0');
  await Promise.resolve();
  assert.deepEqual(h.started, ['a0', 'a1'], 'two run at once');
  await h.finish('a0');
  assert.deepEqual(h.started, ['a0', 'a1', 'b0'], 'the first slot free goes to the bystander, ahead of a2..a7 that waited longer');
  assert.deepEqual(await Promise.race([mine, new Promise((r) => setImmediate(() => r('pending')))]), 'pending');
  await h.finish('a1');
  assert.deepEqual(h.started, ['a0', 'a1', 'b0', 'a2']);
  await h.finish('b0');
  assert.deepEqual(await mine, { ok: true, value: 'b0' });
  for (let i = 2; i < 8; i++) await h.finish(`a${i}`);
  assert.equal((await Promise.all(burst)).filter((r) => r.ok).length, 8);
  assert.ok(h.depths.every(([running]) => running <= 2), 'never more than maxRunning at once');
  assert.deepEqual(h.depths.at(-1), [0, 0]);
});

test('refusals are immediate: a source past its share gets source_busy, everyone past the global bound queue_full; both counted', async () => {
  const h = harness({ maxRunning: 1, maxWaiting: 2, maxPerSource: 2 });
  const held = [h.submit('a', 'a0'), h.submit('a', 'a1')];
  assert.deepEqual(await h.submit('a', 'a2'), { ok: false, error: 'source_busy' });
  assert.equal(h.queue.refusal('a'), 'source_busy');
  const other = h.submit('b', 'b0'); // waiting: a1, b0 — the global bound is reached
  assert.deepEqual(await h.submit('c', 'c0'), { ok: false, error: 'queue_full' });
  assert.deepEqual(await h.submit(null, 'n0'), { ok: false, error: 'queue_full' }, 'unattributed work meets the global bound too');
  assert.deepEqual(h.refusals, ['source_busy', 'queue_full', 'queue_full']);
  await h.finish('a0');
  assert.equal(h.queue.refusal('c'), null, 'room again once a job finished');
  await h.finish(h.started[1]!);
  await h.finish(h.started[2]!);
  assert.deepEqual((await Promise.all([...held, other])).map((r) => r.ok), [true, true, true]);
  assert.deepEqual(h.started, ['a0', 'b0', 'a1'], 'round robin: b0 before a1, which waited longer but from a busy source');
});

test('a job that throws frees its slot and its share', async () => {
  const queue = new FairQueue({ maxRunning: 1, maxWaiting: 0, maxPerSource: 1 });
  await assert.rejects(queue.run('a', async () => { throw new Error('scrypt failed'); }), /scrypt failed/);
  assert.deepEqual(await queue.run('a', async () => 7), { ok: true, value: 7 });
});

test('a flood from many fresh sources fills only the unreserved places: a trusted source still gets in, and is served first', async () => {
  const h = harness({ maxRunning: 2, maxWaiting: 6, maxPerSource: 1, reservedForTrusted: 2 });
  const flood = Array.from({ length: 12 }, (_, i) => h.submit(`bot${i}`, `f${i}`));
  await Promise.resolve();
  assert.deepEqual(h.started, ['f0', 'f1']);
  assert.equal((await flood[6]!).ok, false, 'two running and four waiting: the fifth fresh source is refused');
  assert.deepEqual(h.refusals, Array(6).fill('queue_full'));
  const mine = h.submit('home', 'h0', true);
  const myOther = h.submit('office', 'o0', true);
  assert.equal((await h.submit('cafe', 'c0', true)).ok, false, 'the reserved places are bounded too');
  await h.finish('f0');
  assert.deepEqual(h.started.slice(2), ['h0'], 'the trusted source goes first, ahead of bots that waited longer');
  await h.finish('f1');
  assert.deepEqual(h.started.slice(2), ['h0', 'o0']);
  await h.finish('h0');
  await h.finish('o0');
  assert.deepEqual(await mine, { ok: true, value: 'h0' });
  assert.deepEqual(await myOther, { ok: true, value: 'o0' });
  assert.deepEqual(h.started.slice(4), ['f2', 'f3'], 'then the others, in turn');
  for (const name of ['f2', 'f3', 'f4', 'f5']) await h.finish(name);
  assert.equal((await Promise.all(flood.slice(0, 6))).every((r) => r.ok), true);
});
