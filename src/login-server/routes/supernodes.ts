// Operators' supernodes: enrolment with a single-use token (the supernode's own keys, proven by
// a signature, certified here: the CA key never leaves this host), renewal signed with the
// supernode's key (which also says it is alive and where it listens), and the live bootstrap
// list that /v1/info serves beside the operator's pinned entries.
import type {} from '@fastify/swagger'; // schema.tags
import type { FastifyInstance } from 'fastify';
import { equalBytes, fromBase64Url, toBase64Url } from '../../crypto/bytes.js';
import { DEFAULT_CLOCK_SKEW_MS, issueCertificate, Role } from '../../crypto/certificate.js';
import { MAX_REVOKED_LISTED, type BootstrapEntry } from '../../crypto/descriptor.js';
import { verifySignature } from '../../crypto/ed25519.js';
import { enrolmentProofMessage, RENEWAL_WINDOW_MS, renewalMessage, type AdvertisedAddress } from '../../crypto/enrolment.js';
import { ApiError, checkThrottle, type ServerContext } from '../context.js';
import { schemas } from '../schemas.js';
import type { EnrolledSupernode } from '../store/supernode-registry.js';

/** Entries /v1/info serves at most (the descriptor's own bound). */
export const MAX_BOOTSTRAP_SERVED = 64;

const REFUSAL_STATUS: Record<string, number> = { bad_token: 401, token_used: 409, token_expired: 410, revoked: 403 };

function key(text: string): Uint8Array {
  const value = fromBase64Url(text);
  if (!value) throw new ApiError(400, 'invalid_request', 'not canonical base64url');
  return value;
}

function toEntry(s: EnrolledSupernode): BootstrapEntry {
  return { host: s.host, port: s.port, dhKey: s.dhKey, ...(s.webPort !== null ? { webPort: s.webPort } : {}) };
}

/** The pinned entries, then the enrolled supernodes that renewed lately (none twice, none without a key). */
export async function liveBootstrap(context: ServerContext, except?: Uint8Array): Promise<BootstrapEntry[]> {
  const since = context.clock.wallTimeMs() - context.config.supernodeLiveWindowMs;
  const enrolled = (await context.supernodes.live(since, MAX_BOOTSTRAP_SERVED)).map(toEntry);
  const seen = new Set<string>();
  const entries: BootstrapEntry[] = [];
  for (const entry of [...context.config.bootstrap, ...enrolled]) {
    if (!entry.dhKey || (except && equalBytes(entry.dhKey, except))) continue;
    const id = toBase64Url(entry.dhKey);
    if (seen.has(id)) continue;
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


/** What the network's nodes are told about its supernodes: whom to join, whom to refuse. */
export interface SupernodeLists {
  readonly bootstrap: BootstrapEntry[];
  /** Noise keys of revoked supernodes whose certificates may still be in date. */
  readonly revoked: Uint8Array[];
}

/** Supernodes revoked within a certificate's lifetime (and the clock skew verifiers allow): their certificates may still be in date. */
export function revokedSupernodes(context: ServerContext): Promise<Uint8Array[]> {
  const sinceMs = context.clock.wallTimeMs() - context.config.supernodeCertificateLifetimeMs - DEFAULT_CLOCK_SKEW_MS;
  return context.supernodes.revokedSince(sinceMs, MAX_REVOKED_LISTED);
}

const servedLists = new WeakMap<ServerContext, { readonly atMs: number; readonly lists: Promise<SupernodeLists> }>();

/** The live bootstrap list and the revoked keys, shared by every request within LIVE_BOOTSTRAP_CACHE_MS. */
export function servedSupernodeLists(context: ServerContext): Promise<SupernodeLists> {
  const nowMs = context.clock.wallTimeMs(); // the clock the live window is kept by (tests move it)
  const kept = servedLists.get(context);
  if (kept && Math.abs(nowMs - kept.atMs) < LIVE_BOOTSTRAP_CACHE_MS) return kept.lists;
  const lists = Promise.all([liveBootstrap(context), revokedSupernodes(context)]).then(([bootstrap, revoked]) => ({ bootstrap, revoked }));
  servedLists.set(context, { atMs: nowMs, lists });
  lists.catch(() => servedLists.delete(context)); // a failed query is not kept
  return lists;
}

/** A supernode came, went or moved here: the next /v1/info reads the list again. */
function forgetServedBootstrap(context: ServerContext): void {
  servedLists.delete(context);
}

export function bootstrapJson(entries: readonly BootstrapEntry[]) {
  return entries.map((b) => ({ host: b.host, port: b.port, ...(b.dhKey ? { dhKey: toBase64Url(b.dhKey) } : {}), ...(b.webPort ? { webPort: b.webPort } : {}) }));
}

export function supernodeRoutes(app: FastifyInstance, context: ServerContext): void {
  const { store, supernodes, config } = context;
  const now = () => context.clock.wallTimeMs();

  const certify = async (s: { signingKey: Uint8Array; dhKey: Uint8Array }) => {
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
      revoked: (await revokedSupernodes(context)).map(toBase64Url),
    };
  };

  /** A refusal that costs the caller's IP address one of its free failures. */
  const refuseCounted = async (ip: string, error: ApiError): Promise<never> => {
    await store.recordFailure(`enrol-ip:${ip}`, now(), config.enrolmentThrottle);
    throw error;
  };

  app.post('/v1/supernodes/enrol', { schema: { body: schemas.supernodeEnrol, tags: ['supernodes'] } }, async (request) => {
    const body = request.body as { token: string; signingKey: string; dhKey: string; host: string; port: number; webPort?: number; proof: string };
    await checkThrottle(context, `enrol-ip:${request.ip}`);
    const signingKey = key(body.signingKey);
    const dhKey = key(body.dhKey);
    const address: AdvertisedAddress = { host: body.host, port: body.port, webPort: body.webPort ?? null };
    if (!verifySignature(signingKey, enrolmentProofMessage(context.ca.networkId, body.token, dhKey, address), key(body.proof))) {
      return refuseCounted(request.ip, new ApiError(401, 'bad_proof', 'the proof is not signed by the signing key given'));
    }
    const enrolled = await supernodes.enrol(body.token, { signingKey, dhKey, ...address }, now());
    if (!enrolled.ok) return refuseCounted(request.ip, new ApiError(REFUSAL_STATUS[enrolled.error.code] ?? 400, enrolled.error.code, enrolled.error.message));
    request.log.info({ supernode: enrolled.value.id, label: enrolled.value.label, host: address.host, port: address.port }, 'supernode enrolled');
    forgetServedBootstrap(context);
    return { id: enrolled.value.id, label: enrolled.value.label, ...(await certify(enrolled.value)) };
  });

  app.post('/v1/supernodes/renew', { schema: { body: schemas.supernodeRenew, tags: ['supernodes'] } }, async (request) => {
    const body = request.body as { signingKey: string; host: string; port: number; webPort?: number; timeMs: number; signature: string };
    await checkThrottle(context, `enrol-ip:${request.ip}`);
    const signingKey = key(body.signingKey);
    const known = await supernodes.find(signingKey);
    if (!known) return refuseCounted(request.ip, new ApiError(404, 'not_enrolled', 'no supernode with this key is enrolled: enrol it with a token from the operator'));
    if (known.revokedAtMs !== null) throw new ApiError(403, 'revoked', 'this supernode was revoked by the operator');
    if (Math.abs(body.timeMs - now()) > RENEWAL_WINDOW_MS) {
      throw new ApiError(400, 'clock_skew', `the renewal's time is ${Math.round((body.timeMs - now()) / 1000)} s from the login server's: set the clock (NTP)`);
    }
    const address: AdvertisedAddress = { host: body.host, port: body.port, webPort: body.webPort ?? null };
    if (!verifySignature(signingKey, renewalMessage(context.ca.networkId, known.dhKey, address, body.timeMs), key(body.signature))) {
      return refuseCounted(request.ip, new ApiError(401, 'bad_signature', 'the renewal is not signed by the enrolled key'));
    }
    await supernodes.touch(known.id, address, now());
    forgetServedBootstrap(context);
    return { id: known.id, label: known.label, ...(await certify(known)) };
  });
}
