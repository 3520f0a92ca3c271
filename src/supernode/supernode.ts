// A supernode: it accepts secure links from nodes of its network, bounds the device links (in
// all, per device, the attach deadline), serves attached devices (client-service.ts: one
// handler per request), joins the overlay (dht.ts, router.ts) and runs STUN and TURN.
import { create } from '@bufbuild/protobuf';
import type { Env, TcpListener, Timer, TlsServer } from '../env/types.js';
import type { CertificateVerifier } from '../crypto/certificate.js';
import type { NodeIdentity } from '../crypto/identity.js';
import { listenSecure, type ListenOptions, type SecureLink } from '../crypto/secure-link.js';
import type { ChannelError } from '../crypto/secure-channel.js';
import { CloseReason } from '../wire/messages.js';
import { Attachments, DEFAULT_ATTACHMENT_LIMITS, type AttachmentLimits, type Session } from './attachments.js';
import { DhtNode } from './dht.js';
import { Router } from './router.js';
import { ReachabilityResultSchema, Role, type Envelope } from '../wire/messages.js';
import { serveClientMessage, type ClientLink, type ClientServiceContext, type IgnoredRequests } from './client-service.js';
import { TokenBucket } from '../util/token-bucket.js';
import { createAttestation } from '../overlay/reachability.js';
import { dialBack } from './dial-back.js';
import { startStunService, type StunService, type StunServiceOptions } from './stun-service.js';
import { equalBytes, toHex } from '../crypto/bytes.js';
import { looksLikeStunStream } from '../turn/turn-tcp.js';

/** Dial-backs this supernode makes: each costs a connection and, for a client, a 64 KiB probe. */
const DIAL_BACK_BURST = 8;
const DIAL_BACKS_PER_SECOND = 1;

/** Links one supernode serves at once; more are turned away at the handshake. */
export const DEFAULT_MAX_LINKS = 10_000;

export interface SupernodeOptions {
  readonly identity: NodeIdentity;
  readonly verifier: CertificateVerifier;
  readonly host?: string;
  readonly port: number;
  readonly maxLinks?: number;
  readonly attachment?: Partial<AttachmentLimits>;
  /** Where other supernodes reach this one (for the overlay); default host:port it listens on (the port: the one it listens on). */
  readonly advertise?: { host: string; port?: number };
  /**
   * A second TCP port (443, say) that takes device links and TURN over TCP like the first, for
   * devices behind firewalls that let out only web traffic; advertised in gossip and lookups.
   */
  readonly webPort?: number;
  /** Supernodes to join the overlay through. */
  readonly seeds?: readonly { host: string; port: number; dhKey: Uint8Array }[];
  readonly log?: (line: string) => void;
  /**
   * STUN on UDP at the supernode's port (default on, one address); `alternate` adds a second
   * address for NAT behaviour discovery (RFC 5780); false turns it off.
   */
  readonly stun?:
    | false
    | {
        readonly alternate?: StunServiceOptions['alternate'];
        /** STUN's advertised first address and TURN's relay address behind a 1:1 NAT (see StunServiceOptions). */
        readonly publicHost?: string;
        readonly relayPublicHost?: string;
        /** TURN relay ports, e.g. { min: 49152, max: 65535 }. */
        readonly relayPorts?: StunServiceOptions['relayPorts'];
        /** Special-purpose addresses TURN may relay to (see StunServiceOptions); default none. */
        readonly allowPeers?: StunServiceOptions['allowPeers'];
        /** TURN over TLS on both TCP ports (a "turns:" server, for firewalls that pass only TLS); default none. */
        readonly tls?: TlsServer;
        readonly tlsLimits?: StunServiceOptions['tlsLimits'];
        /** STUN and TURN over IPv6 too, and IPv6 relays (see StunServiceOptions); default none. */
        readonly ipv6?: StunServiceOptions['ipv6'];
        /** Threads relaying TURN over UDP (see StunServiceOptions; real network only); default 0: this thread. */
        readonly relayWorkers?: number;
      };
}

/** What the supernode counts itself (its parts count theirs), for metrics. */
export interface SupernodeCounters {
  /** Secure links whose handshake completed, by the peer's role. */
  readonly handshakes: { device: number; supernode: number };
  /** Device links turned away because `maxLinks` were open. */
  linksRefusedFull: number;
  /** Device links turned away because their device held `maxLinksPerDevice` links here already. */
  linksRefusedPerDevice: number;
  /** Device links closed because they sent no attach request within `attachDeadlineMs`. */
  linksClosedUnattached: number;
  /** Client requests refused by a rate limit, by kind (reachability: this supernode's dial-back budget). */
  readonly rateLimited: { lookup: number; route: number; reachability: number };
  /** Client requests ignored: of a kind a client does not send, or needing an attachment the link has not made. */
  readonly requestsIgnored: IgnoredRequests;
}

export interface RunningSupernode {
  readonly port: number;
  /** The web port's actual number, when one was asked for. */
  readonly webPort: number | null;
  readonly links: ReadonlySet<SecureLink>;
  readonly failures: ReadonlyMap<ChannelError['code'], number>;
  readonly counters: SupernodeCounters;
  /** True once `close()` was called. */
  readonly closed: boolean;
  readonly attachments: Attachments;
  readonly dht: DhtNode;
  /** Forwarded messages refused because the forwarding supernode could not vouch for the sender's name (router.ts). */
  readonly forwardsRefusedBadSender: number;
  /** Messages this supernode could not forward to the supernode of the device (told to the sender as unreachable). */
  readonly forwardsFailed: number;
  /** Links to other supernodes closed because a forward on them had no answer at all (router.ts). */
  readonly staleLinksClosed: number;
  /** The STUN service, when it runs (its UDP port was free). */
  readonly stun: StunService | null;
  /**
   * Refuses these Noise keys from now on (supernodes the operator revoked: their certificates
   * stay in date until they expire): new handshakes fail, open links close, the routing table
   * forgets them. Returns how many were new.
   */
  refuseRevoked(dhKeys: readonly Uint8Array[]): number;
  /** Joins the overlay through `seeds` (call once the other supernodes listen). */
  join(seeds: readonly { host: string; port: number; dhKey: Uint8Array }[]): Promise<void>;
  close(): void;
}

export async function startSupernode(env: Env, options: SupernodeOptions): Promise<RunningSupernode> {
  const links = new Set<SecureLink>();
  const failures = new Map<ChannelError['code'], number>();
  const counters: SupernodeCounters = { handshakes: { device: 0, supernode: 0 }, linksRefusedFull: 0, linksRefusedPerDevice: 0, linksClosedUnattached: 0, rateLimited: { lookup: 0, route: 0, reachability: 0 }, requestsIgnored: { unknownKind: 0, notAttached: 0 } };
  /** Open device links per device (Noise key), attached or not. */
  const linksPerDevice = new Map<string, number>();
  let closed = false;
  const maxLinks = options.maxLinks ?? DEFAULT_MAX_LINKS;
  // No log given (tests, a supernode inside a device): lines go nowhere; what matters is also counted in `counters` and the metrics.
  const log = options.log ?? (() => {});
  const attachments = new Attachments(options.verifier, { ...DEFAULT_ATTACHMENT_LIMITS, ...options.attachment }, options.identity.dh.publicKey);
  // Drop clients that went silent; checked every keep-alive interval.
  let sweeper: Timer | null = null;
  const sweep = () => {
    for (const dead of attachments.sweep(env.clock.now())) {
      log(`dropped silent client ${dead.device.username}`);
      dead.link.close(CloseReason.IDLE, 'no keep-alive');
    }
    sweeper = env.clock.after(attachments.limits.keepaliveIntervalMs, sweep);
  };
  sweeper = env.clock.after(attachments.limits.keepaliveIntervalMs, sweep);
  let closing = false;
  /**
   * Takes back the record this supernode published for a device that is no longer attached
   * here. Not when it attached again here meanwhile (its new record is newer anyway), nor when
   * this supernode shuts down (its clients attach elsewhere and publish newer records).
   */
  const withdrawIfGone = (left: Session) => {
    if (closing || attachments.sessionOf(left.device.dhKey)) return;
    const presence = left.presence;
    dht!.withdraw(presence).then(
      (copies) => log(`withdrew ${presence.username}'s record from ${copies} supernodes`),
      (error: unknown) => log(`withdrawing ${presence.username}'s record failed: ${(error as Error).message}`),
    );
  };
  const dialBacks = new TokenBucket(DIAL_BACK_BURST, DIAL_BACKS_PER_SECOND, env.clock.now());
  /**
   * Checks that the node at the other end of `link` can be reached at its address and `port`,
   * and answers with a signed attestation when it can. Only the port is the asker's choice.
   */
  const answerReachability = (link: SecureLink, requestId: bigint, port: number, reply: (body: Envelope['body']) => void) => {
    const refuse = (detail: string) => reply({ case: 'reachabilityResult', value: create(ReachabilityResultSchema, { requestId, reachable: false, detail }) });
    if (port < 1 || port > 65535) return refuse('port out of range');
    if (!dialBacks.take(env.clock.now())) {
      counters.rateLimited.reachability++;
      return refuse('too many reachability checks here: try later');
    }
    const target = { host: link.remote.host, port, dhKey: link.peer.dhKey };
    void dialBack(env, { identity: options.identity, verifier: options.verifier }, target, link.peer.role === Role.DEVICE).then((outcome) => {
      if (!outcome.reachable) return refuse(outcome.detail);
      const attestation = createAttestation(options.identity, options.verifier.networkId, { subjectDhKey: target.dhKey, host: target.host, port, uploadKbps: outcome.uploadKbps, checkedAtMs: env.clock.wallTimeMs() });
      log(`dial-back to ${target.host}:${port} reached ${link.peer.username || 'a supernode'} (${Math.round(outcome.uploadKbps)} kbit/s up)`);
      reply({ case: 'reachabilityResult', value: create(ReachabilityResultSchema, { requestId, reachable: true, attestation }) });
    });
  };
  // Created once the listener's port is known; links arrive only after that.
  let dht: DhtNode | undefined;
  let stun: StunService | null = null;
  let clientService: ClientServiceContext | undefined;
  const accept: Omit<ListenOptions, 'port'> = {
    ...(options.host ? { host: options.host } : {}),
    config: { identity: options.identity, verifier: options.verifier },
    // TURN over TCP and over TLS share the port with secure links (for clients whose UDP is blocked).
    otherProtocol: { claims: (firstBytes) => (stun ? stun.claimsStream(firstBytes) : looksLikeStunStream(firstBytes)), take: (connection, firstBytes, asLink) => (stun ? stun.acceptStream(connection, firstBytes, asLink) : connection.close()) },
    onFailure: (error, remote) => {
      failures.set(error.code, (failures.get(error.code) ?? 0) + 1);
      log(`refused ${remote.host}:${remote.port}: ${error.code} (${error.message})`);
    },
    onLink: (link) => {
      if (link.peer.role === Role.SUPERNODE) {
        counters.handshakes.supernode++;
        dht!.adoptInbound(link);
        return;
      }
      counters.handshakes.device++;
      if (links.size >= maxLinks) {
        counters.linksRefusedFull++;
        link.close(CloseReason.SHUTDOWN, 'supernode full');
        return;
      }
      const deviceKey = toHex(link.peer.dhKey);
      const held = linksPerDevice.get(deviceKey) ?? 0;
      if (held >= attachments.limits.maxLinksPerDevice) {
        counters.linksRefusedPerDevice++;
        link.close(CloseReason.SHUTDOWN, 'too many links from this device');
        return;
      }
      linksPerDevice.set(deviceKey, held + 1);
      links.add(link);
      let session: Session | null = null;
      // A link that does not attach in time is closed: it holds a slot and says nothing.
      const attachDeadline: Timer = env.clock.after(attachments.limits.attachDeadlineMs, () => {
        if (session) return;
        counters.linksClosedUnattached++;
        link.close(CloseReason.IDLE, 'no attach request in time');
      });
      link.onClose(() => {
        attachDeadline.cancel();
        links.delete(link);
        const stillOpen = (linksPerDevice.get(deviceKey) ?? 1) - 1;
        if (stillOpen > 0) linksPerDevice.set(deviceKey, stillOpen);
        else linksPerDevice.delete(deviceKey);
        if (!session) return;
        attachments.remove(session);
        // The device left: it closed its link (its goodbye), or went silent and was dropped.
        // Its record goes from the overlay now, not when its lease ends.
        const left = session;
        void Promise.resolve().then(() => withdrawIfGone(left));
      });
      const client: ClientLink = {
        link,
        get session() {
          return session;
        },
        attached: (attachedSession) => {
          session = attachedSession;
          attachDeadline.cancel();
        },
      };
      link.onMessage((envelope) => serveClientMessage(clientService!, client, envelope));
    },
  };
  const listener: TcpListener = await listenSecure(env, { ...accept, port: options.port });
  const webListener: TcpListener | null =
    options.webPort === undefined
      ? null
      : await listenSecure(env, { ...accept, port: options.webPort }).catch((error: unknown) => {
          listener.close();
          throw error;
        });
  const webPort = webListener ? { webPort: webListener.local.port } : {};
  dht = new DhtNode(env, options.identity, options.verifier, { host: options.advertise?.host ?? options.host ?? listener.local.host, port: options.advertise?.port ?? listener.local.port, ...webPort });
  const router = new Router(env, dht, attachments);
  clientService = { env, attachments, dht, router, stun: () => stun, counters, log, answerReachability };
  dht.startMaintenance();
  const routerRequests = dht.onOtherRequest;
  dht.onOtherRequest = (envelope, channel) => {
    if (envelope.body.case === 'reachabilityCheck') answerReachability(channel.link, envelope.body.value.requestId, envelope.body.value.port, (body) => channel.reply(body));
    else routerRequests(envelope, channel);
  };
  if (options.stun !== false) {
    const stunOptions = options.stun;
    const base: StunServiceOptions = {
      ...(options.host ? { host: options.host } : {}),
      port: listener.local.port,
      advertisedHost: (options.advertise ?? { host: options.host ?? listener.local.host }).host,
      ...(stunOptions?.publicHost ? { publicHost: stunOptions.publicHost } : {}),
      ...(stunOptions?.relayPublicHost ? { relayPublicHost: stunOptions.relayPublicHost } : {}),
      ...(stunOptions?.relayPorts ? { relayPorts: stunOptions.relayPorts } : {}),
      ...(stunOptions?.allowPeers ? { allowPeers: stunOptions.allowPeers } : {}),
      ...(stunOptions?.tls ? { tls: stunOptions.tls } : {}),
      ...(stunOptions?.tlsLimits ? { tlsLimits: stunOptions.tlsLimits } : {}),
      ...(stunOptions?.relayWorkers ? { relayWorkers: stunOptions.relayWorkers } : {}),
      log,
    };
    const alternate = options.stun?.alternate;
    const ipv6 = stunOptions?.ipv6;
    try {
      stun = await startStunService(env, { ...base, ...(alternate ? { alternate } : {}), ...(ipv6 ? { ipv6 } : {}) });
    } catch (error) {
      // Without its second address (or its IPv6 one) the service still answers binding requests.
      const extras = [alternate ? `second address ${alternate.host}` : '', ipv6 ? `IPv6 address ${ipv6.host}` : ''].filter((e) => e !== '');
      log(`STUN ${extras.length > 0 ? `with ${extras.join(' and ')} ` : ''}not started: ${(error as Error).message}`);
      if (alternate || ipv6) {
        stun = await startStunService(env, base).catch((again: unknown) => {
          log(`STUN not started: ${(again as Error).message}`);
          return null;
        });
      }
    }
  }
  if (options.seeds) await dht!.join(options.seeds);
  return {
    port: listener.local.port,
    webPort: webListener?.local.port ?? null,
    stun,
    dht: dht!,
    join: (seeds) => dht!.join(seeds),
    links,
    failures,
    counters,
    get closed() {
      return closed;
    },
    get forwardsRefusedBadSender() {
      return router.badSenders;
    },
    get forwardsFailed() {
      return router.forwardsFailed;
    },
    get staleLinksClosed() {
      return router.staleLinksClosed;
    },
    attachments,
    refuseRevoked: (dhKeys) => {
      const fresh = options.verifier.revoke(dhKeys);
      let closedLinks = 0;
      for (const link of links) {
        if (!fresh.some((k) => equalBytes(k, link.peer.dhKey))) continue;
        link.close(CloseReason.BAD_CERTIFICATE, 'revoked by the operator');
        closedLinks++;
      }
      for (const dhKey of fresh) closedLinks += dht!.forget(dhKey);
      if (fresh.length > 0) log(`refusing ${fresh.length} revoked supernode(s); closed ${closedLinks} link(s) to them`);
      return fresh.length;
    },
    close: () => {
      closing = true;
      closed = true;
      sweeper?.cancel();
      listener.close();
      webListener?.close();
      stun?.close();
      dht!.close();
      for (const link of links) link.close(CloseReason.SHUTDOWN);
    },
  };
}
