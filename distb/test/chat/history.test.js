// The local chat history: survives a restart, remembers what was shown, searches literally.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ChatHistory, OUTBOX_KEEP_MS } from '../../src/chat/history.js';
const message = (i, overrides = {}) => ({
    id: `m${i}`,
    conversation: 'bob',
    from: i % 2 === 0 ? 'alice' : 'bob',
    fromDevice: 'ab'.repeat(32),
    sentAtMs: 1_000 + i,
    receivedAtMs: 2_000 + i,
    text: `message ${i}`,
    offline: false,
    ...overrides,
});
test('history keeps conversations across a restart, each message once, and searches literally', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-history-'));
    try {
        const path = join(dir, 'history.sqlite');
        let history = ChatHistory.open(path);
        assert.equal(statSync(path).mode & 0o777, 0o600);
        for (let i = 0; i < 10; i++)
            assert.equal(history.add(message(i)), true);
        assert.equal(history.add(message(3)), false, 'a repeated id is not stored twice');
        history.add(message(100, { conversation: 'carol', text: '100% sure_thing' }));
        history.close();
        history = ChatHistory.open(path);
        assert.ok(history.has('m3'), 'what was shown before the restart is remembered');
        assert.deepEqual(history.conversation('bob', { limit: 3 }).map((m) => m.text), ['message 7', 'message 8', 'message 9'], 'the last three, oldest first');
        assert.deepEqual(history.conversation('bob', { search: 'MESSAGE 1' }).map((m) => m.id), ['m1']);
        assert.deepEqual(history.conversation('carol', { search: '100%' }).map((m) => m.id), ['m100']);
        assert.deepEqual(history.conversation('carol', { search: '0%s' }), [], '% is literal');
        assert.deepEqual(history.conversation('bob', { search: 'message_1' }), [], '_ is literal');
        assert.deepEqual(history.conversation('nobody'), []);
        history.close();
    }
    finally {
        rmSync(dir, { recursive: true, force: true });
    }
});
test('the outbox keeps unacknowledged messages across a restart, in order, until released or a month old', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-history-'));
    try {
        const path = join(dir, 'history.sqlite');
        let history = ChatHistory.open(path);
        const key = new Uint8Array(32).fill(7);
        const ids = [0, 1, 2].map((i) => history.keepUntilAcknowledged('bob', key, Uint8Array.of(i), 1_000 + i));
        history.release(ids[1]);
        history.close();
        history = ChatHistory.open(path);
        assert.deepEqual(history.queued(2_000).map((q) => [q.user, q.deviceKey, q.payload]), [
            ['bob', key, Uint8Array.of(0)],
            ['bob', key, Uint8Array.of(2)],
        ]);
        assert.deepEqual(history.queued(1_001 + OUTBOX_KEEP_MS).map((q) => q.payload), [Uint8Array.of(2)], 'the oldest outlived the keep time');
        history.close();
    }
    finally {
        rmSync(dir, { recursive: true, force: true });
    }
});
//# sourceMappingURL=history.test.js.map