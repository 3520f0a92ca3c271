import { generateSigningKeyPair, signingKeyPairFromSeed } from './ed25519.js';
import { generateX25519KeyPair, x25519KeyPairFromPrivate, x25519PrivateKeyBytes } from './x25519.js';
import { issueCertificate, Role } from './certificate.js';
import { fromBase64Url, toBase64Url } from './bytes.js';
export function generateDeviceKeys(random) {
    return { signing: generateSigningKeyPair(random), dh: generateX25519KeyPair(random) };
}
/** The private halves as text, for a key file with 0600 permissions. */
export function exportDeviceKeys(keys) {
    return { signingSeed: toBase64Url(keys.signing.seed), dhPrivate: toBase64Url(x25519PrivateKeyBytes(keys.dh)) };
}
export function importDeviceKeys(text) {
    const seed = fromBase64Url(text.signingSeed);
    const dh = fromBase64Url(text.dhPrivate);
    if (!seed || seed.byteLength !== 32 || !dh || dh.byteLength !== 32)
        return null;
    return { signing: signingKeyPairFromSeed(seed), dh: x25519KeyPairFromPrivate(dh) };
}
/** Certifies `keys` with a CA held in this process (local networks, tests; later the login server). */
export function certifyKeys(ca, keys, options) {
    const certificate = issueCertificate(ca, {
        username: options.username ?? '',
        role: options.role,
        signingKey: keys.signing.publicKey,
        dhKey: keys.dh.publicKey,
        serial: options.serial,
        issuedAtMs: options.issuedAtMs,
        ...(options.lifetimeMs !== undefined ? { lifetimeMs: options.lifetimeMs } : {}),
    });
    return { ...keys, certificate };
}
/** Fresh keys and their certificate. */
export function issueIdentity(ca, random, options) {
    return certifyKeys(ca, generateDeviceKeys(random), options);
}
export function renewableIdentity(keys, certificate) {
    let current = certificate;
    return {
        signing: keys.signing,
        dh: keys.dh,
        // Read at every handshake, so a renewed certificate is presented from then on.
        get certificate() {
            return current;
        },
        renew(next) {
            current = next;
        },
    };
}
//# sourceMappingURL=identity.js.map