// Routing signalling to a user through the overlay: every online device gets it and
// acknowledges; each undeliverable device is reported with its reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toHex } from '../../src/crypto/bytes.js';
import { AttachedClient } from '../../src/client/attachment.js';
import { HostCache } from '../../src/overlay/host-cache.js';
import { DeliveryOutcome, RouteFailure } from '../../src/wire/messages.js';
import { testSeed, withSeed } from '../support/seed.js';
import { overlayWorld } from '../support/supernodes.js';
test('a message to a user reaches each of its devices, acknowledged end to end; failures say why', { timeout: 60_000 }, () => withSeed(testSeed(), async (seed) => {
    const { net, network, drive, elapse, supernodes } = await overlayWorld(seed, 6, { link: (i) => ({ latencyMs: 5 + i * 3 }) });
    const device = (name, sn) => {
        const host = network.addHost({ behind: network.addGateway({ nat: 'port-restricted' }) });
        const identity = net.identity(name);
        const client = new AttachedClient(host.env(), { identity, verifier: net.verifier, username: name, hostCache: new HostCache(), bootstrap: [supernodes[sn].ref] });
        const inbox = [];
        client.onDelivery((from, payload) => inbox.push({ from, text: new TextDecoder().decode(payload) }));
        return { host, identity, client, inbox };
    };
    const alice = device('alice', 0);
    const bobLaptop = device('bob', 3);
    const bobPhone = device('bob', 5);
    for (const d of [alice, bobLaptop, bobPhone])
        await drive(d.client.start());
    await elapse(3_000);
    const result = await drive(alice.client.route('bob', new TextEncoder().encode('ring ring')));
    assert.ok('deliveries' in result);
    assert.equal(result.deliveries.length, 2);
    assert.ok(result.deliveries.every((d) => d.outcome === DeliveryOutcome.DELIVERED));
    for (const d of [bobLaptop, bobPhone])
        assert.deepEqual(d.inbox, [{ from: 'alice', text: 'ring ring' }]);
    const offline = await drive(alice.client.route('carol', new Uint8Array([1])));
    assert.deepEqual(offline, { failure: RouteFailure.OFFLINE });
    const big = await drive(alice.client.route('bob', new Uint8Array(20_000)));
    assert.deepEqual(big, { failure: RouteFailure.TOO_LARGE });
    // The phone dies silently (its supernode still holds the session): no acknowledgement.
    bobPhone.host.crash();
    const partial = await drive(alice.client.route('bob', new TextEncoder().encode('again')));
    assert.ok('deliveries' in partial);
    const byDevice = new Map(partial.deliveries.map((d) => [toHex(d.deviceKey), d.outcome]));
    assert.equal(byDevice.get(toHex(bobLaptop.identity.dh.publicKey)), DeliveryOutcome.DELIVERED);
    assert.equal(byDevice.get(toHex(bobPhone.identity.dh.publicKey)), DeliveryOutcome.NO_ACK);
    // The laptop's supernode crashes: until the laptop re-attaches, the record points at a dead one.
    supernodes[3].host.crash();
    const unreachable = await drive(alice.client.route('bob', new TextEncoder().encode('hello?')));
    assert.ok('deliveries' in unreachable);
    const outcomes = new Map(unreachable.deliveries.map((d) => [toHex(d.deviceKey), d.outcome]));
    assert.equal(outcomes.get(toHex(bobLaptop.identity.dh.publicKey)), DeliveryOutcome.UNREACHABLE);
    for (const d of [alice, bobLaptop, bobPhone])
        d.client.close();
}));
//# sourceMappingURL=routing.test.js.map