// The bench's socket flood (bench/socket-flood.ts, run in a worker): it holds the connections it
// was asked for, from the addresses it was given, opens one again when the server ends it, and
// closes every one when stopped, so a flood leaves nothing behind in the rounds after it.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import { socketFlood } from '../../bench/floods.js';

/** Resolves when `condition` holds, checked at every connection event; rejects after `ms`. */
function until(events: { on(listener: () => void): void }, condition: () => boolean, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    const check = () => {
      if (!condition()) return;
      clearTimeout(timer);
      resolve();
    };
    events.on(check);
    check();
  });
}

test('a socket flood holds perSource connections from each source, reopens what the server ends, and closes all when stopped', { timeout: 30_000 }, async () => {
  const open = new Set<Socket>();
  const fromSources = new Set<string>();
  const listeners: (() => void)[] = [];
  const changed = () => listeners.forEach((l) => l());
  let firstMessages = 0;
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    open.add(socket);
    fromSources.add(socket.remoteAddress ?? '');
    socket.on('error', () => {});
    // The flood's end of a connection closed: close ours (half-open, the server would keep it).
    socket.on('end', () => socket.destroy());
    socket.on('data', () => {
      firstMessages++;
      socket.write('answer');
    });
    socket.on('close', () => {
      open.delete(socket);
      changed();
    });
    changed();
  });
  const stops: (() => Promise<string>)[] = [];
  try {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const events = { on: (l: () => void) => listeners.push(l) };
    const idle = await socketFlood('idle', { kind: 'idle', host: '127.0.0.1', port, sources: ['127.0.4.1', '127.0.4.2'], perSource: 3 });
    stops.push(() => idle.stop());
    await until(events, () => open.size === 6, 10_000, 'six idle connections');
    assert.deepEqual([...fromSources].sort(), ['127.0.4.1', '127.0.4.2']);
    assert.equal(firstMessages, 0, 'idle connections say nothing');
    // The server ends one: the flood opens another.
    const [first] = open;
    first!.destroy();
    await until(events, () => open.size === 6 && !open.has(first!), 10_000, 'the ended connection replaced');
    stops.pop();
    assert.match(await idle.stop(), /connections\/s/);
    await until(events, () => open.size === 0, 10_000, 'every idle connection closed after stop');

    const replay = await socketFlood('replay', { kind: 'replay', host: '127.0.0.1', port, sources: ['127.0.4.3'], perSource: 2, firstMessage: Uint8Array.of(1, 2, 3) });
    stops.push(() => replay.stop());
    await until(events, () => firstMessages >= 10, 10_000, 'replayed first messages');
    stops.pop();
    const summary = await replay.stop();
    const answered = Number(/([\d,]+) handshake answers\/s/.exec(summary)?.[1]?.replace(/,/g, ''));
    assert.ok(answered > 0, summary);
    await until(events, () => open.size === 0, 10_000, 'every replaying connection closed after stop');
  } finally {
    for (const stop of stops) await stop();
    for (const socket of open) socket.destroy();
    server.close();
  }
});
