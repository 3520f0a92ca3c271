// Secure links between nodes: the handshake and framed exchange on real loopback and on the
// virtual network in the same test, and every kind of bad input closing only its own link.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { realEnv } from '../../src/env/real.js';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { SeededRandom } from '../../src/env/prng.js';
import { SecureChannel } from '../../src/crypto/secure-channel.js';
import { ChannelFailure, connectSecure, listenSecure } from '../../src/crypto/secure-link.js';
import { CloseReason, DataSchema, RejectReason } from '../../src/wire/messages.js';
import { create } from '@bufbuild/protobuf';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';
import { issueCertificate, Role } from '../../src/crypto/certificate.js';
import { generateDeviceKeys } from '../../src/crypto/identity.js';
import { testSeed, withSeed } from '../support/seed.js';
const data = (channel, text) => ({
    case: 'data',
    value: create(DataSchema, { channel, payload: new TextEncoder().encode(text) }),
});
function nextMessage(link) {
    return new Promise((resolve) => link.onMessage(resolve));
}
/** Listens with `server`, connects with `client`, exchanges one message each way. */
async function exchange(serverEnv, clientEnv, serverHost, serverConfig, clientConfig) {
    let accepted;
    const serverLink = new Promise((resolve) => (accepted = resolve));
    const listener = await listenSecure(serverEnv, { port: 0, config: serverConfig, onLink: accepted });
    let client = null;
    try {
        client = await connectSecure(clientEnv, { host: serverHost, port: listener.local.port, config: clientConfig(serverConfig.identity.dh.publicKey) });
        const server = await serverLink;
        const atServer = nextMessage(server);
        client.send(data(7, 'hello over noise'));
        const got = await atServer;
        const atClient = nextMessage(client);
        server.send(data(8, 'and back'));
        const back = await atClient;
        listener.close();
        const serverClosed = new Promise((resolve) => server.onClose(resolve));
        client.close();
        assert.equal(await serverClosed, null);
        return { client, server, got, back };
    }
    finally {
        // Also when it fails: real sockets left open would hold the test run.
        listener.close();
        client?.close();
    }
}
for (const pattern of ['XX', 'IK']) {
    test(`${pattern}: two nodes handshake and exchange frames on real loopback and on the virtual network`, () => withSeed(testSeed(), async (seed) => {
        const random = new SeededRandom(seed);
        const net = testNetwork(random);
        const alice = net.identity('alice');
        const sn = net.identity('', { role: 2 });
        const clientConfig = (serverKey) => net.config(alice, pattern === 'IK' ? { remoteStaticKey: serverKey } : {});
        // Real loopback sockets (certificates issued at TEST_EPOCH_MS - 1 h, valid 24 h: use real time only if inside).
        const realNet = testNetwork(random);
        const realAlice = realNet.identity('alice', { issuedAtMs: Date.now() - 1000 });
        const realSn = realNet.identity('', { role: 2, issuedAtMs: Date.now() - 1000 });
        const real = await exchange(realEnv, realEnv, '127.0.0.1', realNet.config(realSn), (k) => realNet.config(realAlice, pattern === 'IK' ? { remoteStaticKey: k } : {}));
        // The virtual network, same code.
        const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
        const serverHost = network.addHost();
        const gateway = network.addGateway({ nat: 'symmetric' });
        const clientHost = network.addHost({ behind: gateway, link: { latencyMs: 30, jitterMs: 10 } });
        const virtual = await network.scheduler.drive(exchange(serverHost.env(), clientHost.env(), serverHost.addressText, net.config(sn), clientConfig));
        for (const run of [real, virtual]) {
            assert.equal(run.server.peer.username, 'alice');
            assert.equal(run.client.peer.role, 2);
            assert.equal(run.client.version, 1);
            assert.deepEqual(run.client.handshakeHash, run.server.handshakeHash);
            assert.equal(run.got.body.case, 'data');
            assert.equal(new TextDecoder().decode(run.got.body.value.payload), 'hello over noise');
            assert.equal(new TextDecoder().decode(run.back.body.value.payload), 'and back');
        }
    }));
}
/** Two channels on one test network; either side's config can be overridden (the bad side). */
function pair(overrides = {}) {
    const random = overrides.random ?? new SeededRandom(testSeed());
    const net = overrides.net ?? testNetwork(random);
    const base = { random, wallTimeMs: () => TEST_EPOCH_MS };
    const responder = new SecureChannel('responder', { ...base, ...net.config(net.identity('bob')), ...overrides.responder });
    const initiator = new SecureChannel('initiator', { ...base, ...net.config(net.identity('alice')), ...overrides.initiator });
    const pump = (from, outputs) => {
        const to = from === initiator ? responder : initiator;
        const events = [];
        for (const output of outputs) {
            if (output.kind === 'write')
                events.push(...pump(to, to.receiveBytes(output.bytes)));
            else
                events.push({ ...output, side: from === initiator ? 'initiator' : 'responder' });
        }
        return events;
    };
    return { initiator, responder, net, handshake: () => pump(initiator, initiator.start()) };
}
function closedWith(events, side) {
    const event = events.find((e) => e.kind === 'closed' && e.side === side);
    return event?.kind === 'closed' ? event.error : undefined;
}
test('a normal handshake establishes both sides once', () => {
    const p = pair();
    const events = p.handshake();
    assert.equal(events.filter((e) => e.kind === 'established').length, 2);
    assert.ok(p.initiator.isEstablished && p.responder.isEstablished);
});
test('replayed, reordered, forged and truncated frames end only that channel, each with its reason', () => {
    for (const attack of ['replay', 'reorder', 'forge', 'truncate']) {
        const p = pair();
        p.handshake();
        const bytes = [1, 2].map((i) => {
            const [frame] = p.initiator.sendMessage(data(i, `m${i}`));
            assert.ok(frame?.kind === 'write');
            return frame.bytes;
        });
        let outputs;
        if (attack === 'replay') {
            assert.equal(p.responder.receiveBytes(bytes[0])[0].kind, 'message');
            outputs = p.responder.receiveBytes(bytes[0]);
        }
        else if (attack === 'reorder') {
            outputs = p.responder.receiveBytes(bytes[1]);
        }
        else if (attack === 'forge') {
            const forged = bytes[0].slice();
            forged[forged.byteLength - 3] ^= 0x40;
            outputs = p.responder.receiveBytes(forged);
        }
        else {
            // A frame whose length says more than arrives, then the stream ends.
            assert.deepEqual(p.responder.receiveBytes(bytes[0].slice(0, bytes[0].byteLength - 5)), []);
            outputs = p.responder.transportClosed();
        }
        const closed = outputs.find((o) => o.kind === 'closed');
        assert.ok(closed?.kind === 'closed' && closed.error, attack);
        assert.equal(closed.error.code, attack === 'truncate' ? 'connection_lost' : 'decrypt_failed', attack);
        assert.ok(p.responder.isClosed);
        assert.ok(p.initiator.isEstablished, 'the other side is untouched');
    }
});
test('an oversized or empty frame during the handshake is refused before it is buffered', () => {
    for (const header of [[0xff, 0xff], [0x00, 0x00]]) {
        const closed = pair().responder.receiveBytes(Uint8Array.from(header))[0];
        assert.ok(closed?.kind === 'closed');
        assert.equal(closed.error?.code, 'bad_frame');
    }
});
test('a large message that arrives in the same chunk as the handshake\'s last message is accepted (the limit rises between frames)', () => {
    const random = new SeededRandom(testSeed());
    const net = testNetwork(random);
    const base = { random, wallTimeMs: () => TEST_EPOCH_MS };
    const bob = net.identity('bob');
    const responder = new SecureChannel('responder', { ...base, ...net.config(bob) });
    const initiator = new SecureChannel('initiator', { ...base, ...net.config(net.identity('alice'), { remoteStaticKey: bob.dh.publicKey }) });
    const writes = (outputs) => outputs.flatMap((o) => (o.kind === 'write' ? [o.bytes] : []));
    const [first] = writes(initiator.start());
    const atResponder = responder.receiveBytes(first);
    assert.ok(responder.isEstablished, 'IK: the responder is done after its answer');
    const large = data(9, 'x'.repeat(8000));
    const chunk = Buffer.concat([...writes(atResponder), ...writes(responder.sendMessage(large))]);
    const atInitiator = initiator.receiveBytes(chunk);
    assert.deepEqual(atInitiator.map((o) => o.kind), ['established', 'message']);
});
test('bytes that are not a Parley channel (an HTTP request) are refused', () => {
    const closed = pair().responder.receiveBytes(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n')).at(-1);
    assert.ok(closed?.kind === 'closed');
    assert.ok(['bad_preamble', 'bad_frame'].includes(closed.error.code), closed.error.code);
});
test('no common protocol version: the responder rejects, the initiator learns why', () => {
    const events = pair({ initiator: { versions: [7, 8] } }).handshake();
    assert.equal(closedWith(events, 'responder')?.code, 'unsupported_version');
    const atInitiator = closedWith(events, 'initiator');
    assert.equal(atInitiator?.code, 'rejected');
    assert.equal(atInitiator?.rejectReason, RejectReason.UNSUPPORTED_VERSION);
});
/** Bad identities, made against the honest network `net`. */
const badIdentities = [
    { name: 'an expired certificate', expect: 'bad_certificate', certificateError: 'expired', make: (net) => net.identity('eve', { issuedAtMs: TEST_EPOCH_MS - 48 * 3_600_000 }) },
    { name: 'a certificate not yet valid', expect: 'bad_certificate', certificateError: 'not_yet_valid', make: (net) => net.identity('eve', { issuedAtMs: TEST_EPOCH_MS + 3_600_000 }) },
    { name: "another network's certificate", expect: 'wrong_network', certificateError: 'wrong_network', make: (_net, random) => testNetwork(random).identity('eve') },
    {
        name: 'a certificate claiming this network, signed by another CA',
        expect: 'bad_certificate',
        certificateError: 'bad_signature',
        make: (net, random) => {
            const keys = generateDeviceKeys(random);
            const rogueCa = { keyPair: testNetwork(random).ca.keyPair, networkId: net.ca.networkId };
            const request = { username: 'eve', role: Role.DEVICE, signingKey: keys.signing.publicKey, dhKey: keys.dh.publicKey, serial: 9, issuedAtMs: TEST_EPOCH_MS - 1000 };
            return { ...keys, certificate: issueCertificate(rogueCa, request) };
        },
    },
    { name: "someone else's valid certificate", expect: 'key_mismatch', make: (net) => ({ ...net.identity('eve'), certificate: net.identity('alice').certificate }) },
];
for (const bad of badIdentities) {
    for (const badSide of ['initiator', 'responder']) {
        for (const ik of badSide === 'initiator' ? [false, true] : [false]) {
            test(`the ${badSide} presents ${bad.name}${ik ? ' in IK' : ''}: the other side refuses it`, () => {
                const random = new SeededRandom(testSeed());
                const net = testNetwork(random);
                const badIdentity = bad.make(net, random);
                const bob = net.identity('bob');
                const p = pair({
                    random,
                    net,
                    responder: { identity: badSide === 'responder' ? badIdentity : bob },
                    ...(badSide === 'initiator' ? { initiator: { identity: badIdentity, ...(ik ? { remoteStaticKey: bob.dh.publicKey } : {}) } } : {}),
                });
                const error = closedWith(p.handshake(), badSide === 'initiator' ? 'responder' : 'initiator');
                assert.equal(error?.code, bad.expect);
                if (bad.certificateError)
                    assert.equal(error?.certificateError, bad.certificateError);
                assert.ok(!(p.initiator.isEstablished && p.responder.isEstablished), 'no link comes up');
            });
        }
    }
}
test('a listener keeps serving good peers while bad ones fail, each with its reason', () => withSeed(testSeed(), async (seed) => {
    const random = new SeededRandom(seed);
    const net = testNetwork(random);
    const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
    const server = network.addHost();
    const failures = [];
    const links = [];
    const serverIdentity = net.identity('', { role: 2 });
    const listener = await listenSecure(server.env(), {
        port: 33033,
        config: net.config(serverIdentity),
        onLink: (link) => {
            links.push(link);
            link.onMessage((envelope) => link.send(envelope.body)); // echo
        },
        onFailure: (error) => failures.push(error.code),
        handshakeTimeoutMs: 5_000,
    });
    const run = async () => {
        // 1. garbage bytes
        const garbage = network.addHost();
        const raw = await garbage.net.connectTcp({ host: server.addressText, port: 33033 });
        raw.write(new TextEncoder().encode('\x00\x10not noise at all'));
        // 2. a silent peer: the handshake times out
        const silent = network.addHost();
        await silent.net.connectTcp({ host: server.addressText, port: 33033 });
        // 3. an expired certificate: in XX the initiator finishes its side first, then the
        //    responder's check ends the link with Close(BAD_CERTIFICATE).
        const expired = network.addHost();
        const refused = await connectSecure(expired.env(), { host: server.addressText, port: 33033, config: net.config(net.identity('old', { issuedAtMs: TEST_EPOCH_MS - 72 * 3_600_000 })) });
        const failure = await new Promise((resolve) => refused.onClose(resolve));
        assert.equal(failure?.code, 'peer_closed');
        assert.equal(failure?.closeReason, CloseReason.BAD_CERTIFICATE);
        // 3b. a client of another network, in IK: refused in the first exchange, before any link.
        const stranger = network.addHost();
        const other = testNetwork(random);
        const strangerFailure = await connectSecure(stranger.env(), {
            host: server.addressText,
            port: 33033,
            config: other.config(other.identity('x'), { remoteStaticKey: serverIdentity.dh.publicKey }),
        }).catch((error) => error);
        assert.ok(strangerFailure instanceof ChannelFailure);
        assert.equal(strangerFailure.code, 'rejected');
        // 4. a good peer, after all that, is served
        const good = network.addHost();
        const link = await connectSecure(good.env(), { host: server.addressText, port: 33033, config: net.config(net.identity('carol')) });
        const echoed = nextMessage(link);
        link.send(data(1, 'still serving'));
        assert.equal(new TextDecoder().decode((await echoed).body.value.payload), 'still serving');
        const closed = new Promise((resolve) => links[0].onClose(resolve));
        link.close(CloseReason.NORMAL);
        assert.equal(await closed, null, 'a normal close reaches the server as a normal close');
        // Let the silent peer's handshake time out.
        await new Promise((resolve) => network.scheduler.after(6_000, resolve));
        return failure;
    };
    await network.scheduler.drive(run());
    listener.close();
    assert.deepEqual(failures.sort(), ['bad_certificate', 'bad_preamble', 'handshake_timeout', 'wrong_network'].sort());
    assert.equal(links.length, 1);
}));
//# sourceMappingURL=secure-channel.test.js.map