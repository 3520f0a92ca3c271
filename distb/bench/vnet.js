// The virtual network's speed and size: delivered packets per second and bytes per host.
import { VirtualNetwork } from '../src/env/virtual/index.js';
import { heapUsed, measure } from './measure.js';
const ROUNDS = 5;
const PAYLOAD = new Uint8Array(100);
/** Opens the sockets synchronously: the virtual bind resolves at once, so drain microtasks. */
async function bindAll(hosts, port) {
    return Promise.all(hosts.map((h) => h.net.bindUdp({ port })));
}
/** 1 000 public hosts pass packets on to random peers ("hot potato"), 10 000 in flight. */
async function publicRate(deliveries) {
    const network = new VirtualNetwork(1);
    const hosts = Array.from({ length: 1000 }, () => network.addHost({ link: { latencyMs: 20, jitterMs: 5 } }));
    const sockets = await bindAll(hosts, 4000);
    const peers = hosts.map((h) => ({ host: h.addressText, port: 4000 }));
    const random = network.random;
    let delivered = 0;
    for (const socket of sockets) {
        socket.onMessage((bytes) => {
            if (++delivered < deliveries)
                socket.send(bytes, peers[random.int(peers.length)]);
        });
    }
    for (let i = 0; i < 10_000; i++)
        sockets[i % sockets.length].send(PAYLOAD, peers[random.int(peers.length)]);
    const start = performance.now();
    network.scheduler.runUntilIdle();
    return (delivered * 1000) / (performance.now() - start);
}
/** 1 000 clients, each behind its own port-restricted NAT, ping-pong with 100 public servers. */
async function natRate(deliveries) {
    const network = new VirtualNetwork(2);
    const servers = Array.from({ length: 100 }, () => network.addHost());
    const clients = Array.from({ length: 1000 }, () => network.addHost({ behind: network.addGateway({ nat: 'port-restricted' }) }));
    const serverSockets = await bindAll(servers, 3478);
    const clientSockets = await bindAll(clients, 5000);
    let delivered = 0;
    for (const s of serverSockets) {
        s.onMessage((bytes, from) => {
            if (++delivered < deliveries)
                s.send(bytes, from);
        });
    }
    clientSockets.forEach((c, i) => {
        const server = { host: servers[i % servers.length].addressText, port: 3478 };
        c.onMessage((bytes) => {
            if (++delivered < deliveries)
                c.send(bytes, server);
        });
        for (let k = 0; k < 10; k++)
            c.send(PAYLOAD, server);
    });
    const start = performance.now();
    network.scheduler.runUntilIdle();
    return (delivered * 1000) / (performance.now() - start);
}
function timerRate(count) {
    const network = new VirtualNetwork(3);
    const clock = network.scheduler;
    let fired = 0;
    const tick = () => {
        if (++fired < count)
            clock.after(1 + (fired % 7), tick);
    };
    for (let i = 0; i < 1000; i++)
        clock.after(i % 13, tick);
    const start = performance.now();
    clock.runUntilIdle();
    return (fired * 1000) / (performance.now() - start);
}
async function bytesPerHost(count, kind) {
    const network = new VirtualNetwork(4);
    const before = heapUsed();
    if (kind === 'nat') {
        const gateways = Array.from({ length: count / 100 }, () => network.addGateway({ nat: 'symmetric' }));
        for (let i = 0; i < count; i++)
            network.addHost({ behind: gateways[i % gateways.length] });
    }
    else {
        for (let i = 0; i < count; i++)
            network.addHost();
    }
    if (kind === 'socket')
        await bindAll(network.hosts, 4000);
    const after = heapUsed();
    if (network.hosts.length !== count)
        throw new Error('hosts missing');
    return (after - before) / count;
}
export async function benchVnet() {
    const rounds = async (f) => {
        const values = [];
        await f();
        for (let i = 0; i < ROUNDS; i++)
            values.push(await f());
        values.sort((a, b) => a - b);
        return { median: values[Math.floor(values.length / 2)], min: values[0], max: values[values.length - 1] };
    };
    const hostsForMemory = 100_000;
    return {
        publicPacketsPerSecond: await rounds(() => publicRate(2_000_000)),
        natPacketsPerSecond: await rounds(() => natRate(1_000_000)),
        timerEventsPerSecond: measure(ROUNDS, () => timerRate(2_000_000)),
        bytesPerBareHost: await rounds(() => bytesPerHost(hostsForMemory, 'bare')),
        bytesPerHostWithSocket: await rounds(() => bytesPerHost(hostsForMemory, 'socket')),
        bytesPerNattedHost: await rounds(() => bytesPerHost(hostsForMemory, 'nat')),
        hostsForMemory,
    };
}
//# sourceMappingURL=vnet.js.map