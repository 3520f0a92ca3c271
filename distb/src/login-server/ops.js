// The login server's operations endpoint: /metrics, /healthz, /readyz on a port of its own.
//
// Why not /metrics on the public API port: the counters tell anyone how many people log in,
// register and fail to, and a scrape costs work an attacker could ask for without limit. So
// /metrics is served only here, bound to loopback unless the operator names another address
// (a private interface the scraper reaches). /healthz and /readyz are on the public port too,
// for load balancers; they say nothing but "ok" or "not ready".
import { startOpsServer } from '../ops/ops-server.js';
import { loginServerReadiness } from './readiness.js';
export function serveLoginServerOps(context, options) {
    return startOpsServer({
        ...(options.host ? { host: options.host } : {}),
        port: options.port,
        registry: context.metrics.registry,
        ready: () => loginServerReadiness(context),
        ...(options.log ? { log: options.log } : {}),
    });
}
//# sourceMappingURL=ops.js.map