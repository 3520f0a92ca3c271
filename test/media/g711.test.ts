// G.711: known code points of the ITU-T tables (silence, the extremes, segment edges), the
// encoder's output agreeing with the decoder on every code (encode(decode(c)) = c, except µ-law's
// two zeros), and the quantisation error staying within each segment's half step.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alawToLinear, decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw, linearToAlaw, linearToMulaw, mulawToLinear } from '../../src/media/g711.js';

test('µ-law known values', () => {
  assert.equal(linearToMulaw(0), 0xff);
  assert.equal(linearToMulaw(-1), 0x7f);
  assert.equal(mulawToLinear(0xff), 0);
  assert.equal(mulawToLinear(0x7f), 0);
  assert.equal(mulawToLinear(0x00), -32_124);
  assert.equal(mulawToLinear(0x80), 32_124);
  assert.equal(linearToMulaw(32_767), 0x80);
  assert.equal(linearToMulaw(-32_768), 0x00);
  // The first steps of the table: segment 0 in steps of 8, segment 1 from 132 in steps of 16.
  assert.deepEqual([0xfe, 0xf0, 0xef, 0xee].map(mulawToLinear), [8, 120, 132, 148]);
});

test('A-law known values', () => {
  assert.equal(linearToAlaw(0), 0xd5);
  assert.equal(alawToLinear(0xd5), 8);
  assert.equal(alawToLinear(0x55), -8);
  assert.equal(alawToLinear(0xaa), 32_256);
  assert.equal(alawToLinear(0x2a), -32_256);
  assert.equal(linearToAlaw(32_767), 0xaa);
  assert.equal(linearToAlaw(-32_768), 0x2a);
});

test('every code decodes to a value that encodes back to the same code', () => {
  for (let code = 0; code < 256; code++) {
    const mu = linearToMulaw(mulawToLinear(code));
    assert.ok(mu === code || (code === 0x7f && mu === 0xff), `µ-law ${code} → ${mu}`);
    assert.equal(linearToAlaw(alawToLinear(code)), code, `A-law ${code}`);
  }
});

test('quantisation error is within half a step of the segment, and arrays match the scalar functions', () => {
  const samples = Int16Array.from({ length: 65_536 }, (_, i) => i - 32_768);
  const mu = decodeMulaw(encodeMulaw(samples));
  const a = decodeAlaw(encodeAlaw(samples));
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const magnitude = Math.abs(s);
    // µ-law steps are 8 << segment wide below the clip level; A-law 16 << (segment - 1).
    if (magnitude < 32_000) {
      assert.ok(Math.abs(mu[i]! - s) <= Math.max(8, (magnitude + 132) >> 4), `µ-law ${s} → ${mu[i]}`);
      assert.ok(Math.abs(a[i]! - s) <= Math.max(16, magnitude >> 4) + 8, `A-law ${s} → ${a[i]}`);
    }
    if (i % 997 === 0) {
      assert.equal(mu[i], mulawToLinear(linearToMulaw(s)));
      assert.equal(a[i], alawToLinear(linearToAlaw(s)));
    }
  }
});
