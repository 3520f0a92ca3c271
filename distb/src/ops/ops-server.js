// The operations endpoint of a server, on its own host:port (loopback by default, see
// docs/operations.md): GET /metrics (Prometheus text format), GET /healthz (the process answers),
// GET /readyz (200 only while the server's own readiness check says so, else 503). Nothing else.
//
// It is meant for a scraper on a private network, but it is an open TCP port all the same, so
// it is bounded: GET only (405 otherwise), no request bodies read, small headers, a few
// connections at once, short timeouts, one readiness check in flight at a time and never longer
// than READY_CHECK_TIMEOUT_MS (a hung database makes /readyz say 503, not hang).
import { createServer } from 'node:http';
import { silentLogger } from './log.js';
import { processMetrics } from './process-metrics.js';
export const OPS_MAX_CONNECTIONS = 16;
export const OPS_MAX_HEADER_BYTES = 4096;
/** A whole request (headers included) must arrive within this; an idle connection closes after it. */
export const OPS_SOCKET_TIMEOUT_MS = 5_000;
export const READY_CHECK_TIMEOUT_MS = 2_000;
/** One readiness check at a time (scrapers and probes share its answer), bounded in time. */
function sharedReadiness(check, timeoutMs, log) {
    let inFlight = null;
    return () => {
        inFlight ??= new Promise((resolve) => {
            const timer = setTimeout(() => resolve({ ready: false, reason: `readiness check took longer than ${timeoutMs} ms` }), timeoutMs);
            Promise.resolve()
                .then(check)
                .then(resolve, (error) => {
                log.warn('readiness check failed', { error });
                resolve({ ready: false, reason: 'readiness check failed' });
            })
                .finally(() => clearTimeout(timer));
        }).finally(() => {
            inFlight = null;
        });
        return inFlight;
    };
}
function send(response, status, body, contentType = 'text/plain; charset=utf-8', extra = {}) {
    response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...extra });
    response.end(body);
}
export async function startOpsServer(options) {
    const log = options.log ?? silentLogger;
    const readiness = sharedReadiness(options.ready, options.readyTimeoutMs ?? READY_CHECK_TIMEOUT_MS, log);
    const registries = [processMetrics(), options.registry];
    const handle = async (request, response) => {
        if (request.method !== 'GET')
            return send(response, 405, 'GET only\n', undefined, { allow: 'GET' });
        const path = (request.url ?? '').split('?')[0];
        switch (path) {
            case '/metrics': {
                const texts = await Promise.all(registries.map((r) => r.metrics()));
                return send(response, 200, texts.join(''), options.registry.contentType);
            }
            case '/healthz':
                return send(response, 200, 'ok\n');
            case '/readyz': {
                const state = await readiness();
                return state.ready ? send(response, 200, 'ready\n') : send(response, 503, `not ready: ${state.reason}\n`);
            }
            default:
                return send(response, 404, 'not found: try /metrics, /healthz or /readyz\n');
        }
    };
    const server = createServer({ maxHeaderSize: OPS_MAX_HEADER_BYTES, requestTimeout: OPS_SOCKET_TIMEOUT_MS, headersTimeout: OPS_SOCKET_TIMEOUT_MS, keepAliveTimeout: OPS_SOCKET_TIMEOUT_MS }, (request, response) => {
        // A body is never read: the connection is not reused after one (Node drains what it can, then closes).
        handle(request, response).catch((error) => {
            log.error('ops endpoint failed', { path: request.url, error });
            if (!response.headersSent)
                send(response, 500, 'internal error\n');
            else
                response.destroy();
        });
    });
    server.maxConnections = OPS_MAX_CONNECTIONS;
    server.setTimeout(OPS_SOCKET_TIMEOUT_MS, (socket) => socket.destroy());
    const host = options.host ?? '127.0.0.1';
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, host, () => {
            server.off('error', reject);
            resolve();
        });
    });
    const port = server.address().port;
    log.info('ops endpoint listening', { host, port, paths: ['/metrics', '/healthz', '/readyz'] });
    return {
        host,
        port,
        close: () => new Promise((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
        }),
    };
}
//# sourceMappingURL=ops-server.js.map