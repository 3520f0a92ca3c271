// The group decoders and checks, fed random and mutated input (from valid encodings, so the
// fuzzer reaches the checks behind the first byte): a delivery, an op, a welcome, a leave, and a
// stored session's JSON each give a typed result (or null) and never throw; nothing mutated
// opens as a message or applies as a change unless it is byte-for-byte the valid one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { create, toBinary } from '@bufbuild/protobuf';
import { SeededRandom } from '../../src/env/prng.js';
import { equalBytes } from '../../src/crypto/bytes.js';
import { GroupContentSchema, GroupDeliverySchema, GroupLeaveSchema, GroupOpSchema, GroupTextSchema, GroupWelcomeSchema, decodeProto } from '../../src/wire/messages.js';
import { GroupSession } from '../../src/groups/group-session.js';
import { applyLeave, applyOp, createGroup, makeLeave, makeWelcome, openWelcome, signOp, type GroupState } from '../../src/groups/membership.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';

const RUNS = { numRuns: 300 };
const random = new SeededRandom(4242);
const net = testNetwork(random);
const alice = net.identity('alice');
const bob = net.identity('bob');
const NOW = TEST_EPOCH_MS;

function unwrap<T>(r: { ok: true; value: T } | { ok: false; error: { code: string; message: string } }): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

function mutated(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  const edit = fc.record({ kind: fc.constantFrom('set', 'insert', 'delete', 'cut'), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) });
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
    let bytes = Array.from(valid);
    for (const e of edits) {
      const at = bytes.length === 0 ? 0 : e.at % bytes.length;
      if (e.kind === 'set' && bytes.length > 0) bytes[at] = e.value;
      else if (e.kind === 'insert') bytes.splice(at, 0, e.value);
      else if (e.kind === 'delete') bytes.splice(at, 1);
      else bytes = bytes.slice(0, at);
    }
    return Uint8Array.from(bytes);
  });
}
const bytesFor = (valid: Uint8Array) => fc.oneof(fc.uint8Array({ maxLength: 1024 }), mutated(valid));

let admin: GroupState = unwrap(createGroup(alice, 'alice', random.bytes(16), 'fuzz'));
const added = unwrap(signOp(alice, admin, { kind: 'add', user: 'bob' }, NOW));
admin = added.state;
const welcomeBytes = toBinary(GroupWelcomeSchema, makeWelcome(alice, admin, NOW));
const nextOp = unwrap(signOp(alice, admin, { kind: 'rename', name: 'fuzzed' }, NOW)).op;
const opBytes = toBinary(GroupOpSchema, nextOp);
const leaveBytes = toBinary(GroupLeaveSchema, makeLeave(bob, 'bob', admin.groupId, NOW));
const bobState = unwrap(openWelcome(net.verifier, makeWelcome(alice, admin, NOW), 'bob', NOW));
const content = create(GroupContentSchema, { body: { case: 'text', value: create(GroupTextSchema, { id: 'x1', text: 'hello', sentAtMs: 1n }) } });

test('fuzz: a group delivery of any bytes is refused with a reason or opens only as sent', () => {
  const sender = new GroupSession(admin, { user: 'alice', device: alice.dh.publicKey });
  const valid = toBinary(GroupDeliverySchema, sender.seal(random, content).deliveryFor('bob', bob.dh.publicKey, false).delivery);
  fc.assert(
    fc.property(bytesFor(valid), (bytes) => {
      const decoded = decodeProto(GroupDeliverySchema, bytes, 16 * 1024);
      if (!decoded.ok) return true;
      const receiver = new GroupSession(bobState, { user: 'bob', device: bob.dh.publicKey });
      const result = receiver.receive({ user: 'alice', device: alice.dh.publicKey }, decoded.value, NOW);
      assert.equal(typeof result.ok, 'boolean');
      // Whatever opened is what alice sealed (a mutation of fields nobody signs may still open it).
      if (result.ok) for (const d of result.value) assert.equal(d.content.body.case === 'text' && d.content.body.value.text, 'hello');
      return true;
    }),
    RUNS,
  );
});

test('fuzz: an op, a welcome and a leave of any bytes give a typed result; only the valid one applies', () => {
  fc.assert(
    fc.property(bytesFor(opBytes), (bytes) => {
      const op = decodeProto(GroupOpSchema, bytes, 4096);
      if (!op.ok) return true;
      const result = applyOp(bobState, op.value);
      if (result.ok) assert.ok(equalBytes(op.value.body, nextOp.body), 'only the admin\'s own op applies');
      return true;
    }),
    RUNS,
  );
  fc.assert(
    fc.property(bytesFor(welcomeBytes), (bytes) => {
      const welcome = decodeProto(GroupWelcomeSchema, bytes, 16 * 1024);
      if (!welcome.ok) return true;
      const result = openWelcome(net.verifier, welcome.value, 'bob', NOW);
      if (result.ok) assert.deepEqual(result.value.members, admin.members);
      return true;
    }),
    RUNS,
  );
  fc.assert(
    fc.property(bytesFor(leaveBytes), (bytes) => {
      const leave = decodeProto(GroupLeaveSchema, bytes, 4096);
      if (!leave.ok) return true;
      const result = applyLeave(net.verifier, admin, leave.value, NOW);
      if (result.ok) assert.deepEqual(result.value.left, ['bob']);
      return true;
    }),
    RUNS,
  );
});

test('fuzz: a stored session of any shape loads or is refused, never throws', () => {
  const session = new GroupSession(admin, { user: 'alice', device: alice.dh.publicKey });
  session.seal(random, content);
  const valid = session.toJSON();
  assert.ok(GroupSession.fromJSON(JSON.parse(JSON.stringify(valid)), { user: 'alice', device: alice.dh.publicKey }));
  const text = JSON.stringify(valid);
  fc.assert(
    fc.property(fc.oneof(fc.json(), mutated(new TextEncoder().encode(text)).map((b) => new TextDecoder().decode(b))), (json) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(json);
      } catch {
        return true;
      }
      if (parsed === null || typeof parsed !== 'object') return true;
      const loaded = GroupSession.fromJSON(parsed as never, { user: 'alice', device: alice.dh.publicKey });
      assert.ok(loaded === null || loaded instanceof GroupSession);
      return true;
    }),
    RUNS,
  );
});
