// The young generation a client keeps small (src/ops/young-generation.ts): V8 must not grow it
// for a client, and must again for a server (a promoted client). The flags are process-wide;
// node --test runs this file in its own process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapSpaceStatistics } from 'node:v8';
import { sizeYoungGenerationFor } from '../../src/ops/young-generation.js';

const MiB = 1024 * 1024;
/** Both 1 MiB semi-spaces. */
const CLIENT_NEW_SPACE_BYTES = 2 * MiB;

const newSpaceBytes = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;

/** Allocates with a tenth surviving a while: what makes V8 grow its young generation. */
function churn(): number {
  let kept: { i: number; text: string }[] = [];
  let count = 0;
  for (let i = 0; i < 2_000_000; i++) {
    const o = { i, text: `x${i}` };
    if (i % 10 === 0) kept.push(o);
    if (kept.length > 50_000) {
      count += kept.length;
      kept = [];
    }
  }
  return count + kept.length;
}

test('a client keeps its young generation at its first size; a server lets it grow', () => {
  sizeYoungGenerationFor('client');
  // V8 may still commit its second semi-space (1 MiB -> 2 MiB); it never doubles from there.
  const bound = Math.max(newSpaceBytes(), CLIENT_NEW_SPACE_BYTES);
  assert.ok(churn() > 0);
  const client = newSpaceBytes();
  assert.ok(client <= bound, `a client's young generation grew to ${client / MiB} MiB`);
  sizeYoungGenerationFor('server');
  assert.ok(churn() > 0);
  assert.ok(newSpaceBytes() > client, `a server's young generation stayed at ${newSpaceBytes() / MiB} MiB`);
});
