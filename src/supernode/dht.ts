// The supernode's part in the overlay DHT: a Kademlia node among supernodes that stores
// presence records under hash(username) at the `replication` closest supernodes, finds them
// with iterative parallel lookups, and caches what it finds on the lookup path. Links to other
// supernodes are secure links (IK), reused in both directions.
import { create } from '@bufbuild/protobuf';
import type { Env, Timer } from '../env/types.js';
import { equalBytes, toHex } from '../crypto/bytes.js';
import { Role, type CertificateVerifier } from '../crypto/certificate.js';
import type { NodeIdentity } from '../crypto/identity.js';
import { connectSecure, type SecureLink } from '../crypto/secure-link.js';
import { DEFAULT_ALPHA, Lookup, type LookupContact } from '../overlay/lookup.js';
import { compareDistance, idHex, randomIdInBucket, supernodeId, userKey, type NodeId } from '../overlay/node-id.js';
import { recordsForAnswer, verifyPresenceRecord, type VerifiedPresence } from '../overlay/presence.js';
import { PresenceStore } from '../overlay/presence-store.js';
import { RoutingTable, DEFAULT_BUCKET_SIZE } from '../overlay/routing-table.js';
import { RpcChannel, RpcError } from '../overlay/rpc.js';
import { DialBudget, type DialRefusal } from '../overlay/dial-budget.js';
import { RttEstimator } from '../overlay/rtt.js';
import { SilentContacts } from '../overlay/silent-contacts.js';
import { jitteredBackoffMs } from '../util/backoff.js';
import {
  CloseReason,
  FindNodeSchema,
  FindPresenceSchema,
  FoundNodesSchema,
  FoundPresenceSchema,
  StorePresenceSchema,
  StoreOutcome,
  StoredSchema,
  SupernodeRefSchema,
  WithdrawOutcome,
  WithdrawPresenceSchema,
  WithdrawnSchema,
  type Envelope,
  type SupernodeRef,
} from '../wire/messages.js';

export const DEFAULT_REPLICATION = 8;
/**
 * Records found by a lookup are cached this long by the supernode that looked (a routed
 * conversation costs one lookup per 10 s, not one per message). Short, because a withdrawal
 * reaches the replicas, not the caches: a device that went offline may be reported online by a
 * cache this long (a route that finds it not attached drops the copy at once).
 */
export const PATH_CACHE_TTL_MS = 10_000;
/**
 * A replica holds a record this long after it was last stored (or until its signed expiry, if
 * sooner). Devices refresh every 75 s (client/attachment.ts), so one lost refresh is survived;
 * a record nobody refreshes or withdraws (its device and its supernode both gone) is gone
 * within 3 minutes. Measured on the replica's own clock: a device whose clock is minutes off
 * still signs records that live (their signed lifetime is longer, 15 minutes).
 */
export const RECORD_LEASE_MS = 180_000;
const MAX_PEER_LINKS = 256;
/**
 * A link to another supernode that carried nothing for this long is closed. Every joining
 * supernode's lookups open about a hundred links, used once; kept, they were most of a
 * supernode's heap (~5 KB each) and of the garbage collector's work. Neighbour probes (every
 * 30 s) keep the nearest warm; another link costs a handshake when next needed.
 */
export const PEER_LINK_IDLE_MS = 120_000;
/**
 * The nearest neighbours — the supernodes that share this one's replicas — are probed this
 * often, and one that misses two probes is dropped: its records are then re-replicated within
 * about two minutes, not at the users' next 10-minute refresh.
 */
export const NEIGHBOUR_PROBE_MS = 30_000;
const PROBE_FAILURES_TO_DROP = 2;
/** Buckets refreshed at join: the far half, quarter, … of the id space, where most nodes are. */
const REFRESHED_BUCKETS = 3;
/**
 * A supernode key a lookup did not find (named in a record, say) is not looked up again for this
 * long: a made-up key costs one lookup per hold, not one per routed message.
 */
export const UNKNOWN_SUPERNODE_HOLD_MS = 30_000;
/** Unknown keys remembered at most (the oldest is forgotten first). */
const MAX_REMEMBERED_UNKNOWN_SUPERNODES = 4096;
/**
 * A supernode without the record asks at most this many of the user's closest supernodes it
 * holds open links to, once (`FindPresence.may_forward`): a lookup then costs the asker two
 * round trips over open links instead of a new link (TCP, Noise IK, request) to a replica.
 */
export const FORWARD_FANOUT = 2;
/** Forwarded lookups waiting here at once; beyond, a lookup is answered with nodes only (bounded work for others). */
export const MAX_FORWARDS_IN_FLIGHT = 256;
/** Records passed on from a forwarded lookup, at most (a user has at most 16 devices). */
const MAX_FORWARDED_RECORDS = 16;
/** Round trips remembered per supernode after its link closed (what a new link to it will cost). */
const MAX_REMEMBERED_RTTS = 4096;
/** Rejoining through the seeds when the routing table is empty: 1 s, 2 s, 4 s, … up to a minute, jittered. */
export const REJOIN_FIRST_MS = 1_000;
export const REJOIN_MAX_MS = 60_000;

/** Where a supernode listens, as refs and contacts carry it. */
export interface SupernodeAddressRef {
  readonly host: string;
  readonly port: number;
  readonly dhKey: Uint8Array;
  readonly webPort?: number;
}

/** A web port as a ref carries it (0: none); anything out of range is none. */
export function validWebPort(port: number | undefined): number | undefined {
  return port !== undefined && Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined;
}

/** The wire form of a supernode's address. */
export function refOf(c: SupernodeAddressRef): SupernodeRef {
  return create(SupernodeRefSchema, { host: c.host, port: c.port, dhKey: c.dhKey, webPort: c.webPort ?? 0 });
}

/** This node's dial budget refused a dial (overlay/dial-budget.ts). */
export class DialRefused extends Error {
  constructor(
    host: string,
    port: number,
    readonly reason: DialRefusal,
  ) {
    super(`dial to ${host}:${port} refused: ${reason}`);
    this.name = 'DialRefused';
  }
}

export interface DhtAddress {
  readonly host: string;
  readonly port: number;
  /** A TCP port (443, say) that also takes links and TURN, for web-only firewalls. */
  readonly webPort?: number;
}

/** How lookups went, for metrics: presence lookups answered from this node's store, or through the overlay (found or not). */
export interface DhtCounters {
  nodeLookups: number;
  readonly presenceLookups: { local: number; found: number; not_found: number };
  /** StorePresence requests from other supernodes, by outcome. */
  readonly storeRequests: { stored: number; full: number; rejected: number };
  /** Requests to another supernode that failed (no link, no answer): the contact's failure is recorded, and counted here. */
  contactFailures: number;
}

export interface FindResult {
  readonly records: readonly VerifiedPresence[];
  readonly hops: number;
  readonly requests: number;
}

export class DhtNode {
  readonly id: NodeId;
  readonly table: RoutingTable;
  readonly store = new PresenceStore();
  private readonly channels = new Map<string, RpcChannel>();
  /** Every open link to another supernode, also those past MAX_PEER_LINKS (not reused, but closed when idle). */
  private readonly peerLinks = new Set<RpcChannel>();
  private readonly connecting = new Map<string, Promise<RpcChannel>>();
  private maintenance: Timer | null = null;
  private closed = false;
  /** Users whose records lost a replica and are waiting to be stored again. */
  private readonly republishQueue = new Set<string>();
  private republishing = false;
  readonly counters: DhtCounters = { nodeLookups: 0, presenceLookups: { local: 0, found: 0, not_found: 0 }, storeRequests: { stored: 0, full: 0, rejected: 0 }, contactFailures: 0 };
  /** Every outgoing dial goes through this budget (see overlay/dial-budget.ts). */
  readonly dials = new DialBudget();
  /** Supernodes that did not answer: lookups skip them until they prove alive (overlay/silent-contacts.ts). */
  readonly silent = new SilentContacts();
  /** Round trips of DHT requests to any supernode: how long a dial to a new one may take. */
  readonly rtt = new RttEstimator();
  /** Round trips per link (keyed like `channels`): how long a request on it may take. */
  private readonly linkRtt = new WeakMap<RpcChannel, RttEstimator>();
  /** The last smoothed round trip to each supernode (keyed like `channels`), kept after its link closed: what asking it costs. */
  private readonly knownRttMs = new Map<string, number>();
  /** Forwarded lookups (`may_forward`) this node is waiting on. */
  private forwardsInFlight = 0;
  /** Supernode keys a lookup did not find, and until when they are not looked up again. */
  private readonly unknownSupernodes = new Map<string, number>();
  private readonly resolving = new Map<string, Promise<RpcChannel>>();
  /** The seeds of the last join, for rejoining when every contact is gone. */
  private seeds: readonly { host: string; port: number; dhKey: Uint8Array }[] = [];
  private rejoinTimer: Timer | null = null;
  private rejoinAttempt = 0;
  /** Rejoins started because the routing table was empty (for tests and metrics). */
  rejoins = 0;
  /** Requests other than the DHT's own (routing), from other supernodes: ignored until the supernode sets its handler. */
  onOtherRequest: (envelope: Envelope, channel: RpcChannel) => void = () => {};

  constructor(
    private readonly env: Env,
    private readonly identity: NodeIdentity,
    readonly verifier: CertificateVerifier,
    readonly address: DhtAddress,
    readonly replication = DEFAULT_REPLICATION,
  ) {
    this.id = supernodeId(identity.dh.publicKey);
    this.table = new RoutingTable(this.id, DEFAULT_BUCKET_SIZE);
  }

  private selfRef(): SupernodeRef {
    return refOf({ ...this.address, dhKey: this.identity.dh.publicKey });
  }

  private contactOf(ref: SupernodeAddressRef): LookupContact {
    const webPort = validWebPort(ref.webPort);
    return { id: supernodeId(ref.dhKey), host: ref.host, port: ref.port, dhKey: ref.dhKey, ...(webPort ? { webPort } : {}) };
  }

  /** Meets another supernode (bootstrap list, gossip): it goes into the routing table. */
  meet(ref: SupernodeAddressRef): void {
    if (equalBytes(ref.dhKey, this.identity.dh.publicKey)) return;
    this.table.insert(this.contactOf(ref), this.env.clock.now());
  }

  /** Drops a supernode (revoked): its link to here closes and it leaves the routing table. Returns how many links closed. */
  forget(dhKey: Uint8Array): number {
    this.table.remove(supernodeId(dhKey));
    const channel = this.channels.get(toHex(dhKey));
    if (!channel) return 0;
    this.channels.delete(toHex(dhKey));
    channel.link.close(CloseReason.BAD_CERTIFICATE, 'revoked by the operator');
    return 1;
  }

  /** A link from another supernode (inbound): answers its requests, and reuses it for ours. */
  adoptInbound(link: SecureLink): void {
    if (link.peer.role !== Role.SUPERNODE) return;
    // Its handshake proved its key: it is alive, whatever it failed to answer before.
    this.silent.alive(idHex(supernodeId(link.peer.dhKey)));
    this.register(link);
  }

  private register(link: SecureLink): RpcChannel {
    const key = toHex(link.peer.dhKey);
    const channel = new RpcChannel(link, this.env.clock, (envelope, ch) => this.handle(envelope, ch));
    if (this.channels.size < MAX_PEER_LINKS) this.channels.set(key, channel);
    this.peerLinks.add(channel);
    link.onClose(() => {
      this.peerLinks.delete(channel);
      if (this.channels.get(key) === channel) this.channels.delete(key);
    });
    return channel;
  }

  /** A channel to another supernode, opened (IK) or reused. */
  channelTo(contact: LookupContact): Promise<RpcChannel> {
    const key = toHex(contact.dhKey);
    const open = this.channels.get(key);
    if (open && !open.isClosed) return Promise.resolve(open);
    let pending = this.connecting.get(key);
    if (!pending) {
      const ticket = this.dials.begin(contact.host, contact.port, this.env.clock.now());
      if (!ticket.ok) return Promise.reject(new DialRefused(contact.host, contact.port, ticket.error));
      // IK names the key: the handshake fails unless the listener holds it.
      // Connect and handshake are a round trip each: waited for as long as the overlay's round
      // trips say (3 s before any was timed), so a crashed supernode costs ~0.5 s, not 6.
      const waitMs = this.rtt.giveUpMs();
      pending = connectSecure(this.env, { host: contact.host, port: contact.port, config: { identity: this.identity, verifier: this.verifier, remoteStaticKey: contact.dhKey }, connectTimeoutMs: waitMs, handshakeTimeoutMs: waitMs })
        .then((link) => {
          if (link.peer.role !== Role.SUPERNODE) {
            link.close();
            throw new Error('not a supernode');
          }
          ticket.value.end(true, this.env.clock.now());
          return this.register(link);
        })
        .catch((error: unknown) => {
          ticket.value.end(false, this.env.clock.now());
          throw error;
        })
        .finally(() => this.connecting.delete(key));
      this.connecting.set(key, pending);
    }
    return pending;
  }

  /**
   * A channel to the supernode whose Noise key is `dhKey`, at an address this node learned for
   * that key — never one a record or a client names (see overlay/dial-budget.ts): an open link,
   * the routing table's contact, or a lookup of the key's node id. Rejects when none is found.
   */
  channelToSupernode(dhKey: Uint8Array): Promise<RpcChannel> {
    const key = toHex(dhKey);
    const open = this.channels.get(key);
    if (open && !open.isClosed) return Promise.resolve(open);
    const id = supernodeId(dhKey);
    const known = this.table.get(id);
    if (known && equalBytes(known.dhKey, dhKey)) return this.channelTo(known);
    const nowMs = this.env.clock.now();
    const unknownUntil = this.unknownSupernodes.get(key);
    if (unknownUntil !== undefined) {
      if (unknownUntil > nowMs) return Promise.reject(new Error('no such supernode (looked up lately)'));
      this.unknownSupernodes.delete(key);
    }
    let pending = this.resolving.get(key);
    if (!pending) {
      pending = this.findNodes(id)
        .then((closest) => {
          const found = closest.find((c) => equalBytes(c.dhKey, dhKey));
          if (!found) {
            if (this.unknownSupernodes.size >= MAX_REMEMBERED_UNKNOWN_SUPERNODES) this.unknownSupernodes.delete(this.unknownSupernodes.keys().next().value!);
            this.unknownSupernodes.set(key, this.env.clock.now() + UNKNOWN_SUPERNODE_HOLD_MS);
            throw new Error('no such supernode in the overlay');
          }
          return this.channelTo(found);
        })
        .finally(() => this.resolving.delete(key));
      this.resolving.set(key, pending);
    }
    return pending;
  }

  /** A request's claimed sender is believed only if it matches the link it came on. */
  private learnSender(sender: SupernodeRef | undefined, channel: RpcChannel): void {
    if (!sender) return;
    if (!equalBytes(sender.dhKey, channel.link.peer.dhKey) || sender.host !== channel.link.remote.host) return;
    if (sender.port < 1 || sender.port > 65535) return;
    this.silent.alive(idHex(supernodeId(sender.dhKey)));
    this.meet(sender);
  }

  private closestRefs(target: NodeId): SupernodeRef[] {
    // Suspects (failed to answer here lately) are not handed out: the asker would wait for them too.
    return this.table.closest(target, DEFAULT_BUCKET_SIZE).map(refOf);
  }

  /** Answers another supernode's request (or a client's find, via `findPresence`). */
  handle(envelope: Envelope, channel: RpcChannel): void {
    const body = envelope.body;
    switch (body.case) {
      case 'findNode': {
        this.learnSender(body.value.sender, channel);
        if (body.value.target.byteLength !== 32) return;
        channel.reply({ case: 'foundNodes', value: create(FoundNodesSchema, { requestId: body.value.requestId, nodes: this.closestRefs(body.value.target) }) });
        return;
      }
      case 'storePresence': {
        this.learnSender(body.value.sender, channel);
        const verified = verifyPresenceRecord(body.value.record, this.verifier, this.env.clock.wallTimeMs());
        let outcome = StoreOutcome.REJECTED;
        let detail = '';
        if (!verified.ok) detail = `${verified.error.code}: ${verified.error.message}`;
        else outcome = this.store.put(this.leased(verified.value, body.value.leaseMs || RECORD_LEASE_MS)) === 'full' ? StoreOutcome.FULL : StoreOutcome.STORED;
        this.counters.storeRequests[outcome === StoreOutcome.STORED ? 'stored' : outcome === StoreOutcome.FULL ? 'full' : 'rejected']++;
        channel.reply({ case: 'stored', value: create(StoredSchema, { requestId: body.value.requestId, outcome, detail }) });
        return;
      }
      case 'withdrawPresence': {
        this.learnSender(body.value.sender, channel);
        const refused = this.takeWithdrawal(body.value.record, channel.link.peer.dhKey);
        const outcome = refused === null ? WithdrawOutcome.WITHDRAWN : WithdrawOutcome.REFUSED;
        channel.reply({ case: 'withdrawn', value: create(WithdrawnSchema, { requestId: body.value.requestId, outcome, detail: refused ?? '' }) });
        return;
      }
      case 'findPresence': {
        this.learnSender(body.value.sender, channel);
        this.answerFindPresence(body.value, channel);
        return;
      }
      default:
        this.onOtherRequest(envelope, channel);
        return;
    }
  }

  /**
   * Answers another supernode's FindPresence: the records held here; else, when the asker allows
   * it, what the user's closest supernodes this node holds open links to answer (asked once, never
   * dialled for someone else, their answer not passed on further); else the closest nodes known.
   * Forwarded records are passed on unchecked: the asker verifies every record it gets.
   */
  private answerFindPresence(request: { requestId: bigint; username: string; mayForward: boolean }, channel: RpcChannel): void {
    const { requestId, username } = request;
    const key = userKey(username);
    const reply = (records: readonly Uint8Array[]) =>
      channel.reply({ case: 'foundPresence', value: create(FoundPresenceSchema, { requestId, records: [...records], nodes: records.length > 0 ? [] : this.closestRefs(key) }) });
    const held = this.store.get(username, this.env.clock.wallTimeMs());
    if (held.length > 0) return reply(recordsForAnswer(held));
    if (!request.mayForward || this.forwardsInFlight >= MAX_FORWARDS_IN_FLIGHT) return reply([]);
    const asker = toHex(channel.link.peer.dhKey);
    const linked: LookupContact[] = [];
    for (const contact of this.table.closest(key, this.replication)) {
      const open = this.channels.get(toHex(contact.dhKey));
      if (open && !open.isClosed && toHex(contact.dhKey) !== asker) linked.push(contact);
      if (linked.length >= FORWARD_FANOUT) break;
    }
    if (linked.length === 0) return reply([]);
    this.forwardsInFlight++;
    let pending = linked.length;
    let answered = false;
    const finish = (records: readonly Uint8Array[]) => {
      if (answered) return;
      answered = true;
      this.forwardsInFlight--;
      reply(records);
    };
    for (const contact of linked) {
      this.ask(contact, (id) => ({ case: 'findPresence', value: create(FindPresenceSchema, { requestId: id, username, sender: this.selfRef() }) }))
        .then((answer) => {
          if (answer.body.case === 'foundPresence' && answer.body.value.records.length > 0) finish(answer.body.value.records.slice(0, MAX_FORWARDED_RECORDS));
        })
        .catch((error: unknown) => this.contactFailed(contact, error))
        .finally(() => {
          if (--pending === 0) finish([]);
        });
    }
  }

  /** The record as this node holds it: until its lease ends (see RECORD_LEASE_MS), `leaseMs` from now at most. */
  private leased(record: VerifiedPresence, leaseMs = RECORD_LEASE_MS): VerifiedPresence {
    return { ...record, expiresAtMs: Math.min(record.expiresAtMs, this.env.clock.wallTimeMs() + Math.min(leaseMs, RECORD_LEASE_MS)) };
  }

  /**
   * A withdrawal from the supernode whose Noise key is `senderKey` (proven by its link): taken
   * only for a valid record that names that supernode, which alone knows the device left it.
   * Returns why it was refused, or null.
   */
  private takeWithdrawal(encoded: Uint8Array, senderKey: Uint8Array): string | null {
    const nowMs = this.env.clock.wallTimeMs();
    const verified = verifyPresenceRecord(encoded, this.verifier, nowMs);
    if (!verified.ok) return `${verified.error.code}: ${verified.error.message}`;
    if (!verified.value.supernodes.some((s) => equalBytes(s.dhKey, senderKey))) return 'not_named: only a supernode the record names may withdraw it';
    this.store.withdraw(verified.value, nowMs);
    return null;
  }

  /**
   * Takes back a record this supernode published for a device that left it: here and at the
   * user's closest supernodes. Resolves with how many replicas took it.
   */
  async withdraw(record: VerifiedPresence): Promise<number> {
    this.store.withdraw(record, this.env.clock.wallTimeMs());
    const closest = (await this.findNodes(userKey(record.username))).slice(0, this.replication);
    const taken = await Promise.all(
      closest.map(async (contact) => {
        try {
          const answer = await this.ask(contact, (requestId) => ({ case: 'withdrawPresence', value: create(WithdrawPresenceSchema, { requestId, record: record.encoded, sender: this.selfRef() }) }));
          return answer.body.case === 'withdrawn' && answer.body.value.outcome === WithdrawOutcome.WITHDRAWN ? 1 : 0;
        } catch (error) {
          this.contactFailed(contact, error);
          return 0;
        }
      }),
    );
    return taken.reduce<number>((a, b) => a + b, 0);
  }

  /** Open links to other supernodes (inbound and outbound). */
  get peerLinkCount(): number {
    return this.channels.size;
  }

  /** Whether a reused link to the supernode with this key is open. */
  isLinkedTo(dhKey: Uint8Array): boolean {
    const open = this.channels.get(toHex(dhKey));
    return open !== undefined && !open.isClosed;
  }

  isSelf(dhKey: Uint8Array): boolean {
    return equalBytes(dhKey, this.identity.dh.publicKey);
  }

  /**
   * Sends one DHT request to `contact` (over an open link, or a new one) and times the answer.
   * How long to wait follows measured round trips: the link's, else the overlay's (3 s before
   * any was timed). An answer proves the contact alive.
   */
  private async ask(contact: LookupContact, build: (requestId: bigint) => Envelope['body']): Promise<Envelope> {
    const channel = await this.channelTo(contact);
    let rtt = this.linkRtt.get(channel);
    if (!rtt) this.linkRtt.set(channel, (rtt = new RttEstimator()));
    const startedMs = this.env.clock.now();
    const answer = await channel.request(build, (rtt.samples > 0 ? rtt : this.rtt).giveUpMs());
    const tookMs = this.env.clock.now() - startedMs;
    rtt.sample(tookMs);
    this.rtt.sample(tookMs);
    this.rememberRtt(toHex(contact.dhKey), rtt.smoothedMs!);
    this.silent.alive(idHex(contact.id));
    this.table.insert(contact, this.env.clock.now());
    return answer;
  }

  private rememberRtt(key: string, rttMs: number): void {
    this.knownRttMs.delete(key);
    if (this.knownRttMs.size >= MAX_REMEMBERED_RTTS) this.knownRttMs.delete(this.knownRttMs.keys().next().value!);
    this.knownRttMs.set(key, rttMs);
  }

  /**
   * How long a lookup waits for `contact` before asking another as well: a round trip on an open
   * link, three on a new one (TCP, Noise IK, request); one more overlay round trip when the
   * contact may forward the request (`forwarding`).
   */
  private slowAfterMs(contact: LookupContact, forwarding: boolean): number {
    const open = this.channels.get(toHex(contact.dhKey));
    const rtt = open && !open.isClosed ? this.linkRtt.get(open) : undefined;
    const direct = rtt && rtt.samples > 0 ? rtt.slowAfterMs() : this.rtt.slowAfterMs(open && !open.isClosed ? 1 : 3);
    return forwarding ? direct + this.rtt.slowAfterMs() : direct;
  }

  /**
   * What an answer from `contact` is expected to take (ms): a round trip over an open link, three
   * over a new one; its last measured round trip, else the overlay's.
   */
  private expectedAnswerMs(contact: LookupContact): number {
    const key = toHex(contact.dhKey);
    const open = this.channels.get(key);
    const overall = this.rtt.smoothedMs ?? 0;
    if (open && !open.isClosed) return this.linkRtt.get(open)?.smoothedMs ?? this.knownRttMs.get(key) ?? overall;
    return 3 * (this.knownRttMs.get(key) ?? overall);
  }

  /**
   * Runs a lookup: `ask` sends one request and returns the closer contacts (or 'found'). Up to
   * α requests count as in flight; one slower than its round trips say stops counting, so the
   * lookup goes on around it. Contacts that did not answer lately are not asked. A lookup that
   * found its value returns at once; requests still out finish in the background.
   */
  private async iterate(target: NodeId, ask: (contact: LookupContact) => Promise<LookupContact[] | 'found'>, forwarding = false): Promise<{ lookup: Lookup; found: LookupContact | null }> {
    const nowMs = this.env.clock.now();
    const lookup = new Lookup(
      target,
      this.table.closest(target, DEFAULT_BUCKET_SIZE),
      DEFAULT_BUCKET_SIZE,
      DEFAULT_ALPHA,
      (c) => this.silent.isSilent(idHex(c.id), nowMs),
      (c) => this.expectedAnswerMs(c),
    );
    let found: LookupContact | null = null;
    let outstanding = 0;
    let wake: () => void = () => {};
    while (!found) {
      for (const contact of lookup.next()) {
        outstanding++;
        let settled = false;
        const slow = this.env.clock.after(this.slowAfterMs(contact, forwarding), () => {
          if (settled) return;
          lookup.onSlow(contact.id);
          wake();
        });
        void (async () => {
          try {
            const answer = await ask(contact);
            if (answer === 'found') {
              found ??= contact;
              lookup.onResponse(contact.id, []);
            } else {
              lookup.onResponse(contact.id, answer);
            }
          } catch (error) {
            lookup.onFailure(contact.id);
            this.contactFailed(contact, error);
          } finally {
            settled = true;
            slow.cancel();
            outstanding--;
            wake();
          }
        })();
      }
      if (found || outstanding === 0) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    return { lookup, found };
  }

  /** The supernodes closest to `target` (Kademlia's iterative FIND_NODE). */
  async findNodes(target: NodeId): Promise<LookupContact[]> {
    this.counters.nodeLookups++;
    const { lookup } = await this.iterate(target, async (contact) => {
      const answer = await this.ask(contact, (requestId) => ({ case: 'findNode', value: create(FindNodeSchema, { requestId, target, sender: this.selfRef() }) }));
      return answer.body.case === 'foundNodes' ? answer.body.value.nodes.map((n) => this.contactOf(n)) : [];
    });
    return lookup.closest();
  }

  /**
   * Joins the overlay: meets the seeds, looks itself up (filling nearby buckets), then looks up
   * a random id in each of the farthest buckets (Kademlia's bucket refresh). Without the second
   * step a supernode knows mostly its neighbours, and lookups that start from such sparse tables
   * can end among nodes that do not know the target's neighbourhood.
   */
  async join(seeds: readonly { host: string; port: number; dhKey: Uint8Array }[]): Promise<void> {
    this.seeds = seeds.filter((seed) => !this.isSelf(seed.dhKey));
    // Seeds are asked even if they failed lately (a rejoin is paced by its own backoff, and
    // dials by the dial budget's hold).
    for (const seed of this.seeds) {
      this.silent.alive(idHex(supernodeId(seed.dhKey)));
      this.meet(seed);
    }
    await this.findNodes(this.id);
    await Promise.all(Array.from({ length: REFRESHED_BUCKETS }, (_, bucket) => this.findNodes(randomIdInBucket(this.id, bucket, this.env.random.bytes(32)))));
    this.rejoinIfAlone();
  }

  /**
   * With no live contact left (every seed was down at join, or every contact failed since), joins
   * again through the seeds after a jittered, growing pause: supernodes that lost the overlay
   * together (an outage) do not all come back at the same instant.
   */
  private rejoinIfAlone(): void {
    if (this.closed || this.rejoinTimer || this.seeds.length === 0) return;
    if (this.table.hasLive) {
      this.rejoinAttempt = 0;
      return;
    }
    const pauseMs = jitteredBackoffMs(this.rejoinAttempt++, REJOIN_FIRST_MS, REJOIN_MAX_MS, this.env.random);
    this.rejoinTimer = this.env.clock.after(pauseMs, () => {
      this.rejoinTimer = null;
      if (this.closed) return;
      this.rejoins++;
      // Counted in `rejoins`; a failed rejoin waits out the next, longer pause.
      void this.join(this.seeds).catch(() => this.rejoinIfAlone());
    });
  }

  /** Stores a record at the `replication` supernodes closest to its user (here too, if one of them). */
  async publish(record: VerifiedPresence): Promise<number> {
    return (await this.publishAll(record.username, [record]))[0]!;
  }

  /** Stores records of one user after a single lookup of the user's closest supernodes; the copies stored of each. */
  private async publishAll(username: string, records: readonly VerifiedPresence[]): Promise<number[]> {
    const key = userKey(username);
    const closest = (await this.findNodes(key)).slice(0, this.replication);
    const selfIsClose = closest.length < this.replication || compareDistance(key, this.id, closest[closest.length - 1]!.id) < 0;
    return Promise.all(
      records.map(async (record) => {
        // A fresh record gets the full lease; one held here already (re-replication) what remains of it.
        const leaseMs = Math.max(1, Math.min(RECORD_LEASE_MS, Math.floor(record.expiresAtMs - this.env.clock.wallTimeMs())));
        let stored = selfIsClose && this.store.put(this.leased(record, leaseMs)) !== 'full' ? 1 : 0;
        await Promise.all(
          closest.map(async (contact) => {
            try {
              const answer = await this.ask(contact, (requestId) => ({ case: 'storePresence', value: create(StorePresenceSchema, { requestId, record: record.encoded, sender: this.selfRef(), leaseMs }) }));
              if (answer.body.case === 'stored' && answer.body.value.outcome === StoreOutcome.STORED) stored++;
            } catch (error) {
              this.contactFailed(contact, error);
            }
          }),
        );
        return stored;
      }),
    );
  }

  /** Finds a user's presence records: here, else through the overlay; caches the answer briefly. */
  async findPresence(username: string): Promise<FindResult> {
    const local = this.store.get(username, this.env.clock.wallTimeMs());
    if (local.length > 0) {
      this.counters.presenceLookups.local++;
      return { records: local, hops: 0, requests: 0 };
    }
    let records: VerifiedPresence[] = [];
    const { lookup } = await this.iterate(userKey(username), async (contact) => {
      const answer = await this.ask(contact, (requestId) => ({ case: 'findPresence', value: create(FindPresenceSchema, { requestId, username, sender: this.selfRef(), mayForward: true }) }));
      if (answer.body.case !== 'foundPresence') return [];
      const valid = answer.body.value.records
        .map((bytes) => verifyPresenceRecord(bytes, this.verifier, this.env.clock.wallTimeMs(), username))
        .flatMap((r) => (r.ok ? [r.value] : []));
      if (valid.length > 0) {
        records = valid;
        return 'found';
      }
      return answer.body.value.nodes.map((n) => this.contactOf(n));
    }, true);
    this.counters.presenceLookups[records.length > 0 ? 'found' : 'not_found']++;
    // Cached here, briefly: the next find for this user from any client of this supernode is
    // answered without a lookup.
    const now = this.env.clock.wallTimeMs();
    for (const record of records) this.store.put({ ...record, expiresAtMs: Math.min(record.expiresAtMs, now + PATH_CACHE_TTL_MS) });
    return { records, hops: lookup.maxHops, requests: lookup.requestsSent };
  }

  /** Starts probing the nearest neighbours (and re-replicating when one is gone). */
  startMaintenance(): void {
    const probe = () => {
      void this.probeNeighbours().finally(() => {
        if (!this.closed) this.maintenance = this.env.clock.after(NEIGHBOUR_PROBE_MS, probe);
      });
    };
    this.maintenance = this.env.clock.after(NEIGHBOUR_PROBE_MS, probe);
  }

  /**
   * Closes links idle for PEER_LINK_IDLE_MS (none with a request waiting), except reused links to
   * supernodes in the routing table: those are the first hop of this node's lookups and the
   * forwarding hop of others' (at most MAX_PEER_LINKS). Returns how many closed.
   */
  closeIdleLinks(): number {
    const nowMs = this.env.clock.now();
    let closed = 0;
    for (const channel of [...this.peerLinks]) {
      if (nowMs - channel.lastActiveMs < PEER_LINK_IDLE_MS || channel.pendingCount > 0) continue;
      if (this.keepsWarm(channel)) continue;
      channel.link.close(CloseReason.NORMAL, 'idle');
      this.peerLinks.delete(channel);
      closed++;
    }
    return closed;
  }

  /** Whether an idle link stays open: the reused link to a live contact of the routing table. */
  private keepsWarm(channel: RpcChannel): boolean {
    const peerKey = channel.link.peer.dhKey;
    if (this.channels.get(toHex(peerKey)) !== channel) return false;
    const contact = this.table.get(supernodeId(peerKey));
    return contact !== undefined && contact.failures === 0 && equalBytes(contact.dhKey, peerKey);
  }

  private async probeNeighbours(): Promise<void> {
    this.closeIdleLinks();
    // Suspects too: a probe is their chance to prove alive.
    await Promise.all(
      this.table.closest(this.id, this.replication, true).map(async (contact) => {
        try {
          await this.ask(contact, (requestId) => ({ case: 'findNode', value: create(FindNodeSchema, { requestId, target: this.id, sender: this.selfRef() }) }));
        } catch (error) {
          this.contactFailed(contact, error, PROBE_FAILURES_TO_DROP);
        }
      }),
    );
  }

  /**
   * Counts a failed request: the contact is skipped by lookups until it proves alive, and
   * replaced in the routing table when a replacement waits; when it leaves the table, the
   * records it held are stored again elsewhere. Refusals by this node's own limits (dials or
   * requests in flight) say nothing about the contact and are not counted.
   */
  private contactFailed(contact: LookupContact, error: unknown, maxFailures?: number): void {
    if (error instanceof DialRefused && error.reason !== 'failed_recently') return;
    if (error instanceof RpcError && error.code === 'busy') return;
    this.counters.contactFailures++;
    this.silent.failed(idHex(contact.id), this.env.clock.now());
    const dropped = this.table.recordFailure(contact.id, maxFailures);
    this.rejoinIfAlone();
    if (!dropped) return;
    for (const username of this.store.users()) {
      if (this.wasReplicaHolder(userKey(username), contact.id)) this.republishQueue.add(username);
    }
    void this.drainRepublishQueue();
  }

  /** Whether `id` (no longer in the table) was among the `replication` nodes closest to `key`, as this node knows them. */
  private wasReplicaHolder(key: NodeId, id: NodeId): boolean {
    let closer = compareDistance(key, this.id, id) < 0 ? 1 : 0;
    for (const c of this.table.contacts()) {
      if (compareDistance(key, c.id, id) < 0 && ++closer >= this.replication) return false;
    }
    return true;
  }

  /** Stores the queued users' records again, one user at a time (re-replication is background work). */
  private async drainRepublishQueue(): Promise<void> {
    if (this.republishing) return;
    this.republishing = true;
    try {
      for (const username of this.republishQueue) {
        if (this.closed) return;
        this.republishQueue.delete(username);
        // Path-cache copies (a minute at most) are not this node's to re-replicate.
        const nowMs = this.env.clock.wallTimeMs();
        const held = this.store.get(username, nowMs).filter((record) => record.expiresAtMs > nowMs + PATH_CACHE_TTL_MS);
        if (held.length > 0) await this.publishAll(username, held);
      }
    } finally {
      this.republishing = false;
    }
  }

  close(): void {
    this.closed = true;
    this.maintenance?.cancel();
    this.rejoinTimer?.cancel();
    for (const channel of this.channels.values()) channel.link.close();
    for (const channel of this.peerLinks) channel.link.close();
    this.channels.clear();
    this.peerLinks.clear();
  }
}
