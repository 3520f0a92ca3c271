// Reachability attestations: what a checking supernode signs, and every reason one is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SeededRandom } from '../../src/env/prng.js';
import { Role } from '../../src/crypto/certificate.js';
import { ATTESTATION_MAX_AGE_MS, createAttestation, verifyAttestation } from '../../src/overlay/reachability.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';
import { testSeed } from '../support/seed.js';
const NOW = TEST_EPOCH_MS;
function setup() {
    const net = testNetwork(new SeededRandom(testSeed()));
    const checker = net.identity('', { role: Role.SUPERNODE });
    const subject = net.identity('alice');
    const facts = (extra = {}) => ({ subjectDhKey: subject.dh.publicKey, host: '20.0.0.9', port: 40000, uploadKbps: 4321.7, checkedAtMs: NOW, ...extra });
    return { net, checker, subject, facts };
}
test('an attestation says who was reached where, how fast, and by which supernode', () => {
    const { net, checker, subject, facts } = setup();
    const verified = verifyAttestation(createAttestation(checker, net.ca.networkId, facts()), net.verifier, NOW + 1000);
    assert.ok(verified.ok);
    assert.deepEqual(verified.value.subjectDhKey, subject.dh.publicKey);
    assert.equal(verified.value.host, '20.0.0.9');
    assert.equal(verified.value.port, 40000);
    assert.equal(verified.value.uploadKbps, 4321);
    assert.deepEqual(verified.value.checker.dhKey, checker.dh.publicKey);
});
test('bad attestations are refused, each with its reason', () => {
    const { net, checker, subject, facts } = setup();
    const other = testNetwork(new SeededRandom(testSeed() + 1));
    const foreignChecker = other.identity('', { role: Role.SUPERNODE });
    const good = createAttestation(checker, net.ca.networkId, facts());
    const flipped = good.slice();
    flipped[flipped.length - 5] ^= 1;
    const cases = [
        ['a device as checker', createAttestation(subject, net.ca.networkId, facts({ subjectDhKey: checker.dh.publicKey })), 'bad_checker'],
        ['a supernode vouching for itself', createAttestation(checker, net.ca.networkId, facts({ subjectDhKey: checker.dh.publicKey })), 'bad_checker'],
        ['a checker of another network', createAttestation(foreignChecker, net.ca.networkId, facts()), 'bad_checker'],
        ['another network', createAttestation(checker, other.ca.networkId, facts()), 'wrong_network'],
        ['a flipped signature bit', flipped, 'bad_signature'],
        ['too old', createAttestation(checker, net.ca.networkId, facts({ checkedAtMs: NOW - ATTESTATION_MAX_AGE_MS - 1 })), 'stale'],
        ['from the future', createAttestation(checker, net.ca.networkId, facts({ checkedAtMs: NOW + 10 * 60_000 })), 'not_yet_valid'],
        ['port 0', createAttestation(checker, net.ca.networkId, facts({ port: 0 })), 'malformed'],
        ['a short key', createAttestation(checker, net.ca.networkId, facts({ subjectDhKey: new Uint8Array(5) })), 'malformed'],
        ['oversized', new Uint8Array(4096), 'oversized'],
        ['garbage', new Uint8Array([0xff, 0xff, 0xff]), 'malformed'],
    ];
    for (const [name, bytes, code] of cases) {
        const verified = verifyAttestation(bytes, net.verifier, NOW);
        assert.equal(verified.ok ? 'accepted' : verified.error.code, code, name);
    }
});
test('fuzz: the attestation verifier returns a typed result for random and mutated input', () => {
    const { net, checker, facts } = setup();
    const valid = createAttestation(checker, net.ca.networkId, facts());
    const mutated = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, value]) => {
        const copy = valid.slice();
        copy[at % copy.length] = value;
        return copy;
    });
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 3000 }), mutated), (bytes) => typeof verifyAttestation(bytes, net.verifier, NOW).ok === 'boolean'), { numRuns: 400 });
});
//# sourceMappingURL=reachability.test.js.map