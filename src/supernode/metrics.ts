// A running supernode's Prometheus metrics, in a registry of its own (several supernodes in one
// process count apart). Every value is read at scrape time from counters and sizes the parts
// keep anyway — attachments, links, the DHT, STUN, TURN — so nothing on a hot path does more
// work for metrics than a `++`. Label values are our own codes, never a peer's bytes.
import { Counter, Gauge, Registry } from 'prom-client';
import type { RunningSupernode } from './supernode.js';
import { NO_TURN_TOTALS } from '../turn/turn-totals.js';

type Labels = Record<string, string>;
/** The current values of a metric: one per label set (`{}` for a metric without labels). */
type Read = () => Iterable<readonly [Labels, number]>;

function entries<K extends string>(values: ReadonlyMap<K, number> | Readonly<Record<K, number>>, label: string): Array<readonly [Labels, number]> {
  const pairs: Array<[string, number]> = values instanceof Map ? [...values.entries()] : Object.entries(values as Record<string, number>);
  return pairs.map(([key, value]) => [{ [label]: key }, value] as const);
}

/** A counter whose value is the part's own running total, copied at each scrape. */
/** Two maps of counts as one (the IPv6 server's refusals added to the IPv4 one's). */
function mergeCounts<K>(a: ReadonlyMap<K, number>, b: ReadonlyMap<K, number> | undefined): Map<K, number> {
  const out = new Map(a);
  for (const [key, count] of b ?? []) out.set(key, (out.get(key) ?? 0) + count);
  return out;
}

function counterFrom(registry: Registry, name: string, help: string, labelNames: readonly string[], read: Read): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.inc(labels, value);
    },
  });
}

function gaugeFrom(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

export function supernodeMetrics(supernode: RunningSupernode): Registry {
  const registry = new Registry();
  const { attachments, dht, counters } = supernode;
  const one = (value: number): Array<readonly [Labels, number]> => [[{}, value]];

  gaugeFrom(registry, 'parley_supernode_attached_clients', 'Devices attached to this supernode now.', () => attachments.size);
  gaugeFrom(registry, 'parley_supernode_client_links', 'Open secure links from devices (attached or not yet).', () => supernode.links.size);
  gaugeFrom(registry, 'parley_supernode_peer_links', 'Open secure links to other supernodes.', () => dht.peerLinkCount);
  counterFrom(registry, 'parley_supernode_handshakes_total', 'Secure-link handshakes completed, by the peer\'s role.', ['peer'], () => entries(counters.handshakes, 'peer'));
  counterFrom(registry, 'parley_supernode_handshake_failures_total', 'Incoming connections refused before or during the handshake, by reason (the channel error code).', ['reason'], () => entries(supernode.failures, 'reason'));
  counterFrom(registry, 'parley_supernode_links_refused_total', 'Device links closed at once because the supernode held its maximum of links.', [], () => one(counters.linksRefusedFull));
  counterFrom(registry, 'parley_supernode_links_refused_per_device_total', 'Device links closed at once because their device held its maximum of links here.', [], () => one(counters.linksRefusedPerDevice));
  counterFrom(registry, 'parley_supernode_links_closed_unattached_total', 'Device links closed because they did not attach in time.', [], () => one(counters.linksClosedUnattached));
  counterFrom(registry, 'parley_supernode_dial_refusals_total', 'Dials to other supernodes not made, by reason (in_flight_total, in_flight_per_host, failed_recently).', ['reason'], () => entries(dht.dials.refused, 'reason'));
  counterFrom(registry, 'parley_supernode_forwards_bad_sender_total', 'Messages forwarded by another supernode refused because it could not vouch for the sender\'s name.', [], () => one(supernode.forwardsRefusedBadSender));
  counterFrom(registry, 'parley_supernode_forwards_failed_total', 'Messages for a device attached elsewhere that could not be forwarded to its supernode (the sender is told unreachable).', [], () => one(supernode.forwardsFailed));
  counterFrom(registry, 'parley_supernode_stale_links_closed_total', 'Links to other supernodes closed because a forward on them had no answer at all (a stalled connection); the next forward dials afresh.', [], () => one(supernode.staleLinksClosed));
  counterFrom(registry, 'parley_supernode_attach_refusals_total', 'Attach requests refused, by reason.', ['reason'], () => entries(attachments.refused, 'reason'));
  counterFrom(registry, 'parley_supernode_attach_refusals_bad_presence_total', 'Attach requests refused for their presence record, by what was wrong with it (not_yet_valid or expired: mostly a device clock off beyond the 5 minutes allowed).', ['reason'], () => entries(attachments.refusedPresence, 'reason'));
  counterFrom(registry, 'parley_supernode_clients_dropped_silent_total', 'Attached clients dropped for missing their keep-alives.', [], () => one(attachments.droppedSilent));
  counterFrom(registry, 'parley_supernode_rate_limited_total', 'Client requests refused by a rate limit, by kind (lookup, route, reachability).', ['kind'], () => entries(counters.rateLimited, 'kind'));
  counterFrom(registry, 'parley_supernode_client_requests_ignored_total', 'Client requests ignored, by reason (unknown_kind: not a request a client sends; not_attached: needs an attachment the link has not made).', ['reason'], () =>
    [[{ reason: 'unknown_kind' }, counters.requestsIgnored.unknownKind] as const, [{ reason: 'not_attached' }, counters.requestsIgnored.notAttached] as const],
  );

  gaugeFrom(registry, 'parley_supernode_dht_routing_table_contacts', 'Supernodes in this node\'s DHT routing table.', () => dht.table.size);
  gaugeFrom(registry, 'parley_supernode_dht_records', 'Presence records held (replicas and path-cached copies).', () => dht.store.size);
  counterFrom(registry, 'parley_supernode_dht_node_lookups_total', 'Iterative FIND_NODE lookups started (joins, publishing, refresh).', [], () => one(dht.counters.nodeLookups));
  counterFrom(registry, 'parley_supernode_dht_presence_lookups_total', 'Presence lookups by result: local (answered from this node\'s store), found or not_found (through the overlay).', ['result'], () => entries(dht.counters.presenceLookups, 'result'));
  counterFrom(registry, 'parley_supernode_dht_contact_failures_total', 'Requests to other supernodes that failed (no link or no answer); a contact that fails often leaves the routing table.', [], () => one(dht.counters.contactFailures));
  counterFrom(registry, 'parley_supernode_dht_store_requests_total', 'Presence records other supernodes asked this one to store, by outcome.', ['outcome'], () => entries(dht.counters.storeRequests, 'outcome'));

  const stun = supernode.stun;
  counterFrom(registry, 'parley_supernode_stun_answers_total', 'STUN binding responses sent (success and error), over IPv4 and IPv6.', [], () => one((stun?.server.answered ?? 0) + (stun?.server6?.answered ?? 0)));
  counterFrom(registry, 'parley_supernode_stun_refusals_total', 'STUN requests refused or dropped, by reason, over IPv4 and IPv6.', ['reason'], () => (stun ? entries(mergeCounts(stun.server.refused, stun.server6?.refused), 'reason') : []));
  // TURN over every thread of the relay (relay workers post theirs every second).
  const turn = () => stun?.turnTotals() ?? NO_TURN_TOTALS;
  gaugeFrom(registry, 'parley_supernode_turn_allocations', 'TURN allocations live now.', () => turn().allocations);
  counterFrom(registry, 'parley_supernode_turn_allocations_total', 'TURN allocations made.', [], () => one(turn().allocationsCreated));
  counterFrom(registry, 'parley_supernode_turn_ipv6_allocations_total', 'TURN allocations made with an IPv6 relay (REQUESTED-ADDRESS-FAMILY IPv6).', [], () => one(turn().ipv6AllocationsCreated));
  counterFrom(registry, 'parley_supernode_turn_redirects_total', 'TURN Allocates sent to the relay thread that holds the user\'s allocations (300 Try Alternate).', [], () => one(turn().redirected));
  counterFrom(registry, 'parley_supernode_turn_relayed_bytes_total', 'Payload bytes relayed by TURN, both directions.', [], () => one(turn().relayed.bytes));
  counterFrom(registry, 'parley_supernode_turn_relayed_datagrams_total', 'Datagrams relayed by TURN, by direction (to_peer, to_client).', ['direction'], () =>
    stun ? [[{ direction: 'to_peer' }, turn().relayed.toPeers] as const, [{ direction: 'to_client' }, turn().relayed.toClients] as const] : [],
  );
  gaugeFrom(registry, 'parley_supernode_turn_tcp_connections', 'TURN TCP relay (RFC 6062) peer connections live now: opening, waiting for ConnectionBind, or relaying.', () => stun?.turn.tcpRelays?.connectionCount ?? 0);
  counterFrom(registry, 'parley_supernode_turn_tcp_connections_total', 'TURN TCP relay peer connections opened, by how (connect: a client\'s Connect; accept: a peer connected to the relay).', ['how'], () => {
    const tcp = stun?.turn.tcpRelays;
    return tcp ? [[{ how: 'connect' }, tcp.counts.connected] as const, [{ how: 'accept' }, tcp.counts.accepted] as const] : [];
  });
  counterFrom(registry, 'parley_supernode_turn_tcp_relayed_bytes_total', 'Bytes relayed by TURN TCP relays, by direction (to_peer, to_client); not in parley_supernode_turn_relayed_bytes_total.', ['direction'], () => {
    const tcp = stun?.turn.tcpRelays;
    return tcp ? [[{ direction: 'to_peer' }, tcp.counts.bytesToPeers] as const, [{ direction: 'to_client' }, tcp.counts.bytesToClients] as const] : [];
  });
  counterFrom(registry, 'parley_supernode_turn_forbidden_peers_total', 'Peers TURN refused to relay to, by why (loopback, private, shared, link_local, reserved, documentation, not_unicast, own_service, own_address).', ['reason'], () => (stun ? entries(turn().forbiddenPeers, 'reason') : []));
  counterFrom(registry, 'parley_supernode_turn_refusals_total', 'TURN requests and packets refused or dropped, by reason.', ['reason'], () => (stun ? entries(turn().refused, 'reason') : []));
  gaugeFrom(registry, 'parley_supernode_turn_tls_handshakes_in_progress', 'TURN over TLS handshakes in progress now.', () => stun?.tls?.inProgress ?? 0);
  counterFrom(registry, 'parley_supernode_turn_tls_handshakes_total', 'TURN over TLS handshakes completed.', [], () => one(stun?.tls?.handshakes ?? 0));
  counterFrom(registry, 'parley_supernode_turn_tls_refusals_total', 'TURN over TLS connections refused or given up on, by reason (capacity, per_source, timeout, handshake_failed).', ['reason'], () => (stun?.tls ? entries(stun.tls.refused, 'reason') : []));
  return registry;
}
