// Counts every answered request by route and status, times it, and counts the outcome of the
// routes whose outcome matters to an operator (logins, registrations) by their refusal code —
// in one place, from Fastify's hooks, so the route handlers stay about their work.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { LoginMetrics } from './metrics.js';

/** Routes whose outcome is counted, and how: `result` is `ok` or the refusal's code. */
const OUTCOMES: Readonly<Record<string, (metrics: LoginMetrics, result: string) => void>> = {
  'POST /v1/accounts': (m, result) => m.registrations.inc({ result }),
  'POST /v1/login/password': (m, result) => m.logins.inc({ kind: 'password', result }),
  'POST /v1/login/device': (m, result) => m.logins.inc({ kind: 'device', result }),
};

/** The stable code of a refused request, as its error answer carried it. */
const refusals = new WeakMap<FastifyRequest, string>();

/** Called by the error handler with the code it answered with. */
export function noteRefusal(request: FastifyRequest, code: string): void {
  refusals.set(request, code);
}

export function countRequests(app: FastifyInstance, metrics: LoginMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    // The route's pattern (/v1/devices/:id), never the raw URL: one series per route.
    const route = request.routeOptions.url ?? 'no_route';
    const status = reply.statusCode;
    metrics.httpRequests.inc({ route, method: request.method, status: String(status) });
    metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
    const outcome = OUTCOMES[`${request.method} ${route}`];
    if (outcome) outcome(metrics, status < 400 ? 'ok' : (refusals.get(request) ?? `http_${status}`));
  });
}
