// The login server's HTTP application: Fastify with strict schemas on every route (unknown
// fields and wrong types are refused, bodies are not coerced), one error shape for every
// refusal — `{ error: { code, message } }` with a 4xx — and the OpenAPI document at /openapi.json.
// /healthz and /readyz answer here too, for a load balancer in front; /metrics does not (see
// ops.ts: it is served on a separate, by default loopback, port).
import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import Fastify, {} from 'fastify';
import { ApiError } from './context.js';
import { accountRoutes } from './routes/accounts.js';
import { socialRoutes } from './routes/social.js';
import { supernodeRoutes } from './routes/supernodes.js';
import { countRequests, noteRefusal } from './request-metrics.js';
import { loginServerReadiness } from './readiness.js';
/**
 * pino set up to write what src/ops/log.ts writes: `level` as its name, `time` in ISO 8601
 * from the server's clock, no pid or hostname; requests logged by route pattern, without the
 * query string or path parameters (search terms and usernames stay out of the logs).
 */
function loggerOptions(context, log) {
    return {
        level: log.level,
        stream: { write: (line) => void log.stream.write(line) },
        base: null,
        timestamp: () => `,"time":"${new Date(context.clock.wallTimeMs()).toISOString()}"`,
        formatters: { level: (label) => ({ level: label }) },
        serializers: {
            req: (request) => ({
                method: request.method,
                route: request.routeOptions?.url ?? 'no_route',
                remoteAddress: request.ip,
            }),
        },
    };
}
export async function buildLoginServer(context, options = {}) {
    const app = Fastify({
        ...(options.https ? { https: { key: options.https.key, cert: options.https.cert } } : {}),
        bodyLimit: context.config.maxBodyBytes,
        trustProxy: options.trustProxy ?? false,
        logger: options.log ? loggerOptions(context, options.log) : false,
    });
    countRequests(app, context.metrics);
    // Bodies are validated exactly; query strings and path parameters arrive as text and are coerced.
    const strict = new Ajv({ removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false, strict: false });
    const coercing = new Ajv({ removeAdditional: false, coerceTypes: true, useDefaults: false, allErrors: false, strict: false });
    app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
    await app.register(swagger, {
        openapi: {
            info: { title: 'Parley login server', version: '1', description: 'Accounts, device certificates, contacts, directory fallback and offline messages of a Parley network.' },
            components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        },
    });
    app.setErrorHandler((error, request, reply) => {
        if (error instanceof ApiError) {
            noteRefusal(request, error.code);
            if (error.retryAfterMs !== undefined)
                reply.header('retry-after', Math.ceil(error.retryAfterMs / 1000));
            return reply.code(error.status).send({ error: { code: error.code, message: error.message, ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}) } });
        }
        if (error.validation) {
            noteRefusal(request, 'invalid_request');
            return reply.code(400).send({ error: { code: 'invalid_request', message: `${error.validationContext ?? 'request'} ${error.validation[0]?.instancePath ?? ''} ${error.validation[0]?.message ?? 'is invalid'}`.replace(/\s+/g, ' ') } });
        }
        const byFastifyCode = {
            FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body_too_large'],
            FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
            FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'malformed_json'],
            FST_ERR_CTP_INVALID_JSON_BODY: [400, 'malformed_json'],
        };
        const known = byFastifyCode[error.code ?? ''] ?? (error instanceof SyntaxError ? [400, 'malformed_json'] : undefined);
        if (known) {
            noteRefusal(request, known[1]);
            return reply.code(known[0]).send({ error: { code: known[1], message: error.message } });
        }
        if (error.statusCode && error.statusCode < 500)
            return reply.code(error.statusCode).send({ error: { code: 'invalid_request', message: error.message } });
        reply.log.error(error);
        return reply.code(500).send({ error: { code: 'internal', message: 'internal error' } });
    });
    app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: { code: 'no_such_route', message: 'no such route' } }));
    accountRoutes(app, context);
    socialRoutes(app, context);
    supernodeRoutes(app, context);
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    // For a load balancer: the process answers; the database answers a trivial query.
    app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
    app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
        const state = await loginServerReadiness(context);
        if (!state.ready)
            reply.code(503);
        return state;
    });
    await app.ready();
    return app;
}
//# sourceMappingURL=server.js.map