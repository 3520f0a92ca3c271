// The port board the threads of one relay share (relay to relay and service ports across
// threads), and the hash that gives each user one home thread.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PortBoard } from '../../src/turn/port-board.js';
import { homeIndexOf } from '../../src/turn/relay-home.js';

test('a relay marked by one server is a relay for every server, until it is unmarked or its server is cleared', () => {
  const board = PortBoard.create(3);
  const [main, one, two] = [board.view(0), board.view(1), board.view(2)];
  one.markRelay(50_000);
  two.markRelay(50_001);
  two.markRelay(65_535);
  for (const view of [main, one, two]) {
    assert.ok(view.isRelay(50_000) && view.isRelay(50_001) && view.isRelay(65_535));
    assert.ok(!view.isRelay(50_002) && !view.isRelay(49_999));
  }
  one.unmarkRelay(50_000);
  assert.ok(!main.isRelay(50_000));
  // Another server's mark of the same port is its own: clearing one row leaves the other's.
  one.markRelay(50_001);
  board.clearRelays(2);
  assert.ok(main.isRelay(50_001), "server 1's mark stays");
  assert.ok(!main.isRelay(65_535), "server 2's marks are gone");
  // Service ports are apart from relays; out-of-range ports are nobody's.
  board.markService(3478);
  assert.ok(main.isService(3478) && !main.isRelay(3478) && !main.isService(3479));
  board.unmarkService(3478);
  assert.ok(!two.isService(3478));
  assert.ok(!main.isRelay(-1) && !main.isRelay(70_000));
});

test('a board seen from another thread is the same memory; bad sizes are refused', () => {
  const board = PortBoard.create(2);
  const again = new PortBoard(board.buffer, 2);
  board.view(1).markRelay(40_000);
  assert.ok(again.view(0).isRelay(40_000));
  assert.throws(() => new PortBoard(board.buffer, 3), RangeError);
  assert.throws(() => PortBoard.create(0), RangeError);
  assert.throws(() => board.view(2), RangeError);
});

test('every user has one home thread, the same each time, and users spread over the threads', () => {
  for (const servers of [2, 3, 8]) {
    const counts = new Array<number>(servers).fill(0);
    for (let i = 0; i < 4_000; i++) {
      const home = homeIndexOf(`user${i}`, servers);
      assert.equal(homeIndexOf(`user${i}`, servers), home);
      counts[home]!++;
    }
    const even = 4_000 / servers;
    for (const count of counts) assert.ok(Math.abs(count - even) < even * 0.15, `${servers} threads: ${counts.join(' / ')}`);
  }
  assert.equal(homeIndexOf('anyone', 1), 0);
  assert.throws(() => homeIndexOf('anyone', 0), RangeError);
});
