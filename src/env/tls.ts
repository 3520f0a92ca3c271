// TLS (node:tls) over any TcpConnection of the injected `Net`: a Duplex stream carries the
// connection's bytes, a TLSSocket runs over it, and the plaintext side is a TcpConnection again.
// So code that speaks over a TcpConnection (TURN over TCP) speaks over TLS unchanged, and TLS
// shares a port with other protocols: the listener reads the first bytes, then hands them here.
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { SocketConnection } from './socket-connection.js';
import { NetError, type Endpoint, type TcpConnection, type TlsConnect, type TlsServer } from './types.js';

/** The connection's bytes as a Node stream (with `firstBytes` already read off it put back in front). */
function streamOver(connection: TcpConnection, firstBytes: Uint8Array): Duplex {
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      // The connection owns what it is given: a copy, since Node may reuse the chunk.
      connection.write(new Uint8Array(chunk));
      done();
    },
    final(done) {
      connection.close();
      done();
    },
    destroy(error, done) {
      connection.close();
      done(error);
    },
  });
  if (firstBytes.byteLength > 0) stream.push(Buffer.from(firstBytes));
  connection.onData((bytes) => stream.push(Buffer.from(bytes)));
  connection.onClose(() => stream.push(null));
  return stream;
}

/** The plaintext side of a TLS session as a TcpConnection, with the addresses of the connection under it. */
class TlsConnection extends SocketConnection {
  readonly local: Endpoint;
  readonly remote: Endpoint;

  constructor(socket: tls.TLSSocket, under: TcpConnection) {
    super(socket);
    this.local = under.local;
    this.remote = under.remote;
    socket.on('error', (error: Error) => {
      this.failure = new NetError('reset', `TLS: ${error.message}`);
    });
    socket.on('close', () => {
      under.close();
      this.closed.fire(this.failure);
    });
    // The connection under it may end first (the peer went away without close_notify).
    under.onClose(() => socket.destroy());
  }

  close(): void {
    // What was written, close_notify, then the end of the stream under it, which closes the
    // connection (that lingers for what is queued, then is destroyed). Closing the connection
    // here at once would lose what TLS has not yet handed down.
    this.socket.end();
  }
}

/** Waits for the handshake on `socket`: the plaintext connection, or a NetError (the socket is destroyed then). */
function handshake(socket: tls.TLSSocket, under: TcpConnection, event: 'secure' | 'secureConnect'): Promise<TcpConnection> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      under.close();
      reject(new NetError('reset', message));
    };
    socket.once('error', (error: Error) => fail(`TLS handshake failed: ${error.message}`));
    socket.once('close', () => fail('the connection closed during the TLS handshake'));
    socket.once(event, () => {
      if (settled) return;
      settled = true;
      socket.removeAllListeners('error');
      socket.removeAllListeners('close');
      resolve(new TlsConnection(socket, under));
    });
  });
}

export interface TlsServerOptions {
  /** PEM certificate chain and private key. */
  readonly cert: string;
  readonly key: string;
  /** Versions and cipher suites (e.g. the login server's policy); Node's defaults otherwise. */
  readonly policy?: Pick<tls.SecureContextOptions, 'minVersion' | 'ciphers' | 'honorCipherOrder'>;
}

/** A TLS server with one certificate; throws at once (not per connection) when the PEM is unusable. */
export function realTlsServer(options: TlsServerOptions): TlsServer {
  const secureContext = tls.createSecureContext({ cert: options.cert, key: options.key, ...options.policy });
  return {
    accept(connection, firstBytes) {
      const socket = new tls.TLSSocket(streamOver(connection, firstBytes), { isServer: true, secureContext });
      return handshake(socket, connection, 'secure');
    },
  };
}

/**
 * A TLS client that accepts any certificate. Only for protocols that authenticate the server
 * themselves: TURN's long-term credentials do (every answer carries MESSAGE-INTEGRITY keyed by
 * a password only the server can derive), so TLS there only gets the bytes through a firewall.
 */
export const connectTlsUnverified: TlsConnect = (connection) => {
  const socket = tls.connect({ socket: streamOver(connection, new Uint8Array(0)), rejectUnauthorized: false });
  return handshake(socket, connection, 'secureConnect');
};
