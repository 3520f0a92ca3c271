import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { create, toBinary } from '@bufbuild/protobuf';
import { SeededRandom } from '../../src/env/prng.js';
import { Role } from '../../src/crypto/certificate.js';
import { createPresenceRecord, recordsForAnswer, verifyPresenceRecord, MAX_PRESENCE_TTL_MS } from '../../src/overlay/presence.js';
import { CandidateType, FoundPresenceSchema, MAX_ENVELOPE_BYTES, PresenceRecordSchema, TransportProtocol, decodeProto, encodeEnvelope } from '../../src/wire/messages.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';
import { testSeed } from '../support/seed.js';
const NOW = TEST_EPOCH_MS;
const sn = { host: '20.0.0.1', port: 33033, dhKey: new Uint8Array(32).fill(3) };
const candidate = { type: CandidateType.SERVER_REFLEXIVE, protocol: TransportProtocol.UDP, host: '20.0.0.9', port: 5000, priority: 100 };
function setup() {
    const random = new SeededRandom(testSeed());
    const net = testNetwork(random);
    const alice = net.identity('alice');
    const record = (overrides = {}) => createPresenceRecord(overrides.identity ?? alice, overrides.networkId ?? net.ca.networkId, overrides.username ?? 'alice', {
        supernodes: [sn],
        candidates: [candidate],
        sequence: 7,
        issuedAtMs: NOW,
        ...overrides,
    });
    return { random, net, alice, record };
}
test('a record signed by a certified device verifies and says where the device is', () => {
    const { net, record, alice } = setup();
    const verified = verifyPresenceRecord(record(), net.verifier, NOW + 1000, 'alice');
    assert.ok(verified.ok);
    assert.equal(verified.value.username, 'alice');
    assert.equal(verified.value.sequence, 7);
    assert.deepEqual(verified.value.device.dhKey, alice.dh.publicKey);
    assert.equal(verified.value.supernodes[0]?.port, 33033);
    assert.equal(verified.value.candidates[0]?.host, '20.0.0.9');
});
test('bad records are refused, each with its reason', () => {
    const { net, record, random } = setup();
    const other = testNetwork(random);
    const bob = net.identity('bob');
    const forged = (() => {
        const decoded = decodeProto(PresenceRecordSchema, record(), 4096);
        assert.ok(decoded.ok);
        const signature = decoded.value.signature.slice();
        signature[0] ^= 1;
        return toBinary(PresenceRecordSchema, create(PresenceRecordSchema, { body: decoded.value.body, signature }));
    })();
    const cases = [
        ['forged signature', forged, 'bad_signature'],
        ["bob's certificate in a record for alice", record({ identity: bob }), 'wrong_user'],
        ['offered under another name', record(), 'wrong_user', NOW, 'bob'],
        ['expired', record({ ttlMs: 60_000 }), 'expired', NOW + 60_000],
        ['from the future', record({ issuedAtMs: NOW + 3_600_000 }), 'not_yet_valid'],
        ['too long-lived', record({ ttlMs: MAX_PRESENCE_TTL_MS + 1 }), 'too_long_lived'],
        ['another network', createPresenceRecord(other.identity('alice'), other.ca.networkId, 'alice', { supernodes: [], candidates: [], sequence: 1, issuedAtMs: NOW }), 'wrong_network'],
        ['expired certificate', record({ identity: net.identity('alice', { issuedAtMs: NOW - 48 * 3_600_000 }) }), 'bad_certificate'],
        ['a supernode certificate', record({ identity: net.identity('alice', { role: Role.SUPERNODE }) }), 'not_a_device'],
        ['too many candidates', record({ candidates: Array.from({ length: 17 }, () => candidate) }), 'too_many_entries'],
        ['oversized', new Uint8Array(5000), 'oversized'],
        ['garbage', Uint8Array.of(0x0a, 0xff, 0xff), 'malformed'],
    ];
    for (const [name, bytes, code, at, expected] of cases) {
        const result = verifyPresenceRecord(bytes, net.verifier, at ?? NOW, expected);
        assert.ok(!result.ok, name);
        assert.equal(result.error.code, code, name);
    }
});
test('fuzz: the presence verifier returns a typed result for random and mutated records', () => {
    const { net, record } = setup();
    const valid = record();
    const mutated = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, value]) => {
        const copy = valid.slice();
        copy[at % copy.length] = value;
        return copy;
    });
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 5000 }), mutated), (bytes) => typeof verifyPresenceRecord(bytes, net.verifier, NOW).ok === 'boolean'), { numRuns: 400 });
});
test('an answer with all of a user\'s largest records still fits in one frame (newest records kept)', () => {
    const { net } = setup();
    // 16 candidates with long host names, the first padded so each record is exactly the
    // 4 KiB a supernode accepts.
    const sized = (identity, i, pad) => createPresenceRecord(identity, net.ca.networkId, 'alice', {
        supernodes: [sn],
        candidates: Array.from({ length: 16 }, (_, k) => ({ ...candidate, host: 'h'.repeat(200 + (k === 0 ? pad : 0)) })),
        sequence: i,
        issuedAtMs: NOW + i,
    });
    const records = Array.from({ length: 16 }, (_, i) => {
        const identity = net.identity('alice');
        const bytes = sized(identity, i, 4096 - sized(identity, i, 0).byteLength);
        assert.equal(bytes.byteLength, 4096);
        const verified = verifyPresenceRecord(bytes, net.verifier, NOW + 100, 'alice');
        assert.ok(verified.ok, verified.ok ? '' : verified.error.code);
        return verified.value;
    });
    const everything = encodeEnvelope({ case: 'foundPresence', value: create(FoundPresenceSchema, { requestId: 1n, records: records.map((r) => r.encoded) }) });
    assert.ok(everything.byteLength > MAX_ENVELOPE_BYTES, `all 16 records make ${everything.byteLength} bytes: more than a frame holds`);
    const chosen = recordsForAnswer(records);
    const answer = encodeEnvelope({ case: 'foundPresence', value: create(FoundPresenceSchema, { requestId: 1n, records: chosen }) });
    assert.ok(answer.byteLength <= MAX_ENVELOPE_BYTES);
    assert.ok(chosen.length >= 8 && chosen.length < 16);
    assert.deepEqual(chosen[0], records[15].encoded, 'the newest record comes first');
});
//# sourceMappingURL=presence.test.js.map