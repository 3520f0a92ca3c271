// The login server's HTTP application: Fastify with strict schemas on every route (unknown
// fields and wrong types are refused, bodies are not coerced), one error shape for every
// refusal — `{ error: { code, message } }` with a 4xx — and the OpenAPI document at /openapi.json.
// /healthz and /readyz answer here too, for a load balancer in front; /metrics does not (see
// ops.ts: it is served on a separate, by default loopback, port).
import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { ApiError, type ServerContext } from './context.js';
import { accountRoutes } from './routes/accounts.js';
import { socialRoutes } from './routes/social.js';
import { supernodeRoutes } from './routes/supernodes.js';
import { countRequests, noteRefusal } from './request-metrics.js';
import { loginServerReadiness } from './readiness.js';
import type { LineSink, LogLevel } from '../ops/log.js';
import { DEFAULT_CONNECTION_LIMITS, guardConnections, nodeServerOptions, type ConnectionLimits } from './connection-limits.js';
import { LOGIN_SERVER_TLS } from './tls-policy.js';
import { bearerChallenge } from './www-authenticate.js';
import { USER_TEXT_FORMATS } from './schemas.js';
import { checkUserText } from '../wire/user-text.js';
import { documentOperations } from './api-docs.js';

export interface ServerOptions {
  readonly https?: { readonly key: string; readonly cert: string } | null;
  /** Trust X-Forwarded-For from a load balancer in front (for per-IP limits). */
  readonly trustProxy?: boolean;
  /** JSON log lines (Fastify's pino, in the shape of src/ops/log.ts); default none. */
  readonly log?: { readonly level: LogLevel; readonly stream: LineSink };
  /** Deadlines and caps on connections (connection-limits.ts); default DEFAULT_CONNECTION_LIMITS. */
  readonly connectionLimits?: Partial<ConnectionLimits>;
}

/**
 * pino set up to write what src/ops/log.ts writes: `level` as its name, `time` in ISO 8601
 * from the server's clock, no pid or hostname; requests logged by route pattern, without the
 * query string or path parameters (search terms and usernames stay out of the logs).
 */
function loggerOptions(context: ServerContext, log: NonNullable<ServerOptions['log']>): FastifyServerOptions['logger'] {
  return {
    level: log.level,
    stream: { write: (line: string) => void log.stream.write(line) },
    base: null,
    timestamp: () => `,"time":"${new Date(context.clock.wallTimeMs()).toISOString()}"`,
    formatters: { level: (label: string) => ({ level: label }) },
    serializers: {
      req: (request: { method: string; url: string; ip?: string; routeOptions?: { url?: string } }) => ({
        method: request.method,
        route: request.routeOptions?.url ?? 'no_route',
        remoteAddress: request.ip,
      }),
    },
  };
}

/** The typed refusal of user text (user-text.ts) behind a failed format check, if that is what failed. */
function userTextRefusal(failure: { keyword?: string; params?: Record<string, unknown>; data?: unknown; instancePath?: string } | undefined): { code: string; message: string } | null {
  if (failure?.keyword !== 'format' || typeof failure.data !== 'string') return null;
  const kind = failure.params?.format === USER_TEXT_FORMATS.name ? 'name' : failure.params?.format === USER_TEXT_FORMATS.message ? 'message' : null;
  if (!kind) return null;
  const checked = checkUserText(failure.data, kind);
  return checked.ok ? null : { code: checked.error.code, message: `${failure.instancePath ?? ''}: ${checked.error.message}`.replace(/^: /, '') };
}

export async function buildLoginServer(context: ServerContext, options: ServerOptions = {}): Promise<FastifyInstance> {
  const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...options.connectionLimits };
  const app = Fastify({
    ...(options.https
      ? { https: { key: options.https.key, cert: options.https.cert, ...LOGIN_SERVER_TLS, ...nodeServerOptions(limits) } }
      : { http: nodeServerOptions(limits) }),
    // Fastify sets these two on the server after making it (its defaults: 72 s, none).
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    bodyLimit: context.config.maxBodyBytes,
    trustProxy: options.trustProxy ?? false,
    logger: options.log ? loggerOptions(context, options.log) : false,
  });
  guardConnections(app.server, limits, { perIp: !(options.trustProxy ?? false), secure: Boolean(options.https) });
  countRequests(app, context.metrics);
  // Bodies are validated exactly; query strings and path parameters arrive as text and are coerced.
  // `verbose`: a refused value comes with its error, so a refusal of user text can say why.
  const strict = new Ajv({ removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false, strict: false, verbose: true });
  const coercing = new Ajv({ removeAdditional: false, coerceTypes: true, useDefaults: false, allErrors: false, strict: false, verbose: true });
  for (const ajv of [strict, coercing]) {
    for (const kind of ['name', 'message'] as const) ajv.addFormat(USER_TEXT_FORMATS[kind], { type: 'string', validate: (text: string) => checkUserText(text, kind).ok });
  }
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));

  await app.register(swagger, {
    openapi: {
      info: { title: 'Parley login server', version: '1', description: 'Accounts, device certificates, contacts, directory fallback and offline messages of a Parley network.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The access token from POST /v1/login/password or /v1/login/device.' } } },
    },
    // Only the OpenAPI form is configured above, so the document is always `openapiObject`.
    transformObject: (document) => documentOperations(('openapiObject' in document ? document.openapiObject : {}) as Parameters<typeof documentOperations>[0]) as never,
  });

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) {
      noteRefusal(request, error.code);
      if (error.status === 401) reply.header('www-authenticate', bearerChallenge(error.code, error.message));
      if (error.retryAfterMs !== undefined) reply.header('retry-after', Math.ceil(error.retryAfterMs / 1000));
      return reply.code(error.status).send({ error: { code: error.code, message: error.message, ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}) } });
    }
    const textRefusal = userTextRefusal(error.validation?.[0]);
    if (textRefusal) {
      noteRefusal(request, textRefusal.code);
      return reply.code(400).send({ error: textRefusal });
    }
    if (error.validation) {
      noteRefusal(request, 'invalid_request');
      return reply.code(400).send({ error: { code: 'invalid_request', message: `${error.validationContext ?? 'request'} ${error.validation[0]?.instancePath ?? ''} ${error.validation[0]?.message ?? 'is invalid'}`.replace(/\s+/g, ' ') } });
    }
    const byFastifyCode: Record<string, [number, string]> = {
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
    if (error.statusCode && error.statusCode < 500) return reply.code(error.statusCode).send({ error: { code: 'invalid_request', message: error.message } });
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
    if (!state.ready) reply.code(503);
    return state;
  });
  await app.ready();
  return app;
}
