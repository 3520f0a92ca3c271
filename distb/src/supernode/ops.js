// A supernode's operations endpoint: /metrics, /healthz, /readyz on a port of its own (loopback
// unless the operator names another address: the metrics show how many people use it).
import { startOpsServer } from '../ops/ops-server.js';
import { supernodeMetrics } from './metrics.js';
/**
 * Ready while the supernode runs and can take another client. A full supernode is healthy
 * (/healthz says so) but not ready: an orchestrator or a monitor should not send it more.
 */
export function supernodeReadiness(supernode) {
    if (supernode.closed)
        return { ready: false, reason: 'closed' };
    if (supernode.attachments.size >= supernode.attachments.limits.maxClients)
        return { ready: false, reason: 'full: as many clients as it may serve' };
    return { ready: true };
}
export function serveSupernodeOps(supernode, options) {
    return startOpsServer({
        ...(options.host ? { host: options.host } : {}),
        port: options.port,
        registry: supernodeMetrics(supernode),
        ready: () => supernodeReadiness(supernode),
        ...(options.log ? { log: options.log } : {}),
    });
}
//# sourceMappingURL=ops.js.map