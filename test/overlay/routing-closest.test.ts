// RoutingTable.closest keeps the best contacts as it goes instead of sorting the table; it must
// give exactly what sorting by XOR distance gives, suspects left out unless asked for, also
// where ids share their first 32 bits (the cheap comparison ties and the full one decides).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/env/prng.js';
import { compareDistance, idHex } from '../../src/overlay/node-id.js';
import { RoutingTable, type Contact } from '../../src/overlay/routing-table.js';

function sorted(table: RoutingTable, target: Uint8Array, count: number, withSuspects: boolean): string[] {
  return table
    .all()
    .filter((c) => withSuspects || c.failures === 0)
    .sort((a: Contact, b: Contact) => compareDistance(target, a.id, b.id))
    .slice(0, count)
    .map((c) => idHex(c.id));
}

test('closest gives what sorting the whole table by distance gives', () => {
  const random = new SeededRandom(99);
  for (let round = 0; round < 40; round++) {
    const self = random.bytes(32);
    const table = new RoutingTable(self, 20);
    // Some ids share a 4-byte prefix with each other or with the target.
    const prefix = random.bytes(4);
    for (let i = 0; i < 300; i++) {
      const id = random.bytes(32);
      if (i % 5 === 0) id.set(prefix);
      table.insert({ id, host: '20.0.0.1', port: 1000 + i, dhKey: random.bytes(32) }, i);
    }
    for (const c of table.all()) if (random.float() < 0.2) table.recordFailure(c.id, 10);
    const target = random.bytes(32);
    if (round % 2 === 0) target.set(prefix);
    for (const count of [0, 1, 3, 20, 64, 65, 500]) {
      for (const withSuspects of [false, true]) {
        assert.deepEqual(table.closest(target, count, withSuspects).map((c) => idHex(c.id)), sorted(table, target, count, withSuspects), `round ${round}, ${count}, suspects ${withSuspects}`);
      }
    }
  }
});
