// The client's side of a TCP relay's data connection (RFC 6062 section 4.4): a new TCP (or TLS)
// connection to the TURN server carries one ConnectionBind, signed with the allocation's
// credentials; once its success answer is read, the connection is the peer's byte stream as it
// is. Bytes of the peer may follow the answer in the same read: the framing is read only up to
// the answer, and what follows is handed over with the connection.
import type { Clock, Random, TcpConnection } from '../env/types.js';
import { err, ok, type Result } from '../result.js';
import { Attr, StunClass, StunMethod, attribute, decodeErrorCode, decodeStun, encodeStun } from '../stun/stun.js';
import type { TurnClient, TurnClientError } from './turn-client.js';
import { StunStreamDecoder } from './turn-tcp.js';

/** How long the server may take to answer a ConnectionBind. */
export const CONNECTION_BIND_WAIT_MS = 10_000;

export interface BoundConnection {
  /** The data connection: from now on the peer's bytes, both ways. Paused: set `onData`, then `resumeReading`. */
  readonly connection: TcpConnection;
  /** Bytes of the peer that came behind the answer: the start of the stream. */
  readonly pending: Uint8Array;
}

/** Whether a whole message is an answer (success or error) to a ConnectionBind. */
const isConnectionBindAnswer = (message: Uint8Array) => message.byteLength >= 20 && message[0] === 0x01 && (message[1] === 0x1b || message[1] === 0x0b);

/**
 * Sends ConnectionBind for `connectionId` on `connection` (just opened to the TURN server that
 * holds `client`'s TCP allocation) and waits for the answer; the connection is closed on failure.
 */
export function bindDataConnection(connection: TcpConnection, client: TurnClient, connectionId: Uint8Array, clock: Clock, random: Random): Promise<Result<BoundConnection, TurnClientError>> {
  const credentials = client.credentialsFor();
  if (!credentials) {
    connection.close();
    return Promise.resolve(err({ code: 'refused', message: 'no allocation to bind a connection to' }));
  }
  const transactionId = random.bytes(12);
  const request = encodeStun(
    { method: StunMethod.CONNECTION_BIND, cls: StunClass.REQUEST, transactionId, attributes: [{ type: Attr.CONNECTION_ID, value: connectionId }, ...credentials.attributes], classic: false },
    { integrityKey: credentials.key, fingerprint: true },
  );
  return new Promise((resolve) => {
    const decoder = new StunStreamDecoder();
    let settled = false;
    const settle = (outcome: Result<BoundConnection, TurnClientError>) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      if (!outcome.ok) connection.close();
      resolve(outcome);
    };
    const timer = clock.after(CONNECTION_BIND_WAIT_MS, () => settle(err({ code: 'timeout', message: 'no answer to ConnectionBind' })));
    connection.onClose(() => settle(err({ code: 'closed', message: 'the data connection closed before its ConnectionBind was answered' })));
    connection.onData((bytes) => {
      if (settled) return;
      const messages = decoder.push(bytes, isConnectionBindAnswer);
      if (!messages) return settle(err({ code: 'malformed', message: 'not STUN on the data connection before its answer' }));
      const answer = messages.find(isConnectionBindAnswer);
      if (!answer) return;
      const decoded = decodeStun(answer);
      if (!decoded.ok || decoded.value.transactionId.some((b, i) => b !== transactionId[i])) return settle(err({ code: 'malformed', message: 'an answer to another ConnectionBind' }));
      if (decoded.value.cls === StunClass.SUCCESS) {
        // Paused until the caller has its own handler on the connection (nothing read is lost in between).
        connection.pauseReading();
        return settle(ok({ connection, pending: decoder.drain() }));
      }
      const errorAttr = attribute(decoded.value, Attr.ERROR_CODE);
      const error = errorAttr ? decodeErrorCode(errorAttr) : null;
      const status = error?.ok ? error.value.code : 0;
      settle(err({ code: 'refused', message: `ConnectionBind: TURN ${status} ${error?.ok ? error.value.reason : ''}`.trim(), status }));
    });
    connection.write(request);
  });
}
