import { LoginError } from '../client/login-client.js';
import { LocalApiError, USER } from './api-error.js';
import { OWN_PRESENCE_NAMES } from './local-api.js';
const PASSWORD = { type: 'string', minLength: 1, maxLength: 1024 };
/** Runs work that asks the login server; a network failure becomes a typed 503. */
async function viaLoginServer(work) {
    try {
        return await work();
    }
    catch (error) {
        if (error instanceof LoginError || error instanceof LocalApiError)
            throw error;
        throw new LocalApiError(503, 'login_server_unreachable', `the login server does not answer (${error.message})`);
    }
}
export function registerAccountRoutes(app, gate, core) {
    app.get('/v1/account', async () => gate.account());
    app.post('/v1/account/signup', { schema: { body: { type: 'object', additionalProperties: false, required: ['username', 'password'], properties: { username: USER, password: PASSWORD, discoverable: { type: 'boolean' } } } } }, async (request, reply) => reply.code(201).send(await viaLoginServer(() => gate.signUp(request.body.username, request.body.password, request.body.discoverable ?? false))));
    app.post('/v1/account/login', { schema: { body: { type: 'object', additionalProperties: false, required: ['username', 'password'], properties: { username: USER, password: PASSWORD } } } }, async (request) => viaLoginServer(() => gate.logIn(request.body.username, request.body.password)));
    app.post('/v1/account/logout', async (_request, reply) => {
        await gate.logOut();
        return reply.code(204).send();
    });
    app.get('/v1/buddy-requests', async () => viaLoginServer(() => core().buddyRequests()));
    app.post('/v1/buddy-requests', { schema: { body: { type: 'object', additionalProperties: false, required: ['to'], properties: { to: USER, message: { type: 'string', minLength: 1, maxLength: 500 } } } } }, async (request, reply) => {
        const words = await viaLoginServer(() => core().requestBuddy(request.body.to.toLowerCase(), request.body.message));
        return reply.code(202).send({ sent: true, words });
    });
    app.post('/v1/buddy-requests/:id/:action', { schema: { params: { type: 'object', required: ['id', 'action'], properties: { id: { type: 'integer', minimum: 1 }, action: { type: 'string', enum: ['accept', 'decline'] } } } } }, async (request, reply) => {
        const { id, action } = request.params;
        if (!(await viaLoginServer(() => core().answerBuddyRequest(id, action))))
            throw new LocalApiError(404, 'no_such_request', `no buddy request ${id} to ${action}`);
        return reply.code(204).send();
    });
    app.get('/v1/search', { schema: { querystring: { type: 'object', required: ['q'], properties: { q: { type: 'string', minLength: 1, maxLength: 33 }, token: { type: 'string' } } } } }, async (request) => ({ users: await viaLoginServer(() => core().search(request.query.q)) }));
    app.get('/v1/presence', async () => core().presence());
    app.put('/v1/presence', { schema: { body: { type: 'object', additionalProperties: false, required: ['state', 'text'], properties: { state: { type: 'string', enum: [...OWN_PRESENCE_NAMES] }, text: { type: 'string', maxLength: 200 } } } } }, async (request) => core().setPresence(request.body));
    app.post('/v1/buddies/:user/:edit', { schema: { params: { type: 'object', required: ['user', 'edit'], properties: { user: USER, edit: { type: 'string', enum: ['remove', 'block', 'unblock'] } } } } }, async (request, reply) => {
        await viaLoginServer(() => core().editBuddy(request.params.user.toLowerCase(), request.params.edit));
        return reply.code(204).send();
    });
    app.get('/v1/settings', async () => core().settings());
    app.patch('/v1/settings', {
        schema: {
            body: {
                type: 'object',
                additionalProperties: false,
                minProperties: 1,
                properties: { discoverable: { type: 'boolean' }, callsFrom: { type: 'string', enum: ['buddies', 'anyone'] }, allowSupernode: { type: 'boolean' } },
            },
        },
    }, async (request) => viaLoginServer(() => core().updateSettings(request.body)));
}
//# sourceMappingURL=account-routes.js.map