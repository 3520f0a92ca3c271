// Bounds on what a connection to the login server may hold before it does useful work (issue 19:
// 1 000 connections that never sent a TLS ClientHello were all still open after 20 s). Each
// stage has its own deadline, and the number of connections is capped:
// - TCP accepted → TLS handshake done: `handshakeTimeoutMs` (Node's tls.Server handshakeTimeout);
// - handshake done → first request's headers in: `firstRequestTimeoutMs` (our timer: Node's
//   headersTimeout does not cover a connection that never sends a byte after the handshake);
// - a request's headers: `headersTimeoutMs`; a whole request: `requestTimeoutMs` (Node answers
//   408 and closes; it checks every `checkIntervalMs`);
// - between two requests on a kept-alive connection: `keepAliveTimeoutMs`;
// - at most `maxConnections` at once (Node refuses more), and at most `maxConnectionsPerIp` from
//   one address — unless the server trusts X-Forwarded-For, when every connection comes from
//   the load balancer and the balancer bounds its clients.
import type { Server } from 'node:net';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  readonly handshakeTimeoutMs: number;
  readonly firstRequestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly checkIntervalMs: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  handshakeTimeoutMs: 10_000,
  firstRequestTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  // Bodies are at most 96 KiB (maxBodyBytes): 30 s is a slow link's worth.
  requestTimeoutMs: 30_000,
  // Long enough that a client's next request usually finds its connection open, short enough
  // that idle ones do not pile up (Fastify's own default is 72 s).
  keepAliveTimeoutMs: 15_000,
  checkIntervalMs: 1_000,
  maxConnections: 4_096,
  // Many users can share one address (a campus or carrier NAT); each holds one or two.
  maxConnectionsPerIp: 256,
};

/** The options for http(s).createServer that carry the limits Node enforces itself. */
export function nodeServerOptions(limits: ConnectionLimits) {
  return {
    handshakeTimeout: limits.handshakeTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.checkIntervalMs,
  };
}

/**
 * Enforces the limits Node does not: connections per address, and the first request's deadline.
 * `server` is the http(s) server, before it listens. `perIp` false: behind a trusted proxy.
 */
export function guardConnections(server: Server, limits: ConnectionLimits, options: { readonly perIp: boolean; readonly secure: boolean }): void {
  server.maxConnections = limits.maxConnections;
  const perAddress = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    if (!options.perIp) return;
    const address = socket.remoteAddress ?? '';
    const count = (perAddress.get(address) ?? 0) + 1;
    if (count > limits.maxConnectionsPerIp) {
      socket.destroy();
      return;
    }
    perAddress.set(address, count);
    socket.once('close', () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
  });
  // The first request's deadline starts when the connection is ready for HTTP: after the TLS
  // handshake, or at once on plain HTTP.
  const armed = new WeakMap<Socket, NodeJS.Timeout>();
  server.on(options.secure ? 'secureConnection' : 'connection', (socket: Socket) => {
    const timer = setTimeout(() => socket.destroy(), limits.firstRequestTimeoutMs);
    armed.set(socket, timer);
    socket.once('close', () => clearTimeout(timer));
  });
  server.on('request', (request: { socket: Socket }) => {
    const timer = armed.get(request.socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    armed.delete(request.socket);
  });
}
