// What a TcpConnection over a Node socket does the same whatever the socket is (plain TCP in
// real.ts, the plaintext side of TLS in tls.ts): bytes in through an inbox (kept until a
// handler is set), one close event with the error that came first, writes only while writable.
import type net from 'node:net';
import { Inbox, Latch } from './inbox.js';
import type { Endpoint, NetError, TcpConnection } from './types.js';

export abstract class SocketConnection implements TcpConnection {
  abstract readonly local: Endpoint;
  abstract readonly remote: Endpoint;
  protected readonly closed = new Latch<NetError | undefined>();
  protected failure: NetError | undefined;
  private readonly inbox = new Inbox<Uint8Array>();

  private drainHandler: () => void = () => {};

  constructor(protected readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.inbox.deliver(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    socket.on('drain', () => this.drainHandler());
  }

  get pendingWriteBytes(): number {
    return this.socket.writableLength;
  }

  onDrain(handler: () => void): void {
    this.drainHandler = handler;
  }

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  write(bytes: Uint8Array): void {
    if (!this.socket.writable) return;
    this.socket.write(bytes);
  }

  onData(handler: (bytes: Uint8Array) => void): void {
    this.inbox.setHandler(handler);
  }

  onClose(handler: (error?: NetError) => void): void {
    this.closed.addHandler(handler);
  }

  abstract close(): void;
}
