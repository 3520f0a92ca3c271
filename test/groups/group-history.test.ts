// The groups' file: messages come back in the display order (lamport, sender, device, seq) however
// they were stored, the SQLite file and the memory store agree, a message stored twice is
// refused the second time, and sessions are replaced, not duplicated.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeededRandom } from '../../src/env/prng.js';
import { GroupHistory, MemoryGroupStore, type StoredGroupMessage } from '../../src/groups/group-history.js';

test('both stores give the display order and refuse a message twice', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-groups-'));
  const file = GroupHistory.open(join(dir, 'groups.sqlite'));
  const memory = new MemoryGroupStore();
  try {
    const random = new SeededRandom(77);
    const messages: StoredGroupMessage[] = [];
    for (let i = 0; i < 200; i++) {
      const from = ['carol', 'alice', 'bob'][random.int(3)]!;
      messages.push({ groupId: 'g', id: `m${i}`, from, fromDevice: random.int(2) === 0 ? 'aa' : 'bb', seq: BigInt(i), lamport: BigInt(1 + random.int(40)) * 1_000_000_000_000n, sentAtMs: i, receivedAtMs: i, text: `text ${i}`, mentions: i % 5 === 0 ? ['bob'] : [] });
    }
    // Stored in a shuffled order.
    const shuffled = [...messages].sort(() => random.float() - 0.5);
    for (const m of shuffled) {
      assert.equal(file.addMessage(m), true);
      assert.equal(memory.addMessage(m), true);
    }
    assert.equal(file.addMessage(messages[3]!), false);
    assert.equal(memory.addMessage(messages[3]!), false);
    const fromFile = file.messages('g', 1_000);
    assert.equal(fromFile.length, 200);
    assert.deepEqual(fromFile.map((m) => m.id), memory.messages('g', 1_000).map((m) => m.id));
    for (let i = 1; i < fromFile.length; i++) {
      const [a, b] = [fromFile[i - 1]!, fromFile[i]!];
      assert.ok(a.lamport < b.lamport || (a.lamport === b.lamport && (a.from < b.from || (a.from === b.from && (a.fromDevice < b.fromDevice || (a.fromDevice === b.fromDevice && a.seq < b.seq))))), `${a.id} before ${b.id}`);
    }
    // Large counters survive (kept as text), mentions too; the last N are the last of the order.
    assert.deepEqual(file.messages('g', 5), fromFile.slice(-5));
    assert.ok(fromFile.some((m) => m.mentions.includes('bob')));
    assert.deepEqual(file.messages('other', 10), []);
    file.saveSession('g', '{"v":1}');
    file.saveSession('g', '{"v":2}');
    assert.deepEqual(file.loadSessions(), [{ id: 'g', json: '{"v":2}' }]);
    assert.equal(statSync(join(dir, 'groups.sqlite')).mode & 0o777, 0o600);
  } finally {
    file.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
