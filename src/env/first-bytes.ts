// Telling protocols apart on one TCP port: the first bytes a connection sends decide where it
// goes (a Noise handshake, STUN/TURN, a TLS ClientHello). The peer must send them within a time,
// or the connection is given up: an idle connection holds nothing for long.
import type { Clock, TcpConnection } from './types.js';

export interface FirstBytesOptions {
  /** How many bytes decide (what arrives with them is kept too). */
  readonly bytes: number;
  readonly timeoutMs: number;
  /** The first `bytes` bytes or more are here; the connection's data handler is free again. */
  readonly onBytes: (firstBytes: Uint8Array) => void;
  /** Closed before they came, or they did not come in time (the connection is closed then). */
  readonly onGiveUp: (why: 'closed' | 'timeout') => void;
}

export function readFirstBytes(clock: Clock, connection: TcpConnection, options: FirstBytesOptions): void {
  let read: Uint8Array = new Uint8Array(0);
  let decided = false;
  const timer = clock.after(options.timeoutMs, () => {
    if (decided) return;
    decided = true;
    connection.close();
    options.onGiveUp('timeout');
  });
  connection.onClose(() => {
    if (decided) return;
    decided = true;
    timer.cancel();
    options.onGiveUp('closed');
  });
  connection.onData((bytes) => {
    if (decided) return;
    const joined = new Uint8Array(read.byteLength + bytes.byteLength);
    joined.set(read);
    joined.set(bytes, read.byteLength);
    read = joined;
    if (read.byteLength < options.bytes) return;
    decided = true;
    timer.cancel();
    options.onBytes(read);
  });
}
