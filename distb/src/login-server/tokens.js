import { err, ok } from '../result.js';
import { concatBytes, fromBase64Url, toBase64Url } from '../crypto/bytes.js';
import { signBytes, verifySignature } from '../crypto/ed25519.js';
const CONTEXT = new TextEncoder().encode('parley-access-token-v1\0');
export const DEFAULT_TOKEN_LIFETIME_MS = 3_600_000;
const MAX_TOKEN_CHARS = 512;
export function issueToken(key, claims) {
    const payload = new TextEncoder().encode(JSON.stringify({ u: claims.userId, d: claims.deviceId, e: claims.expiresAtMs }));
    return `${toBase64Url(payload)}.${toBase64Url(signBytes(key, concatBytes(CONTEXT, payload)))}`;
}
export function verifyToken(publicKey, token, nowMs) {
    const invalid = err({ code: 'invalid_token', message: 'the access token is not valid' });
    if (token.length > MAX_TOKEN_CHARS)
        return invalid;
    const [payloadText, signatureText, ...rest] = token.split('.');
    if (rest.length > 0 || !payloadText || !signatureText)
        return invalid;
    const payload = fromBase64Url(payloadText);
    const signature = fromBase64Url(signatureText);
    if (!payload || !signature || !verifySignature(publicKey, concatBytes(CONTEXT, payload), signature))
        return invalid;
    let claims;
    try {
        claims = JSON.parse(new TextDecoder().decode(payload));
    }
    catch {
        return invalid;
    }
    const { u, d, e } = claims;
    if (!Number.isSafeInteger(u) || !Number.isSafeInteger(d) || !Number.isSafeInteger(e))
        return invalid;
    if (e <= nowMs)
        return err({ code: 'expired_token', message: 'the access token expired: log in again' });
    return ok({ userId: u, deviceId: d, expiresAtMs: e });
}
//# sourceMappingURL=tokens.js.map