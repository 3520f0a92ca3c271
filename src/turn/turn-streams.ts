// TURN clients' TCP connections on the server (RFC 8656 section 12.5 framing, turn-tcp.ts): each
// connection's messages go to the TURN handlers like datagrams, answers go back on it (padded),
// and its allocation ends with it. TURN over TLS arrives here too, as the plaintext of a
// connection that turn-tls.ts has already shaken hands on. Bounds, because each connection is a
// socket and a buffer: connections for the server and per source address, at most one message
// buffered (MAX_STREAM_MESSAGE_BYTES), and a connection that completes no message for
// STREAM_STALL_MS is closed unless it holds an allocation and nothing half-sent.
// A ConnectionBind (RFC 6062) takes a connection out of here (`TurnTransport.detach`): parsing
// stops after that request, and if it succeeds the connection, with the bytes read behind the
// request, belongs to a TCP relay (turn-tcp-relay.ts) and no longer counts here.
import type { Clock, Endpoint, TcpConnection, Timer } from '../env/types.js';
import { StunStreamDecoder, isConnectionBindRequest, padForStream } from './turn-tcp.js';
import type { TurnRefusal, TurnTransport } from './turn-handlers.js';

/** TCP connections a server keeps for TURN at once (each can hold one allocation). */
export const MAX_STREAMS = 4_096;
/** …and from one source address (a NAT with many web-only users behind it shares one). */
export const MAX_STREAMS_PER_SOURCE = 32;
/** A TCP connection that completes no message for this long is closed (unless it holds an allocation and no half-sent message). */
export const STREAM_STALL_MS = 10_000;

/** What the streams need from the TURN server. */
export interface StreamServer {
  /** Handles one whole message; false when it is not TURN's. */
  receive(bytes: Uint8Array, from: Endpoint, via: TurnTransport): boolean;
  /** Whether this connection's 5-tuple holds an allocation. */
  holdsAllocation(from: Endpoint, via: TurnTransport): boolean;
  /** The connection is gone: its allocation, if any, ends. */
  closed(from: Endpoint, via: TurnTransport): void;
  refuse(why: TurnRefusal): void;
}

export class TurnStreams {
  private open = 0;
  private readonly perSource = new Map<string, number>();
  /** Ends each open connection (on close). */
  private readonly closers = new Set<() => void>();

  constructor(
    private readonly clock: Clock,
    private readonly server: StreamServer,
  ) {}

  /** Connections open now. */
  get count(): number {
    return this.open;
  }

  /** Takes a client's connection; `firstBytes` were read already (to tell TURN from what shares the port). */
  accept(connection: TcpConnection, firstBytes: Uint8Array): void {
    const source = connection.remote.host;
    const fromSource = this.perSource.get(source) ?? 0;
    if (this.open >= MAX_STREAMS || fromSource >= MAX_STREAMS_PER_SOURCE) {
      this.server.refuse(this.open >= MAX_STREAMS ? 'capacity' : 'streams_per_source');
      connection.close();
      return;
    }
    this.open++;
    this.perSource.set(source, fromSource + 1);
    const decoder = new StunStreamDecoder();
    let live = true;
    /** Handed to a TCP relay by a ConnectionBind: no longer TURN's, nor counted here. */
    let detached = false;
    let stall: Timer | null = null;
    const forget = () => {
      live = false;
      stall?.cancel();
      this.closers.delete(end);
      this.open--;
      const left = (this.perSource.get(source) ?? 1) - 1;
      if (left <= 0) this.perSource.delete(source);
      else this.perSource.set(source, left);
    };
    const transport: TurnTransport = {
      local: connection.local,
      protocol: 'tcp',
      send: (bytes) => connection.write(padForStream(bytes)),
      detach: () => {
        if (!live) return null;
        detached = true;
        forget();
        return { connection, pending: decoder.drain() };
      },
    };
    const end = () => {
      if (!live) return;
      live = false;
      stall?.cancel();
      this.closers.delete(end);
      connection.close();
    };
    // The stall clock restarts with every whole message, and when a message begins (bytes left
    // over where none were): a peer that trickles a message, or sends nothing, is closed.
    const arm = () => {
      stall?.cancel();
      stall = this.clock.after(STREAM_STALL_MS, () => {
        stall = null;
        // A quiet client with an allocation is bounded by its lifetime (and must refresh it).
        if (decoder.bufferedBytes === 0 && this.server.holdsAllocation(connection.remote, transport)) return arm();
        this.server.refuse('stalled_stream');
        end();
      });
    };
    const take = (bytes: Uint8Array) => {
      if (!live) return;
      const wasBuffering = decoder.bufferedBytes > 0;
      // Parsing stops after a ConnectionBind: if it succeeds, what follows is the client's raw data.
      let messages = decoder.push(bytes, isConnectionBindRequest);
      while (messages) {
        if (messages.length > 0 || (!wasBuffering && decoder.bufferedBytes > 0)) arm();
        for (const m of messages) if (!this.server.receive(m, connection.remote, transport)) this.server.refuse('malformed');
        if (detached || !live) return;
        const last = messages[messages.length - 1];
        if (!last || !isConnectionBindRequest(last)) return;
        messages = decoder.push(new Uint8Array(0), isConnectionBindRequest);
      }
      this.server.refuse('malformed');
      end();
    };
    this.closers.add(end);
    connection.onData(take);
    connection.onClose(() => {
      if (detached) return;
      forget();
      this.server.closed(connection.remote, transport);
    });
    arm();
    take(firstBytes);
  }

  /** Closes every connection. */
  close(): void {
    for (const end of [...this.closers]) end();
  }
}
