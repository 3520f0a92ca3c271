// The simulator's further faults (clock skew within and beyond the tolerance, NAT mapping loss,
// clogged links, a slow login server) and its adversary (a supernode forging presence records), each on a small seeded
// network: every invariant must hold and the network heal; the forgeries must be refused, and
// a forgery slipped into a lookup's answer on purpose must be caught.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSim, type SimResult } from '../../src/sim/run.js';
import type { FaultKind } from '../../src/sim/scenario.js';

const SMALL = { supernodes: 12, clients: 36, faultPhaseMs: 50_000, forgers: 0 } as const;

function assertHeld(result: SimResult): void {
  assert.equal(result.violation, null, `${result.violation?.invariant}: ${result.violation?.detail} (${result.replay})`);
  assert.ok(result.report.healedAfterMs !== null, 'the network healed');
}

async function runFault(seed: number, kind: FaultKind): Promise<SimResult> {
  const result = await runSim(seed, { ...SMALL, faults: [kind] });
  assertHeld(result);
  assert.deepEqual(result.report.faults.map((f) => f.kind), [kind]);
  const fault = result.report.faults[0]!;
  assert.ok(fault.endMs !== null && fault.recoveredAfterEndMs !== null, `recovered after the fault: ${JSON.stringify(fault)}`);
  assert.ok(result.report.messages.accepted > 20 && result.report.messages.undelivered === 0, JSON.stringify(result.report.messages));
  return result;
}

test('clock skew within the allowed 5 minutes: certificates and records still pass, nothing breaks', { timeout: 60_000 }, async () => {
  const result = await runFault(41, 'clock-skew');
  // The fault struck: some nodes' clocks were off by tens of seconds.
  assert.match(result.report.faults[0]!.detail, /^([1-9]\d*) nodes' clocks off by up to ([1-9]\d+) s/);
});

test('clocks off beyond the 5 minutes allowed: those devices are refused with the reason, counted, and attach again once their clocks are right', { timeout: 60_000 }, async () => {
  const result = await runFault(47, 'bad-clock');
  const detail = /^(\d+) clients restarted with clocks off beyond the tolerance \((\d+) ahead, (\d+) behind\)/.exec(result.report.faults[0]!.detail);
  assert.ok(detail && Number(detail[1]) >= 1, result.report.faults[0]!.detail);
  const { badClocks } = result.report;
  assert.equal(badClocks.clients, Number(detail[1]));
  // Each struck device kept trying and was refused: from the future (ahead) or expired on arrival (behind).
  if (Number(detail[2]) > 0) assert.ok(badClocks.refusedFromTheFuture > 0, JSON.stringify(badClocks));
  if (Number(detail[3]) > 0) assert.ok(badClocks.refusedExpired > 0, JSON.stringify(badClocks));
});

test('supernodes that believe a bad clock are caught: a record from beyond the tolerance is stored, or its device attaches', { timeout: 60_000 }, async () => {
  const result = await runSim(48, { ...SMALL, faults: ['bad-clock'], injections: ['accept-bad-clock'] });
  assert.equal(result.violation?.invariant, 'a clock beyond the tolerance is refused', JSON.stringify(result.violation));
  assert.match(result.replay, /--faults bad-clock .*--inject accept-bad-clock$/);
});

test('NATs forget their mappings: the clients behind them notice, attach again, and no message is lost', { timeout: 60_000 }, async () => {
  const result = await runFault(42, 'nat-loss');
  const detail = /^(\d+) NATs forgot (\d+) mappings$/.exec(result.report.faults[0]!.detail);
  assert.ok(detail && Number(detail[1]) > 0 && Number(detail[2]) > 0, result.report.faults[0]!.detail);
});

test('clogged supernode links: lookups and messages slow down but the invariants hold', { timeout: 60_000 }, async () => {
  const result = await runFault(43, 'clog');
  assert.match(result.report.faults[0]!.detail, /^[1-9]\d* supernodes' links at \d+ kbit\/s/);
});

test('a slow login server: devices wait for it, offline messages still arrive', { timeout: 60_000 }, async () => {
  const result = await runFault(44, 'slow-login');
  assert.match(result.report.faults[0]!.detail, /^login server answers [2-8](\.\d+)? s late/);
});

test('a supernode forging presence records: honest supernodes refuse every forgery, no lookup returns one', { timeout: 60_000 }, async () => {
  const result = await runSim(45, { ...SMALL, forgers: 1, faults: [] });
  assertHeld(result);
  const { forgeries, lookups } = result.report;
  assert.ok(forgeries.forged > 10 && forgeries.published >= forgeries.forged, JSON.stringify(forgeries));
  // Each forgery went to the user's closest supernodes, which rejected it (bad signature).
  assert.ok(forgeries.storesRejected >= forgeries.published, JSON.stringify(forgeries));
  assert.ok(lookups.quietStarted > 20 && lookups.quietFound === lookups.quietStarted, JSON.stringify(lookups));
});

test('a forged record slipped into a lookup answer is caught as a violation', { timeout: 60_000 }, async () => {
  const result = await runSim(46, { supernodes: 8, clients: 16, faultPhaseMs: 30_000, forgers: 1, faults: [], injections: ['accept-forged'] });
  assert.equal(result.violation?.invariant, 'no presence record accepted with a bad signature');
  assert.match(result.replay, /--forgers 1 --inject accept-forged$/);
});
