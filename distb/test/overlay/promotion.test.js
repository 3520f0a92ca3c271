// Promotion and demotion on the virtual network: only a client that a supernode could dial back,
// with enough measured upload and uptime, and whose user allows it, becomes a supernode; other
// clients attach to it and are found through it; when it can no longer be reached it demotes and
// its clients fail over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/env/prng.js';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { AttachedClient } from '../../src/client/attachment.js';
import { DEFAULT_PROMOTION_POLICY, Promoter } from '../../src/client/promotion.js';
import { Role } from '../../src/crypto/certificate.js';
import { HostCache } from '../../src/overlay/host-cache.js';
import { supernodeCertificateFor } from '../../src/login-server/promotion.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';
import { testSeed, withSeed } from '../support/seed.js';
import { startSupernodes } from '../support/supernodes.js';
const MBIT = 1_000_000;
async function world(seed) {
    const net = testNetwork(new SeededRandom(seed));
    const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
    const supernodes = await startSupernodes(network, net, 5, { link: (i) => ({ latencyMs: 10 + 3 * i, bandwidthBps: 100 * MBIT }) });
    for (const s of supernodes)
        await network.scheduler.drive(s.running.join(supernodes.map((x) => x.ref)));
    const elapse = (ms) => network.scheduler.drive(new Promise((resolve) => network.scheduler.after(ms, resolve)));
    let serial = 1000;
    /** A client on `host` attached through `bootstrap`, with a promoter as a user would run it. */
    const node = async (username, host, bootstrap = supernodes.map((s) => s.ref), policy = {}) => {
        const identity = net.identity(username);
        const env = host.env();
        const attached = new AttachedClient(env, { identity, verifier: net.verifier, username, hostCache: new HostCache(), bootstrap });
        const attachEvents = [];
        attached.onEvent((e) => attachEvents.push(e));
        await network.scheduler.drive(attached.start());
        const promoter = new Promoter(env, {
            identity,
            verifier: net.verifier,
            client: attached,
            port: 40000,
            policy,
            // The login server's check, with the network's CA.
            certify: async (attestation) => {
                const issued = supernodeCertificateFor(net.ca, { username, signingKey: identity.signing.publicKey, dhKey: identity.dh.publicKey }, attestation, {
                    nowMs: env.clock.wallTimeMs(),
                    serial: serial++,
                    lifetimeMs: 24 * 3_600_000,
                });
                if (!issued.ok)
                    throw new Error(issued.error.code);
                return issued.value;
            },
        });
        const events = [];
        promoter.onEvent((e) => events.push(e));
        await network.scheduler.drive(promoter.start());
        return { username, host, identity, attached, attachEvents, promoter, events };
    };
    const publicHost = (upBps) => network.addHost({ link: { latencyMs: 15, bandwidthBps: upBps } });
    const nattedHost = () => network.addHost({ behind: network.addGateway({ nat: 'port-restricted', link: { bandwidthBps: 50 * MBIT } }), link: { latencyMs: 15 } });
    return { net, network, supernodes, elapse, node, publicHost, nattedHost };
}
test('only a reachable, fast, long-enough-up client whose user allows it is promoted; clients attach to it and are found through it', { timeout: 60_000 }, () => withSeed(testSeed(), async (seed) => {
    const w = await world(seed);
    const fast = await w.node('fast', w.publicHost(20 * MBIT));
    const natted = await w.node('natted', w.nattedHost());
    const slow = await w.node('slow', w.publicHost(256_000));
    const unwilling = await w.node('unwilling', w.publicHost(20 * MBIT), undefined, { allowed: false });
    await w.elapse(DEFAULT_PROMOTION_POLICY.minUptimeMs - 60_000);
    assert.equal(fast.events.length, 0, 'nothing happens before the minimum uptime');
    await w.elapse(2 * 60_000);
    const promoted = fast.events.find((e) => e.kind === 'promoted');
    assert.ok(promoted && promoted.kind === 'promoted', `fast was promoted (events: ${JSON.stringify(fast.events)})`);
    assert.ok(promoted.uploadKbps > 10_000 && promoted.uploadKbps <= 20_000, `measured upload ${promoted.uploadKbps} kbit/s on a 20 Mbit/s link`);
    assert.ok(fast.promoter.supernode, 'fast runs a supernode');
    assert.equal(fast.promoter.supernode.dht.table.size > 0, true, 'it joined the overlay');
    const refusedNat = natted.events.find((e) => e.kind === 'not-promoted');
    assert.ok(refusedNat?.kind === 'not-promoted' && /not reachable/.test(refusedNat.reason), `natted: ${JSON.stringify(natted.events)}`);
    assert.equal(natted.promoter.supernode, null);
    const refusedSlow = slow.events.find((e) => e.kind === 'not-promoted');
    assert.ok(refusedSlow?.kind === 'not-promoted' && /upload \d+ kbit\/s is below 1000/.test(refusedSlow.reason), `slow: ${JSON.stringify(slow.events)}`);
    assert.deepEqual(unwilling.events, [{ kind: 'forbidden' }]);
    assert.equal(unwilling.promoter.supernode, null);
    // The original supernodes learnt of it; a new client whose only bootstrap entry is the
    // promoted node attaches to it, publishes, and is found by a client elsewhere.
    const fastRef = { host: fast.host.addressText, port: 40000, dhKey: fast.identity.dh.publicKey };
    const knowers = w.supernodes.filter((s) => s.running.dht.table.all().some((c) => c.host === fastRef.host));
    assert.ok(knowers.length > 0, 'supernodes have the promoted node in their routing tables');
    const carol = await w.node('carol', w.nattedHost(), [fastRef], { allowed: false });
    assert.equal(carol.attached.supernode?.host, fastRef.host);
    assert.equal(fast.promoter.supernode.attachments.sessionsOf('carol').length, 1);
    await w.elapse(5_000);
    const found = await w.network.scheduler.drive(natted.attached.find('carol'));
    assert.equal(found.length, 1, 'carol, attached to the promoted node, is found from elsewhere');
    assert.equal(found[0].supernodes[0].host, fastRef.host);
    const foundFast = await w.network.scheduler.drive(carol.attached.find('fast'));
    assert.equal(foundFast.length, 1, 'the promoted user is still an ordinary user too');
    assert.equal(foundFast[0].device.role, Role.DEVICE);
}));
test('a promoted node that can no longer be reached demotes; its clients fail over and stay findable', { timeout: 60_000 }, () => withSeed(testSeed(), async (seed) => {
    const w = await world(seed);
    const policy = { minUptimeMs: 10 * 60_000 };
    const fast = await w.node('fast', w.publicHost(20 * MBIT), undefined, policy);
    await w.elapse(policy.minUptimeMs + 60_000);
    assert.ok(fast.promoter.supernode, `promoted: ${JSON.stringify(fast.events)}`);
    const fastRef = { host: fast.host.addressText, port: 40000, dhKey: fast.identity.dh.publicKey };
    const carol = await w.node('carol', w.nattedHost(), [fastRef], { allowed: false });
    assert.equal(carol.attached.supernode?.host, fastRef.host);
    // Re-checks pass while it is reachable.
    await w.elapse(3 * DEFAULT_PROMOTION_POLICY.recheckMs);
    assert.ok(fast.promoter.supernode, 'still a supernode while reachable');
    assert.ok(!fast.events.some((e) => e.kind === 'check-failed'), `no failed check: ${JSON.stringify(fast.events)}`);
    // A host firewall now drops new inbound connections.
    fast.host.refusesInbound = true;
    await w.elapse(DEFAULT_PROMOTION_POLICY.recheckMs + 2 * 60_000);
    const demoted = fast.events.find((e) => e.kind === 'demoted');
    assert.ok(demoted?.kind === 'demoted' && /unreachable/.test(demoted.reason), `demoted: ${JSON.stringify(fast.events)}`);
    assert.equal(fast.events.filter((e) => e.kind === 'check-failed').length, DEFAULT_PROMOTION_POLICY.demoteAfterFailures);
    assert.equal(fast.promoter.supernode, null);
    const reattached = carol.attachEvents.filter((e) => e.kind === 'attached');
    assert.ok(reattached.length >= 2 && carol.attached.supernode && carol.attached.supernode.host !== fastRef.host, 'carol failed over to another supernode');
    await w.elapse(5_000);
    const found = await w.network.scheduler.drive(fast.attached.find('carol'));
    assert.equal(found.length, 1, 'carol is findable after the failover');
    assert.notEqual(found.at(-1).supernodes[0].host, fastRef.host);
}));
//# sourceMappingURL=promotion.test.js.map