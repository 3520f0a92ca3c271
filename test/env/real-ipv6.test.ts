// The real network's IPv6 (the virtual network is IPv4 only): a dual-stack socket on `::`
// reports an IPv4 peer by its IPv4 address and reaches it; an IPv6 socket on ::1 talks to
// another; an IPv4 socket drops a datagram to an IPv6 address instead of throwing; a TCP
// listener on `::` sees an IPv4 client as IPv4. `sourceAddressFor` asks the routing table which
// local address faces a destination.
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { test } from 'node:test';
import { realNet } from '../../src/env/real.js';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import type { Endpoint, TcpConnection, TcpListener, UdpSocket } from '../../src/env/types.js';

const ARRIVAL_MS = 5_000;

/** The next datagram a socket receives (or a failure after ARRIVAL_MS). */
function nextDatagram(socket: UdpSocket): Promise<{ from: Endpoint; text: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nothing arrived at port ${socket.local.port}`)), ARRIVAL_MS);
    socket.onMessage((bytes, from) => {
      clearTimeout(timer);
      resolve({ from, text: new TextDecoder().decode(bytes) });
    });
  });
}

test('UDP: a dual-stack socket sees IPv4 peers as IPv4 and answers them; IPv6 on ::1; IPv4 drops an IPv6 destination', async () => {
  const sockets: UdpSocket[] = [];
  try {
    const dual = await realNet.bindUdp({ host: '::', port: 0 });
    const v4 = await realNet.bindUdp({ host: '127.0.0.1', port: 0 });
    const v6 = await realNet.bindUdp({ host: '::1', port: 0 });
    sockets.push(dual, v4, v6);
    assert.equal(dual.local.host, '::');
    assert.equal(v6.local.host, '::1');

    const atDual = nextDatagram(dual);
    v4.send(new TextEncoder().encode('from v4'), { host: '127.0.0.1', port: dual.local.port });
    assert.deepEqual(await atDual, { from: { host: '127.0.0.1', port: v4.local.port }, text: 'from v4' }, 'not ::ffff:127.0.0.1');
    const atV4 = nextDatagram(v4);
    dual.send(new TextEncoder().encode('back'), { host: '127.0.0.1', port: v4.local.port });
    assert.deepEqual(await atV4, { from: { host: '127.0.0.1', port: dual.local.port }, text: 'back' });

    const atV6 = nextDatagram(v6);
    dual.send(new TextEncoder().encode('over v6'), { host: '::1', port: v6.local.port });
    assert.deepEqual(await atV6, { from: { host: '::1', port: dual.local.port }, text: 'over v6' });

    // The other family: dropped, as UDP drops; then the socket still works.
    v4.send(new TextEncoder().encode('lost'), { host: '::1', port: v6.local.port });
    const stillV6 = nextDatagram(v6);
    dual.send(new TextEncoder().encode('after'), { host: '::1', port: v6.local.port });
    assert.equal((await stillV6).text, 'after', 'nothing from the IPv4 socket reached the IPv6 one');
  } finally {
    for (const socket of sockets) socket.close();
  }
});

test('TCP: a listener on :: sees an IPv4 client as IPv4 and an IPv6 one as IPv6; ipv6Only leaves the IPv4 port free', async () => {
  const accepted: TcpConnection[] = [];
  const opened: TcpConnection[] = [];
  const listeners: TcpListener[] = [];
  let wake: (() => void) | null = null;
  try {
    const listener = await realNet.listenTcp({
      host: '::',
      port: 0,
      onConnection: (c) => {
        accepted.push(c);
        wake?.();
      },
    });
    listeners.push(listener);
    const arrival = (count: number) =>
      accepted.length >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            wake = () => accepted.length >= count && resolve();
          });
    opened.push(await realNet.connectTcp({ host: '127.0.0.1', port: listener.local.port }));
    await arrival(1);
    opened.push(await realNet.connectTcp({ host: '::1', port: listener.local.port }));
    await arrival(2);
    assert.deepEqual(accepted.map((c) => c.remote.host), ['127.0.0.1', '::1']);
    assert.deepEqual(opened.map((c) => c.local.host), ['127.0.0.1', '::1']);

    const only6 = await realNet.listenTcp({ host: '::', port: 0, ipv6Only: true, onConnection: (c) => c.close() });
    listeners.push(only6);
    const beside = await realNet.listenTcp({ host: '0.0.0.0', port: only6.local.port, onConnection: (c) => c.close() });
    listeners.push(beside);
    assert.equal(beside.local.port, only6.local.port, 'an IPv4 listener on the same port');
  } finally {
    for (const c of [...opened, ...accepted]) c.close();
    for (const l of listeners) l.close();
  }
});

/** This machine's global or unique-local IPv6 addresses (none on many CI machines). */
function routableIpv6(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((addresses) => addresses ?? [])
    .filter((a) => a.family === 'IPv6' && !a.internal && !a.address.toLowerCase().startsWith('fe80'))
    .map((a) => a.address);
}

test('sourceAddressFor: the local address the route to a destination leaves from; null for what is not an address; the virtual network has IPv4 only', async () => {
  assert.equal(await realNet.sourceAddressFor('::1'), '::1');
  assert.equal(await realNet.sourceAddressFor('127.0.0.1'), '127.0.0.1');
  assert.equal(await realNet.sourceAddressFor('example.org'), null, 'a name is not looked up');
  assert.equal(await realNet.sourceAddressFor('fe80::1%nosuchinterface'), null);
  // Toward one of this machine's own addresses, the route leaves from that address.
  for (const own of routableIpv6()) assert.equal(await realNet.sourceAddressFor(own), own);

  const network = new VirtualNetwork(1);
  const host = network.addHost();
  assert.equal(await host.net.sourceAddressFor('203.0.113.9'), host.addressText);
  assert.equal(await host.net.sourceAddressFor('2001:db8::9'), null);
});
