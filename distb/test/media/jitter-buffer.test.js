// The jitter buffer on its own, with time in the test's hands: it starts at a safe depth and
// adapts down; packets in order or not; lost ones rebuilt from the next packet's FEC or
// concealed; an underrun waited out, not turned into late packets; repeated lateness stretching
// the buffer; and a burst after a long freeze dropped down to a conversation's delay at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_START_DELAY_MS, JitterBuffer } from '../../src/media/jitter-buffer.js';
const FRAME = 960;
const packet = (n) => Uint8Array.of(n & 0xff, 1);
const kinds = (plays) => plays.map((p) => (p.kind === 'packet' ? `p${p.payload[0]}` : p.kind === 'fec' ? `fec${p.next[0]}` : p.kind)).join(' ');
/** A sender every 20 ms from t = 0 (packet n at `arrival(n)`, or lost when null), a tick 2 ms after each 20 ms. */
function run(buffer, untilMs, arrival = (n) => n * 20) {
    const arrivals = new Map();
    for (let n = 0; n * 20 <= untilMs; n++) {
        const at = arrival(n);
        if (at !== null)
            arrivals.set(at, [...(arrivals.get(at) ?? []), n]);
    }
    const plays = [];
    for (let t = 0; t <= untilMs; t++) {
        for (const n of arrivals.get(t) ?? [])
            buffer.insert(n * FRAME, packet(n), t);
        if (t % 20 === 2)
            plays.push(buffer.next(t));
    }
    return plays;
}
test('it starts at a safe depth: the first packet is played the start delay after it came', () => {
    const buffer = new JitterBuffer({ frameSamples: FRAME, samplesPerMs: 48 });
    const plays = run(buffer, 400);
    const first = plays.findIndex((p) => p.kind === 'packet');
    // Ticks at 2, 22, …: the first at or after 200 ms is at 202 ms, the 11th.
    assert.equal(first, Math.ceil((DEFAULT_START_DELAY_MS - 2) / 20));
    assert.equal(kinds(plays.slice(first, first + 3)), 'p0 p1 p2');
    assert.ok(Math.abs(buffer.bufferedMs - DEFAULT_START_DELAY_MS) <= 20, `${buffer.bufferedMs} ms buffered`);
});
test('in order, out of order, lost with the next packet here (FEC) or not yet (waited for, then FEC or concealed)', () => {
    const buffer = new JitterBuffer({ frameSamples: FRAME, samplesPerMs: 48, startDelayMs: 0 });
    // 3 and 4 swapped; 6 lost (7 early, so its FEC rebuilds 6); 10 and 11 lost (12 on time); 15 on never come.
    const at = new Map([[3, 62], [4, 60], [6, null], [7, 110], [10, null], [11, null]]);
    const plays = run(buffer, 350, (n) => (n >= 15 ? null : at.has(n) ? at.get(n) : n * 20));
    // 10 missing with nothing after it: waited for (twice, until 12 came); then 10 concealed, 11 rebuilt from 12.
    assert.equal(kinds(plays), 'p0 p1 p2 p3 p4 p5 fec7 p7 p8 p9 conceal conceal conceal fec12 p12 p13 p14 conceal');
    assert.deepEqual([buffer.stats.recovered, buffer.stats.concealed, buffer.stats.waited], [2, 1, 3]);
});
test('an underrun is waited out: a sender that stalls 250 ms and then sends what it owes is heard whole, nothing late', () => {
    const buffer = new JitterBuffer({ frameSamples: FRAME, samplesPerMs: 48, startDelayMs: 40 });
    // Packets 25-37 are held by the sender's stall (500-750 ms) and all sent at 750 ms.
    const plays = run(buffer, 2_000, (n) => (n >= 25 && n * 20 < 750 ? 750 : n * 20));
    const played = plays.filter((p) => p.kind === 'packet').map((p) => (p.kind === 'packet' ? p.payload[0] : -1));
    // Every packet in order, none skipped (up to what was still buffered at the end).
    assert.deepEqual(played, Array.from({ length: played.length }, (_, i) => i));
    assert.deepEqual([buffer.stats.late, buffer.stats.concealed, buffer.stats.dropped], [0, 0, 0]);
    // What the 40 ms start depth did not cover (about 210 ms) was waited for, once; the delay grew by that much.
    assert.ok(buffer.stats.waited >= 9 && buffer.stats.waited <= 12, `${buffer.stats.waited} frames waited`);
    assert.ok(buffer.bufferedMs >= 220, `${buffer.bufferedMs} ms buffered after the stall`);
});
test('it adapts down: after the first 3 s a steady stream brings the depth down a frame at a time, to about two frames', () => {
    const buffer = new JitterBuffer({ frameSamples: FRAME, samplesPerMs: 48 });
    run(buffer, 3_000);
    assert.equal(buffer.stats.shrunk, 0, 'no shrinking during the start');
    assert.ok(buffer.bufferedMs >= DEFAULT_START_DELAY_MS - 20, `${buffer.bufferedMs} ms at 3 s`);
    const later = new JitterBuffer({ frameSamples: FRAME, samplesPerMs: 48 });
    run(later, 8_000);
    assert.ok(later.bufferedMs <= 40, `${later.bufferedMs} ms at 8 s`);
    assert.ok(later.stats.shrunk >= 8 && later.stats.waited === 0, JSON.stringify(later.stats));
});
test('a burst after a 900 ms freeze is dropped down to a conversation\'s delay at once, not played 900 ms late', () => {
    const buffer = new JitterBuffer({ frameSamples: FRAME, samplesPerMs: 48, maxDelayMs: 200, startDelayMs: 40 });
    let n = 0;
    let t = 0;
    const step = () => {
        t += 20;
        buffer.next(t + 2);
    };
    for (; n < 100; n++, step())
        buffer.insert(n * FRAME, packet(n), t);
    // The sender stalls for 900 ms, then sends what it owes at once.
    for (let i = 0; i < 45; i++)
        step();
    for (let i = 0; i < 45; i++, n++)
        buffer.insert(n * FRAME, packet(n), t);
    step();
    assert.ok(buffer.bufferedMs <= 100, `${buffer.bufferedMs} ms buffered after the burst`);
    assert.ok(buffer.stats.dropped > 0);
    // And the conversation goes on normally.
    for (let i = 0; i < 20; i++, n++, step())
        buffer.insert(n * FRAME, packet(n), t);
    assert.ok(buffer.bufferedMs <= 120, `${buffer.bufferedMs} ms`);
});
test('packets that keep coming after a later one was played stretch the buffer by a frame; a single late one does not', () => {
    const buffer = new JitterBuffer({ frameSamples: FRAME, samplesPerMs: 48, startDelayMs: 40 });
    // A packet delayed 50 ms, overtaken by the next two: its frame is concealed, and it comes late.
    const slow = new Set([40]);
    run(buffer, 2_500, (n) => (slow.has(n) ? n * 20 + 50 : n * 20));
    assert.deepEqual([buffer.stats.late, buffer.stats.recovered, buffer.stats.stretched], [1, 1, 0], 'one late packet: rebuilt from the next one, no stretch');
    const again = new JitterBuffer({ frameSamples: FRAME, samplesPerMs: 48, startDelayMs: 40 });
    const twice = new Set([40, 60]);
    run(again, 2_500, (n) => (twice.has(n) ? n * 20 + 50 : n * 20));
    assert.deepEqual([again.stats.late, again.stats.stretched], [2, 1], 'two within two seconds: one frame more');
});
//# sourceMappingURL=jitter-buffer.test.js.map