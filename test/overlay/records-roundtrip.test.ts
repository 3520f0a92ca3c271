// decode(encode(x)) is x for the signed records of the overlay: presence records (created, then
// verified) and reachability attestations (created by a supernode, then verified).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SeededRandom } from '../../src/env/prng.js';
import { Role } from '../../src/crypto/certificate.js';
import { MAX_CANDIDATES_PER_RECORD, MAX_PRESENCE_BYTES, MAX_SUPERNODES_PER_RECORD, createPresenceRecord, verifyPresenceRecord } from '../../src/overlay/presence.js';
import { createAttestation, verifyAttestation } from '../../src/overlay/reachability.js';
import { CandidateType, NatType, TransportProtocol } from '../../src/wire/messages.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';
import { testSeed } from '../support/seed.js';

const port = fc.integer({ min: 1, max: 65535 });
const host = fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain());
const enumValue = <T extends Record<string, number | string>>(e: T) => fc.constantFrom(...Object.values(e).filter((v): v is number => typeof v === 'number'));

test('a presence record verifies to what it was created with', () => {
  const net = testNetwork(new SeededRandom(testSeed()));
  const alice = net.identity('alice');
  const inputs = fc.record({
    supernodes: fc.array(fc.record({ host, port, dhKey: fc.uint8Array({ minLength: 32, maxLength: 32 }) }, { noNullPrototype: true }), { maxLength: MAX_SUPERNODES_PER_RECORD }),
    candidates: fc.array(fc.record({ type: enumValue(CandidateType), protocol: enumValue(TransportProtocol), host, port, priority: fc.nat({ max: 0xffffffff }) }, { noNullPrototype: true }), { maxLength: MAX_CANDIDATES_PER_RECORD }),
    sequence: fc.nat(),
    issuedAtMs: fc.integer({ min: TEST_EPOCH_MS - 60_000, max: TEST_EPOCH_MS }),
    ttlMs: fc.integer({ min: 60_001, max: 3_600_000 }),
    natType: enumValue(NatType),
  });
  fc.assert(
    fc.property(inputs, (input) => {
      const encoded = createPresenceRecord(alice, net.ca.networkId, 'alice', input);
      fc.pre(encoded.byteLength <= MAX_PRESENCE_BYTES);
      const verified = verifyPresenceRecord(encoded, net.verifier, TEST_EPOCH_MS, 'alice');
      assert.ok(verified.ok, verified.ok ? '' : verified.error.message);
      const v = verified.value;
      assert.deepEqual(
        { username: v.username, sequence: v.sequence, issuedAtMs: v.issuedAtMs, expiresAtMs: v.expiresAtMs, natType: v.natType, encoded: v.encoded, dhKey: v.device.dhKey },
        { username: 'alice', sequence: input.sequence, issuedAtMs: input.issuedAtMs, expiresAtMs: input.issuedAtMs + input.ttlMs, natType: input.natType, encoded, dhKey: alice.dh.publicKey },
      );
      assert.deepEqual(
        v.supernodes.map((s) => ({ host: s.host, port: s.port, dhKey: s.dhKey })),
        input.supernodes,
      );
      assert.deepEqual(
        v.candidates.map((c) => ({ type: c.type, protocol: c.protocol, host: c.host, port: c.port, priority: c.priority })),
        input.candidates,
      );
    }),
    { numRuns: 100 },
  );
});

test('a reachability attestation verifies to the facts it was created with, naming its checker', () => {
  const net = testNetwork(new SeededRandom(testSeed()));
  const checker = net.identity('', { role: Role.SUPERNODE });
  const facts = fc.record({
    subjectDhKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    host: host.filter((h) => h.length <= 255),
    port,
    uploadKbps: fc.double({ min: 0, max: 1e6, noNaN: true }),
    checkedAtMs: fc.integer({ min: TEST_EPOCH_MS - 60_000, max: TEST_EPOCH_MS }),
  }, { noNullPrototype: true });
  fc.assert(
    fc.property(facts, (input) => {
      const verified = verifyAttestation(createAttestation(checker, net.ca.networkId, input), net.verifier, TEST_EPOCH_MS);
      assert.ok(verified.ok, verified.ok ? '' : verified.error.message);
      const { checker: by, ...rest } = verified.value;
      // The wire holds whole kbit/s.
      assert.deepEqual({ ...rest, subjectDhKey: Uint8Array.from(rest.subjectDhKey) }, { ...input, uploadKbps: Math.floor(input.uploadKbps) });
      assert.deepEqual(by.dhKey, checker.dh.publicKey);
    }),
    { numRuns: 100 },
  );
});
