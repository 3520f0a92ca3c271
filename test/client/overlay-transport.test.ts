// The overlay transport keeps routed payloads in flight below the link's request limit: a group
// message's fan-out (one route per member device) waits its turn instead of being refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AttachedClient } from '../../src/client/attachment.js';
import { MAX_ROUTES_IN_FLIGHT, MAX_ROUTES_WAITING, overlayTransport } from '../../src/client/overlay-transport.js';
import { MAX_PENDING_PER_LINK } from '../../src/overlay/rpc.js';
import { DeliveryOutcome } from '../../src/wire/messages.js';

/** An attachment whose routes stay pending until answered by the test. */
function fakeAttachment() {
  const pending: { to: string; answer: (failed?: boolean) => void }[] = [];
  let peak = 0;
  const attached = {
    route: (to: string) =>
      new Promise((resolve, reject) => {
        pending.push({ to, answer: (failed) => (failed ? reject(new Error('link closed')) : resolve({ deliveries: [{ deviceKey: new Uint8Array(32), outcome: DeliveryOutcome.DELIVERED }] })) });
        peak = Math.max(peak, pending.length);
      }),
  } as unknown as AttachedClient;
  return { attached, pending, peak: () => peak };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test('a fan-out wider than the link allows: routes wait their turn, never more in flight than the limit, each answered in order', async () => {
  assert.ok(MAX_ROUTES_IN_FLIGHT < MAX_PENDING_PER_LINK, 'room is left on the link for lookups');
  const { attached, pending, peak } = fakeAttachment();
  const transport = overlayTransport(attached);
  const count = MAX_ROUTES_IN_FLIGHT * 2 + 5;
  const outcomes = Promise.allSettled(Array.from({ length: count }, (_, i) => transport.send(`user${i}`, new Uint8Array(32), new Uint8Array(1))));
  await settle();
  assert.equal(pending.length, MAX_ROUTES_IN_FLIGHT);
  const started: string[] = [];
  while (pending.length > 0) {
    const next = pending.shift()!;
    started.push(next.to);
    // One fails (the link closed): its turn is handed on all the same.
    next.answer(started.length === 3);
    await settle();
    assert.ok(pending.length <= MAX_ROUTES_IN_FLIGHT);
  }
  assert.equal(peak(), MAX_ROUTES_IN_FLIGHT);
  assert.deepEqual(started, Array.from({ length: count }, (_, i) => `user${i}`));
  const results = await outcomes;
  assert.equal(results.filter((r) => r.status === 'rejected').length, 1);
  assert.ok(results.every((r, i) => (i === 2 ? r.status === 'rejected' : r.status === 'fulfilled' && r.value === 'delivered')));
});

test('more routes waiting than the bound: the excess fails at once (undefined: its stream sends it again later)', async () => {
  const { attached, pending } = fakeAttachment();
  const transport = overlayTransport(attached);
  const outcomes = Array.from({ length: MAX_ROUTES_IN_FLIGHT + MAX_ROUTES_WAITING + 3 }, (_, i) => transport.send(`user${i}`, new Uint8Array(32), new Uint8Array(1)));
  const excess = await Promise.all(outcomes.slice(-3));
  assert.deepEqual(excess, [undefined, undefined, undefined]);
  assert.equal(pending.length, MAX_ROUTES_IN_FLIGHT);
  while (pending.length > 0) {
    pending.shift()!.answer();
    await settle();
  }
  assert.equal((await Promise.all(outcomes.slice(0, -3))).filter((o) => o === 'delivered').length, MAX_ROUTES_IN_FLIGHT + MAX_ROUTES_WAITING);
});
