// One device, one process: the lock a command takes before it brings a device online.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { takeDevice } from '../../src/client/device-lock.js';
function withDir(work) {
    const dir = mkdtempSync(join(tmpdir(), 'parley-lock-'));
    try {
        work(dir);
    }
    finally {
        rmSync(dir, { recursive: true, force: true });
    }
}
test('a second live process is refused and told who holds the device; the holder may take it again; release frees it', () => withDir((dir) => {
    const path = join(dir, 'online.lock');
    const alive = (pid) => pid === 100 || pid === 200;
    const first = takeDevice(path, { pid: 100, command: 'parley online', sinceMs: 1 }, alive);
    assert.ok(first.ok);
    const second = takeDevice(path, { pid: 200, command: 'parley answer', sinceMs: 2 }, alive);
    assert.equal(second.ok, false);
    assert.deepEqual(!second.ok && second.holder, { pid: 100, command: 'parley online', sinceMs: 1 });
    assert.ok(takeDevice(path, { pid: 100, command: 'parley online', sinceMs: 3 }, alive).ok, 'the holder again (a daemon signing in twice)');
    first.release();
    assert.ok(!existsSync(path));
    assert.ok(takeDevice(path, { pid: 200, command: 'parley answer', sinceMs: 5 }, alive).ok, 'free once released');
    assert.deepEqual(readdirSync(dir), ['online.lock'], 'no staging files left');
}));
test('a dead holder\'s lock and an unreadable lock are taken over', () => withDir((dir) => {
    const path = join(dir, 'online.lock');
    assert.ok(takeDevice(path, { pid: 300, command: 'parley online', sinceMs: 1 }, () => true).ok);
    assert.ok(takeDevice(path, { pid: 400, command: 'parley call', sinceMs: 2 }, (pid) => pid === 400).ok, 'pid 300 is gone');
    writeFileSync(path, 'not json');
    assert.ok(takeDevice(path, { pid: 500, command: 'parley call', sinceMs: 3 }, () => true).ok);
}));
//# sourceMappingURL=device-lock.test.js.map