// decode(encode(x)) is x for what the crypto layer puts on the wire or on disk: certificates
// (issued, then verified), network descriptors (serialized, then parsed) and sealed datagrams
// (sealed, then opened in any order within the replay window).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SeededRandom } from '../../src/env/prng.js';
import { CertificateVerifier, Role, createNetworkCa, issueCertificate } from '../../src/crypto/certificate.js';
import { parseNetworkDescriptor, serializeNetworkDescriptor, type NetworkDescriptor } from '../../src/crypto/descriptor.js';
import { DatagramOpener, DatagramSealer } from '../../src/crypto/datagram-cipher.js';
import { networkIdOf } from '../../src/crypto/certificate.js';
import { TEST_EPOCH_MS } from '../support/identities.js';
import { testSeed } from '../support/seed.js';

const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

test('an issued certificate verifies to the fields it was issued with', () => {
  const ca = createNetworkCa(new SeededRandom(testSeed()));
  const verifier = new CertificateVerifier(ca.keyPair.publicKey, 0);
  const requests = fc.record({
    username: fc.string({ unit: 'binary', maxLength: 64 }).filter((name) => name.length <= 64),
    role: fc.constantFrom(Role.DEVICE, Role.SUPERNODE),
    signingKey: key32,
    dhKey: key32,
    serial: fc.nat(),
    issuedAtMs: fc.integer({ min: TEST_EPOCH_MS - 1e10, max: TEST_EPOCH_MS }),
    lifetimeMs: fc.integer({ min: 1, max: 1e10 }),
  });
  fc.assert(
    fc.property(requests, (request) => {
      const encoded = issueCertificate(ca, request);
      const verified = verifier.verify(encoded, request.issuedAtMs);
      assert.ok(verified.ok, verified.ok ? '' : verified.error.message);
      const { lifetimeMs, ...fields } = request;
      assert.deepEqual({ ...verified.value }, { ...fields, expiresAtMs: request.issuedAtMs + lifetimeMs, encoded });
    }),
    { numRuns: 30 },
  );
});

test('a network descriptor parses back to what was serialized', () => {
  const hosts = fc.oneof(fc.ipV4(), fc.domain());
  const port = fc.integer({ min: 1, max: 65535 });
  const descriptors = fc.record(
    {
      name: fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }).filter((name) => name.length >= 1 && name.length <= 64),
      caPublicKey: key32,
      loginServerUrl: fc.webUrl({ validSchemes: ['https', 'http'] }),
      loginServerCertSha256: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')),
      loginServerCertificate: fc.base64String({ minLength: 4, maxLength: 200 }).map((b64) => `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`),
      bootstrap: fc.array(fc.record({ host: hosts, port, dhKey: key32, webPort: port }, { requiredKeys: ['host', 'port'] }), { maxLength: 8 }),
    },
    { requiredKeys: ['name', 'caPublicKey', 'loginServerUrl', 'bootstrap'] },
  );
  fc.assert(
    fc.property(descriptors, (descriptor) => {
      const parsed = parseNetworkDescriptor(serializeNetworkDescriptor(descriptor as Omit<NetworkDescriptor, 'networkId' | 'version'>));
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.error.message);
      assert.deepEqual(
        { ...parsed.value, bootstrap: parsed.value.bootstrap.map((e) => ({ ...e })) },
        { ...descriptor, bootstrap: descriptor.bootstrap.map((e) => ({ ...e })), version: 1, networkId: networkIdOf(descriptor.caPublicKey) },
      );
    }),
    { numRuns: 200 },
  );
});

test('sealed datagrams open to their plaintext in any order within the replay window, with either cipher', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('ChaChaPoly' as const, 'AESGCM' as const),
      key32,
      fc.array(fc.tuple(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 16 })), { minLength: 1, maxLength: 20 }),
      fc.infiniteStream(fc.nat()),
      (cipher, key, sent, picks) => {
        const sealer = new DatagramSealer(cipher, key);
        const opener = new DatagramOpener(cipher, key);
        const sealed = sent.map(([plaintext, ad]) => ({ datagram: sealer.seal(plaintext, ad), plaintext, ad }));
        // Shuffled: datagrams are reordered on the way (20 is far inside the window).
        const pick = picks[Symbol.iterator]();
        for (let i = sealed.length - 1; i > 0; i--) {
          const j = pick.next().value % (i + 1);
          [sealed[i], sealed[j]] = [sealed[j]!, sealed[i]!];
        }
        for (const { datagram, plaintext, ad } of sealed) {
          const opened = opener.open(datagram, ad);
          assert.ok(opened.ok, opened.ok ? '' : opened.error.message);
          assert.deepEqual(Uint8Array.from(opened.value), plaintext);
        }
      },
    ),
    { numRuns: 100 },
  );
});
