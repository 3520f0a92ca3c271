// The supernode overlay on the virtual network: lookup hops and latency, bytes per attach
// ("login" to the overlay) and per search, failover time. All times are virtual (exact).
import { SeededRandom } from '../src/env/prng.js';
import { VirtualNetwork } from '../src/env/virtual/index.js';
import { AttachedClient } from '../src/client/attachment.js';
import { HostCache } from '../src/overlay/host-cache.js';
import { testNetwork, TEST_EPOCH_MS } from '../test/support/identities.js';
import { startSupernodes } from '../test/support/supernodes.js';
function percentile(values, p) {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
export async function benchOverlay(supernodeCount = 1000, clientCount = 200, searches = 300, seed = 7) {
    const wallStart = performance.now();
    const random = new SeededRandom(seed);
    const net = testNetwork(random);
    const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
    const drive = (work) => network.scheduler.drive(work, 24 * 3_600_000);
    const elapse = (ms) => drive(new Promise((resolve) => network.scheduler.after(ms, resolve)));
    // One-way link latency 5–20 ms uniform: the median round trip between two nodes is ~50 ms.
    const latency = () => 5 + random.float() * 15;
    const supernodes = await startSupernodes(network, net, supernodeCount, { link: () => ({ latencyMs: latency() }) });
    const rtts = [];
    for (let i = 0; i < 1000; i++) {
        const a = supernodes[random.int(supernodeCount)].host.link.latencyMs;
        const b = supernodes[random.int(supernodeCount)].host.link.latencyMs;
        rtts.push(2 * (a + b));
    }
    const seeds = supernodes.slice(0, 5).map((s) => s.ref);
    for (const s of supernodes)
        await drive(s.running.join(seeds));
    const clients = [];
    const attachBytes = [];
    for (let i = 0; i < clientCount; i++) {
        const name = `user${i}`;
        const host = network.addHost({ behind: network.addGateway({ nat: 'port-restricted' }), link: { latencyMs: latency() } });
        const bootstrap = Array.from({ length: 4 }, () => supernodes[random.int(supernodeCount)].ref);
        const attached = new AttachedClient(host.env(), { identity: net.identity(name), verifier: net.verifier, username: name, hostCache: new HostCache(), bootstrap });
        const events = [];
        attached.onEvent((e) => events.push(e));
        await drive(attached.start());
        attachBytes.push(host.bytesSent + host.bytesReceived);
        clients.push({ name, host, attached, events });
    }
    await elapse(5_000);
    // Lookups from supernodes, for users they have not looked up before: hops and virtual time.
    const hops = [];
    const lookupMs = [];
    let requests = 0;
    for (let i = 0; i < searches; i++) {
        const from = supernodes[random.int(supernodeCount)].running.dht;
        const target = clients[random.int(clientCount)].name;
        if (from.store.get(target, network.scheduler.wallTimeMs()).length > 0)
            continue;
        const started = network.scheduler.now();
        const found = await drive(from.findPresence(target));
        if (found.records.length === 0)
            throw new Error(`lookup for ${target} failed`);
        lookupMs.push(network.scheduler.now() - started);
        hops.push(found.hops);
        requests += found.requests;
    }
    // Searches from clients: bytes at the client's interface, as the seed measured Skype's.
    const searchBytes = [];
    for (let i = 0; i < 100; i++) {
        const client = clients[random.int(clientCount)];
        const target = clients[random.int(clientCount)];
        const before = client.host.bytesSent + client.host.bytesReceived;
        const records = await drive(client.attached.find(target.name));
        if (records.length === 0)
            throw new Error('client search failed');
        searchBytes.push(client.host.bytesSent + client.host.bytesReceived - before);
    }
    // Failover: crash the supernodes of 20 clients.
    const victims = clients.slice(0, 20);
    const crashedAt = network.scheduler.now();
    const crashed = new Set(victims.map((c) => c.attached.supernode.host));
    for (const s of supernodes)
        if (crashed.has(s.host.addressText))
            s.host.crash();
    await elapse(60_000);
    const detection = [];
    const reattach = [];
    for (const c of clients) {
        const lost = c.events.find((e) => e.kind === 'lost' && e.atMs >= crashedAt);
        const again = c.events.filter((e) => e.kind === 'attached' && e.atMs >= crashedAt)[0];
        if (!lost)
            continue;
        if (!again)
            throw new Error(`${c.name} did not re-attach`);
        detection.push(lost.atMs - crashedAt);
        reattach.push(again.atMs - lost.atMs);
    }
    for (const c of clients)
        c.attached.close();
    for (const s of supernodes)
        s.running.close();
    return {
        supernodes: supernodeCount,
        clients: clientCount,
        medianRttMs: percentile(rtts, 50),
        hops: { p50: percentile(hops, 50), p99: percentile(hops, 99), max: Math.max(...hops) },
        lookupMs: { p50: percentile(lookupMs, 50), p99: percentile(lookupMs, 99) },
        requestsPerLookup: requests / hops.length,
        attachBytes: { p50: percentile(attachBytes, 50), max: Math.max(...attachBytes) },
        searchBytes: { p50: percentile(searchBytes, 50), max: Math.max(...searchBytes) },
        detectionMs: { p50: percentile(detection, 50), max: Math.max(...detection) },
        reattachMs: { p50: percentile(reattach, 50), max: Math.max(...reattach) },
        wallSeconds: (performance.now() - wallStart) / 1000,
    };
}
//# sourceMappingURL=overlay.js.map