// Runs a SecureChannel over a TCP connection of the injected `Net`: the adapter owns the
// socket and the timers, the channel owns the protocol. Works unchanged on real sockets and on
// the virtual network.
import { Inbox, Latch } from '../env/inbox.js';
import type { Endpoint, Env, TcpConnection, TcpListener, Timer, TlsConnect } from '../env/types.js';
import { readFirstBytes } from '../env/first-bytes.js';
import { CloseReason, type Envelope } from '../wire/messages.js';
import type { VerifiedCertificate } from './certificate.js';
import { SecureChannel, type ChannelConfig, type ChannelError, type ChannelOutput } from './secure-channel.js';
import { KeyedTokenBuckets } from '../util/token-bucket.js';

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Handshakes a listener runs at once; more connections are closed at once (bounded work per peer flood). */
export const DEFAULT_MAX_PENDING_HANDSHAKES = 256;
/**
 * The share of those slots one remote address may hold (256 / 8 = 32 by default): one host
 * cannot take every slot and shut out everyone else, while many honest clients behind one
 * NAT address still handshake side by side (a handshake takes a round trip or two).
 */
export const PENDING_HANDSHAKES_SHARE_PER_HOST = 1 / 8;
/**
 * Handshakes one remote address may start: a burst, then a rate. A recorded first handshake
 * message replayed costs its sender nothing and the responder a whole handshake's work, so
 * the number at once (above) is not enough; clients behind one NAT address still fit.
 */
export const HANDSHAKE_BURST_PER_HOST = 64;
export const HANDSHAKES_PER_SECOND_PER_HOST = 32;
/** Remote addresses whose handshake rate is kept (the oldest is forgotten beyond). */
const MAX_RATED_HOSTS = 10_000;

export type LinkConfig = Omit<ChannelConfig, 'random' | 'wallTimeMs'>;

export class ChannelFailure extends Error {
  constructor(readonly detail: ChannelError) {
    super(`${detail.code}: ${detail.message}`);
    this.name = 'ChannelFailure';
  }

  get code(): ChannelError['code'] {
    return this.detail.code;
  }
}

export interface SecureLink {
  readonly peer: VerifiedCertificate;
  readonly version: number;
  /** The Noise handshake hash: the same on both ends, unique to this link. */
  readonly handshakeHash: Uint8Array;
  readonly remote: Endpoint;
  /** This end's address (the local interface the link uses). */
  readonly local: Endpoint;
  send(body: Envelope['body']): void;
  onMessage(handler: (envelope: Envelope) => void): void;
  /** Adds a handler, called once; `error` is null for a normal close by either side. */
  onClose(handler: (error: ChannelError | null) => void): void;
  close(reason?: CloseReason, detail?: string): void;
}

class ChannelOverTcp implements SecureLink {
  peer!: VerifiedCertificate;
  version = 0;
  handshakeHash: Uint8Array = new Uint8Array(0);
  private readonly inbox = new Inbox<Envelope>();
  private readonly closed = new Latch<ChannelError | null>();
  private timer: Timer | null;
  private settle: ((error: ChannelError | null) => void) | null;

  constructor(
    private readonly channel: SecureChannel,
    private readonly connection: TcpConnection,
    env: Env,
    handshakeTimeoutMs: number,
    settle: (error: ChannelError | null) => void,
  ) {
    this.settle = settle;
    this.timer = env.clock.after(handshakeTimeoutMs, () => {
      if (!channel.isEstablished) this.apply(channel.abort('handshake_timeout', `no handshake within ${handshakeTimeoutMs} ms`));
    });
    connection.onData((bytes) => this.apply(channel.receiveBytes(bytes)));
    connection.onClose(() => this.apply(channel.transportClosed()));
  }

  get remote(): Endpoint {
    return this.connection.remote;
  }

  get local(): Endpoint {
    return this.connection.local;
  }

  apply(outputs: ChannelOutput[]): void {
    for (const output of outputs) {
      switch (output.kind) {
        case 'write':
          this.connection.write(output.bytes);
          break;
        case 'established':
          this.peer = output.peer;
          this.version = output.version;
          this.handshakeHash = output.handshakeHash;
          this.timer?.cancel();
          this.timer = null;
          this.settle?.(null);
          this.settle = null;
          break;
        case 'message':
          this.inbox.deliver(output.envelope);
          break;
        case 'closed':
          this.timer?.cancel();
          this.timer = null;
          this.connection.close();
          if (this.settle) {
            this.settle(output.error ?? { code: 'connection_lost', message: 'closed during the handshake' });
            this.settle = null;
          } else {
            this.closed.fire(output.error);
          }
          break;
      }
    }
  }

  send(body: Envelope['body']): void {
    this.apply(this.channel.sendMessage(body));
  }

  onMessage(handler: (envelope: Envelope) => void): void {
    this.inbox.setHandler(handler);
  }

  onClose(handler: (error: ChannelError | null) => void): void {
    this.closed.addHandler(handler);
  }

  close(reason: CloseReason = CloseReason.NORMAL, detail = ''): void {
    this.apply(this.channel.close(reason, detail));
  }
}

function channelConfig(env: Env, config: LinkConfig): ChannelConfig {
  return { ...config, random: env.random, wallTimeMs: () => env.clock.wallTimeMs() };
}

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly config: LinkConfig;
  readonly connectTimeoutMs?: number;
  readonly handshakeTimeoutMs?: number;
  /**
   * Wraps the connection in TLS first (a supernode's web port, through firewalls that pass only
   * TLS). The link's own handshake authenticates the supernode, so TLS need not.
   */
  readonly tls?: TlsConnect;
}

/** Connects and runs the handshake; rejects with a NetError or a ChannelFailure. */
export async function connectSecure(env: Env, options: ConnectOptions): Promise<SecureLink> {
  const tcp = await env.net.connectTcp({ host: options.host, port: options.port, ...(options.connectTimeoutMs ? { timeoutMs: options.connectTimeoutMs } : {}) });
  const connection = options.tls ? await options.tls(tcp) : tcp;
  const channel = new SecureChannel('initiator', channelConfig(env, options.config));
  return new Promise((resolve, reject) => {
    const link: ChannelOverTcp = new ChannelOverTcp(channel, connection, env, options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, (error) =>
      error ? reject(new ChannelFailure(error)) : resolve(link),
    );
    link.apply(channel.start());
  });
}

export interface ListenOptions {
  readonly host?: string;
  readonly port: number;
  readonly config: LinkConfig;
  readonly onLink: (link: SecureLink) => void;
  /** Every failed inbound handshake, with its reason (for logs and metrics). */
  readonly onFailure?: (error: ChannelError, remote: Endpoint) => void;
  readonly handshakeTimeoutMs?: number;
  readonly maxPendingHandshakes?: number;
  /** Of those, how many one remote address may hold (default: PENDING_HANDSHAKES_SHARE_PER_HOST of them, at least 1). */
  readonly maxPendingHandshakesPerHost?: number;
  /** Handshakes one remote address may start: a burst, then per second (defaults HANDSHAKE_BURST_PER_HOST, HANDSHAKES_PER_SECOND_PER_HOST). */
  readonly handshakeBurstPerHost?: number;
  readonly handshakesPerSecondPerHost?: number;
  /**
   * Another protocol on the same port (TURN over TCP on a supernode's port): it claims a
   * connection by its first 8 bytes (a Noise handshake never starts with the STUN cookie).
   */
  readonly otherProtocol?: {
    claims(firstBytes: Uint8Array): boolean;
    /**
     * `asLink` hands a connection back as a link to be (e.g. the plaintext of TLS on the web
     * port, whose first bytes were a Noise handshake): it takes a handshake slot like any other.
     */
    take(connection: TcpConnection, firstBytes: Uint8Array, asLink: (connection: TcpConnection, firstBytes: Uint8Array) => void): void;
  };
}

/** Bytes a connection must send before it is told apart from another protocol on the port. */
const SNIFF_BYTES = 8;

export function listenSecure(env: Env, options: ListenOptions): Promise<TcpListener> {
  let pending = 0;
  const maxPending = options.maxPendingHandshakes ?? DEFAULT_MAX_PENDING_HANDSHAKES;
  const maxPendingPerHost = options.maxPendingHandshakesPerHost ?? Math.max(1, Math.floor(maxPending * PENDING_HANDSHAKES_SHARE_PER_HOST));
  /** Slots held per remote address (only addresses holding one are kept: bounded by maxPending). */
  const pendingByHost = new Map<string, number>();
  const startsByHost = new KeyedTokenBuckets(options.handshakeBurstPerHost ?? HANDSHAKE_BURST_PER_HOST, options.handshakesPerSecondPerHost ?? HANDSHAKES_PER_SECOND_PER_HOST, MAX_RATED_HOSTS);
  /**
   * How to give up each handshake in progress, oldest first. When every slot is taken the
   * oldest gives way to the newcomer: an honest handshake is over in a round trip or two, so
   * what has waited longest is most likely a connection that will never speak, and many
   * addresses holding idle connections cannot shut the listener to everyone else.
   */
  const inProgress = new Set<() => void>();
  return env.net.listenTcp({
    ...(options.host ? { host: options.host } : {}),
    port: options.port,
    onConnection: (connection) => admit(connection, null, options.otherProtocol ?? null),
  });

  /**
   * A connection asks for a handshake slot; then, when another protocol shares the port and the
   * first bytes are not known yet, they decide. `firstBytes`: already read (a link that came
   * through the other protocol, e.g. inside TLS on the web port).
   */
  function admit(connection: TcpConnection, firstBytes: Uint8Array | null, other: ListenOptions['otherProtocol'] | null): void {
    const host = connection.remote.host;
    const refuse = (message: string) => {
      connection.close();
      options.onFailure?.({ code: 'handshake_timeout', message }, connection.remote);
    };
    const ofHost = pendingByHost.get(host) ?? 0;
    if (ofHost >= maxPendingPerHost) return refuse('too many handshakes in progress from this address');
    if (!startsByHost.take(host, env.clock.now())) return refuse('too many handshakes started from this address lately');
    if (pending >= maxPending) inProgress.values().next().value?.();
    // The slot is given back once: when the handshake ends either way, or when the
    // connection is given up on — not when the peer gets round to closing its side.
    pending++;
    pendingByHost.set(host, ofHost + 1);
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      inProgress.delete(giveWay);
      pending--;
      const left = (pendingByHost.get(host) ?? 1) - 1;
      if (left > 0) pendingByHost.set(host, left);
      else pendingByHost.delete(host);
    };
    const giveWay = () => {
      release();
      refuse('gave way to a newer handshake: every slot was taken');
    };
    inProgress.add(giveWay);
    if (!other || firstBytes) return startChannel(connection, firstBytes, release);
    // Which protocol: decided on the first bytes, within the handshake timeout.
    readFirstBytes(env.clock, connection, {
      bytes: SNIFF_BYTES,
      timeoutMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      onBytes: (sniffed) => {
        if (!other.claims(sniffed)) return startChannel(connection, sniffed, release);
        release();
        other.take(connection, sniffed, (inner, innerFirstBytes) => admit(inner, innerFirstBytes, null));
      },
      onGiveUp: (why) => {
        release();
        if (why === 'timeout') options.onFailure?.({ code: 'handshake_timeout', message: 'no protocol chosen within the handshake timeout' }, connection.remote);
      },
    });
  }

  function startChannel(connection: TcpConnection, firstBytes: Uint8Array | null, release: () => void): void {
    const channel = new SecureChannel('responder', channelConfig(env, options.config));
    const link: ChannelOverTcp = new ChannelOverTcp(channel, connection, env, options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, (error) => {
      release();
      if (error) options.onFailure?.(error, connection.remote);
      else options.onLink(link);
    });
    if (firstBytes) link.apply(channel.receiveBytes(firstBytes));
  }
}
