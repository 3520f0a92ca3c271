import { equalBytes, fromBase64Url, toBase64Url } from '../../crypto/bytes.js';
import { issueCertificate, Role } from '../../crypto/certificate.js';
import { verifySignature } from '../../crypto/ed25519.js';
import { enrolmentProofMessage, RENEWAL_WINDOW_MS, renewalMessage } from '../../crypto/enrolment.js';
import { ApiError, checkThrottle } from '../context.js';
import { schemas } from '../schemas.js';
/** Entries /v1/info serves at most (the descriptor's own bound). */
export const MAX_BOOTSTRAP_SERVED = 64;
const REFUSAL_STATUS = { bad_token: 401, token_used: 409, token_expired: 410, revoked: 403 };
function key(text) {
    const value = fromBase64Url(text);
    if (!value)
        throw new ApiError(400, 'invalid_request', 'not canonical base64url');
    return value;
}
function toEntry(s) {
    return { host: s.host, port: s.port, dhKey: s.dhKey, ...(s.webPort !== null ? { webPort: s.webPort } : {}) };
}
/** The pinned entries, then the enrolled supernodes that renewed lately (none twice, none without a key). */
export async function liveBootstrap(context, except) {
    const since = context.clock.wallTimeMs() - context.config.supernodeLiveWindowMs;
    const enrolled = (await context.supernodes.live(since, MAX_BOOTSTRAP_SERVED)).map(toEntry);
    const seen = new Set();
    const entries = [];
    for (const entry of [...context.config.bootstrap, ...enrolled]) {
        if (!entry.dhKey || (except && equalBytes(entry.dhKey, except)))
            continue;
        const id = toBase64Url(entry.dhKey);
        if (seen.has(id))
            continue;
        seen.add(id);
        entries.push(entry);
    }
    return entries.slice(0, MAX_BOOTSTRAP_SERVED);
}
/**
 * How long /v1/info's list may be served from memory. Every client asks at every start: after a
 * mass restart that is thousands of requests a second, which one database query each (and each
 * its own) would turn into a queue. Requests meanwhile share one query; the list changes on a
 * scale of minutes (a renewal every 5, a live window of 15).
 */
export const LIVE_BOOTSTRAP_CACHE_MS = 2_000;
const servedLists = new WeakMap();
/** liveBootstrap(context), shared by every request within LIVE_BOOTSTRAP_CACHE_MS. */
export function servedBootstrap(context) {
    const nowMs = context.clock.wallTimeMs(); // the clock the live window is kept by (tests move it)
    const kept = servedLists.get(context);
    if (kept && Math.abs(nowMs - kept.atMs) < LIVE_BOOTSTRAP_CACHE_MS)
        return kept.entries;
    const entries = liveBootstrap(context);
    servedLists.set(context, { atMs: nowMs, entries });
    entries.catch(() => servedLists.delete(context)); // a failed query is not kept
    return entries;
}
/** A supernode came, went or moved here: the next /v1/info reads the list again. */
function forgetServedBootstrap(context) {
    servedLists.delete(context);
}
export function bootstrapJson(entries) {
    return entries.map((b) => ({ host: b.host, port: b.port, ...(b.dhKey ? { dhKey: toBase64Url(b.dhKey) } : {}), ...(b.webPort ? { webPort: b.webPort } : {}) }));
}
export function supernodeRoutes(app, context) {
    const { store, supernodes, config } = context;
    const now = () => context.clock.wallTimeMs();
    const certify = async (s) => {
        const issuedAtMs = now();
        const certificate = issueCertificate(context.ca, {
            username: '',
            role: Role.SUPERNODE,
            signingKey: s.signingKey,
            dhKey: s.dhKey,
            serial: await store.nextSerial(),
            issuedAtMs,
            lifetimeMs: config.supernodeCertificateLifetimeMs,
        });
        return {
            certificate: toBase64Url(certificate),
            certificateExpiresAtMs: issuedAtMs + config.supernodeCertificateLifetimeMs,
            bootstrap: bootstrapJson(await liveBootstrap(context, s.dhKey)),
        };
    };
    /** A refusal that costs the caller's IP address one of its free failures. */
    const refuseCounted = async (ip, error) => {
        await store.recordFailure(`enrol-ip:${ip}`, now(), config.enrolmentThrottle);
        throw error;
    };
    app.post('/v1/supernodes/enrol', { schema: { body: schemas.supernodeEnrol, tags: ['supernodes'] } }, async (request) => {
        const body = request.body;
        await checkThrottle(context, `enrol-ip:${request.ip}`);
        const signingKey = key(body.signingKey);
        const dhKey = key(body.dhKey);
        const address = { host: body.host, port: body.port, webPort: body.webPort ?? null };
        if (!verifySignature(signingKey, enrolmentProofMessage(context.ca.networkId, body.token, dhKey, address), key(body.proof))) {
            return refuseCounted(request.ip, new ApiError(401, 'bad_proof', 'the proof is not signed by the signing key given'));
        }
        const enrolled = await supernodes.enrol(body.token, { signingKey, dhKey, ...address }, now());
        if (!enrolled.ok)
            return refuseCounted(request.ip, new ApiError(REFUSAL_STATUS[enrolled.error.code] ?? 400, enrolled.error.code, enrolled.error.message));
        request.log.info({ supernode: enrolled.value.id, label: enrolled.value.label, host: address.host, port: address.port }, 'supernode enrolled');
        forgetServedBootstrap(context);
        return { id: enrolled.value.id, label: enrolled.value.label, ...(await certify(enrolled.value)) };
    });
    app.post('/v1/supernodes/renew', { schema: { body: schemas.supernodeRenew, tags: ['supernodes'] } }, async (request) => {
        const body = request.body;
        await checkThrottle(context, `enrol-ip:${request.ip}`);
        const signingKey = key(body.signingKey);
        const known = await supernodes.find(signingKey);
        if (!known)
            return refuseCounted(request.ip, new ApiError(404, 'not_enrolled', 'no supernode with this key is enrolled: enrol it with a token from the operator'));
        if (known.revokedAtMs !== null)
            throw new ApiError(403, 'revoked', 'this supernode was revoked by the operator');
        if (Math.abs(body.timeMs - now()) > RENEWAL_WINDOW_MS) {
            throw new ApiError(400, 'clock_skew', `the renewal's time is ${Math.round((body.timeMs - now()) / 1000)} s from the login server's: set the clock (NTP)`);
        }
        const address = { host: body.host, port: body.port, webPort: body.webPort ?? null };
        if (!verifySignature(signingKey, renewalMessage(context.ca.networkId, known.dhKey, address, body.timeMs), key(body.signature))) {
            return refuseCounted(request.ip, new ApiError(401, 'bad_signature', 'the renewal is not signed by the enrolled key'));
        }
        await supernodes.touch(known.id, address, now());
        forgetServedBootstrap(context);
        return { id: known.id, label: known.label, ...(await certify(known)) };
    });
}
//# sourceMappingURL=supernodes.js.map