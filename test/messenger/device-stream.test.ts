// The reliable stream between two devices, alone: exactly once and in order over a channel that
// loses, repeats and reorders; and a restart of either side.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/env/prng.js';
import { DeviceStream, MAX_EARLY_BYTES } from '../../src/messenger/device-stream.js';
import type { E2eStreamFrame } from '../../src/wire/messages.js';
import { testSeed, withSeed } from '../support/seed.js';

const bytes = (n: number) => new TextEncoder().encode(`item ${n}`);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

test('over a channel that loses 30%, repeats and reorders, 2 000 items arrive once each, in order', () =>
  withSeed(testSeed(), (seed) => {
    const random = new SeededRandom(seed);
    const a = new DeviceStream(1n);
    const b = new DeviceStream(2n);
    const got: string[] = [];
    let inFlight: { to: DeviceStream; frame: E2eStreamFrame }[] = [];
    for (let i = 0; i < 2000; i++) assert.ok(a.enqueue(bytes(i)));
    for (let now = 0; now < 600_000 && (got.length < 2000 || a.pending > 0); now += 100) {
      for (const [from, to] of [[a, b], [b, a]] as const) {
        for (let frame = from.nextFrame(now); frame; frame = from.nextFrame(now)) {
          if (random.float() < 0.3) continue;
          inFlight.push({ to, frame });
          if (random.float() < 0.1) inFlight.push({ to, frame });
        }
      }
      // Deliver a random half of what is in flight (the rest later: reordering).
      const next: typeof inFlight = [];
      for (const item of inFlight) {
        if (random.float() < 0.5) next.push(item);
        else for (const payload of item.to.receive(item.frame)) got.push(text(payload));
      }
      inFlight = next;
    }
    assert.equal(got.length, 2000);
    assert.deepEqual(got, Array.from({ length: 2000 }, (_, i) => `item ${i}`));
    assert.equal(a.pending, 0, 'everything acknowledged');
  }));

test('a sender that restarts (a new epoch) is heard from seq 1 again; its old frames and old acknowledgements are ignored', () => {
  const receiver = new DeviceStream(10n);
  const first = new DeviceStream(100n);
  first.enqueue(bytes(1));
  first.enqueue(bytes(2));
  const old = first.nextFrame(0)!;
  assert.deepEqual(receiver.receive(old).map(text), ['item 1', 'item 2']);
  const restarted = new DeviceStream(200n);
  restarted.enqueue(bytes(3));
  assert.deepEqual(receiver.receive(restarted.nextFrame(0)!).map(text), ['item 3'], 'not taken for a repeat of seq 1');
  assert.deepEqual(receiver.receive(old), [], 'a late frame of the old stream is dropped');
  // The receiver's acknowledgement names the new epoch; one about the old stream acks nothing new.
  const ack = receiver.nextFrame(0)!;
  assert.equal(ack.ackEpoch, 200n);
  restarted.enqueue(bytes(4));
  const staleAck = { ...ack, ack: 5n, ackEpoch: 100n };
  restarted.receive(staleAck);
  assert.equal(restarted.pending, 2);
  restarted.receive(ack);
  assert.equal(restarted.pending, 1);
});

test('a gap that is not filled holds at most MAX_EARLY_BYTES out of order; once it fills, everything still arrives in order', () => {
  const a = new DeviceStream(1n);
  const b = new DeviceStream(2n);
  const big = (n: number) => {
    const payload = new Uint8Array(12 * 1024 - 64).fill(n % 251);
    payload[0] = n & 255;
    payload[1] = n >> 8;
    return payload;
  };
  const count = 300; // 300 × ~12 KiB: more than three times the bound
  for (let i = 0; i < count; i++) assert.ok(a.enqueue(big(i)));
  const got: number[] = [];
  const take = (payloads: Uint8Array[]) => {
    for (const p of payloads) got.push(p[0]! | (p[1]! << 8));
  };
  // First round: the frame carrying the first item is lost, every other one arrives.
  let first = true;
  for (let frame = a.nextFrame(0); frame; frame = a.nextFrame(0)) {
    if (first) {
      first = false;
      continue;
    }
    take(b.receive(frame));
  }
  assert.equal(got.length, 0, 'nothing is delivered past the gap');
  assert.ok(b.heldOutOfOrderBytes <= MAX_EARLY_BYTES, `${b.heldOutOfOrderBytes} bytes held out of order`);
  assert.ok(b.heldOutOfOrderBytes > MAX_EARLY_BYTES / 2, 'but it does hold what fits');
  // Then nothing is lost: retries fill the gap and bring what did not fit.
  for (let now = 1_000; now < 600_000 && got.length < count; now += 500) {
    for (let frame = a.nextFrame(now); frame; frame = a.nextFrame(now)) take(b.receive(frame));
    for (let frame = b.nextFrame(now); frame; frame = b.nextFrame(now)) a.receive(frame);
  }
  assert.deepEqual(got, Array.from({ length: count }, (_, i) => i));
  assert.equal(b.heldOutOfOrderBytes, 0);
});
