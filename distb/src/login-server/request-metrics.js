/** Routes whose outcome is counted, and how: `result` is `ok` or the refusal's code. */
const OUTCOMES = {
    'POST /v1/accounts': (m, result) => m.registrations.inc({ result }),
    'POST /v1/login/password': (m, result) => m.logins.inc({ kind: 'password', result }),
    'POST /v1/login/device': (m, result) => m.logins.inc({ kind: 'device', result }),
};
/** The stable code of a refused request, as its error answer carried it. */
const refusals = new WeakMap();
/** Called by the error handler with the code it answered with. */
export function noteRefusal(request, code) {
    refusals.set(request, code);
}
export function countRequests(app, metrics) {
    app.addHook('onResponse', async (request, reply) => {
        // The route's pattern (/v1/devices/:id), never the raw URL: one series per route.
        const route = request.routeOptions.url ?? 'no_route';
        const status = reply.statusCode;
        metrics.httpRequests.inc({ route, method: request.method, status: String(status) });
        metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
        const outcome = OUTCOMES[`${request.method} ${route}`];
        if (outcome)
            outcome(metrics, status < 400 ? 'ok' : (refusals.get(request) ?? `http_${status}`));
    });
}
//# sourceMappingURL=request-metrics.js.map