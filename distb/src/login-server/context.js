import { verifyToken } from './tokens.js';
import { publicKeyObject } from '../crypto/ed25519.js';
import { SupernodeRegistry } from './store/supernode-registry.js';
import { LoginMetrics } from './metrics.js';
export const DEFAULT_CONFIG = {
    networkName: 'parley',
    certificateLifetimeMs: 24 * 3_600_000,
    tokenLifetimeMs: 3_600_000,
    challengeLifetimeMs: 60_000,
    latestVersion: '0.1.0',
    bootstrap: [],
    supernodeCertificateLifetimeMs: 3 * 24 * 3_600_000,
    supernodeLiveWindowMs: 15 * 60_000,
    enrolmentThrottle: { freeFailures: 10, baseLockMs: 60_000, maxLockMs: 3_600_000, forgetAfterMs: 3_600_000 },
    loginThrottle: { freeFailures: 5, baseLockMs: 1_000, maxLockMs: 15 * 60_000, forgetAfterMs: 3_600_000 },
    registrationThrottle: { freeFailures: 10, baseLockMs: 60_000, maxLockMs: 3_600_000, forgetAfterMs: 3_600_000 },
    searchThrottle: { freeFailures: 60, baseLockMs: 1_000, maxLockMs: 60_000, forgetAfterMs: 60_000 },
    maxBodyBytes: 96 * 1024,
};
/** The context for a store and a CA: the CA's public key object and the supernode registry are derived, not passed; metrics are fresh unless given. */
export function createServerContext(parts) {
    return { ...parts, supernodes: new SupernodeRegistry(parts.store.db), metrics: parts.metrics ?? new LoginMetrics(), caKey: publicKeyObject(parts.ca.keyPair.publicKey) };
}
/** A refusal the client can act on: an HTTP status, a stable code, a message for people. */
export class ApiError extends Error {
    status;
    code;
    retryAfterMs;
    constructor(status, code, message, retryAfterMs) {
        super(message);
        this.status = status;
        this.code = code;
        this.retryAfterMs = retryAfterMs;
    }
}
/** The user and device behind the request's bearer token, or a 401. */
export async function authenticate(context, request) {
    const header = request.headers.authorization;
    if (!header?.startsWith('Bearer '))
        throw new ApiError(401, 'unauthenticated', 'send Authorization: Bearer <access token from login>');
    const claims = verifyToken(context.caKey, header.slice(7), context.clock.wallTimeMs());
    if (!claims.ok)
        throw new ApiError(401, claims.error.code, claims.error.message);
    const device = await context.store.findDevice(claims.value.deviceId);
    if (!device || device.userId !== claims.value.userId || device.revokedAtMs !== null)
        throw new ApiError(401, 'device_revoked', 'this device is no longer allowed');
    const user = await context.store.findUserById(claims.value.userId);
    if (!user)
        throw new ApiError(401, 'account_deleted', 'this account no longer exists');
    return { user, device };
}
/** Refuses with 429 while `key` (`<scope>:<who>`) is locked; counted by scope. */
export async function checkThrottle(context, key) {
    const until = await context.store.lockedUntil(key);
    const now = context.clock.wallTimeMs();
    if (until > now) {
        context.metrics.throttleRefusals.inc({ scope: key.slice(0, key.indexOf(':')) });
        throw new ApiError(429, 'throttled', 'too many attempts: wait and try again', until - now);
    }
}
//# sourceMappingURL=context.js.map