import { err, ok } from '../result.js';
import { Role, decodeCertificate, decodeCertificateBody, encodeCertificate, encodeCertificateBody, } from '../wire/messages.js';
import { concatBytes, equalBytes } from './bytes.js';
import { generateSigningKeyPair, publicKeyObject, signBytes, verifySignature } from './ed25519.js';
import { sha256 } from './noise/symmetric-state.js';
export { Role };
export const CERTIFICATE_VERSION = 1;
const SIGNATURE_CONTEXT = new TextEncoder().encode('parley-certificate-v1\0');
/** Clocks of two honest machines differ; a certificate is accepted this much early or late. */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60_000;
export const DEFAULT_CERTIFICATE_LIFETIME_MS = 24 * 3_600_000;
/** A network is named by the hash of its CA key: two networks never share an id by accident. */
export function networkIdOf(caPublicKey) {
    return sha256(caPublicKey);
}
export function networkCaFromKeyPair(keyPair) {
    return { keyPair, networkId: networkIdOf(keyPair.publicKey) };
}
export function createNetworkCa(random) {
    return networkCaFromKeyPair(generateSigningKeyPair(random));
}
export function issueCertificate(ca, request) {
    const body = encodeCertificateBody({
        version: CERTIFICATE_VERSION,
        networkId: ca.networkId,
        username: request.username,
        role: request.role,
        signingKey: request.signingKey,
        dhKey: request.dhKey,
        // Clocks may give fractions of a millisecond (the virtual one does); the wire holds integers.
        serial: BigInt(Math.floor(request.serial)),
        issuedAtMs: BigInt(Math.floor(request.issuedAtMs)),
        expiresAtMs: BigInt(Math.floor(request.issuedAtMs + (request.lifetimeMs ?? DEFAULT_CERTIFICATE_LIFETIME_MS))),
    });
    return encodeCertificate({ body, signature: signBytes(ca.keyPair, concatBytes(SIGNATURE_CONTEXT, body)) });
}
function certificateError(code, message) {
    return err({ code, message });
}
/**
 * How many certificates whose CA signature checked out a verifier remembers. The same few
 * certificates come back all the time (every handshake, every presence record a supernode
 * stores), and an Ed25519 verification is most of what a handshake costs; only certificates the
 * CA really signed get in, so strangers cannot fill it with garbage, and the oldest go first.
 */
export const VERIFIED_CERTIFICATE_CACHE_SIZE = 4096;
export class CertificateVerifier {
    clockSkewMs;
    caKey;
    networkId;
    /** Signature-checked certificates by their bytes; least recently used first. */
    verified = new Map();
    constructor(caPublicKey, clockSkewMs = DEFAULT_CLOCK_SKEW_MS) {
        this.clockSkewMs = clockSkewMs;
        const key = publicKeyObject(caPublicKey);
        if (!key)
            throw new RangeError('CA public key must be a 32-byte Ed25519 key');
        this.caKey = key;
        this.networkId = networkIdOf(caPublicKey);
    }
    /** How many signature-checked certificates it remembers (at most VERIFIED_CERTIFICATE_CACHE_SIZE). */
    get remembered() {
        return this.verified.size;
    }
    /** Checks format, network, CA signature and validity period at `nowMs` (Unix epoch ms). */
    verify(encoded, nowMs) {
        const key = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength).toString('base64');
        let signed = this.verified.get(key);
        if (signed) {
            this.verified.delete(key);
        }
        else {
            const checked = this.checkSigned(encoded);
            if (!checked.ok)
                return checked;
            signed = checked.value;
            if (this.verified.size >= VERIFIED_CERTIFICATE_CACHE_SIZE)
                this.verified.delete(this.verified.keys().next().value);
        }
        this.verified.set(key, signed);
        // The validity period is checked at every use: a cached certificate still expires.
        if (nowMs + this.clockSkewMs < signed.issuedAtMs)
            return certificateError('not_yet_valid', `certificate valid from ${new Date(signed.issuedAtMs).toISOString()}`);
        if (nowMs - this.clockSkewMs >= signed.expiresAtMs)
            return certificateError('expired', `certificate expired at ${new Date(signed.expiresAtMs).toISOString()}`);
        return ok({ ...signed, encoded });
    }
    /** Format, network and the CA's signature: what does not change with time. */
    checkSigned(encoded) {
        const certificate = decodeCertificate(encoded);
        if (!certificate.ok)
            return certificateError('malformed', certificate.error.message);
        const body = decodeCertificateBody(certificate.value.body);
        if (!body.ok)
            return certificateError('malformed', body.error.message);
        const b = body.value;
        if (b.version !== CERTIFICATE_VERSION)
            return certificateError('unsupported_version', `certificate version ${b.version}`);
        if (!equalBytes(b.networkId, this.networkId))
            return certificateError('wrong_network', 'certificate is for another network');
        if (!verifySignature(this.caKey, concatBytes(SIGNATURE_CONTEXT, certificate.value.body), certificate.value.signature)) {
            return certificateError('bad_signature', 'certificate is not signed by this network\'s CA');
        }
        return ok({
            username: b.username,
            role: b.role,
            signingKey: b.signingKey,
            dhKey: b.dhKey,
            serial: Number(b.serial),
            issuedAtMs: Number(b.issuedAtMs),
            expiresAtMs: Number(b.expiresAtMs),
        });
    }
}
//# sourceMappingURL=certificate.js.map