// The TURN server's Allocate rules that clients of other implementations rely on (RFC 8656
// section 7.2), told through raw requests on a fake network: EVEN-PORT with and without the
// reservation bit, RESERVATION-TOKEN (claimed, expired, another user's, bounded), relay ports
// from an operator's range, DONT-FRAGMENT where the DF bit is set, and the refusals the RFC
// names: 420 for DONT-FRAGMENT where it is not, 440 for an IPv6 relay, 443 for an IPv6 peer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Scheduler } from '../../src/env/virtual/scheduler.js';
import { SeededRandom } from '../../src/env/prng.js';
import type { Clock, Endpoint, UdpSocket } from '../../src/env/types.js';
import { Attr, StunClass, StunMethod, attribute, decodeAddress, decodeErrorCode, decodeStun, encodeAddress, encodeStun, encodeUint32, type DecodedStun, type StunAttribute } from '../../src/stun/stun.js';
import { RESERVATION_LIFETIME_MS, TurnServer, type TurnLimits, type TurnServerOptions } from '../../src/turn/turn-server.js';
import { issueTurnCredentials, longTermKey, passwordFor } from '../../src/turn/turn-credentials.js';
import { parseCidr } from '../../src/turn/peer-policy.js';

const REALM = 'parley';
const SERVER: Endpoint = { host: '198.51.100.1', port: 3478 };
const RELAY_HOST = '203.0.113.7';
const DOCUMENTATION_PEERS = (() => {
  const parsed = parseCidr('192.0.2.0/24');
  assert.ok(parsed.ok);
  return parsed.value;
})();

/** Relay sockets on a fake host: the system hands out ports upwards from `firstPort`; a taken port rejects. */
function fakeNet(firstPort: number) {
  const bound = new Map<number, UdpSocket>();
  let next = firstPort;
  const bindRelay = (port: number): Promise<UdpSocket> => {
    if (port === 0) while (bound.has(next)) next++;
    const chosen = port === 0 ? next++ : port;
    if (bound.has(chosen)) return Promise.reject(new Error(`port ${chosen} is in use`));
    const socket: UdpSocket = { local: { host: '10.0.0.5', port: chosen }, send: () => {}, onMessage: () => {}, close: () => void bound.delete(chosen) };
    bound.set(chosen, socket);
    return Promise.resolve(socket);
  };
  return { bound, bindRelay };
}

function world(options: { firstPort?: number; limits?: Partial<TurnLimits>; relayPorts?: TurnServerOptions['relayPorts']; dontFragment?: boolean } = {}) {
  const clock = new Scheduler();
  // The server's timers, counted while they wait (neither fired nor cancelled).
  let waiting = 0;
  const counted: Clock = {
    now: () => clock.now(),
    wallTimeMs: () => clock.wallTimeMs(),
    after: (ms, fn) => {
      let live = true;
      const done = () => {
        if (live) waiting--;
        live = false;
      };
      waiting++;
      const timer = clock.after(ms, () => {
        done();
        fn();
      });
      return {
        cancel: () => {
          done();
          timer.cancel();
        },
      };
    },
  };
  const secret = new Uint8Array(32).fill(7);
  const net = fakeNet(options.firstPort ?? 50_001);
  const turn = new TurnServer(counted, {
    realm: REALM,
    secret,
    passwordFor: (username, nowMs) => passwordFor(secret, username, nowMs),
    bindRelay: net.bindRelay,
    relayHost: RELAY_HOST,
    random: new SeededRandom(42),
    // The peers here have documentation addresses, which a relay on the internet refuses.
    allowPeers: [DOCUMENTATION_PEERS],
    ...(options.relayPorts ? { relayPorts: options.relayPorts } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.dontFragment !== undefined ? { dontFragment: options.dontFragment } : {}),
  });
  let txCounter = 0;
  /** A client on its own 5-tuple that signs its requests with `user`'s credentials. */
  const client = (user: string, port: number) => {
    const from: Endpoint = { host: '192.0.2.10', port };
    const credentials = issueTurnCredentials(secret, user, 'dev', clock.wallTimeMs());
    const key = longTermKey(credentials.username, REALM, credentials.password);
    const waiting: ((answer: DecodedStun) => void)[] = [];
    const via = {
      local: SERVER,
      send: (bytes: Uint8Array) => {
        const decoded = decodeStun(bytes);
        assert.ok(decoded.ok);
        waiting.shift()?.(decoded.value);
      },
    };
    let nonce: Uint8Array | null = null;
    const ask = (method: number, attributes: StunAttribute[], sign: boolean) => {
      const transactionId = new Uint8Array(12);
      new DataView(transactionId.buffer).setUint32(8, ++txCounter);
      const withAuth = sign ? [...attributes, { type: Attr.USERNAME, value: new TextEncoder().encode(credentials.username) }, { type: Attr.REALM, value: new TextEncoder().encode(REALM) }, { type: Attr.NONCE, value: nonce! }] : attributes;
      const answer = new Promise<DecodedStun>((resolve) => waiting.push(resolve));
      turn.receive(encodeStun({ method, cls: StunClass.REQUEST, transactionId, attributes: withAuth, classic: false }, sign ? { integrityKey: key, fingerprint: true } : {}), from, via);
      return answer;
    };
    /** A signed request (after a 401 that brings the nonce); its answer. */
    const request = async (method: number, attributes: StunAttribute[]) => {
      nonce ??= attribute(await ask(StunMethod.REFRESH, [], false), Attr.NONCE)!;
      return ask(method, attributes, true);
    };
    /** An unsigned indication (nothing answers it). */
    const indicate = (method: number, attributes: StunAttribute[]) => {
      const transactionId = new Uint8Array(12);
      new DataView(transactionId.buffer).setUint32(8, ++txCounter);
      turn.receive(encodeStun({ method, cls: StunClass.INDICATION, transactionId, attributes, classic: false }), from, via);
    };
    return { request, indicate };
  };
  return { clock, turn, net, client, timers: () => waiting };
}

const transport = { type: Attr.REQUESTED_TRANSPORT, value: Uint8Array.of(17, 0, 0, 0) };
const evenPort = (reserve: boolean) => ({ type: Attr.EVEN_PORT, value: Uint8Array.of(reserve ? 0x80 : 0) });
const token = (value: Uint8Array) => ({ type: Attr.RESERVATION_TOKEN, value });

function errorOf(answer: DecodedStun): number {
  const value = attribute(answer, Attr.ERROR_CODE);
  const decoded = value ? decodeErrorCode(value) : null;
  return answer.cls === StunClass.SUCCESS ? 0 : decoded?.ok ? decoded.value.code : -1;
}

function relayedOf(answer: DecodedStun): Endpoint {
  assert.equal(errorOf(answer), 0, 'a successful Allocate');
  const relayed = decodeAddress(attribute(answer, Attr.XOR_RELAYED_ADDRESS)!, true, answer.transactionId);
  assert.ok(relayed.ok);
  return relayed.value;
}

test('EVEN-PORT with R: an even relay port, the next one held under a token that a later Allocate of the same user claims', async () => {
  // The system's first port is odd (50001): it becomes the reserved one, 50000 the relay.
  const { turn, net, client } = world({ firstPort: 50_001 });
  const rtp = await client('alice', 1000).request(StunMethod.ALLOCATE, [transport, evenPort(true)]);
  const relayed = relayedOf(rtp);
  assert.deepEqual(relayed, { host: RELAY_HOST, port: 50_000 }, 'the operator\'s public host, an even port');
  const held = attribute(rtp, Attr.RESERVATION_TOKEN);
  assert.equal(held?.byteLength, 8);
  assert.ok(net.bound.has(50_001), 'the next port is bound, so nothing else takes it');
  assert.equal(turn.reservationCount, 1);

  // Another user cannot use it; the same user with EVEN-PORT beside the token is a bad request.
  assert.equal(errorOf(await client('mallory', 1001).request(StunMethod.ALLOCATE, [transport, token(held!)])), 508);
  assert.equal(errorOf(await client('alice', 1002).request(StunMethod.ALLOCATE, [transport, token(held!), evenPort(false)])), 400);
  assert.equal(errorOf(await client('alice', 1003).request(StunMethod.ALLOCATE, [transport, token(held!.subarray(0, 4))])), 400);
  assert.equal(turn.reservationCount, 1, 'refused requests leave the reservation');

  const rtcp = await client('alice', 1004).request(StunMethod.ALLOCATE, [transport, token(held!)]);
  assert.deepEqual(relayedOf(rtcp), { host: RELAY_HOST, port: 50_001 }, 'the reserved port');
  assert.equal(turn.reservationCount, 0);
  assert.equal(errorOf(await client('alice', 1005).request(StunMethod.ALLOCATE, [transport, token(held!)])), 508, 'a token is used once');

  // EVEN-PORT without R: an even port, nothing held.
  const plain = await client('alice', 1006).request(StunMethod.ALLOCATE, [transport, evenPort(false)]);
  assert.equal(relayedOf(plain).port % 2, 0);
  assert.equal(attribute(plain, Attr.RESERVATION_TOKEN), undefined);
  assert.equal(turn.reservationCount, 0);
});

test('a reservation lapses after 30 s (its port freed), and reservations are bounded per user', async () => {
  const { clock, turn, net, client } = world({ firstPort: 50_000, limits: { reservationsPerUser: 1 } });
  const first = await client('bob', 2000).request(StunMethod.ALLOCATE, [transport, evenPort(true)]);
  assert.equal(relayedOf(first).port, 50_000);
  const held = attribute(first, Attr.RESERVATION_TOKEN)!;
  // A second reservation of the same user is over the bound: 508, and no port is bound for it.
  const boundBefore = net.bound.size;
  assert.equal(errorOf(await client('bob', 2001).request(StunMethod.ALLOCATE, [transport, evenPort(true)])), 508);
  assert.equal(net.bound.size, boundBefore);
  assert.equal(turn.refused.get('capacity'), 1);

  clock.runFor(RESERVATION_LIFETIME_MS - 1);
  assert.equal(turn.reservationCount, 1, 'held for 30 s');
  clock.runFor(1);
  assert.equal(turn.reservationCount, 0);
  assert.equal(net.bound.has(50_001), false, 'the reserved port is closed when its reservation lapses');
  assert.equal(errorOf(await client('bob', 2002).request(StunMethod.ALLOCATE, [transport, token(held)])), 508);
  assert.equal(turn.refused.get('bad_reservation'), 1);
  turn.close();
  assert.equal(net.bound.size, 0, 'close releases every relay and reserved port');
});

test('relay ports come from the operator\'s range, taken ones are skipped, and a full range is 508 after bounded tries', async () => {
  const { net, client, turn } = world({ relayPorts: { min: 49_152, max: 49_161 } });
  const ports: number[] = [];
  for (let i = 0; i < 4; i++) ports.push(relayedOf(await client(`user${i}`, 3000 + i).request(StunMethod.ALLOCATE, [transport])).port);
  const pair = await client('carol', 3010).request(StunMethod.ALLOCATE, [transport, evenPort(true)]);
  const rtp = relayedOf(pair).port;
  assert.equal(rtp % 2, 0);
  assert.ok(net.bound.has(rtp + 1));
  for (const port of [...ports, rtp, rtp + 1]) assert.ok(port >= 49_152 && port <= 49_161, `port ${port} in the range`);
  assert.equal(new Set(ports).size, 4, 'no port given twice');
  // Fill the range: further Allocates get 508, not a port outside it.
  for (let port = 49_152; port <= 49_161; port++) if (!net.bound.has(port)) await net.bindRelay(port);
  assert.equal(errorOf(await client('dave', 3020).request(StunMethod.ALLOCATE, [transport])), 508);
  assert.equal(turn.allocationCount, 5);
  assert.throws(() => world({ relayPorts: { min: 50_000, max: 49_999 } }), RangeError);
});

test('DONT-FRAGMENT is honoured where the relay sockets set the DF bit: an Allocate with it gets a relay, a Send with it is relayed', async () => {
  const { client, turn } = world({ dontFragment: true });
  const alice = client('alice', 4001);
  const df = { type: Attr.DONT_FRAGMENT, value: new Uint8Array(0) };
  relayedOf(await alice.request(StunMethod.ALLOCATE, [transport, df]));
  const peer = { host: '192.0.2.99', port: 9 };
  assert.equal(errorOf(await alice.request(StunMethod.CREATE_PERMISSION, [{ type: Attr.XOR_PEER_ADDRESS, value: encodeAddress(peer, true) }])), 0);
  alice.indicate(StunMethod.SEND, [{ type: Attr.XOR_PEER_ADDRESS, value: encodeAddress(peer, true) }, { type: Attr.DATA, value: Uint8Array.of(1, 2, 3) }, df]);
  assert.equal(turn.relayed.toPeers, 1);
  assert.equal(turn.refused.get('unknown_attribute') ?? 0, 0);
});

test('DONT-FRAGMENT gets 420 naming it where the DF bit is not known to be set; an IPv6 relay 440; an IPv6 peer 443', async () => {
  const { client, turn } = world();
  const alice = client('alice', 4000);
  const df = await alice.request(StunMethod.ALLOCATE, [transport, { type: Attr.DONT_FRAGMENT, value: new Uint8Array(0) }]);
  assert.equal(errorOf(df), 420);
  assert.deepEqual(attribute(df, Attr.UNKNOWN_ATTRIBUTES), Uint8Array.of(0x00, 0x1a));
  assert.equal(errorOf(await alice.request(StunMethod.ALLOCATE, [transport, { type: Attr.REQUESTED_ADDRESS_FAMILY, value: Uint8Array.of(2, 0, 0, 0) }])), 440);
  relayedOf(await alice.request(StunMethod.ALLOCATE, [transport]));
  // The XOR of an IPv6 peer uses the request's transaction id: encoded with a placeholder id here,
  // it still decodes as some IPv6 address, which is all that matters for the family check.
  const v6Peer = { type: Attr.XOR_PEER_ADDRESS, value: encodeAddress({ host: '2001:db8::1', port: 9 }, true, new Uint8Array(12)) };
  assert.equal(errorOf(await alice.request(StunMethod.CREATE_PERMISSION, [v6Peer])), 443);
  assert.equal(errorOf(await alice.request(StunMethod.CHANNEL_BIND, [{ type: Attr.CHANNEL_NUMBER, value: Uint8Array.of(0x40, 0, 0, 0) }, v6Peer])), 443);
  assert.equal(turn.refused.get('peer_family_mismatch'), 2);
  const v4Peer = { type: Attr.XOR_PEER_ADDRESS, value: encodeAddress({ host: '192.0.2.99', port: 9 }, true) };
  assert.equal(errorOf(await alice.request(StunMethod.CREATE_PERMISSION, [v4Peer])), 0, 'an IPv4 peer is permitted');
});

test('relays close when their allocation ends (its lifetime, a Refresh of 0); a Refresh moves the end; no timer waits once nothing is held', async () => {
  const { clock, turn, net, client, timers } = world({ firstPort: 50_000 });
  const lifetime = (seconds: number) => ({ type: Attr.LIFETIME, value: encodeUint32(seconds) });
  const alice = client('alice', 5000);
  const bob = client('bob', 5001);
  const carol = client('carol', 5002);
  const alicePort = relayedOf(await alice.request(StunMethod.ALLOCATE, [transport])).port;
  const bobPort = relayedOf(await bob.request(StunMethod.ALLOCATE, [transport])).port;
  const carolPort = relayedOf(await carol.request(StunMethod.ALLOCATE, [transport])).port;
  assert.equal(timers(), 1, 'one timer for the whole table');

  assert.equal(errorOf(await bob.request(StunMethod.REFRESH, [lifetime(0)])), 0);
  assert.equal(net.bound.has(bobPort), false, 'a Refresh of 0 closes the relay at once');
  clock.runFor(300_000);
  assert.equal(errorOf(await carol.request(StunMethod.REFRESH, [lifetime(1_200)])), 0);

  clock.runFor(299_999);
  assert.ok(net.bound.has(alicePort), 'alive until its 600 s are up');
  clock.runFor(1);
  assert.equal(net.bound.has(alicePort), false, 'closed when its lifetime ends');
  assert.ok(net.bound.has(carolPort), 'the refreshed one lives on');
  assert.equal(turn.allocationCount, 1);
  clock.runFor(899_999);
  assert.ok(net.bound.has(carolPort));
  clock.runFor(1);
  assert.equal(net.bound.has(carolPort), false, 'closed 1 200 s after its refresh');
  assert.equal(turn.allocationCount, 0);
  assert.equal(timers(), 0, 'nothing held, nothing waits');

  // An allocation that a Refresh of 0 ends leaves no timer either.
  const dave = client('dave', 5003);
  relayedOf(await dave.request(StunMethod.ALLOCATE, [transport]));
  assert.equal(errorOf(await dave.request(StunMethod.REFRESH, [lifetime(0)])), 0);
  assert.equal(timers(), 0);
  turn.close();
  assert.equal(net.bound.size, 0);
});
