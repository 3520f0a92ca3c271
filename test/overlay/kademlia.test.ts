// Node ids, the routing table and iterative lookups, checked against brute force.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SeededRandom } from '../../src/env/prng.js';
import { commonPrefixBits, compareDistance, idHex, ID_BYTES, randomIdInBucket, sameId, type NodeId } from '../../src/overlay/node-id.js';
import { RoutingTable } from '../../src/overlay/routing-table.js';
import { Lookup, type LookupContact } from '../../src/overlay/lookup.js';
import { testSeed, withSeed } from '../support/seed.js';

const big = (id: NodeId) => BigInt(`0x${Buffer.from(id).toString('hex')}`);
const idArb = fc.uint8Array({ minLength: ID_BYTES, maxLength: ID_BYTES });

test('XOR distance order and common prefix agree with big-integer arithmetic', () => {
  fc.assert(
    fc.property(idArb, idArb, idArb, (t, a, b) => {
      const da = big(a) ^ big(t);
      const db = big(b) ^ big(t);
      const c = compareDistance(t, a, b);
      assert.equal(Math.sign(c), da < db ? -1 : da > db ? 1 : 0);
      const x = big(a) ^ big(b);
      assert.equal(commonPrefixBits(a, b), x === 0n ? 256 : 256 - x.toString(2).length);
    }),
  );
});

function contact(id: NodeId) {
  return { id, host: '20.0.0.1', port: 1, dhKey: id };
}

test('a full bucket keeps its old contacts and names the least recently seen; closest() is exact', () => {
  const random = new SeededRandom(testSeed());
  const self = random.bytes(ID_BYTES);
  const table = new RoutingTable(self, 4);
  // Ids sharing no prefix bit with self all land in bucket 0.
  const far = Array.from({ length: 6 }, () => {
    const id = random.bytes(ID_BYTES);
    id[0] = (self[0]! ^ 0x80) | (id[0]! & 0x7f);
    return id;
  });
  const outcomes = far.map((id, i) => table.insert(contact(id), i).kind);
  assert.deepEqual(outcomes, ['added', 'added', 'added', 'added', 'full', 'full']);
  const full = table.insert(contact(far[5]!), 10);
  assert.ok(full.kind === 'full' && sameId(full.oldest.id, far[0]!));
  assert.equal(table.insert(contact(far[0]!), 11).kind, 'updated');
  const again = table.insert(contact(far[5]!), 12);
  assert.ok(again.kind === 'full' && sameId(again.oldest.id, far[1]!), 'a refreshed contact moves to the tail');
  assert.equal(table.insert(contact(self), 13).kind, 'self');
  // The refused newcomers wait as replacements: a contact that fails is replaced at once by the
  // freshest of them.
  assert.equal(table.replacementCount, 2);
  assert.ok(table.recordFailure(far[1]!), 'a failed contact with a replacement waiting is removed');
  assert.ok(table.get(far[5]!) && !table.get(far[1]!), 'the most recently seen replacement took its place');
  assert.equal(table.size, 4);
  assert.ok(table.recordFailure(far[2]!) && table.get(far[4]!), 'then the next one');
  assert.equal(table.replacementCount, 0);
  // With no replacement left, a contact stays (suspect: not handed out, but probed) until three failures in a row.
  assert.ok(!table.recordFailure(far[3]!) && !table.recordFailure(far[3]!));
  assert.ok(table.get(far[3]!) && !table.closest(far[3]!, 4).some((c) => sameId(c.id, far[3]!)), 'a suspect is not handed out');
  assert.ok(table.closest(far[3]!, 4, true).some((c) => sameId(c.id, far[3]!)), 'but a probe sees it');
  assert.ok(table.recordFailure(far[3]!));
  assert.equal(table.size, 3);
  // An answer clears a suspect.
  assert.ok(!table.recordFailure(far[0]!));
  table.insert(contact(far[0]!), 20);
  assert.ok(table.closest(far[0]!, 1).some((c) => sameId(c.id, far[0]!)), 'an answer clears the suspicion');
  // closest() against brute force on a bigger table.
  const wide = new RoutingTable(self, 20);
  const ids = Array.from({ length: 300 }, () => random.bytes(ID_BYTES));
  for (const id of ids) wide.insert(contact(id), 0);
  const target = random.bytes(ID_BYTES);
  const kept = wide.all().map((c) => c.id);
  const brute = [...kept].sort((a, b) => (big(a) ^ big(target)) < (big(b) ^ big(target)) ? -1 : 1).slice(0, 20);
  assert.deepEqual(wide.closest(target, 20).map((c) => idHex(c.id)), brute.map(idHex));
});

/** A synthetic overlay: nodes answer lookups from their routing tables, synchronously. */
function overlay(seed: number, count: number) {
  const random = new SeededRandom(seed);
  const ids = Array.from({ length: count }, () => random.bytes(ID_BYTES));
  const tables = new Map(ids.map((id) => [idHex(id), new RoutingTable(id)]));
  for (const table of tables.values()) {
    // Each node has met 80 random others (a bootstrap and some traffic), as a fresh DHT node has.
    for (let i = 0; i < 80; i++) table.insert(contact(ids[random.int(count)]!), 0);
  }
  // Then every node joins as DhtNode.join does: it looks itself up (filling its nearby buckets)
  // and a random id in each of the three farthest buckets (bucket refresh).
  for (const id of ids) {
    const table = tables.get(idHex(id))!;
    for (const target of [id, ...[0, 1, 2].map((bucket) => randomIdInBucket(id, bucket, random.bytes(ID_BYTES)))]) {
      runLookup(tables, new Set(), target, table.closest(target, 20), (c) => table.insert(contact(c.id), 0), id);
    }
  }
  return { random, ids, tables };
}

/** `asker`, when given, is learnt by every node it asks (as DhtNode learns a request's sender). */
function runLookup(tables: Map<string, RoutingTable>, dead: Set<string>, target: NodeId, start: LookupContact[], met?: (c: LookupContact) => void, asker?: NodeId): Lookup {
  const lookup = new Lookup(target, start, 20, 3);
  for (let guard = 0; guard < 10_000 && !lookup.isDone(); guard++) {
    const asks = lookup.next();
    if (asks.length === 0) break;
    for (const ask of asks) {
      if (dead.has(idHex(ask.id))) {
        lookup.onFailure(ask.id);
        continue;
      }
      met?.(ask);
      if (asker) tables.get(idHex(ask.id))!.insert(contact(asker), 0);
      lookup.onResponse(ask.id, tables.get(idHex(ask.id))!.closest(target, 20));
    }
  }
  return lookup;
}

test('iterative lookups over 500 nodes find the true 20 closest, also with 30% of nodes dead', () =>
  withSeed(testSeed(), (seed) => {
    const { random, ids, tables } = overlay(seed, 500);
    for (const deadShare of [0, 0.3]) {
      const dead = new Set(ids.filter(() => random.float() < deadShare).map(idHex));
      const live = ids.filter((id) => !dead.has(idHex(id)));
      let exact = 0;
      let worstHops = 0;
      const trials = 100;
      for (let t = 0; t < trials; t++) {
        const target = random.bytes(ID_BYTES);
        const from = live[random.int(live.length)]!;
        const lookup = runLookup(tables, dead, target, tables.get(idHex(from))!.closest(target, 20));
        assert.ok(lookup.isDone());
        const truth = [...live].sort((a, b) => compareDistance(target, a, b)).slice(0, 20).map(idHex);
        const found = lookup.closest().map((c) => idHex(c.id));
        if (truth[0] === found[0] && truth.slice(0, 20).every((id) => found.includes(id))) exact++;
        worstHops = Math.max(worstHops, lookup.maxHops);
      }
      assert.ok(exact >= trials * 0.95, `dead ${deadShare}: ${exact}/${trials} lookups exact`);
      assert.ok(worstHops <= 6, `dead ${deadShare}: worst ${worstHops} hops`);
    }
  }));

test('a lookup ignores answers it did not ask for and bounds what it tracks', () => {
  const random = new SeededRandom(testSeed());
  const target = random.bytes(ID_BYTES);
  const lookup = new Lookup(target, [contact(random.bytes(ID_BYTES))], 20);
  lookup.onResponse(random.bytes(ID_BYTES), Array.from({ length: 50 }, () => contact(random.bytes(ID_BYTES))));
  assert.equal(lookup.closest().length, 1, 'unsolicited answer ignored');
  const [asked] = lookup.next();
  lookup.onResponse(asked!.id, Array.from({ length: 5000 }, () => contact(random.bytes(ID_BYTES))));
  assert.ok(lookup.closest().length <= 20);
  assert.equal(lookup.requestsSent, 1);
});

test('a slow request stops counting against alpha: the lookup asks the next contact, and still takes the late answer', () => {
  const random = new SeededRandom(testSeed());
  const target = random.bytes(ID_BYTES);
  const start = Array.from({ length: 5 }, () => contact(random.bytes(ID_BYTES)));
  const lookup = new Lookup(target, start, 20, 2);
  const first = lookup.next();
  assert.equal(first.length, 2);
  assert.equal(lookup.next().length, 0, 'alpha requests in flight');
  lookup.onSlow(first[0]!.id);
  lookup.onSlow(first[0]!.id); // twice is once
  const more = lookup.next();
  assert.equal(more.length, 1, 'one more asked in place of the slow one');
  // Farther than every contact asked: it makes none of them stale.
  const farthest = contact(target.map((b) => b ^ 0xff));
  lookup.onResponse(first[0]!.id, [farthest]);
  assert.ok(lookup.closest().some((c) => sameId(c.id, farthest.id)), 'the late answer counts');
  assert.equal(lookup.next().length, 0, 'the late answer did not free a second slot');
  lookup.onResponse(first[1]!.id, []);
  assert.equal(lookup.next().length, 1);
});

/** A contact at distance `distance` (a small number: the last bytes) from `target`. */
function at(target: NodeId, distance: number) {
  const id = Uint8Array.from(target);
  id[ID_BYTES - 1] = id[ID_BYTES - 1]! ^ (distance & 0xff);
  id[ID_BYTES - 2] = id[ID_BYTES - 2]! ^ (distance >> 8);
  return contact(id);
}

test('an answer naming contacts closer than those still asked makes those stale: the closer ones are asked at once', () => {
  const target = new SeededRandom(testSeed()).bytes(ID_BYTES);
  const start = [at(target, 1000), at(target, 1001), at(target, 1002), at(target, 1003)];
  const lookup = new Lookup(target, start, 20, 3);
  const first = lookup.next();
  assert.deepEqual(first.map((c) => idHex(c.id)), start.slice(0, 3).map((c) => idHex(c.id)));
  const near = [at(target, 5), at(target, 6), at(target, 7)];
  lookup.onResponse(first[0]!.id, near);
  assert.deepEqual(
    lookup.next().map((c) => idHex(c.id)),
    near.map((c) => idHex(c.id)),
    'three closer contacts asked at once, not one as a slot frees',
  );
  // The stale ones still count when they answer, and free no slot.
  lookup.onResponse(first[1]!.id, []);
  assert.equal(lookup.next().length, 0);
  assert.ok(!lookup.isDone(), 'the closer ones are still out');
  lookup.onResponse(first[2]!.id, [at(target, 2000)]);
  assert.equal(lookup.next().length, 0, 'an answer with nothing closer changes nothing');
});

test('among the k closest not yet asked, the cheapest to reach is asked first; all are asked before the lookup ends', () => {
  const target = new SeededRandom(testSeed()).bytes(ID_BYTES);
  const contacts = Array.from({ length: 25 }, (_, i) => at(target, 100 + i));
  // Costs: the 5th and 16th closest have open links; the 22nd too, but it is not among the k = 20 closest.
  const cost = new Map(contacts.map((c, i) => [idHex(c.id), i === 4 || i === 15 || i === 21 ? 10 : 150]));
  const lookup = new Lookup(target, contacts, 20, 3, () => false, (c) => cost.get(idHex(c.id))!);
  const first = lookup.next().map((c) => idHex(c.id));
  assert.deepEqual(first, [contacts[4]!, contacts[15]!, contacts[0]!].map((c) => idHex(c.id)), 'the two cheap ones among the 20 closest, then the closest');
  for (let batch = first; batch.length > 0; batch = lookup.next().map((c) => idHex(c.id))) {
    for (const id of batch) lookup.onResponse(Buffer.from(id, 'hex'), []);
  }
  assert.ok(lookup.isDone());
  assert.equal(lookup.requestsSent, 20, 'every one of the 20 closest was asked, and no other');
});

test('a lookup never asks, nor tracks, contacts it is told to skip', () => {
  const random = new SeededRandom(testSeed());
  const target = random.bytes(ID_BYTES);
  const skipped = contact(random.bytes(ID_BYTES));
  const kept = contact(random.bytes(ID_BYTES));
  const lookup = new Lookup(target, [skipped, kept], 20, 3, (c) => sameId(c.id, skipped.id));
  const asked = lookup.next();
  assert.deepEqual(asked.map((c) => idHex(c.id)), [idHex(kept.id)]);
  lookup.onResponse(kept.id, [skipped]);
  assert.ok(!lookup.closest().some((c) => sameId(c.id, skipped.id)), 'an answer naming it does not bring it back');
});

test('a random id in bucket i shares exactly i leading bits with our id', () => {
  const random = new SeededRandom(testSeed());
  for (let trial = 0; trial < 200; trial++) {
    const self = random.bytes(32);
    const bucket = random.int(256);
    const id = randomIdInBucket(self, bucket, random.bytes(32));
    assert.equal(commonPrefixBits(self, id), bucket, `bucket ${bucket}`);
  }
});
