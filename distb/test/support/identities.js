import { CertificateVerifier, createNetworkCa, Role } from '../../src/crypto/certificate.js';
import { issueIdentity } from '../../src/crypto/identity.js';
export const TEST_EPOCH_MS = Date.UTC(2026, 0, 1);
export function testNetwork(random) {
    const ca = createNetworkCa(random);
    const verifier = new CertificateVerifier(ca.keyPair.publicKey);
    let serial = 1;
    return {
        ca,
        verifier,
        identity: (username, options = {}) => issueIdentity(ca, random, {
            username,
            role: options.role ?? Role.DEVICE,
            serial: serial++,
            issuedAtMs: options.issuedAtMs ?? TEST_EPOCH_MS - 3_600_000,
            ...(options.lifetimeMs !== undefined ? { lifetimeMs: options.lifetimeMs } : {}),
        }),
        config: (identity, extra = {}) => ({ identity, verifier, ...extra }),
    };
}
//# sourceMappingURL=identities.js.map