// Properties of the pure ICE check list (src/ice/ice-checklist.ts), driven by fast-check: two
// check lists (controlling A, controlled B) on a small simulated network whose links work or not
// at random, lose packets at random, delay them, and may be cut and healed; and one check list
// fed random (also hostile) events. After every step: the bounds hold, checks go only to
// addresses the list was told of, a chosen pair is one whose check got an answer, and once a pair
// is chosen nothing worse is checked on the list's own initiative. At the end of a quiet spell
// the two sides are on the same pair. fast-check prints the seed and the shrunk case on failure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SeededRandom } from '../../src/env/prng.js';
import type { Endpoint } from '../../src/env/types.js';
import { candidatePriority, type IceCandidate } from '../../src/ice/ice-candidate.js';
import { CheckList, MAX_PAIRS, MAX_PENDING_CHECKS, MAX_QUEUED_CHECKS, MAX_REMOTE_CANDIDATES, type CandidatePair, type CheckListOutput } from '../../src/ice/ice-checklist.js';

const key = (e: Endpoint) => `${e.host}:${e.port}`;
const CHECK_PRIORITY = candidatePriority('prflx');

interface Side {
  readonly name: 'A' | 'B';
  readonly host: IceCandidate;
  readonly srflx: IceCandidate | null;
  readonly relay: IceCandidate | null;
  /** Behind a NAT: checks from the host candidate arrive from the server-reflexive address. */
  readonly natted: boolean;
  readonly list: CheckList;
  /** Addresses the list was told of: the offer, and every source of a check it was given. */
  readonly known: Set<string>;
  /** `via|from` of every check given to it. */
  readonly checkedBy: Set<string>;
  /** `local|to` of every check of its that got a success answer. */
  readonly answered: Set<string>;
}

interface SideShape {
  readonly relay: boolean;
  readonly natted: boolean;
}

/** A side behind a NAT has a server-reflexive candidate (and only then: the supernode sees the host address otherwise). */
const sideShape = fc.record({ relay: fc.boolean(), natted: fc.boolean() });

function makeSide(name: 'A' | 'B', shape: SideShape, seed: number, controlling: boolean): Side {
  const n = name === 'A' ? 1 : 2;
  const host: IceCandidate = { type: 'host', address: { host: `10.0.${n}.1`, port: 5000 }, priority: candidatePriority('host') };
  const srflx: IceCandidate | null = shape.natted ? { type: 'srflx', address: { host: `198.51.100.${n}`, port: 6000 }, priority: candidatePriority('srflx') } : null;
  const relay: IceCandidate | null = shape.relay ? { type: 'relay', address: { host: '203.0.113.1', port: 7000 + n }, priority: candidatePriority('relay') } : null;
  const locals = [host, ...(srflx ? [srflx] : []), ...(relay ? [relay] : [])];
  const list = new CheckList({ controlling, locals, random: new SeededRandom(seed) });
  return { name, host, srflx, relay, natted: shape.natted, list, known: new Set(), checkedBy: new Set(), answered: new Set() };
}

function localsOf(side: Side): IceCandidate[] {
  return [side.host, ...(side.srflx ? [side.srflx] : []), ...(side.relay ? [side.relay] : [])];
}

/** Where a check from `local` of `side` comes from, as the other side sees it. */
function apparent(side: Side, local: IceCandidate): Endpoint {
  if (local.type === 'relay') return side.relay!.address;
  return side.natted ? side.srflx!.address : side.host.address;
}

/** The pair in `list` for a local candidate and a remote address. */
function pairOf(list: CheckList, local: IceCandidate, to: Endpoint): CandidatePair | undefined {
  return list.candidatePairs.find((p) => p.local === local && key(p.remote.address) === key(to));
}

function assertBounds(side: Side): void {
  const s = side.list.sizes;
  assert.ok(s.remotes <= MAX_REMOTE_CANDIDATES, `${side.name}: ${s.remotes} remote candidates`);
  assert.ok(s.pairs <= MAX_PAIRS, `${side.name}: ${s.pairs} pairs`);
  assert.ok(s.queued <= MAX_QUEUED_CHECKS, `${side.name}: ${s.queued} queued checks`);
  assert.ok(s.pending <= MAX_PENDING_CHECKS, `${side.name}: ${s.pending} pending checks`);
}

/**
 * Checks what one call of the list returned, given the chosen pair before the call: every check
 * goes to a known address from a local candidate that sends checks; a triggered check answers a
 * check the peer sent; a pair is chosen only after a check on it was answered; while the same
 * pair stays chosen, no new check of the list's own goes to a pair no better than it.
 */
function assertOutputs(side: Side, outputs: readonly CheckListOutput[], before: CandidatePair | null, controlling: boolean): void {
  const after = side.list.selected;
  const steady = before !== null && after === before && !outputs.some((o) => o.kind === 'selected');
  for (const o of outputs) {
    if (o.kind === 'check') {
      assert.ok(side.known.has(key(o.to)), `${side.name} sent a check to ${key(o.to)}, an address it was never told of`);
      assert.ok(o.local.type === 'host' || o.local.type === 'relay', `${side.name} sent a check from a ${o.local.type} candidate`);
      assert.ok(localsOf(side).includes(o.local), `${side.name} sent from a candidate it does not have`);
      if (o.useCandidate || o.purpose === 'nominate') assert.ok(controlling, `${side.name} (controlled) nominated`);
      if (o.purpose === 'triggered' && o.attempt === 1) assert.ok(side.checkedBy.has(`${o.local.type}|${key(o.to)}`), `${side.name}: a triggered check nobody triggered`);
      if (o.purpose === 'ordinary' && o.attempt === 1 && steady) {
        const pair = pairOf(side.list, o.local, o.to);
        assert.ok(pair && pair.priority > before.priority, `${side.name} checked a pair no better than the chosen one after choosing it`);
      }
      if (o.purpose === 'consent') assert.ok(after && after.local === o.local && key(after.remote.address) === key(o.to), `${side.name}: consent off the chosen pair`);
    } else if (o.kind === 'selected') {
      assert.ok(side.answered.has(`${o.path.local.type}|${key(o.path.remote.address)}`), `${side.name} chose ${o.path.local.type}→${key(o.path.remote.address)}, a pair none of its checks got an answer on`);
    }
  }
  assertBounds(side);
}

interface Scenario {
  readonly a: SideShape;
  readonly b: SideShape;
  readonly seed: number;
  /** Chance that a link between two addresses works at all. */
  readonly linkWorks: number;
  readonly lossRate: number;
  /** Packets are lost only before this time; after it the network is quiet. */
  readonly lossUntilMs: number;
  /** Delay before A gets B's answer (B connects at 0). */
  readonly answerDelayMs: number;
  /** All links that do not go through a relay are cut for a while (a direct path dying mid-call). */
  readonly cut: { readonly atMs: number; readonly forMs: number } | null;
}

const QUIET_MS = 12_000;

export function run(scenario: Scenario, trace?: (line: string) => void): { a: Side; b: Side; reachable: (from: Endpoint, to: Endpoint) => boolean } {
  const net = new SeededRandom(scenario.seed ^ 0x5eed);
  const a = makeSide('A', scenario.a, scenario.seed, true);
  const b = makeSide('B', scenario.b, scenario.seed + 1, false);
  const reach = new Map<string, boolean>();
  // A host address behind a NAT is private: nothing from the other side reaches it (and what
  // leaves it arrives from the server-reflexive address).
  const privateAddresses = new Set([a, b].filter((side) => side.natted).map((side) => key(side.host.address)));
  const reachable = (from: Endpoint, to: Endpoint) => {
    if (privateAddresses.has(key(from)) || privateAddresses.has(key(to))) return false;
    const link = [key(from), key(to)].sort().join('|');
    let works = reach.get(link);
    if (works === undefined) reach.set(link, (works = net.float() < scenario.linkWorks));
    return works;
  };
  let nowMs = 0;
  const cutActive = (from: Endpoint, to: Endpoint) => {
    const cut = scenario.cut;
    const relayed = from.host === '203.0.113.1' || to.host === '203.0.113.1';
    return cut !== null && !relayed && nowMs >= cut.atMs && nowMs < cut.atMs + cut.forMs;
  };
  const passes = (from: Endpoint, to: Endpoint) => reachable(from, to) && !cutActive(from, to) && !(nowMs < scenario.lossUntilMs && net.float() < scenario.lossRate);
  const events: { atMs: number; order: number; run: () => void }[] = [];
  let order = 0;
  const later = (delayMs: number, fn: () => void) => events.push({ atMs: nowMs + delayMs, order: order++, run: fn });
  const delay = () => 2 + net.int(30);
  const arrival = (to: Endpoint): { side: Side; via: 'host' | 'relay' } | null => {
    for (const side of [a, b]) {
      if (key(to) === key(side.host.address) || (side.srflx && key(to) === key(side.srflx.address))) return { side, via: 'host' };
      if (side.relay && key(to) === key(side.relay.address)) return { side, via: 'relay' };
    }
    return null;
  };
  const call = (side: Side, work: () => CheckListOutput[]) => {
    const before = side.list.selected;
    const outputs = work();
    if (trace) for (const o of outputs) trace(`${nowMs} ${side.name} ${o.kind === 'check' ? `check ${o.purpose}#${o.attempt} ${o.local.type}->${key(o.to)}${o.useCandidate ? ' USE' : ''}` : o.kind === 'selected' ? `selected ${o.path.local.type}->${key(o.path.remote.address)}` : o.kind}`);
    assertOutputs(side, outputs, before, side === a);
    for (const o of outputs) if (o.kind === 'check') send(side, o);
  };
  const send = (sender: Side, check: Extract<CheckListOutput, { kind: 'check' }>) => {
    const target = arrival(check.to);
    if (!target) return;
    const from = apparent(sender, check.local);
    if (!passes(from, check.to)) return;
    later(delay(), () => {
      const receiver = target.side;
      receiver.known.add(key(from));
      receiver.checkedBy.add(`${target.via}|${key(from)}`);
      call(receiver, () => receiver.list.checkReceived({ via: target.via, from, priority: CHECK_PRIORITY, useCandidate: check.useCandidate }, nowMs));
      // The driver answers every authenticated check; the answer takes the way back.
      if (!passes(check.to, from)) return;
      later(delay(), () => {
        if (!sender.list.awaits(check.transactionId, check.to)) return;
        sender.answered.add(`${check.local.type}|${key(check.to)}`);
        call(sender, () => sender.list.answerReceived({ transactionId: check.transactionId, from: check.to, success: true }, nowMs));
      });
    });
  };
  // Signalling: B gets A's offer at 0 and starts; A gets B's answer a little later.
  for (const c of localsOf(a)) b.known.add(key(c.address));
  for (const c of localsOf(b)) a.known.add(key(c.address));
  call(b, () => b.list.connect(localsOf(a), nowMs));
  later(scenario.answerDelayMs, () => call(a, () => a.list.connect(localsOf(b), nowMs)));
  const endMs = Math.max(scenario.lossUntilMs, scenario.cut ? scenario.cut.atMs + scenario.cut.forMs : 0) + QUIET_MS;
  let steps = 0;
  for (;;) {
    assert.ok(++steps < 200_000, 'the simulation runs away');
    const deadlines = [a.list.deadlineMs(), b.list.deadlineMs()];
    const nextEvent = events.reduce<(typeof events)[number] | null>((first, e) => (!first || e.atMs < first.atMs || (e.atMs === first.atMs && e.order < first.order) ? e : first), null);
    const candidates = [...deadlines.filter((d): d is number => d !== null), ...(nextEvent ? [nextEvent.atMs] : [])];
    if (candidates.length === 0) break;
    const next = Math.max(nowMs, Math.min(...candidates));
    if (next > endMs) break;
    nowMs = next;
    if (nextEvent && nextEvent.atMs <= nowMs) {
      events.splice(events.indexOf(nextEvent), 1);
      nextEvent.run();
      continue;
    }
    for (const side of [a, b]) {
      const d = side.list.deadlineMs();
      if (d !== null && d <= nowMs) call(side, () => side.list.tick(nowMs));
    }
  }
  return { a, b, reachable };
}

/** What B calls A's pair: B's local candidate that `to` reaches, and the address A's checks come from. */
function asSeenByB(a: Side, b: Side, pair: CandidatePair): string {
  const to = key(pair.remote.address);
  const via = b.relay && to === key(b.relay.address) ? 'relay' : 'host';
  return `${via}|${key(apparent(a, pair.local))}`;
}

const scenario = fc.record({
  a: sideShape,
  b: sideShape,
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  linkWorks: fc.double({ min: 0.2, max: 1, noNaN: true }),
  lossRate: fc.double({ min: 0, max: 0.5, noNaN: true }),
  lossUntilMs: fc.integer({ min: 0, max: 20_000 }),
  answerDelayMs: fc.integer({ min: 0, max: 100 }),
  cut: fc.option(fc.record({ atMs: fc.integer({ min: 200, max: 10_000 }), forMs: fc.integer({ min: 500, max: 8_000 }) }), { nil: null }),
});

test('two check lists on a lossy network: bounds hold, checks go only to known addresses, chosen pairs were answered, nothing worse is checked after a choice, and after a quiet spell both sides are on the same pair', () => {
  fc.assert(
    fc.property(scenario, (s) => {
      const { a, b } = run(s);
      const chosenA = a.list.selected;
      const chosenB = b.list.selected;
      if (chosenA) {
        assert.equal(chosenA.state, 'succeeded', 'A is on a pair that works');
        assert.ok(chosenA.nominated, "A's pair is nominated");
        assert.ok(chosenB, 'A chose a pair (B answered its nomination) but B has none');
        assert.equal(`${chosenB.local.type}|${key(chosenB.remote.address)}`, asSeenByB(a, b, chosenA), 'both sides are on the same pair');
      }
    }),
    {
      numRuns: 300,
      examples: [
        // Found by this property: the controlled side's consent checks were lost while the
        // controlling side's were answered; it dropped the pair, and never came back to it.
        [{ a: { relay: false, natted: false }, b: { relay: false, natted: false }, seed: 2035520093, linkWorks: 0.2, lossRate: 0.14340872131288054, lossUntilMs: 12076, answerDelayMs: 0, cut: null }],
        // Found by this property: after a cut healed, a late answer on the relayed pair took the
        // controlled side back to it, away from the direct pair the controlling side had nominated.
        [{ a: { relay: true, natted: false }, b: { relay: false, natted: false }, seed: 1318889514, linkWorks: 0.2194806600455195, lossRate: 0, lossUntilMs: 8178, answerDelayMs: 0, cut: { atMs: 4052, forMs: 4426 } }],
      ],
    },
  );
});

test('on a network where every link works and nothing is lost, both sides choose the best pair, and agree', () => {
  fc.assert(
    fc.property(sideShape, sideShape, fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 100 }), (sa, sb, seed, answerDelayMs) => {
      const { a, b, reachable } = run({ a: sa, b: sb, seed, linkWorks: 1, lossRate: 0, lossUntilMs: 0, answerDelayMs, cut: null });
      const chosenA = a.list.selected;
      assert.ok(chosenA && b.list.selected, 'both sides have a path');
      const best = a.list.candidatePairs.find((p) => reachable(apparent(a, p.local), p.remote.address));
      assert.equal(chosenA, best, 'A chose the highest-priority pair that can work');
      assert.equal(`${b.list.selected.local.type}|${key(b.list.selected.remote.address)}`, asSeenByB(a, b, chosenA));
    }),
    { numRuns: 200 },
  );
});

/** Random, partly hostile input to one check list (controlled or controlling). */
const hostileEvent = fc.oneof(
  fc.record({ kind: fc.constant('check' as const), source: fc.integer({ min: 0, max: 99 }), via: fc.constantFrom('host' as const, 'relay' as const), useCandidate: fc.boolean(), priority: fc.option(fc.nat(), { nil: null }) }),
  fc.record({ kind: fc.constant('answer' as const), pick: fc.nat(), success: fc.boolean(), bogus: fc.boolean() }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
  fc.record({ kind: fc.constant('connect' as const), count: fc.integer({ min: 0, max: 40 }) }),
);

test('one check list under random and hostile input: bounds hold and it checks only addresses it was told of', () => {
  fc.assert(
    fc.property(fc.boolean(), fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.array(hostileEvent, { maxLength: 300 }), (controlling, seed, events) => {
      const side = makeSide('A', { relay: true, natted: true }, seed, controlling);
      const sources = (i: number): Endpoint => ({ host: `192.0.2.${1 + (i % 50)}`, port: 1000 + i });
      const sent: Extract<CheckListOutput, { kind: 'check' }>[] = [];
      let nowMs = 0;
      let connected = false;
      const call = (work: () => CheckListOutput[]) => {
        const before = side.list.selected;
        const outputs = work();
        assertOutputs(side, outputs, before, controlling);
        for (const o of outputs) if (o.kind === 'check') sent.push(o);
        if (sent.length > 2_000) sent.splice(0, 1_000);
      };
      for (const e of events) {
        if (e.kind === 'check') {
          const from = sources(e.source);
          side.known.add(key(from));
          side.checkedBy.add(`${e.via}|${key(from)}`);
          call(() => side.list.checkReceived({ via: e.via, from, priority: e.priority, useCandidate: e.useCandidate }, nowMs));
        } else if (e.kind === 'answer') {
          const check = sent.length > 0 ? sent[e.pick % sent.length]! : null;
          if (!check) continue;
          const transactionId = e.bogus ? new Uint8Array(12).fill(e.pick % 256) : check.transactionId;
          const awaited = side.list.awaits(transactionId, check.to);
          if (awaited && e.success) side.answered.add(`${check.local.type}|${key(check.to)}`);
          call(() => side.list.answerReceived({ transactionId, from: check.to, success: e.success }, nowMs));
        } else if (e.kind === 'advance') {
          nowMs += e.ms;
          // The driver wakes at each deadline on the way.
          for (let d = side.list.deadlineMs(); d !== null && d <= nowMs; d = side.list.deadlineMs()) call(() => side.list.tick(d!));
          call(() => side.list.tick(nowMs));
        } else if (!connected) {
          connected = true;
          const offer: IceCandidate[] = Array.from({ length: e.count }, (_, i) => ({ type: 'host', address: { host: '198.18.0.1', port: 2000 + i }, priority: candidatePriority('host') - i }));
          for (const c of offer) side.known.add(key(c.address));
          call(() => side.list.connect(offer, nowMs));
        }
      }
      const distinct = side.known.size;
      if (distinct > MAX_REMOTE_CANDIDATES) assert.ok(side.list.refused.candidates > 0, 'addresses beyond the bound were refused and counted');
    }),
    { numRuns: 300 },
  );
});

test('pairs only within an address family: a dual-stack side pairs IPv4 with IPv4 and IPv6 with IPv6, also for peer-reflexive addresses', () => {
  const candidate = (type: IceCandidate['type'], host: string, port: number): IceCandidate => ({ type, address: { host, port }, priority: candidatePriority(type) });
  const locals = [candidate('host', '10.0.1.1', 5000), candidate('host', '2001:db8:1::1', 5000), candidate('srflx', '198.51.100.1', 6000), candidate('relay', '203.0.113.1', 7000)];
  const list = new CheckList({ controlling: true, locals, random: new SeededRandom(1) });
  const remotes = [candidate('host', '10.0.2.1', 5000), candidate('host', '2001:db8:2::1', 5000), candidate('relay', '2001:db8:3::1', 7000), candidate('host', '::ffff:10.0.2.9', 5000)];
  const outputs = list.connect(remotes, 0);
  // A check from an IPv6 address the offer did not name: learned, and paired with the IPv6 host candidate only.
  outputs.push(...list.checkReceived({ via: 'host', from: { host: '2001:db8:2::77', port: 5001 }, priority: CHECK_PRIORITY, useCandidate: false }, 1));
  const isV6 = (e: Endpoint) => e.host.includes(':') && !e.host.startsWith('::ffff:');
  const pairs = list.candidatePairs.map((p) => `${p.local.type}:${key(p.local.address)} -> ${p.remote.type}:${key(p.remote.address)}`);
  for (const pair of list.candidatePairs) assert.equal(isV6(pair.local.address), isV6(pair.remote.address), `a pair across families: ${pairs.join(', ')}`);
  assert.deepEqual(
    new Set(pairs),
    new Set([
      'host:10.0.1.1:5000 -> host:10.0.2.1:5000',
      'relay:203.0.113.1:7000 -> host:10.0.2.1:5000',
      'host:2001:db8:1::1:5000 -> host:2001:db8:2::1:5000',
      'host:2001:db8:1::1:5000 -> relay:2001:db8:3::1:7000',
      'host:10.0.1.1:5000 -> host:::ffff:10.0.2.9:5000',
      'relay:203.0.113.1:7000 -> host:::ffff:10.0.2.9:5000',
      'host:2001:db8:1::1:5000 -> prflx:2001:db8:2::77:5001',
    ]),
  );
  for (const output of outputs) if (output.kind === 'check') assert.equal(isV6(output.local.address), isV6(output.to), 'checks go within a family');
});
