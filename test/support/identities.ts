// A network CA and certified identities for tests.
import type { Random } from '../../src/env/types.js';
import { CertificateVerifier, createNetworkCa, Role, type NetworkCa } from '../../src/crypto/certificate.js';
import { issueIdentity, type NodeIdentity } from '../../src/crypto/identity.js';
import type { LinkConfig } from '../../src/crypto/secure-link.js';

export const TEST_EPOCH_MS = Date.UTC(2026, 0, 1);

export interface TestNetwork {
  readonly ca: NetworkCa;
  readonly verifier: CertificateVerifier;
  identity(username: string, options?: { issuedAtMs?: number; lifetimeMs?: number; role?: Role }): NodeIdentity;
  config(identity: NodeIdentity, extra?: Partial<LinkConfig>): LinkConfig;
}

export function testNetwork(random: Random): TestNetwork {
  const ca = createNetworkCa(random);
  const verifier = new CertificateVerifier(ca.keyPair.publicKey);
  let serial = 1;
  return {
    ca,
    verifier,
    identity: (username, options = {}) =>
      issueIdentity(ca, random, {
        username,
        role: options.role ?? Role.DEVICE,
        serial: serial++,
        issuedAtMs: options.issuedAtMs ?? TEST_EPOCH_MS - 3_600_000,
        ...(options.lifetimeMs !== undefined ? { lifetimeMs: options.lifetimeMs } : {}),
      }),
    config: (identity, extra = {}) => ({ identity, verifier, ...extra }),
  };
}
