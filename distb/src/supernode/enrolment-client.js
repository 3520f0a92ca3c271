import { fromBase64Url, toBase64Url } from '../crypto/bytes.js';
import { parseBootstrapEntries } from '../crypto/descriptor.js';
import { signBytes } from '../crypto/ed25519.js';
import { enrolmentProofMessage, renewalMessage } from '../crypto/enrolment.js';
/** Checks what the login server answered: a bad answer is an error here, not a crash later. */
function toGrant(answer) {
    const certificate = typeof answer.certificate === 'string' ? fromBase64Url(answer.certificate) : null;
    const bootstrap = parseBootstrapEntries(answer.bootstrap);
    if (!certificate || typeof answer.certificateExpiresAtMs !== 'number' || !bootstrap.ok)
        throw new Error('the login server answered the supernode request with something unexpected');
    return {
        id: Number(answer.id),
        label: String(answer.label),
        certificate,
        certificateExpiresAtMs: answer.certificateExpiresAtMs,
        bootstrap: bootstrap.value.filter((b) => b.dhKey !== undefined),
    };
}
function addressFields(address) {
    return { host: address.host, port: address.port, ...(address.webPort !== null ? { webPort: address.webPort } : {}) };
}
export async function enrolSupernode(client, networkId, keys, token, address) {
    const proof = signBytes(keys.signing, enrolmentProofMessage(networkId, token, keys.dh.publicKey, address));
    const answer = await client.request('POST', '/v1/supernodes/enrol', {
        token,
        signingKey: toBase64Url(keys.signing.publicKey),
        dhKey: toBase64Url(keys.dh.publicKey),
        ...addressFields(address),
        proof: toBase64Url(proof),
    });
    return toGrant(answer);
}
export async function renewSupernode(client, networkId, keys, address, nowMs) {
    const timeMs = Math.floor(nowMs);
    const signature = signBytes(keys.signing, renewalMessage(networkId, keys.dh.publicKey, address, timeMs));
    const answer = await client.request('POST', '/v1/supernodes/renew', {
        signingKey: toBase64Url(keys.signing.publicKey),
        ...addressFields(address),
        timeMs,
        signature: toBase64Url(signature),
    });
    return toGrant(answer);
}
//# sourceMappingURL=enrolment-client.js.map