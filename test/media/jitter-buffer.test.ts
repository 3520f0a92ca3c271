// The jitter buffer on its own, with time in the test's hands: packets in order or not, lost
// ones rebuilt from the next packet's FEC or concealed, repeated lateness stretching the buffer,
// and a burst after a stall dropped down to a conversation's delay at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JitterBuffer, type Playout } from '../../src/media/jitter-buffer.js';

const FRAME = 960;
const packet = (n: number) => Uint8Array.of(n & 0xff, 1);
const kinds = (plays: Playout[]) => plays.map((p) => (p.kind === 'packet' ? `p${p.payload[0]}` : p.kind === 'fec' ? `fec${p.next[0]}` : p.kind)).join(' ');

test('in order, out of order, lost with the next packet here (FEC) or not (concealed)', () => {
  const buffer = new JitterBuffer({ frameSamples: FRAME, samplesPerMs: 48 });
  const plays: Playout[] = [];
  // Packets 0-9 every 20 ms, before their tick; 3 and 4 swapped; 6 lost (7 early, so its FEC rebuilds 6); 8 and 9 lost.
  const arrivals = new Map<number, number[]>([[0, [0]], [20, [1]], [40, [2]], [60, [4]], [62, [3]], [100, [5]], [110, [7]]]);
  for (let t = 0; t <= 200; t += 2) {
    for (const n of arrivals.get(t) ?? []) buffer.insert(n * FRAME, packet(n), t);
    if (t % 20 === 2) plays.push(buffer.next(t));
  }
  assert.equal(kinds(plays), 'p0 p1 p2 p3 p4 p5 fec7 p7 conceal conceal');
  assert.equal(buffer.stats.recovered, 1);
});

test('a burst after a 900 ms stall is dropped down to a conversation\'s delay at once, not played 900 ms late', () => {
  const buffer = new JitterBuffer({ frameSamples: FRAME, samplesPerMs: 48, maxDelayMs: 200 });
  let n = 0;
  let t = 0;
  const step = () => {
    t += 20;
    buffer.next(t + 2);
  };
  for (; n < 100; n++, step()) buffer.insert(n * FRAME, packet(n), t);
  // The sender stalls for 900 ms, then sends what it owes at once.
  for (let i = 0; i < 45; i++) step();
  for (let i = 0; i < 45; i++, n++) buffer.insert(n * FRAME, packet(n), t);
  step();
  assert.ok(buffer.bufferedMs <= 100, `${buffer.bufferedMs} ms buffered after the burst`);
  assert.ok(buffer.stats.dropped > 0);
  // And the conversation goes on normally.
  for (let i = 0; i < 20; i++, n++, step()) buffer.insert(n * FRAME, packet(n), t);
  assert.ok(buffer.bufferedMs <= 120, `${buffer.bufferedMs} ms`);
});

test('packets that keep coming late stretch the buffer by a frame; a single late one does not', () => {
  const buffer = new JitterBuffer({ frameSamples: FRAME, samplesPerMs: 48 });
  let t = 0;
  buffer.insert(0, packet(0), 0);
  buffer.next(2);
  const run = (from: number, to: number, late: (n: number) => boolean) => {
    for (let n = from; n < to; n++) {
      t = n * 20;
      // A late packet arrives after the tick that should have played it.
      if (late(n)) {
        buffer.next(t + 2);
        buffer.insert(n * FRAME, packet(n), t + 25);
      } else {
        buffer.insert(n * FRAME, packet(n), t);
        buffer.next(t + 2);
      }
    }
  };
  run(1, 100, (n) => n === 40);
  assert.deepEqual([buffer.stats.late, buffer.stats.stretched], [1, 0], 'one late packet: concealed, no stretch');
  run(100, 200, (n) => n === 150 || n === 160);
  assert.deepEqual([buffer.stats.late, buffer.stats.stretched], [3, 1], 'two within two seconds: one frame more');
});
