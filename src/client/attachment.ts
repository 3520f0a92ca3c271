// A client's attachment to a supernode: connect over the secure channel (IK, with the static
// key from the host cache or the bootstrap list), present a signed presence record, keep the
// session alive, and when the supernode dies or stops answering, fail over to the next one.
import { create } from '@bufbuild/protobuf';
import type { Endpoint, Env, Timer, TlsConnect } from '../env/types.js';
import type { CertificateVerifier } from '../crypto/certificate.js';
import type { BootstrapEntry } from '../crypto/descriptor.js';
import type { NodeIdentity } from '../crypto/identity.js';
import { connectSecure, type SecureLink } from '../crypto/secure-link.js';
import { HostCache, raceFirst, type HostEntry } from '../overlay/host-cache.js';
import { createPresenceRecord, verifyPresenceRecord, type VerifiedPresence } from '../overlay/presence.js';
import { RpcChannel } from '../overlay/rpc.js';
import { IDLE_PROBE_MS, SupernodeLiveness } from './liveness.js';
import { jitteredBackoffMs } from '../util/backoff.js';
import { isUsableIpv6 } from './ipv6-address.js';
import { Listeners } from '../util/listeners.js';
import { requestReachabilityCheck, type ReachabilityAnswer } from '../overlay/reachability.js';
import { AttachRefusal, AttachRequestSchema, CloseReason, DeliveryAckSchema, DeliveryOutcome, FindPresenceSchema, FindRefusal, NatType, RouteFailure, RouteRequestSchema, PingSchema, TurnCredentialsRequestSchema, type Candidate, type SupernodeRef } from '../wire/messages.js';

/**
 * A fresh presence record every 75 s (three keep-alive intervals): replicas hold a record 3
 * minutes after its last store (RECORD_LEASE_MS in supernode/dht.ts), so one lost refresh does
 * not make the user vanish, while a record nobody withdraws (device and supernode both gone)
 * dies within 3 minutes. Each refresh is published again, which also puts the record back on
 * enough replicas after supernodes died. Cost: one signed record of ~1 KiB to the supernode,
 * and a store at 8 replicas, per device per 75 s.
 */
export const PRESENCE_REFRESH_MS = 75_000;
export const DEFAULT_ATTACH_TIMEOUT_MS = 5_000;
/** Re-attaching when no supernode answered: 1 s, 2 s, 4 s, … up to 30 s between tries, jittered (util/backoff.ts). */
export const REATTACH_FIRST_MS = 1_000;
export const REATTACH_MAX_MS = 30_000;
/** Supernodes tried at once at startup and on failover. */
export const DEFAULT_PARALLEL_ATTEMPTS = 3;

export class AttachFailure extends Error {
  constructor(
    readonly code: 'refused' | 'timeout' | 'closed',
    message: string,
    readonly refusal?: AttachRefusal,
  ) {
    super(message);
    this.name = 'AttachFailure';
  }
}

export interface SupernodeAddress {
  readonly host: string;
  readonly port: number;
  readonly dhKey: Uint8Array;
  /** A TCP port (443, say) that also takes links, for devices behind web-only firewalls. */
  readonly webPort?: number;
}

/**
 * How long a supernode's own port gets before its web port is dialled too (RFC 8305's
 * happy-eyeballs delay): a web-only firewall drops the first SYN silently, so waiting for it to
 * fail would cost the whole connect timeout.
 */
export const WEB_PORT_DELAY_MS = 250;

export interface Attached {
  readonly link: SecureLink;
  rpc?: RpcChannel;
  readonly supernode: SupernodeAddress;
  readonly keepaliveIntervalMs: number;
  readonly gossip: readonly SupernodeRef[];
}

export interface AttachConfig {
  readonly identity: NodeIdentity;
  readonly verifier: CertificateVerifier;
  readonly username: string;
  readonly candidates?: readonly Omit<Candidate, '$typeName'>[];
  readonly attachTimeoutMs?: number;
  /**
   * TLS for links to a supernode's web port (every `parley supernode` speaks TLS there), so a
   * firewall that passes only TLS on 443 passes the link; without it the web port gets plain TCP.
   */
  readonly webTls?: TlsConnect;
}

function presenceRequest(env: Env, supernode: SupernodeAddress, config: AttachConfig, sequence?: number, natType?: NatType) {
  const nowMs = env.clock.wallTimeMs();
  const presence = createPresenceRecord(config.identity, config.verifier.networkId, config.username, {
    supernodes: [supernode],
    candidates: config.candidates ?? [],
    ...(natType !== undefined ? { natType } : {}),
    sequence: sequence ?? nowMs,
    issuedAtMs: nowMs,
  });
  return { case: 'attachRequest' as const, value: create(AttachRequestSchema, { presence }) };
}

/**
 * A secure link (IK) to a supernode, not yet attached: to its own port, and to its web port
 * too when the first has not answered within WEB_PORT_DELAY_MS (or failed); the first link up
 * wins and the other is closed.
 */
export function connectTo(env: Env, supernode: SupernodeAddress, config: AttachConfig): Promise<SecureLink> {
  const timeoutMs = config.attachTimeoutMs ?? DEFAULT_ATTACH_TIMEOUT_MS;
  const dial = (port: number, tls?: TlsConnect) =>
    connectSecure(env, {
      host: supernode.host,
      port,
      ...(tls ? { tls } : {}),
      config: { identity: config.identity, verifier: config.verifier, remoteStaticKey: supernode.dhKey },
      connectTimeoutMs: timeoutMs,
      handshakeTimeoutMs: timeoutMs,
    });
  const webPort = supernode.webPort;
  if (webPort === undefined || webPort === supernode.port) return dial(supernode.port);
  return new Promise((resolve, reject) => {
    let settled = false;
    let started = 0;
    let failed = 0;
    const won = (link: SecureLink) => {
      if (settled) return link.close();
      settled = true;
      fallback.cancel();
      resolve(link);
    };
    const lost = (error: unknown) => {
      failed++;
      if (started === 1) return startWeb();
      if (failed === started && !settled) {
        settled = true;
        reject(error);
      }
    };
    const start = (port: number, tls?: TlsConnect) => {
      started++;
      dial(port, tls).then(won, lost);
    };
    const startWeb = () => {
      if (started > 1 || settled) return;
      fallback.cancel();
      start(webPort, config.webTls);
    };
    const fallback = env.clock.after(WEB_PORT_DELAY_MS, startWeb);
    start(supernode.port);
  });
}

/** Attaches over an established link: the presence record, and the supernode's answer. */
export function attachOver(env: Env, link: SecureLink, supernode: SupernodeAddress, config: AttachConfig, sequence?: number, natType?: NatType): Promise<Attached> {
  const timeoutMs = config.attachTimeoutMs ?? DEFAULT_ATTACH_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    // Each outcome settles the promise first, then closes: closing runs the close handler.
    const timer = env.clock.after(timeoutMs, () => {
      reject(new AttachFailure('timeout', `no answer to attach from ${supernode.host}:${supernode.port}`));
      link.close();
    });
    link.onClose((error) => {
      timer.cancel();
      reject(new AttachFailure('closed', `link closed while attaching: ${error?.code ?? 'normal'}`));
    });
    link.onMessage((envelope) => {
      if (envelope.body.case === 'attachAccepted') {
        timer.cancel();
        resolve({ link, supernode, keepaliveIntervalMs: envelope.body.value.keepaliveIntervalMs, gossip: envelope.body.value.supernodes });
      } else if (envelope.body.case === 'attachRefused') {
        timer.cancel();
        reject(new AttachFailure('refused', `${AttachRefusal[envelope.body.value.reason] ?? 'refused'}: ${envelope.body.value.detail}`, envelope.body.value.reason));
        link.close();
      }
    });
    link.send(presenceRequest(env, supernode, config, sequence, natType));
  });
}

/** One attempt: secure link, presence record, and the supernode's answer. */
export async function attachTo(env: Env, supernode: SupernodeAddress, config: AttachConfig): Promise<Attached> {
  return attachOver(env, await connectTo(env, supernode, config), supernode, config);
}

export type AttachmentEvent =
  | { readonly kind: 'attached'; readonly supernode: SupernodeAddress; readonly source: 'host-cache' | 'bootstrap'; readonly atMs: number }
  | { readonly kind: 'lost'; readonly supernode: SupernodeAddress; readonly reason: string; readonly atMs: number }
  | { readonly kind: 'unreachable'; readonly atMs: number };

/**
 * Keeps a client attached: startup races the best host-cache entries (then the bootstrap
 * list), keep-alive pings detect a dead supernode, and failover attaches elsewhere.
 */
export class AttachedClient {
  private current: Attached | null = null;
  private keepalive: Timer | null = null;
  private refresh: Timer | null = null;
  private retry: Timer | null = null;
  private nonce = 0n;
  private sequence = 0;
  private natType: NatType = NatType.UNSPECIFIED;
  private closed = false;
  private readonly listeners = new Listeners<[AttachmentEvent]>();
  private deliveryHandler: ((from: string, payload: Uint8Array) => void) | null = null;
  /** Pings sent (a client in use sends none: the supernode's own traffic proves it alive). */
  pingsSent = 0;
  /** Deliveries that came while no handler was set (acknowledged, then dropped: nobody here reads them). */
  deliveriesUnhandled = 0;

  constructor(
    private readonly env: Env,
    private readonly config: AttachConfig & {
      readonly hostCache: HostCache;
      readonly bootstrap: readonly BootstrapEntry[];
      /** A fixed wait for a pong (default: two RTOs of the measured round trips, 1–5 s; client/liveness.ts). */
      readonly pongTimeoutMs?: number;
      /** A link silent this long is probed with a ping (default IDLE_PROBE_MS; the supernode's keep-alive interval if shorter). */
      readonly idleProbeMs?: number;
      readonly parallel?: number;
      /** How often a fresh presence record is sent (default PRESENCE_REFRESH_MS; tests stretch it). */
      readonly presenceRefreshMs?: number;
    },
  ) {}

  /** Returns the removal. */
  onEvent(listener: (event: AttachmentEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  private emit(event: AttachmentEvent): void {
    this.listeners.emit(event);
  }

  get supernode(): SupernodeAddress | null {
    return this.current?.supernode ?? null;
  }

  private lastAttachMs: number | null = null;

  /**
   * How long the last attachment took (connection, handshake, answer: a few round trips, and
   * whatever this machine was too busy to do meanwhile): what timeouts toward the supernode
   * scale with, rather than fixed budgets.
   */
  get attachTimeMs(): number | null {
    return this.lastAttachMs;
  }

  /** Where the link to the supernode goes: its own port, or its web port when only that could be reached (TURN over TCP answers there too). */
  get supernodeEndpoint(): Endpoint | null {
    return this.current?.link.remote ?? null;
  }

  /** Whether the link to the supernode came through TLS (on its web port; see AttachConfig.webTls). */
  get supernodeOverTls(): boolean {
    const current = this.current;
    return current !== null && this.config.webTls !== undefined && current.link.remote.port !== current.supernode.port;
  }

  /** The local address of the link to the supernode (the interface this device reaches the internet through). */
  get localAddress(): Endpoint | null {
    return this.current?.link.local ?? null;
  }

  /** Publishes what this device found it is behind, in a fresh presence record now and in every later one. */
  setNatType(natType: NatType): void {
    this.natType = natType;
    const attached = this.current;
    if (attached) attached.link.send(presenceRequest(this.env, attached.supernode, this.config, this.nextSequence(), natType));
  }

  /** Attaches somewhere; resolves with where. Rejects only when no supernode at all can be reached. */
  async start(): Promise<SupernodeAddress> {
    const { hostCache, bootstrap } = this.config;
    hostCache.merge(
      bootstrap.filter((b): b is BootstrapEntry & { dhKey: Uint8Array } => b.dhKey !== undefined),
      'bootstrap',
    );
    // The host cache keeps wall-clock times: it outlives this process and its monotonic clock.
    const wallNow = this.env.clock.wallTimeMs();
    const ready = hostCache.best(hostCache.size, wallNow);
    // Ready entries first (the cache's own before the bootstrap list); only when none of them
    // answers, those still waiting out a backoff: a cache whose every entry failed lately (an
    // outage, a laptop off the network) must heal rather than leave nothing to try.
    const tiers = [[...ready.filter((e) => e.source !== 'bootstrap'), ...ready.filter((e) => e.source === 'bootstrap')], hostCache.waiting(wallNow)];
    let won: { attached: Attached; source: 'host-cache' | 'bootstrap'; rttMs: number } | null = null;
    let lastError: unknown = new AggregateError([], 'no candidates');
    for (const tier of tiers) {
      if (tier.length === 0) continue;
      try {
        won = await this.attachAmong(tier.map((e) => ({ e, source: e.source === 'bootstrap' ? ('bootstrap' as const) : ('host-cache' as const) })));
        break;
      } catch (error) {
        lastError = error;
      }
    }
    if (!won) {
      this.emit({ kind: 'unreachable', atMs: this.env.clock.now() });
      throw lastError;
    }
    const { attached, source } = won;
    this.lastAttachMs = won.rttMs;
    hostCache.recordSuccess(attached.supernode.host, attached.supernode.port, won.rttMs, this.env.clock.wallTimeMs());
    hostCache.merge(attached.gossip.map((g) => ({ host: g.host, port: g.port, dhKey: g.dhKey, webPort: g.webPort })), 'gossip');
    this.adopt(attached);
    this.emit({ kind: 'attached', supernode: attached.supernode, source, atMs: this.env.clock.now() });
    return attached.supernode;
  }

  /**
   * Races secure links to `candidates` and attaches over the first; when that supernode refuses
   * or stays silent, races the others again. Rejects when none attaches.
   */
  private async attachAmong(candidates: { e: HostEntry; source: 'host-cache' | 'bootstrap' }[]): Promise<{ attached: Attached; source: 'host-cache' | 'bootstrap'; rttMs: number }> {
    const { hostCache } = this.config;
    const startedMs = this.env.clock.now();
    // The race is for a secure link only: the presence record goes to the winner alone, so no
    // other supernode publishes a record naming itself for a device that is not attached there.
    for (;;) {
      const result = await raceFirst(
        candidates,
        async ({ e }) => {
          try {
            return { link: await connectTo(this.env, e, this.config), supernode: e };
          } catch (error) {
            hostCache.recordFailure(e.host, e.port, this.env.clock.wallTimeMs());
            throw error;
          }
        },
        (late) => late.link.close(),
        this.config.parallel ?? DEFAULT_PARALLEL_ATTEMPTS,
      );
      const { link, supernode } = result.value;
      try {
        const attached = await attachOver(this.env, link, { host: supernode.host, port: supernode.port, dhKey: supernode.dhKey }, this.config, this.nextSequence(), this.natType);
        return { attached, source: result.candidate.source, rttMs: this.env.clock.now() - startedMs };
      } catch (error) {
        // Refused (full, say) or silent: try the others.
        hostCache.recordFailure(supernode.host, supernode.port, this.env.clock.wallTimeMs());
        candidates = candidates.filter((c) => c !== result.candidate);
        if (candidates.length === 0) throw error;
      }
    }
  }

  /** Presence sequence numbers: the wall time, but always rising (two records in one millisecond). */
  private nextSequence(): number {
    this.sequence = Math.max(Math.floor(this.env.clock.wallTimeMs()), this.sequence + 1);
    return this.sequence;
  }

  private adopt(attached: Attached): void {
    this.current = attached;
    // Probed when silent, and at least as often as the supernode asks (it drops a client it has
    // not heard from for three of its intervals).
    const idleProbeMs = Math.min(this.config.idleProbeMs ?? IDLE_PROBE_MS, Math.max(1000, attached.keepaliveIntervalMs));
    const liveness = new SupernodeLiveness(this.env.clock.now(), idleProbeMs, this.config.pongTimeoutMs);
    // Answers to requests are matched by id; everything else (pongs, deliveries) comes here.
    const rpc = new RpcChannel(attached.link, this.env.clock, (envelope) => {
      if (envelope.body.case === 'delivery') {
        // Acknowledge first: the sender learns the message reached this device.
        attached.link.send({ case: 'deliveryAck', value: create(DeliveryAckSchema, { deliveryId: envelope.body.value.deliveryId }) });
        if (this.deliveryHandler) this.deliveryHandler(envelope.body.value.from, envelope.body.value.payload);
        else this.deliveriesUnhandled++;
        return;
      }
      if (envelope.body.case === 'pong') liveness.pong(envelope.body.value.nonce, this.env.clock.now());
    });
    attached.rpc = rpc;
    attached.link.onClose((error) => this.lost(attached, `link closed: ${error?.code ?? 'normal close'}`));
    // One timer, moved on lazily: what arrived meanwhile is read from the channel when it fires,
    // so frames cost no timer work.
    const check = () => {
      if (this.current !== attached) return;
      const nowMs = this.env.clock.now();
      liveness.heard(rpc.lastReceivedMs);
      let step = liveness.step(nowMs);
      if (step.kind === 'ping') {
        const nonce = ++this.nonce;
        attached.link.send({ case: 'ping', value: create(PingSchema, { nonce }) });
        this.pingsSent++;
        liveness.pinged(nonce, nowMs);
        step = liveness.step(nowMs);
      }
      if (step.kind === 'dead') return this.lost(attached, step.reason);
      if (step.kind === 'wait') this.keepalive = this.env.clock.after(step.atMs - nowMs, check);
    };
    this.keepalive = this.env.clock.after(idleProbeMs, check);
    const refresh = () => {
      if (this.current !== attached) return;
      attached.link.send(presenceRequest(this.env, attached.supernode, this.config, this.nextSequence(), this.natType));
      this.refresh = this.env.clock.after(refreshMs, refresh);
    };
    const refreshMs = this.config.presenceRefreshMs ?? PRESENCE_REFRESH_MS;
    this.refresh = this.env.clock.after(refreshMs, refresh);
  }

  private lost(attached: Attached, reason: string): void {
    if (this.current !== attached || this.closed) return;
    this.current = null;
    this.keepalive?.cancel();
    this.refresh?.cancel();
    attached.link.close(CloseReason.IDLE);
    this.config.hostCache.recordFailure(attached.supernode.host, attached.supernode.port, this.env.clock.wallTimeMs());
    this.emit({ kind: 'lost', supernode: attached.supernode, reason, atMs: this.env.clock.now() });
    this.reattach(0);
  }

  /**
   * Attaches and keeps at it: like start(), but when no supernode takes it (all down, or all
   * shedding load in a storm) it tries again with failover's growing, jittered pause instead of
   * giving up, until it attaches (resolves) or is closed (never resolves). What a long-running
   * device wants; a one-shot command wants start()'s quick answer.
   */
  stayAttached(): Promise<SupernodeAddress> {
    return new Promise((resolve) => {
      const stop = this.listeners.add((event) => {
        if (event.kind !== 'attached') return;
        stop();
        resolve(event.supernode);
      });
      this.reattach(0);
    });
  }

  /**
   * Failover: attach elsewhere; if nothing answers, try again with a growing, jittered pause
   * (the clients of a supernode that died all fail over at once; they should not all retry at
   * once too).
   */
  private reattach(attempt: number): void {
    if (this.closed) return;
    // Not dropped: start() told the failure as an 'unreachable' event; here it is tried again.
    this.start().catch(() => {
      if (this.closed) return;
      const pauseMs = jitteredBackoffMs(attempt, REATTACH_FIRST_MS, REATTACH_MAX_MS, this.env.random);
      this.retry = this.env.clock.after(pauseMs, () => this.reattach(attempt + 1));
    });
  }

  /**
   * Messages routed to this device: `from` is the sender's username as its supernode
   * authenticated it. One handler (a later one replaces it); returns its removal.
   */
  onDelivery(handler: (from: string, payload: Uint8Array) => void): () => void {
    this.deliveryHandler = handler;
    return () => {
      if (this.deliveryHandler === handler) this.deliveryHandler = null;
    };
  }

  /**
   * Sends `payload` to every online device of `to` (or only the one with `deviceKey`) through the overlay. Resolves with each
   * device's outcome, or with the reason nothing was attempted.
   */
  async route(
    to: string,
    payload: Uint8Array,
    options: { deviceKey?: Uint8Array; timeoutMs?: number } = {},
  ): Promise<{ failure: RouteFailure } | { deliveries: { deviceKey: Uint8Array; outcome: DeliveryOutcome }[] }> {
    const rpc = this.current?.rpc;
    if (!rpc) throw new AttachFailure('closed', 'not attached to a supernode');
    const deviceKey = options.deviceKey ?? new Uint8Array(0);
    const answer = await rpc.request((requestId) => ({ case: 'routeRequest', value: create(RouteRequestSchema, { requestId, to, payload, deviceKey }) }), options.timeoutMs ?? 20_000);
    if (answer.body.case !== 'routeResult') return { failure: RouteFailure.UNSPECIFIED };
    const result = answer.body.value;
    if (result.failure !== RouteFailure.UNSPECIFIED) return { failure: result.failure };
    return { deliveries: result.deliveries.map((d) => ({ deviceKey: d.deviceKey, outcome: d.outcome })) };
  }

  /** Finds a user's devices through the supernode (and the overlay behind it). */
  async find(username: string, timeoutMs = 10_000): Promise<VerifiedPresence[]> {
    const rpc = this.current?.rpc;
    if (!rpc) throw new AttachFailure('closed', 'not attached to a supernode');
    const answer = await rpc.request((requestId) => ({ case: 'findPresence', value: create(FindPresenceSchema, { requestId, username }) }), timeoutMs);
    if (answer.body.case !== 'foundPresence') return [];
    if (answer.body.value.refused === FindRefusal.RATE_LIMITED) throw new AttachFailure('refused', 'too many lookups: the supernode asks to slow down');
    return answer.body.value.records
      .map((bytes) => verifyPresenceRecord(bytes, this.config.verifier, this.env.clock.wallTimeMs(), username))
      .flatMap((r) => (r.ok ? [r.value] : []));
  }

  /** Asks the supernode to dial this node back at `port` (promotion): an attestation when it could. */
  checkReachability(port: number): Promise<ReachabilityAnswer> {
    const rpc = this.current?.rpc;
    if (!rpc) return Promise.reject(new AttachFailure('closed', 'not attached to a supernode'));
    return requestReachabilityCheck(rpc, port);
  }

  /**
   * Credentials for the supernode's TURN service and where it answers over UDP (`server6`: over
   * IPv6 too, when the supernode is dual-stack), or null when it runs none.
   */
  async turnCredentials(timeoutMs = 5_000): Promise<{ server: Endpoint; server6?: Endpoint; username: string; password: string; expiresAtMs: number } | null> {
    const rpc = this.current?.rpc;
    const supernode = this.current?.supernode;
    if (!rpc || !supernode) throw new AttachFailure('closed', 'not attached to a supernode');
    const answer = await rpc.request((requestId) => ({ case: 'turnCredentialsRequest', value: create(TurnCredentialsRequestSchema, { requestId }) }), timeoutMs);
    if (answer.body.case !== 'turnCredentialsAnswer' || !answer.body.value.available) return null;
    const a = answer.body.value;
    // Only a plain IPv6 unicast address: anything else (IPv4 or IPv4-mapped, link-local, a name) is no IPv6 service.
    const server6 = isUsableIpv6(a.udpHost6) ? { server6: { host: a.udpHost6, port: a.udpPort } } : {};
    return { server: { host: supernode.host, port: a.udpPort }, ...server6, username: a.username, password: a.password, expiresAtMs: Number(a.expiresAtMs) };
  }

  /** The supernodes this client knows best (its own first), e.g. to join the overlay through. */
  knownSupernodes(count = 8): SupernodeAddress[] {
    const best = this.config.hostCache.best(count, this.env.clock.wallTimeMs()).map((e) => ({ host: e.host, port: e.port, dhKey: e.dhKey }));
    return this.current ? [this.current.supernode, ...best] : best;
  }

  /**
   * Goes offline: closing the authenticated link is the goodbye. The supernode withdraws the
   * record it published for this device, so lookups say offline within seconds.
   */
  close(): void {
    this.closed = true;
    this.keepalive?.cancel();
    this.refresh?.cancel();
    this.retry?.cancel();
    this.current?.link.close(CloseReason.NORMAL, 'going offline');
    this.current = null;
  }
}
