// The injected environment. Every module that needs time, randomness or the network
// receives these interfaces; nothing below src/ reaches for globals. Two implementations
// exist: real (node:net, node:dgram, timers, node:crypto) and virtual (src/env/virtual/).
export class NetError extends Error {
    code;
    constructor(code, message) {
        super(message);
        this.code = code;
        this.name = 'NetError';
    }
}
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** A promise that resolves after `delayMs` of the given clock (virtual or real). */
export function sleep(clock, delayMs) {
    return new Promise((resolve) => clock.after(delayMs, resolve));
}
export function formatEndpoint(endpoint) {
    return `${endpoint.host}:${endpoint.port}`;
}
/** The same address and port (null is the same as nothing). */
export function sameEndpoint(a, b) {
    return a !== null && b !== null && a.host === b.host && a.port === b.port;
}
//# sourceMappingURL=types.js.map