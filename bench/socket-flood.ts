// A connection flood at a supernode's port, run in a worker thread so that the flood's own socket
// work has its own event loop and does not run on the thread it attacks (an attacker is another
// machine). Each source address (a loopback address: 127.x.y.z all reach 127.0.0.1 on Linux)
// keeps `perSource` connections open; one that ends is opened again at once.
// - idle: the connections say nothing (each holds a handshake slot until the handshake timeout);
// - replay: each sends a recorded first handshake message (costs the attacker no crypto, the
//   supernode a responder's Diffie-Hellmans and a certificate check) and hangs up at the answer.
// The parent posts anything to stop; the worker answers with its counts and closes every socket.
import { connect, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

export interface SocketFloodOptions {
  readonly kind: 'idle' | 'replay';
  readonly host: string;
  readonly port: number;
  readonly sources: readonly string[];
  readonly perSource: number;
  /** For `replay`: the bytes an initiator sends first. */
  readonly firstMessage?: Uint8Array;
}

export interface SocketFloodCounts {
  /** Connections opened. */
  readonly connections: number;
  /** Connections the server answered (for `replay`: its handshake reply). */
  readonly answered: number;
}

/** After the server ends a connection, how long before it is opened again: the flood stays at its size without spinning a core on refusals. */
const REOPEN_PAUSE_MS = 5;

function run(options: SocketFloodOptions, port: NonNullable<typeof parentPort>): void {
  const open = new Set<Socket>();
  let stopping = false;
  let connections = 0;
  let answered = 0;
  const keep = (source: string) => {
    if (stopping) return;
    const socket = connect({ host: options.host, port: options.port, localAddress: source, allowHalfOpen: true });
    connections++;
    open.add(socket);
    let ended = false;
    const reopen = () => {
      if (ended) return;
      ended = true;
      socket.destroy();
      open.delete(socket);
      setTimeout(() => keep(source), REOPEN_PAUSE_MS);
    };
    socket.on('error', reopen);
    socket.on('end', reopen);
    socket.on('close', reopen);
    if (options.kind === 'replay') {
      socket.on('connect', () => socket.write(options.firstMessage!));
      socket.on('data', () => {
        answered++;
        reopen();
      });
    }
  };
  for (const source of options.sources) for (let i = 0; i < options.perSource; i++) keep(source);
  port.once('message', () => {
    stopping = true;
    for (const socket of open) socket.destroy();
    open.clear();
    port.postMessage({ connections, answered } satisfies SocketFloodCounts);
  });
}

if (parentPort) run(workerData as SocketFloodOptions, parentPort);
