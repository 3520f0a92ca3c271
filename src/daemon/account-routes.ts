// The local API's account and people routes: signing up, logging in and out on this device, buddy
// requests, finding users, and the user's settings. Signing up and logging in work while nobody
// is signed in; the rest need the session (`core`, a 409 without one). The login server's own
// refusals (a taken name, a wrong password) pass through typed; a login server that does not
// answer is a 503, not a 500.
import type { FastifyInstance } from 'fastify';
import { LoginError } from '../client/login-client.js';
import { LocalApiError, USER } from './api-error.js';
import { OWN_PRESENCE_NAMES, type BuddyEdit, type DaemonCore, type DaemonGate, type DaemonSettings, type OwnPresence } from './api-types.js';

const PASSWORD = { type: 'string', minLength: 1, maxLength: 1024 } as const;

/** Runs work that asks the login server; a network failure becomes a typed 503. */
async function viaLoginServer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof LoginError || error instanceof LocalApiError) throw error;
    throw new LocalApiError(503, 'login_server_unreachable', `the login server does not answer (${(error as Error).message})`);
  }
}

export function registerAccountRoutes(app: FastifyInstance, gate: DaemonGate, core: () => DaemonCore): void {
  app.get('/v1/account', async () => gate.account());
  app.post<{ Body: { username: string; password: string; discoverable?: boolean } }>(
    '/v1/account/signup',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['username', 'password'], properties: { username: USER, password: PASSWORD, discoverable: { type: 'boolean' } } } } },
    async (request, reply) => reply.code(201).send(await viaLoginServer(() => gate.signUp(request.body.username, request.body.password, request.body.discoverable ?? false))),
  );
  app.post<{ Body: { username: string; password: string } }>(
    '/v1/account/login',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['username', 'password'], properties: { username: USER, password: PASSWORD } } } },
    async (request) => viaLoginServer(() => gate.logIn(request.body.username, request.body.password)),
  );
  app.post('/v1/account/logout', async (_request, reply) => {
    await gate.logOut();
    return reply.code(204).send();
  });

  app.get('/v1/buddy-requests', async () => viaLoginServer(() => core().buddyRequests()));
  app.post<{ Body: { to: string; message?: string } }>(
    '/v1/buddy-requests',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['to'], properties: { to: USER, message: { type: 'string', minLength: 1, maxLength: 500 } } } } },
    async (request, reply) => {
      const words = await viaLoginServer(() => core().requestBuddy(request.body.to.toLowerCase(), request.body.message));
      return reply.code(202).send({ sent: true, words });
    },
  );
  app.post<{ Params: { id: number; action: 'accept' | 'decline' } }>(
    '/v1/buddy-requests/:id/:action',
    { schema: { params: { type: 'object', required: ['id', 'action'], properties: { id: { type: 'integer', minimum: 1 }, action: { type: 'string', enum: ['accept', 'decline'] } } } } },
    async (request, reply) => {
      const { id, action } = request.params;
      if (!(await viaLoginServer(() => core().answerBuddyRequest(id, action)))) throw new LocalApiError(404, 'no_such_request', `no buddy request ${id} to ${action}`);
      return reply.code(204).send();
    },
  );
  app.get<{ Querystring: { q: string } }>(
    '/v1/search',
    { schema: { querystring: { type: 'object', required: ['q'], properties: { q: { type: 'string', minLength: 1, maxLength: 33 }, token: { type: 'string' } } } } },
    async (request) => ({ users: await viaLoginServer(() => core().search(request.query.q)) }),
  );
  app.get('/v1/presence', async () => core().presence());
  app.put<{ Body: OwnPresence }>(
    '/v1/presence',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['state', 'text'], properties: { state: { type: 'string', enum: [...OWN_PRESENCE_NAMES] }, text: { type: 'string', maxLength: 200 } } } } },
    async (request) => core().setPresence(request.body),
  );
  app.post<{ Params: { user: string; edit: BuddyEdit } }>(
    '/v1/buddies/:user/:edit',
    { schema: { params: { type: 'object', required: ['user', 'edit'], properties: { user: USER, edit: { type: 'string', enum: ['remove', 'block', 'unblock'] } } } } },
    async (request, reply) => {
      await viaLoginServer(() => core().editBuddy(request.params.user.toLowerCase(), request.params.edit));
      return reply.code(204).send();
    },
  );
  app.get('/v1/settings', async () => core().settings());
  app.patch<{ Body: Partial<DaemonSettings> }>(
    '/v1/settings',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { discoverable: { type: 'boolean' }, callsFrom: { type: 'string', enum: ['buddies', 'anyone'] }, allowSupernode: { type: 'boolean' } },
        },
      },
    },
    async (request) => viaLoginServer(() => core().updateSettings(request.body)),
  );
}
