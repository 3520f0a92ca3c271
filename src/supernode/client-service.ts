// What a supernode does for each request of a device on its link: one named handler per request
// kind and one table from kind to handler. The link's life (limits per device, the attach
// deadline, closing) stays in supernode.ts; this module only answers requests.
//
// Bounds: every request that makes the supernode work for someone else — a lookup through the
// overlay, a routed message, a dial-back — spends a token of the asking client (attachments.ts)
// or of the supernode (its dial-back budget); a refusal is answered and counted per kind.
// Requests that only an attached device may make are ignored on a link that has not attached;
// kinds a client never sends are ignored. Both are counted (`requestsIgnored`).
import { create } from '@bufbuild/protobuf';
import type { Env } from '../env/types.js';
import type { SecureLink } from '../crypto/secure-link.js';
import { toHex } from '../crypto/bytes.js';
import { recordsForAnswer } from '../overlay/presence.js';
import {
  AttachAcceptedSchema,
  AttachRefusedSchema,
  FindRefusal,
  FoundPresenceSchema,
  PongSchema,
  RouteFailure,
  RouteResultSchema,
  TurnCredentialsAnswerSchema,
  type Envelope,
  type SupernodeRef,
} from '../wire/messages.js';
import { takeLookup, takeRoute, type Attachments, type Session } from './attachments.js';
import { refOf, type DhtNode } from './dht.js';
import type { RouteOutcome, Router } from './router.js';
import { TURN_REALM, type StunService } from './stun-service.js';

/** Supernodes named in an attach answer, for the client's host cache. */
export const GOSSIP_SIZE = 20;

/** Client requests ignored, by why (counted, never answered). */
export interface IgnoredRequests {
  /** A kind a client does not send to its supernode (an answer, a supernode-to-supernode message). */
  unknownKind: number;
  /** A request only an attached device may make, on a link that has not attached. */
  notAttached: number;
}

/** What the client service needs of its supernode. */
export interface ClientServiceContext {
  readonly env: Env;
  readonly attachments: Attachments;
  readonly dht: DhtNode;
  readonly router: Router;
  /** The STUN/TURN service, when it runs (it starts after the links are served). */
  readonly stun: () => StunService | null;
  readonly counters: {
    readonly rateLimited: { lookup: number; route: number };
    readonly requestsIgnored: IgnoredRequests;
  };
  readonly log: (line: string) => void;
  /** Checks that the device can be reached at its address and `port` (the supernode's dial-back budget). */
  readonly answerReachability: (link: SecureLink, requestId: bigint, port: number, reply: (body: Envelope['body']) => void) => void;
}

/** One device link as the client service sees it. */
export interface ClientLink {
  readonly link: SecureLink;
  /** Its attachment, once its attach request was accepted. */
  readonly session: Session | null;
  /** Told when the device attached. */
  attached(session: Session): void;
}

type Body = Envelope['body'];
type RequestOf<K extends Body['case']> = Extract<Body, { case: K }>['value'];

/** A handler open to any device link (it may not have attached yet). */
interface OpenHandler<K extends Body['case']> {
  readonly attachedOnly: false;
  handle(context: ClientServiceContext, client: ClientLink, request: RequestOf<K>): void;
}
/** A handler for attached devices only. */
interface AttachedHandler<K extends Body['case']> {
  readonly attachedOnly: true;
  handle(context: ClientServiceContext, client: ClientLink, request: RequestOf<K>, session: Session): void;
}
type Handler<K extends Body['case']> = OpenHandler<K> | AttachedHandler<K>;

const anyLink = <K extends Body['case']>(handle: OpenHandler<K>['handle']): OpenHandler<K> => ({ attachedOnly: false, handle });
const attachedLink = <K extends Body['case']>(handle: AttachedHandler<K>['handle']): AttachedHandler<K> => ({ attachedOnly: true, handle });

function answerPing(_context: ClientServiceContext, client: ClientLink, ping: RequestOf<'ping'>): void {
  client.link.send({ case: 'pong', value: create(PongSchema, { nonce: ping.nonce }) });
}

/** Host-cache gossip for attaching clients: up to GOSSIP_SIZE supernodes this one knows, at random. */
function gossipSample(context: ClientServiceContext): SupernodeRef[] {
  const known = context.dht.table.all();
  for (let i = known.length - 1; i > 0; i--) {
    const j = context.env.random.int(i + 1);
    [known[i], known[j]] = [known[j]!, known[i]!];
  }
  return known.slice(0, GOSSIP_SIZE).map(refOf);
}

/** Attaches the device (again, with a newer presence, when it already is) and publishes its record. */
function attach(context: ClientServiceContext, client: ClientLink, request: RequestOf<'attachRequest'>): void {
  const { env, attachments, dht, log } = context;
  const link = client.link;
  // A fresh record on a link already attached (the client's refresh, every 75 s) is answered
  // without host-cache gossip: the client takes gossip from its first answer only, and twenty
  // supernodes in every refresh's answer were ~1 KB per client per 75 s thrown away, more than
  // its keep-alives (docs/overlay.md).
  const refreshing = client.session !== null;
  const attached = attachments.attach(link, request.presence, env.clock.now(), env.clock.wallTimeMs());
  if (!attached.ok) {
    log(`refused to attach ${link.peer.username}: ${attached.error.code} ${attached.error.message}`);
    link.send({ case: 'attachRefused', value: create(AttachRefusedSchema, { reason: attached.error.refusal, detail: attached.error.message }) });
    return;
  }
  client.attached(attached.value);
  const presence = attached.value.presence;
  dht.publish(presence).then(
    (copies) => log(`published ${presence.username} on ${copies} supernodes`),
    (error: unknown) => log(`publishing ${presence.username} failed: ${(error as Error).message}`),
  );
  link.send({ case: 'attachAccepted', value: create(AttachAcceptedSchema, { keepaliveIntervalMs: attachments.limits.keepaliveIntervalMs, supernodes: refreshing ? [] : gossipSample(context) }) });
}

/** Routes a payload to a user's device through the overlay; answers with the outcome. */
function route(context: ClientServiceContext, client: ClientLink, request: RequestOf<'routeRequest'>, session: Session): void {
  const { env, dht, router, counters } = context;
  const { requestId, to, payload, deviceKey } = request;
  const answer = (result: RouteOutcome) =>
    client.link.send({ case: 'routeResult', value: create(RouteResultSchema, { requestId, ...result }) });
  if (!takeRoute(session, env.clock.now())) {
    counters.rateLimited.route++;
    answer({ failure: RouteFailure.RATE_LIMITED });
    return;
  }
  // A route to a user this supernode holds no record of costs a lookup through the overlay, as
  // a findPresence does: it spends one of the client's lookups too, or routes to made-up names
  // would be lookups at 200 a second (a client's own lookup before it routes, as the chat does,
  // leaves the records here for the route).
  if (dht.store.get(to, env.clock.wallTimeMs()).length === 0 && !takeLookup(session, env.clock.now())) {
    counters.rateLimited.lookup++;
    answer({ failure: RouteFailure.RATE_LIMITED });
    return;
  }
  router.route({ username: session.device.username, presence: session.presence.encoded }, to, payload, deviceKey).then(
    (outcome) => answer(outcome),
    () => answer({ failure: RouteFailure.OFFLINE }),
  );
}

function checkReachability(context: ClientServiceContext, client: ClientLink, request: RequestOf<'reachabilityCheck'>): void {
  context.answerReachability(client.link, request.requestId, request.port, (body) => client.link.send(body));
}

/**
 * Hands out TURN credentials for this supernode's relay (named after the device), when it runs
 * one, and where STUN and TURN answer over UDP: the port, and the IPv6 address of a dual-stack
 * supernode (its IPv6 socket has the same port number), so that the device gathers IPv6
 * candidates too. Asked at every connection, so it is never stale (the STUN service starts
 * after the links are served).
 */
function issueTurnCredentials(context: ClientServiceContext, client: ClientLink, request: RequestOf<'turnCredentialsRequest'>, session: Session): void {
  const requestId = request.requestId;
  const stun = context.stun();
  const issued = stun?.credentials(session.device.username, toHex(session.device.dhKey).slice(0, 16));
  const udpHost6 = stun?.primary6 && stun.primary6.port === stun.primary.port ? stun.primary6.host : '';
  client.link.send({
    case: 'turnCredentialsAnswer',
    value: create(
      TurnCredentialsAnswerSchema,
      issued && stun
        ? { requestId, available: true, username: issued.username, password: issued.password, expiresAtMs: BigInt(issued.expiresAtMs), realm: TURN_REALM, udpPort: stun.primary.port, udpHost6 }
        : { requestId, available: false },
    ),
  });
}

/** The device took a routed message: the router stops retrying it. */
function acknowledgeDelivery(context: ClientServiceContext, _client: ClientLink, ack: RequestOf<'deliveryAck'>): void {
  context.router.acknowledged(ack.deliveryId);
}

/** Looks a user's presence records up in the overlay. */
function findPresence(context: ClientServiceContext, client: ClientLink, request: RequestOf<'findPresence'>, session: Session): void {
  const { env, dht, counters } = context;
  const { requestId, username } = request;
  if (!takeLookup(session, env.clock.now())) {
    counters.rateLimited.lookup++;
    client.link.send({ case: 'foundPresence', value: create(FoundPresenceSchema, { requestId, refused: FindRefusal.RATE_LIMITED }) });
    return;
  }
  dht.findPresence(username).then(
    (found) => client.link.send({ case: 'foundPresence', value: create(FoundPresenceSchema, { requestId, records: recordsForAnswer(found.records) }) }),
    () => client.link.send({ case: 'foundPresence', value: create(FoundPresenceSchema, { requestId }) }),
  );
}

/** Every request a device may send to its supernode, and who may send it. */
const HANDLERS: { readonly [K in ClientRequestKind]: Handler<K> } = {
  ping: anyLink(answerPing),
  attachRequest: anyLink(attach),
  routeRequest: attachedLink(route),
  // Only attached clients may ask: a dial-back costs the supernode a connection and a probe.
  reachabilityCheck: attachedLink(checkReachability),
  // Only attached devices get relays.
  turnCredentialsRequest: attachedLink(issueTurnCredentials),
  deliveryAck: anyLink(acknowledgeDelivery),
  findPresence: attachedLink(findPresence),
};

export type ClientRequestKind = 'ping' | 'attachRequest' | 'routeRequest' | 'reachabilityCheck' | 'turnCredentialsRequest' | 'deliveryAck' | 'findPresence';

function isClientRequest(kind: Body['case']): kind is ClientRequestKind {
  return kind !== undefined && Object.hasOwn(HANDLERS, kind);
}

/** Handles one message from a device link: what the device asked for, by its kind. */
export function serveClientMessage(context: ClientServiceContext, client: ClientLink, envelope: Envelope): void {
  const session = client.session;
  if (session) context.attachments.heard(session, context.env.clock.now());
  const kind = envelope.body.case;
  if (!isClientRequest(kind)) {
    context.counters.requestsIgnored.unknownKind++;
    return;
  }
  // The table pairs each kind with the handler of its request type; TypeScript cannot follow
  // that pairing through the lookup, hence the one widening here.
  const handler = HANDLERS[kind] as unknown as { attachedOnly: boolean; handle(c: ClientServiceContext, l: ClientLink, r: unknown, s: Session | null): void };
  if (handler.attachedOnly && !session) {
    context.counters.requestsIgnored.notAttached++;
    return;
  }
  handler.handle(context, client, envelope.body.value, session);
}
