import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { SeededRandom } from '../../src/env/prng.js';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { connectSecure } from '../../src/crypto/secure-link.js';
import { startSupernode } from '../../src/supernode/supernode.js';
import { CloseReason, PingSchema, Role } from '../../src/wire/messages.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';
import { testSeed, withSeed } from '../support/seed.js';
test('a supernode answers pings, serves at most maxLinks links, and counts refused handshakes', () => withSeed(testSeed(), async (seed) => {
    const net = testNetwork(new SeededRandom(seed));
    const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
    const host = network.addHost();
    const identity = net.identity('', { role: Role.SUPERNODE });
    const supernode = await startSupernode(host.env(), { identity, verifier: net.verifier, port: 33033, maxLinks: 2 });
    const connect = (name) => connectSecure(network.addHost({ link: { latencyMs: 25 } }).env(), {
        host: host.addressText,
        port: 33033,
        config: net.config(net.identity(name), { remoteStaticKey: identity.dh.publicKey }),
    });
    const run = async () => {
        const links = [await connect('a'), await connect('b')];
        const pong = new Promise((resolve) => links[0].onMessage((e) => e.body.case === 'pong' && resolve(e.body.value.nonce)));
        const sentAt = network.scheduler.now();
        links[0].send({ case: 'ping', value: create(PingSchema, { nonce: 77n }) });
        assert.equal(await pong, 77n);
        const rttMs = network.scheduler.now() - sentAt;
        // The third link is turned away: the supernode is full.
        const third = await connect('c');
        const refused = await new Promise((resolve) => third.onClose(resolve));
        // A stranger of another network never gets a link.
        const other = testNetwork(new SeededRandom(seed + 1));
        const stranger = await connectSecure(network.addHost().env(), { host: host.addressText, port: 33033, config: other.config(other.identity('x')) }).catch((e) => e);
        return { rttMs, refused, stranger };
    };
    const { rttMs, refused, stranger } = await network.scheduler.drive(run());
    assert.equal(rttMs, 2 * (25 + 10), 'one round trip over both links');
    assert.equal(refused?.closeReason, CloseReason.SHUTDOWN);
    assert.ok(stranger instanceof Error);
    assert.equal(supernode.links.size, 2);
    assert.equal(supernode.failures.get('wrong_network'), 1);
    supernode.close();
}));
//# sourceMappingURL=supernode.test.js.map