// A 2010-style fault on the overlay (issue 21): 30 % of supernodes crash at once, silently.
// Lookups must not wait for the dead: after 30 s of virtual time they are back to the p99 they
// had before the crash. Virtual time is exact for a seed, so the bound is not the machine's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testSeed, withSeed } from '../support/seed.js';
import { percentile, runChurn, window } from '../support/overlay-churn.js';

test('after 30% of supernodes crash at once, lookups are back to their steady-state p99 within 30 s of virtual time, and every lookup finds its user', { timeout: 300_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const run = await runChurn({ seed, supernodes: 40, users: 40, crashShare: 0.3, lookupsPerSecond: 10, steadyMs: 20_000, afterCrashMs: 60_000 });
    const steady = window(run.lookups, -Infinity, 0);
    const recovered = window(run.lookups, 30_000, 60_000);
    assert.ok(steady.length >= 100 && recovered.length >= 150, `enough lookups measured (${steady.length} before, ${recovered.length} after)`);
    const missed = run.lookups.filter((l) => !l.found);
    assert.deepEqual(missed, [], 'every lookup found its user, before and after the crash');
    const steadyP99 = percentile(steady.map((l) => l.durationMs), 99);
    const recoveredP99 = percentile(recovered.map((l) => l.durationMs), 99);
    // "Back to its value": within a fifth, or half a round trip, whichever is more (the dead
    // took a share of the records' replicas, so the survivors are not the same overlay).
    const boundMs = Math.max(steadyP99 * 1.2, steadyP99 + run.medianRttMs / 2);
    assert.ok(recoveredP99 <= boundMs, `p99 ${recoveredP99.toFixed(0)} ms from 30 s after the crash, steady ${steadyP99.toFixed(0)} ms (bound ${boundMs.toFixed(0)} ms)`);
  }));
