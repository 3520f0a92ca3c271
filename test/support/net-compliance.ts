// One compliance suite for the `Net` interface. Every implementation (real sockets, the
// virtual network) must pass the same tests, so code built on `Net` behaves alike on both.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NetError, type Endpoint, type Net, type TcpConnection, type TcpListener } from '../../src/env/types.js';

export interface NetFixture {
  readonly a: Net;
  readonly b: Net;
  /** Addresses by which a and b reach each other. */
  readonly aHost: string;
  readonly bHost: string;
  run<T>(work: () => Promise<T>): Promise<T>;
  close(): void;
}

function nextMessage(socket: { onMessage(h: (bytes: Uint8Array, from: Endpoint) => void): void }) {
  return new Promise<{ bytes: Uint8Array; from: Endpoint }>((resolve) => socket.onMessage((bytes, from) => resolve({ bytes, from })));
}

/** Collects bytes from a connection until `count` arrived. */
function readBytes(connection: TcpConnection, count: number): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const out = new Uint8Array(count);
    let filled = 0;
    connection.onData((bytes) => {
      out.set(bytes.subarray(0, count - filled), filled);
      filled += bytes.byteLength;
      if (filled >= count) resolve(out);
    });
  });
}

function closed(connection: TcpConnection): Promise<NetError | undefined> {
  return new Promise((resolve) => connection.onClose(resolve));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

/** A listener on b and a connection from a to it, both ends. */
async function connectedPair(f: NetFixture): Promise<{ listener: TcpListener; client: TcpConnection; server: TcpConnection }> {
  let accepted!: (c: TcpConnection) => void;
  const serverSide = new Promise<TcpConnection>((resolve) => (accepted = resolve));
  const listener = await f.b.listenTcp({ port: 0, onConnection: accepted });
  const client = await f.a.connectTcp({ host: f.bHost, port: listener.local.port });
  return { listener, client, server: await serverSide };
}

export function netComplianceSuite(name: string, makeFixture: () => Promise<NetFixture>): void {
  const withFixture = (title: string, body: (f: NetFixture) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const fixture = await makeFixture();
      try {
        await fixture.run(() => body(fixture));
      } finally {
        fixture.close();
      }
    });

  withFixture('UDP datagram arrives intact, with the sender endpoint, and the reply returns', async (f) => {
    const sa = await f.a.bindUdp({ port: 0 });
    const sb = await f.b.bindUdp({ port: 0 });
    const atB = nextMessage(sb);
    sa.send(new Uint8Array([1, 2, 3, 250]), { host: f.bHost, port: sb.local.port });
    const got = await atB;
    assert.deepEqual([...got.bytes], [1, 2, 3, 250]);
    assert.equal(got.from.host, f.aHost);
    assert.equal(got.from.port, sa.local.port);
    const atA = nextMessage(sa);
    sb.send(new Uint8Array([9]), got.from);
    assert.deepEqual([...(await atA).bytes], [9]);
    sa.close();
    sb.close();
  });

  withFixture('binding a UDP port twice fails with address_in_use', async (f) => {
    const first = await f.b.bindUdp({ port: 0 });
    const error = await rejection(f.b.bindUdp({ port: first.local.port }));
    assert.ok(error instanceof NetError);
    assert.equal(error.code, 'address_in_use');
    first.close();
  });

  withFixture('TCP connection carries bytes both ways, in order, with correct endpoints', async (f) => {
    const { listener, client, server } = await connectedPair(f);
    assert.equal(client.remote.port, listener.local.port);
    assert.equal(client.remote.host, f.bHost);
    assert.equal(server.remote.host, f.aHost);
    assert.equal(server.remote.port, client.local.port);

    const big = new Uint8Array(100_000).map((_, i) => (i * 7) % 251);
    const atServer = readBytes(server, big.byteLength);
    client.write(big.subarray(0, 30_000));
    client.write(big.subarray(30_000));
    assert.deepEqual(await atServer, big);

    const atClient = readBytes(client, 5);
    server.write(new TextEncoder().encode('hello'));
    assert.equal(new TextDecoder().decode(await atClient), 'hello');
    listener.close();
    client.close();
  });

  withFixture('closing one side closes the other, without error', async (f) => {
    const { listener, client, server } = await connectedPair(f);
    const serverClosed = closed(server);
    const clientClosed = closed(client);
    const atServer = readBytes(server, 3);
    client.write(new Uint8Array([7, 8, 9]));
    client.close();
    assert.deepEqual([...(await atServer)], [7, 8, 9], 'bytes written before close still arrive');
    assert.equal(await serverClosed, undefined);
    assert.equal(await clientClosed, undefined);
    listener.close();
  });

  withFixture('a close that happened before onClose was set is still reported', async (f) => {
    const { listener, client, server } = await connectedPair(f);
    const serverClosed = closed(server);
    server.close();
    await serverClosed; // by now the client has seen the close too, with no handler set
    assert.equal(await closed(client), undefined);
    listener.close();
  });

  withFixture('connecting to a port nobody listens on is refused', async (f) => {
    const listener = await f.b.listenTcp({ port: 0, onConnection: () => {} });
    const port = listener.local.port;
    listener.close();
    const error = await rejection(f.a.connectTcp({ host: f.bHost, port, timeoutMs: 5000 }));
    assert.ok(error instanceof NetError, String(error));
    assert.equal(error.code, 'refused');
  });

  withFixture('a connection paused for reading hands over nothing until resumed, then all of it in order', async (f) => {
    const { listener, client, server } = await connectedPair(f);
    const got: number[] = [];
    server.onData((bytes) => got.push(...bytes));
    server.pauseReading();
    client.write(Uint8Array.of(1, 2, 3));
    // A round trip the other way: by its end the three bytes have had as long to arrive.
    const echo = readBytes(client, 1);
    server.write(Uint8Array.of(9));
    await echo;
    client.write(Uint8Array.of(4));
    assert.equal(got.length, 0, 'nothing while paused');
    const all = new Promise<void>((resolve) => server.onData((bytes) => (got.push(...bytes), got.length >= 4 && resolve())));
    server.resumeReading();
    await all;
    assert.deepEqual(got, [1, 2, 3, 4]);
    assert.equal(client.pendingWriteBytes, 0, 'a small write is taken by the network at once');
    client.close();
    listener.close();
  });

  withFixture('listening on a taken TCP port fails with address_in_use', async (f) => {
    const first = await f.b.listenTcp({ port: 0, onConnection: () => {} });
    const error = await rejection(f.b.listenTcp({ port: first.local.port, onConnection: () => {} }));
    assert.ok(error instanceof NetError);
    assert.equal(error.code, 'address_in_use');
    first.close();
  });
}
