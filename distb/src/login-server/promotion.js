// Promotion to supernode, the login server's part: a device that another supernode dialled
// back (a signed, fresh reachability attestation naming this device's Noise key) gets a
// supernode certificate for the same keys, carrying its user's name so the network knows whose
// machine serves it. Kept apart from HTTP so the same check runs wherever the CA is held.
import { equalBytes } from '../crypto/bytes.js';
import { CertificateVerifier, issueCertificate, Role } from '../crypto/certificate.js';
import { err, ok } from '../result.js';
import { verifyAttestation } from '../overlay/reachability.js';
export function supernodeCertificateFor(ca, device, attestation, issue) {
    const verified = verifyAttestation(attestation, new CertificateVerifier(ca.keyPair.publicKey), issue.nowMs);
    if (!verified.ok)
        return verified;
    if (!equalBytes(verified.value.subjectDhKey, device.dhKey))
        return err({ code: 'not_your_key', message: 'the attestation is for another device\'s key' });
    return ok(issueCertificate(ca, {
        username: device.username,
        role: Role.SUPERNODE,
        signingKey: device.signingKey,
        dhKey: device.dhKey,
        serial: issue.serial,
        issuedAtMs: issue.nowMs,
        lifetimeMs: issue.lifetimeMs,
    }));
}
//# sourceMappingURL=promotion.js.map