// Supernodes on the virtual network for overlay tests and benchmarks. Each is a host, a
// certified supernode identity and a running supernode on port 33033, made in that order (so
// seeded runs draw their randomness as before).
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { SeededRandom } from '../../src/env/prng.js';
import { Role } from '../../src/crypto/certificate.js';
import { startSupernode } from '../../src/supernode/supernode.js';
import { testNetwork, TEST_EPOCH_MS } from './identities.js';
export async function startSupernodes(network, net, count, options = {}) {
    const supernodes = [];
    for (let i = 0; i < count; i++) {
        const host = options.link ? network.addHost({ link: options.link(i) }) : network.addHost();
        const identity = net.identity('', { role: Role.SUPERNODE });
        const running = await startSupernode(host.env(), {
            identity,
            verifier: net.verifier,
            port: 33033,
            ...(options.attachment ? { attachment: options.attachment } : {}),
            ...(options.webPort ? { webPort: options.webPort } : {}),
        });
        supernodes.push({ host, running, ref: { host: host.addressText, port: 33033, dhKey: identity.dh.publicKey, ...(options.webPort ? { webPort: options.webPort } : {}) } });
    }
    return supernodes;
}
/**
 * A seeded world for overlay tests: the network CA, a virtual network, `count` supernodes that
 * have joined each other, and helpers to drive virtual time. Draws randomness in the order the
 * tests always did (CA, then supernodes), so seeded runs are unchanged.
 */
export async function overlayWorld(seed, count, options = {}) {
    const random = new SeededRandom(seed);
    const net = testNetwork(random);
    const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
    const scheduler = network.scheduler;
    const drive = (work) => scheduler.drive(work, options.maxVirtualMs);
    const elapse = (ms) => drive(new Promise((resolve) => scheduler.after(ms, resolve)));
    const supernodes = await startSupernodes(network, net, count, { ...(options.link ? { link: options.link } : {}), ...(options.webPort ? { webPort: options.webPort } : {}) });
    for (const s of supernodes)
        await drive(s.running.join(supernodes.map((x) => x.ref)));
    return { random, net, network, scheduler, drive, elapse, supernodes };
}
//# sourceMappingURL=supernodes.js.map