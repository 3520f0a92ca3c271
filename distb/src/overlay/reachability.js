// Reachability attestations: a supernode's signed statement that it connected back to a node's
// Noise key at an address and measured its upload rate. A client is promoted to supernode only
// against such a statement from another supernode, never on its own word; the login server
// checks it before issuing a supernode certificate for the client's keys.
import { create, toBinary } from '@bufbuild/protobuf';
import { err, ok } from '../result.js';
import { concatBytes, equalBytes } from '../crypto/bytes.js';
import { Role } from '../crypto/certificate.js';
import { signBytes, verifySignature } from '../crypto/ed25519.js';
import { ReachabilityAttestationSchema, ReachabilityBodySchema, ReachabilityCheckSchema, decodeProto } from '../wire/messages.js';
export const REACHABILITY_VERSION = 1;
const SIGNATURE_CONTEXT = new TextEncoder().encode('parley-reachability-v1\0');
export const MAX_ATTESTATION_BYTES = 2048;
/** An attestation is evidence of now, not forever: it must be used within this. */
export const ATTESTATION_MAX_AGE_MS = 5 * 60_000;
const CLOCK_SKEW_MS = 60_000;
/** Signs what `checker` (a certified supernode) saw. */
export function createAttestation(checker, networkId, facts) {
    const body = toBinary(ReachabilityBodySchema, create(ReachabilityBodySchema, {
        version: REACHABILITY_VERSION,
        networkId,
        subjectDhKey: facts.subjectDhKey,
        host: facts.host,
        port: facts.port,
        uploadKbps: Math.min(0xffffffff, Math.floor(facts.uploadKbps)),
        checkedAtMs: BigInt(Math.floor(facts.checkedAtMs)),
        checkerCertificate: checker.certificate,
    }));
    const signature = signBytes(checker.signing, concatBytes(SIGNATURE_CONTEXT, body));
    return toBinary(ReachabilityAttestationSchema, create(ReachabilityAttestationSchema, { body, signature }));
}
function refuse(code, message) {
    return err({ code, message });
}
/** Checks format, network, the checker's certificate (a supernode of this network), its signature, and freshness. */
export function verifyAttestation(encoded, verifier, nowMs) {
    if (encoded.byteLength > MAX_ATTESTATION_BYTES)
        return refuse('oversized', `attestation of ${encoded.byteLength} bytes exceeds ${MAX_ATTESTATION_BYTES}`);
    const outer = decodeProto(ReachabilityAttestationSchema, encoded, MAX_ATTESTATION_BYTES);
    if (!outer.ok)
        return refuse('malformed', outer.error.message);
    const decoded = decodeProto(ReachabilityBodySchema, outer.value.body, MAX_ATTESTATION_BYTES);
    if (!decoded.ok)
        return refuse('malformed', decoded.error.message);
    const body = decoded.value;
    if (body.version !== REACHABILITY_VERSION)
        return refuse('unsupported_version', `attestation version ${body.version}`);
    if (!equalBytes(body.networkId, verifier.networkId))
        return refuse('wrong_network', 'the attestation belongs to another network');
    if (body.subjectDhKey.byteLength !== 32 || body.port < 1 || body.port > 65535 || body.host.length === 0 || body.host.length > 255) {
        return refuse('malformed', 'subject key, host or port out of range');
    }
    const checker = verifier.verify(body.checkerCertificate, nowMs);
    if (!checker.ok)
        return refuse('bad_checker', `checker certificate: ${checker.error.code}: ${checker.error.message}`);
    if (checker.value.role !== Role.SUPERNODE)
        return refuse('bad_checker', 'only a supernode can attest reachability');
    if (equalBytes(checker.value.dhKey, body.subjectDhKey))
        return refuse('bad_checker', 'a node cannot attest its own reachability');
    if (!verifySignature(checker.value.signingKey, concatBytes(SIGNATURE_CONTEXT, outer.value.body), outer.value.signature)) {
        return refuse('bad_signature', 'the attestation is not signed by its checker');
    }
    const checkedAtMs = Number(body.checkedAtMs);
    if (checkedAtMs > nowMs + CLOCK_SKEW_MS)
        return refuse('not_yet_valid', 'the attestation is from the future');
    if (nowMs - checkedAtMs > ATTESTATION_MAX_AGE_MS)
        return refuse('stale', `the check is older than ${ATTESTATION_MAX_AGE_MS / 60_000} minutes`);
    return ok({ subjectDhKey: body.subjectDhKey, host: body.host, port: body.port, uploadKbps: body.uploadKbps, checkedAtMs, checker: checker.value });
}
/** How long a node waits for a dial-back with its upload probe to be done. */
export const REACHABILITY_CHECK_TIMEOUT_MS = 15_000;
/** Asks the supernode at the other end of `rpc` to dial back `port` (at the address it sees us at). */
export async function requestReachabilityCheck(rpc, port, timeoutMs = REACHABILITY_CHECK_TIMEOUT_MS) {
    const answer = await rpc.request((requestId) => ({ case: 'reachabilityCheck', value: create(ReachabilityCheckSchema, { requestId, port }) }), timeoutMs);
    if (answer.body.case !== 'reachabilityResult')
        return { reachable: false, detail: 'the supernode answered something else' };
    const result = answer.body.value;
    return result.reachable ? { reachable: true, attestation: result.attestation } : { reachable: false, detail: result.detail || 'not reachable' };
}
//# sourceMappingURL=reachability.js.map