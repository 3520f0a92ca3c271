// Ed25519 signatures (RFC 8032) on node:crypto, with raw 32-byte keys at the edges.
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { toBase64Url } from './bytes.js';
export const ED25519_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
export function signingKeyPairFromSeed(seed) {
    if (seed.byteLength !== ED25519_KEY_BYTES)
        throw new RangeError('Ed25519 seed must be 32 bytes');
    const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: toBase64Url(seed), x: toBase64Url(new Uint8Array(32)) }, format: 'jwk' });
    const x = createPublicKey(privateKey).export({ format: 'jwk' }).x;
    return { privateKey, publicKey: new Uint8Array(Buffer.from(x, 'base64url')), seed: seed.slice() };
}
export function generateSigningKeyPair(random) {
    return signingKeyPairFromSeed(random.bytes(ED25519_KEY_BYTES));
}
export function signBytes(keyPair, message) {
    return new Uint8Array(sign(null, message, keyPair.privateKey));
}
/** A verifier for one public key; import the key once, verify many times. */
export function publicKeyObject(publicKey) {
    if (publicKey.byteLength !== ED25519_KEY_BYTES)
        return null;
    try {
        return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(publicKey) }, format: 'jwk' });
    }
    catch {
        return null;
    }
}
export function verifySignature(publicKey, message, signature) {
    if (signature.byteLength !== ED25519_SIGNATURE_BYTES)
        return false;
    const key = publicKey instanceof Uint8Array ? publicKeyObject(publicKey) : publicKey;
    if (!key)
        return false;
    try {
        return verify(null, message, key, signature);
    }
    catch {
        return false;
    }
}
//# sourceMappingURL=ed25519.js.map