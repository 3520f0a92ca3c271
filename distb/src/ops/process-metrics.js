// The process's own metrics — CPU, memory, heap, file descriptors, GC, and event-loop lag
// (`nodejs_eventloop_lag_*`, from perf_hooks' delay histogram) — in one registry per process.
// They describe the process, not a server: a process that runs a login server and supernodes
// (`parley local`) serves the same numbers on each of its ops ports, and starting one more
// server does not start one more event-loop monitor (each is a 10 ms timer that never stops).
import { collectDefaultMetrics, Registry } from 'prom-client';
let shared = null;
export function processMetrics() {
    if (!shared) {
        shared = new Registry();
        collectDefaultMetrics({ register: shared });
    }
    return shared;
}
//# sourceMappingURL=process-metrics.js.map