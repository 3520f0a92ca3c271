// Contacts (buddy and block lists, versioned for sync), buddy requests, the directory
// fallback (exact lookup, prefix search), offline messages, and the public network info.
import type {} from '@fastify/swagger'; // schema.tags
import type { FastifyInstance } from 'fastify';
import { fromBase64Url, toBase64Url } from '../../crypto/bytes.js';
import { normaliseUsername } from '../../wire/usernames.js';
import { ApiError, authenticate, type ServerContext } from '../context.js';
import { spendAttempt } from '../attempt-limit.js';
import type { ContactEntry } from '../store/login-store.js';
import { schemas } from '../schemas.js';
import { bootstrapJson, servedSupernodeLists } from './supernodes.js';

const STATUS_BY_STORE_ERROR: Record<string, number> = {
  version_conflict: 409,
  already_requested: 409,
  not_found: 404,
  too_many_contacts: 413,
  too_many_requests: 429,
  too_many_outgoing_requests: 429,
  quota_exceeded: 507,
  sender_share_exceeded: 429,
  strangers_share_exceeded: 429,
};

function refuse(error: { code: string; message: string }): never {
  throw new ApiError(STATUS_BY_STORE_ERROR[error.code] ?? 400, error.code, error.message);
}

function username(text: string): string {
  const name = normaliseUsername(text);
  if (!name.ok) throw new ApiError(400, name.error.code, name.error.message);
  return name.value;
}

/** Compares dotted versions numerically ("0.10.0" > "0.9.3"). */
export function newerVersion(latest: string, current: string): boolean {
  const a = latest.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const b = current.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return false;
}

export function socialRoutes(app: FastifyInstance, context: ServerContext): void {
  const { store, config } = context;
  const now = () => context.clock.wallTimeMs();

  app.get('/v1/info', { schema: { tags: ['network'] } }, async () => ({
    networkName: config.networkName,
    networkId: toBase64Url(context.ca.networkId),
    caPublicKey: toBase64Url(context.ca.keyPair.publicKey),
    latestVersion: config.latestVersion,
    ...(await servedSupernodeLists(context).then((lists) => ({ bootstrap: bootstrapJson(lists.bootstrap), revokedSupernodes: lists.revoked.map(toBase64Url) }))),
  }));

  // The seed's `getlatestversion`: clients ask at startup and only tell the user.
  app.get('/v1/version', { schema: { querystring: schemas.versionQuery, tags: ['network'] } }, async (request) => {
    const current = (request.query as { current?: string }).current;
    return { latest: config.latestVersion, updateAvailable: current === undefined ? null : newerVersion(config.latestVersion, current) };
  });

  app.get('/v1/contacts', { schema: { querystring: schemas.sinceQuery, tags: ['contacts'] } }, async (request) => {
    const caller = await authenticate(context, request);
    const since = (request.query as { since?: number }).since;
    if (since !== undefined) {
      const version = await store.contactVersion(caller.user.id);
      if (version === since) return { version, unchanged: true };
    }
    return store.getContacts(caller.user.id);
  });

  app.put('/v1/contacts', { schema: { body: schemas.putContacts, tags: ['contacts'] } }, async (request) => {
    const caller = await authenticate(context, request);
    const body = request.body as { expectedVersion: number; entries: ContactEntry[] };
    const entries = body.entries.map((e) => ({ username: username(e.username), kind: e.kind }));
    const result = await store.putContacts(caller.user.id, body.expectedVersion, entries);
    return result.ok ? result.value : refuse(result.error);
  });

  app.post('/v1/buddy-requests', { schema: { body: schemas.buddyRequest, tags: ['contacts'] } }, async (request, reply) => {
    const caller = await authenticate(context, request);
    const body = request.body as { to: string; message?: string };
    const target = await store.findUser(username(body.to));
    if (!target || target.id === caller.user.id) throw new ApiError(404, 'not_found', 'no such user');
    // A blocked sender is told nothing different: the request is accepted and dropped.
    if (await store.isBlockedBy(caller.user.id, target.id)) {
      reply.code(202);
      return { sent: true };
    }
    const created = await store.createBuddyRequest(caller.user.id, target.id, body.message ?? '', now());
    if (!created.ok) {
      context.metrics.buddyRequestsRefused.inc({ reason: created.error.code });
      refuse(created.error);
    }
    reply.code(202);
    return { sent: true, id: created.value.id };
  });

  app.get('/v1/buddy-requests', { schema: { tags: ['contacts'] } }, async (request) => {
    const caller = await authenticate(context, request);
    const [incoming, outgoing] = await Promise.all([store.listRequests({ toUserId: caller.user.id }), store.listRequests({ fromUserId: caller.user.id })]);
    return { incoming, outgoing };
  });

  for (const answer of ['accept', 'decline'] as const) {
    app.post(`/v1/buddy-requests/:id/${answer}`, { schema: { params: schemas.idParam, tags: ['contacts'] } }, async (request) => {
      const caller = await authenticate(context, request);
      const result = await store.answerRequest((request.params as { id: number }).id, caller.user.id, answer === 'accept');
      return result.ok ? { [answer === 'accept' ? 'accepted' : 'declined']: result.value.from } : refuse(result.error);
    });
  }

  app.get('/v1/directory/users/:username', { schema: { params: schemas.usernameParam, tags: ['directory'] } }, async (request) => {
    await authenticate(context, request);
    const entry = await store.lookup(username((request.params as { username: string }).username));
    if (!entry) throw new ApiError(404, 'not_found', 'no such user');
    return { exists: true, ...entry };
  });

  app.get('/v1/directory/search', { schema: { querystring: schemas.searchQuery, tags: ['directory'] } }, async (request) => {
    await authenticate(context, request);
    await spendAttempt(context, `search-ip:${request.ip}`, config.searchThrottle); // every search counts
    const query = request.query as { q: string; limit?: number; after?: string };
    // `sal*` and `sal` both mean "starts with sal"; no other wildcard.
    const prefix = query.q.endsWith('*') ? query.q.slice(0, -1) : query.q;
    if (prefix.length === 0 || prefix.includes('*')) throw new ApiError(400, 'invalid_query', "search for a prefix, like 'sal' or 'sal*'");
    const normalised = prefix.normalize('NFKC').toLowerCase();
    const limit = query.limit ?? 20;
    const users = await store.searchPrefix(normalised, limit, query.after);
    return { users, next: users.length === limit ? users[users.length - 1]!.username : null };
  });

  app.get('/v1/users/:username/devices', { schema: { params: schemas.usernameParam, tags: ['offline'] } }, async (request) => {
    const caller = await authenticate(context, request);
    const user = await store.findUser(username((request.params as { username: string }).username));
    if (!user || (await store.isBlockedBy(caller.user.id, user.id))) throw new ApiError(404, 'not_found', 'no such user');
    const devices = (await store.listDevices(user.id)).filter((d) => d.revokedAtMs === null);
    return { devices: devices.map((d) => ({ id: d.id, signingKey: toBase64Url(d.signingKey), dhKey: toBase64Url(d.dhKey) })) };
  });

  app.post('/v1/offline/:id', { schema: { params: schemas.idParam, body: schemas.offlineMessage, tags: ['offline'] } }, async (request, reply) => {
    const caller = await authenticate(context, request);
    const device = await store.findDevice((request.params as { id: number }).id);
    if (!device || device.revokedAtMs !== null) throw new ApiError(404, 'not_found', 'no such device');
    const ciphertext = fromBase64Url((request.body as { ciphertext: string }).ciphertext);
    if (!ciphertext) throw new ApiError(400, 'invalid_request', 'ciphertext must be canonical base64url');
    // Blocked senders are refused silently: the message is accepted and dropped.
    if (!(await store.isBlockedBy(caller.user.id, device.userId))) {
      const stored = await store.storeOffline({ deviceId: device.id, userId: device.userId }, { userId: caller.user.id, username: caller.user.username }, ciphertext, now());
      if (!stored.ok) {
        context.metrics.offlineRefused.inc({ reason: stored.error.code });
        refuse(stored.error);
      }
      context.metrics.offlineStored.inc();
    }
    reply.code(202);
    return { stored: true };
  });

  app.get('/v1/offline', { schema: { querystring: schemas.limitQuery, tags: ['offline'] } }, async (request) => {
    const caller = await authenticate(context, request);
    const messages = await store.fetchOffline(caller.device.id, (request.query as { limit?: number }).limit ?? 100);
    return { messages: messages.map((m) => ({ id: m.id, sender: m.sender, ciphertext: toBase64Url(m.ciphertext), createdAtMs: m.createdAtMs })) };
  });

  app.post('/v1/offline/ack', { schema: { body: schemas.offlineAck, tags: ['offline'] } }, async (request) => {
    const caller = await authenticate(context, request);
    const deleted = await store.ackOffline(caller.device.id, (request.body as { ids: number[] }).ids);
    context.metrics.offlineDelivered.inc(deleted);
    return { deleted };
  });
}
