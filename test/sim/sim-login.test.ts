// The simulator with the real login server (`--login real`): src/login-server in process on the
// virtual clock, users signing up and setting their buddies through its API, devices with the
// real client account. A small seeded run with every client restarting at once (2007), so every
// device starts again against it (identity, contact list, offline fetch).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSim } from '../../src/sim/run.js';
import { deterministicPart } from '../../src/sim/report.js';

const OPTIONS = { supernodes: 6, clients: 14, faultPhaseMs: 40_000, faults: ['mass-restart'], forgers: 0, login: 'real' } as const;

test('the real login server: devices sign up, attach, chat through a mass restart, every invariant holds', { timeout: 120_000 }, async () => {
  const result = await runSim(51, OPTIONS);
  assert.equal(result.violation, null, `${result.violation?.invariant}: ${result.violation?.detail} (${result.replay})`);
  const { report } = result;
  assert.equal(report.login.kind, 'real');
  // Sign-up, login, contacts for each user, then the devices' own calls (info, contacts, offline).
  assert.ok(report.login.calls > 3 * OPTIONS.clients, JSON.stringify(report.login));
  assert.ok(report.messages.accepted > 10 && report.messages.undelivered === 0, JSON.stringify(report.messages));
  assert.ok(report.healedAfterMs !== null);
  assert.match(result.replay, /--login real$/);
});

test('with the real login server a seed still replays the same run', { timeout: 120_000 }, async () => {
  const options = { ...OPTIONS, faults: [], faultPhaseMs: 30_000 } as const;
  const first = await runSim(52, options);
  const second = await runSim(52, options);
  assert.equal(first.violation, null, `${first.violation?.invariant}: ${first.violation?.detail}`);
  assert.deepEqual(deterministicPart(second.report), deterministicPart(first.report));
});
