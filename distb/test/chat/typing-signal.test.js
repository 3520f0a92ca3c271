// Keystrokes become few typing indicators: one at the first key, one every 5 s while typing,
// "stopped" once after a pause or a sent line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypingSignal, TYPING_REFRESH_MS } from '../../src/chat/typing-signal.js';
import { Scheduler } from '../../src/env/virtual/scheduler.js';
test('typing is said at the first key, refreshed while keys come, and stopped once after a pause or a sent line', () => {
    const scheduler = new Scheduler();
    const said = [];
    const signal = new TypingSignal(scheduler, (active) => said.push([scheduler.now(), active]));
    // Keys every 200 ms for 12 s, then the line is sent.
    for (let t = 0; t <= 12_000; t += 200) {
        scheduler.runUntil(t);
        signal.keystroke();
    }
    signal.stop();
    signal.stop();
    assert.deepEqual(said, [
        [0, true],
        [TYPING_REFRESH_MS, true],
        [2 * TYPING_REFRESH_MS, true],
        [12_000, false],
    ]);
    // A few keys, then nothing: stopped after the pause.
    said.length = 0;
    scheduler.runUntil(20_000);
    signal.keystroke();
    scheduler.runUntil(30_000);
    assert.deepEqual(said, [
        [20_000, true],
        [20_000 + TYPING_REFRESH_MS, false],
    ]);
});
//# sourceMappingURL=typing-signal.test.js.map