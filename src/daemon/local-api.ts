// The client daemon's local API: HTTP for commands and queries, a WebSocket for events, on
// 127.0.0.1 only. Every request carries the per-install token (`Authorization: Bearer`, or for
// a WebSocket, which a browser cannot give headers, the `token` query parameter). The Host must
// be this loopback address (a DNS-rebinding page cannot reach it under another name) and an
// Origin, when a browser sends one, must be this API's own. Refusals are `{ error: { code,
// message } }` with a 4xx, as the login server's are. What the API does comes from the injected
// `DaemonCore`, so the API is tested without a network.
import websocket from '@fastify/websocket';
import { Ajv, type ValidateFunction } from 'ajv';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LoginError } from '../client/login-client.js';
import { ChatError } from '../chat/chat-client.js';
import { GroupError } from '../groups/group-client.js';

const CHAT_ERROR_STATUS: Record<ChatError['code'], number> = { too_large: 400, offline: 503, queue_full: 429 };
const GROUP_ERROR_STATUS: Record<GroupError['code'], number> = {
  unknown_group: 404,
  not_admin: 403,
  not_member: 403,
  too_large: 400,
  too_many_members: 409,
  too_many_groups: 409,
  invalid_name: 400,
  invalid_user: 400,
  already_member: 409,
  queue_full: 429,
};
import { tokenMatches } from './api-token.js';
import { registerAccountRoutes } from './account-routes.js';
import { LocalApiError, USER } from './api-error.js';
import { readableSchemaRefusal } from './readable-refusal.js';
import { CALL_ACTIONS, CONFERENCE_ACTIONS, GROUP_ACTIONS, type CallAction, type ConferenceAction, type DaemonCore, type DaemonGate, type GroupAction } from './api-types.js';

export { LocalApiError } from './api-error.js';

/** Events a slow WebSocket client may have waiting before it is cut off (a bound on what it can make us hold). */
const MAX_BUFFERED_EVENT_BYTES = 1 << 20;
/** Audio a page has not read yet (about half a second): more is dropped, not queued. */
const MAX_BUFFERED_AUDIO_BYTES = 48 * 1024;

export interface LocalApiOptions {
  readonly token: string;
  /** The built app (dist/ui), served at / without the token: the page holds no secret; its address's fragment carries the token. */
  readonly uiDir?: string;
}

/** The app's files: nothing else is read from disk. */
const UI_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/worklet.js': { file: 'worklet.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/**
 * The app's icon, asked for by every browser at /favicon.ico (and linked by the page as
 * /favicon.svg): served without the token, since it is the same for everyone and reveals nothing.
 */
const FAVICON_PATHS = ['/favicon.ico', '/favicon.svg'];
const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1f6feb"/>' +
  '<path d="M8 8h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2h-9l-6 5v-5H8a2 2 0 0 1-2-2v-9a2 2 0 0 1 2-2z" fill="#fff"/></svg>';

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7);
  const query = request.query as { token?: unknown } | undefined;
  return typeof query?.token === 'string' ? query.token : undefined;
}

/** Fastify's validator contract (a boolean, with `errors` on the function) over one compiled on first use. */
function lazyValidator(compile: () => ValidateFunction): ValidateFunction {
  let compiled: ValidateFunction | null = null;
  const validate = ((data: unknown) => {
    compiled ??= compile();
    const valid = compiled(data);
    validate.errors = compiled.errors;
    return valid;
  }) as ValidateFunction;
  return validate;
}

export async function buildLocalApi(gate: DaemonGate, options: LocalApiOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  // Each route's validator is compiled on the route's first request, and Ajv itself made then: a
  // daemon that is never asked (most of the API, most of the time) does not hold the compiled
  // code (issue 22: an idle client's memory).
  const ajv = { strict: null as Ajv | null, coercing: null as Ajv | null };
  const ajvFor = (kind: 'strict' | 'coercing') =>
    (ajv[kind] ??= new Ajv({ removeAdditional: false, coerceTypes: kind === 'coercing', useDefaults: false, allErrors: false, strict: false }));
  app.setValidatorCompiler(({ schema, httpPart }) => lazyValidator(() => ajvFor(httpPart === 'body' ? 'strict' : 'coercing').compile(schema)));
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });

  // The names this API answers to: its loopback address and port (known once it listens).
  const names = () => {
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return [`127.0.0.1:${port}`, `localhost:${port}`];
  };
  app.addHook('onRequest', async (request) => {
    const hosts = names();
    const origins = hosts.map((h) => `http://${h}`);
    if (!hosts.includes(request.headers.host ?? '')) throw new LocalApiError(421, 'wrong_host', 'this API answers on 127.0.0.1 only');
    const origin = request.headers.origin;
    if (origin !== undefined && !origins.includes(origin)) throw new LocalApiError(403, 'wrong_origin', `pages from ${origin} may not use this API`);
    if (request.method === 'GET' && UI_FILES[request.url] && options.uiDir) return;
    if (request.method === 'GET' && FAVICON_PATHS.includes(request.url)) return;
    if (!tokenMatches(bearer(request), options.token)) throw new LocalApiError(401, 'unauthorized', 'the API token is missing or wrong');
  });

  app.setErrorHandler((error: FastifyError | LocalApiError, _request, reply) => {
    if (error instanceof LocalApiError) return reply.code(error.status).send({ error: { code: error.code, message: error.message } });
    // The chat's refusals: too large for the wire, this device offline, too much already queued.
    if (error instanceof ChatError) return reply.code(CHAT_ERROR_STATUS[error.code]).send({ error: { code: error.code, message: error.message } });
    // The groups' refusals: an unknown group, not the admin, over a limit (docs/groups.md).
    if (error instanceof GroupError) return reply.code(GROUP_ERROR_STATUS[error.code]).send({ error: { code: error.code, message: error.message } });
    // No answer from the login server at all (refused, unresolved, timed out): a 503, the same code from every route.
    if (error instanceof LoginError && error.status === 0) return reply.code(503).send({ error: { code: error.code === 'unreachable' ? 'login_server_unreachable' : error.code, message: error.message.replace(`${error.code}: `, '') } });
    // The login server's refusals pass through (a taken name, a wrong password), its schema's
    // words about a field the user typed reworded (a password too short).
    if (error instanceof LoginError) {
      const message = error.message.replace(`${error.code}: `, '');
      return reply.code(error.status >= 400 && error.status < 500 ? error.status : 502).send({ error: { code: error.code, message: readableSchemaRefusal(message) ?? message } });
    }
    if (error.validation) {
      const message = `${error.validationContext ?? 'request'} ${error.validation[0]?.instancePath ?? ''} ${error.validation[0]?.message ?? 'is invalid'}`.replace(/\s+/g, ' ');
      return reply.code(400).send({ error: { code: 'invalid_request', message: readableSchemaRefusal(message) ?? message } });
    }
    if (error.statusCode && error.statusCode < 500) return reply.code(error.statusCode).send({ error: { code: 'invalid_request', message: error.message } });
    return reply.code(500).send({ error: { code: 'internal', message: 'internal error' } });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: { code: 'no_such_route', message: 'no such route' } }));

  if (options.uiDir) {
    const uiDir = options.uiDir;
    for (const [path, { file, type }] of Object.entries(UI_FILES)) {
      app.get(path, async (_request, reply) => {
        // Any read failure means the same to the page: the app's files are not there.
        const body = await readFile(join(uiDir, file)).catch(() => null);
        if (!body) throw new LocalApiError(404, 'no_app', 'the app is not built (npm run build)');
        const hosts = names();
        return reply
          .type(type)
          .header('cache-control', 'no-cache')
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', `default-src 'self'; connect-src 'self' ${hosts.map((h) => `ws://${h}`).join(' ')}; img-src 'self' data:; frame-ancestors 'none'`)
          .send(body);
      });
    }
  }
  for (const path of FAVICON_PATHS) {
    app.get(path, async (_request, reply) => reply.type('image/svg+xml').header('cache-control', 'max-age=86400').header('x-content-type-options', 'nosniff').send(FAVICON_SVG));
  }
  /** The signed-in session; a 409 while nobody is. */
  const core = (): DaemonCore => {
    const signedIn = gate.core();
    if (!signedIn) throw new LocalApiError(409, 'signed_out', 'nobody is signed in on this device: sign up or log in first');
    return signedIn;
  };
  registerAccountRoutes(app, gate, core);
  app.get('/v1/status', async () => core().status());
  app.get('/v1/buddies', async () => ({ buddies: core().buddies() }));
  app.post<{ Body: { to: string; text: string } }>(
    '/v1/messages',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['to', 'text'], properties: { to: USER, text: { type: 'string', minLength: 1, maxLength: 4000 } } } } },
    async (request, reply) => reply.code(201).send(await core().sendMessage(request.body.to.toLowerCase(), request.body.text)),
  );
  app.get<{ Querystring: { with: string; limit?: number } }>(
    '/v1/messages',
    { schema: { querystring: { type: 'object', required: ['with'], properties: { with: USER, limit: { type: 'integer', minimum: 1, maximum: 500 }, token: { type: 'string' } } } } },
    async (request) => ({ messages: core().messages(request.query.with.toLowerCase(), request.query.limit ?? 100) }),
  );
  app.post<{ Body: { to: string; active: boolean } }>(
    '/v1/typing',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['to', 'active'], properties: { to: USER, active: { type: 'boolean' } } } } },
    async (request, reply) => {
      await core().setTyping(request.body.to.toLowerCase(), request.body.active);
      return reply.code(204).send();
    },
  );
  app.post<{ Body: { with: string } }>(
    '/v1/messages/read',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['with'], properties: { with: USER } } } },
    async (request, reply) => {
      core().markRead(request.body.with.toLowerCase());
      return reply.code(204).send();
    },
  );
  const GROUP_ID = { type: 'string', pattern: '^[0-9a-f]{32}$' };
  app.get('/v1/groups', async () => ({ groups: core().groups() }));
  app.post<{ Body: { name: string; members?: string[] } }>(
    '/v1/groups',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 128 }, members: { type: 'array', maxItems: 127, uniqueItems: true, items: USER } } } } },
    async (request, reply) => reply.code(201).send(await core().createGroup(request.body.name, (request.body.members ?? []).map((u) => u.toLowerCase()))),
  );
  app.get<{ Params: { id: string }; Querystring: { limit?: number } }>(
    '/v1/groups/:id/messages',
    { schema: { params: { type: 'object', required: ['id'], properties: { id: GROUP_ID } }, querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 500 }, token: { type: 'string' } } } } },
    async (request) => ({ messages: core().groupMessages(request.params.id, request.query.limit ?? 100) }),
  );
  app.post<{ Params: { id: string }; Body: { text: string; mentions?: string[] } }>(
    '/v1/groups/:id/messages',
    {
      schema: {
        params: { type: 'object', required: ['id'], properties: { id: GROUP_ID } },
        body: { type: 'object', additionalProperties: false, required: ['text'], properties: { text: { type: 'string', minLength: 1, maxLength: 4000 }, mentions: { type: 'array', maxItems: 32, uniqueItems: true, items: USER } } },
      },
    },
    async (request, reply) => reply.code(201).send(await core().sendGroupMessage(request.params.id, request.body.text, (request.body.mentions ?? []).map((u) => u.toLowerCase()))),
  );
  // A static segment: Fastify matches it before the `:action` route below.
  app.post<{ Params: { id: string } }>(
    '/v1/groups/:id/call',
    { schema: { params: { type: 'object', required: ['id'], properties: { id: GROUP_ID } } } },
    async (request, reply) => reply.code(201).send(await core().startGroupCall(request.params.id)),
  );
  app.post<{ Params: { id: string; action: GroupAction }; Body: { user?: string; name?: string } | undefined }>(
    '/v1/groups/:id/:action',
    { schema: { params: { type: 'object', required: ['id', 'action'], properties: { id: GROUP_ID, action: { type: 'string', enum: [...GROUP_ACTIONS] } } } } },
    async (request) => {
      const { id, action } = request.params;
      // The body is optional (leave and read have none), so it is checked here: at most `user` or `name`.
      const body: unknown = request.body ?? {};
      const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : null;
      const argument = action === 'rename' ? fields?.name : fields?.user;
      if (!fields || Object.keys(fields).some((k) => k !== 'user' && k !== 'name') || (argument !== undefined && (typeof argument !== 'string' || argument.length < 1 || argument.length > 128))) {
        throw new LocalApiError(400, 'invalid_request', 'the body is at most { user } or { name }');
      }
      if ((action === 'invite' || action === 'remove' || action === 'rename') && typeof argument !== 'string') throw new LocalApiError(400, 'invalid_request', `${action} needs ${action === 'rename' ? 'a name' : 'a user'}`);
      const text = typeof argument === 'string' ? (action === 'rename' ? argument : argument.toLowerCase()) : undefined;
      return core().groupAction(id, action, text);
    },
  );
  app.post<{ Body: { to: string } }>(
    '/v1/calls',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['to'], properties: { to: USER } } } },
    async (request, reply) => reply.code(201).send(await core().call(request.body.to.toLowerCase())),
  );
  app.get('/v1/calls', async () => ({ calls: core().calls() }));
  app.post<{ Params: { id: string; action: CallAction } }>(
    '/v1/calls/:id/:action',
    { schema: { params: { type: 'object', required: ['id', 'action'], properties: { id: { type: 'string', pattern: '^[0-9a-f]{32}$' }, action: { type: 'string', enum: [...CALL_ACTIONS] } } } } },
    async (request) => {
      const call = core().callAction(request.params.id, request.params.action);
      if (!call) throw new LocalApiError(404, 'no_such_call', `no call ${request.params.id} to ${request.params.action}`);
      return call;
    },
  );
  app.post<{ Body: { users: string[] } }>(
    '/v1/conferences',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['users'], properties: { users: { type: 'array', minItems: 1, maxItems: 15, uniqueItems: true, items: USER } } } } },
    async (request, reply) => reply.code(201).send(await core().startConference(request.body.users.map((u) => u.toLowerCase()))),
  );
  app.get('/v1/conferences', async () => ({ conferences: core().conferences() }));
  app.post<{ Params: { id: string; action: ConferenceAction } }>(
    '/v1/conferences/:id/:action',
    { schema: { params: { type: 'object', required: ['id', 'action'], properties: { id: { type: 'string', pattern: '^[0-9a-f]{32}$' }, action: { type: 'string', enum: [...CONFERENCE_ACTIONS] } } } } },
    async (request) => {
      const { id, action } = request.params;
      // The body is optional (join, decline, leave have none), so it is checked here: at most `user`.
      const body: unknown = request.body ?? {};
      const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : null;
      const named = fields?.user;
      if (!fields || Object.keys(fields).some((k) => k !== 'user') || (named !== undefined && (typeof named !== 'string' || named.length < 1 || named.length > 64))) {
        throw new LocalApiError(400, 'invalid_request', 'the body is at most { user }');
      }
      const user = typeof named === 'string' ? named.toLowerCase() : undefined;
      if ((action === 'invite' || action === 'kick') && !user) throw new LocalApiError(400, 'invalid_request', `${action} needs a user`);
      const conference = await core().conferenceAction(id, action, user);
      if (!conference) throw new LocalApiError(404, 'no_such_conference', `no conference ${id} to ${action}${user ? ` ${user}` : ''}`);
      return conference;
    },
  );
  // Events, as JSON text messages, from the moment the socket opens.
  app.get('/v1/events', { websocket: true }, (socket) => {
    const stop = gate.onEvent((event) => {
      // A client that does not read its events is cut off rather than let them pile up here.
      if (socket.bufferedAmount > MAX_BUFFERED_EVENT_BYTES) return socket.close(1013, 'events not read');
      socket.send(JSON.stringify(event));
    });
    socket.on('close', stop);
    socket.on('message', () => socket.close(1003, 'this socket only sends'));
  });
  // Call audio both ways, binary 10 ms frames (docs/daemon.md).
  app.get('/v1/audio', { websocket: true }, (socket) => {
    const signedIn = gate.core();
    if (!signedIn) return socket.close(4409, 'signed out');
    const link = signedIn.attachAudio((frame) => socket.bufferedAmount <= MAX_BUFFERED_AUDIO_BYTES && socket.send(frame));
    socket.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      if (!isBinary || Array.isArray(data)) return;
      link.microphone(data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    });
    socket.on('close', () => link.detach());
  });
  await app.ready();
  return app;
}
