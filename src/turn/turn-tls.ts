// TURN over TLS (RFC 8656 section 3.1, "turns:" URIs): TLS over TCP carrying the framing of
// TURN over TCP (turn-tcp.ts). It shares a supernode's TCP ports: a TLS ClientHello is told
// apart from Parley's Noise preamble ("PRL") and from STUN (the cookie at bytes 4-7) by its
// record header. This gate bounds what a peer can make us spend before TURN sees the
// connection: the handshakes in progress (in all and per source address) and how long one may
// take. Every refusal and failure is counted. The TLS itself is injected (`TlsServer`).
import type { Clock, TcpConnection, TlsServer } from '../env/types.js';
import { concatBytes } from '../crypto/bytes.js';

/** TLS handshakes in progress at once; more connections are closed at once. */
export const MAX_TLS_HANDSHAKES = 64;
/** …and from one source address (a NAT with many users behind it shares one, but each handshake takes a round trip or two). */
export const MAX_TLS_HANDSHAKES_PER_SOURCE = 8;
/** A handshake not done in this time is given up and its connection closed (counted `timeout`). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Whether the first bytes of a connection are a TLS ClientHello: a handshake record (0x16) of
 * version 3.x (TLS 1.0 to 1.3 all say 3.1 or 3.3 here) whose first message is a ClientHello (1).
 * Needs 6 bytes; a Noise frame starts with 0x50 and a STUN message has the cookie at 4-7.
 */
export function looksLikeTlsClientHello(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 6 && bytes[0] === 0x16 && bytes[1] === 0x03 && bytes[2]! <= 0x04 && bytes[5] === 0x01;
}

export interface TurnTlsLimits {
  readonly handshakes: number;
  readonly perSource: number;
  readonly timeoutMs: number;
}

export const DEFAULT_TURN_TLS_LIMITS: TurnTlsLimits = { handshakes: MAX_TLS_HANDSHAKES, perSource: MAX_TLS_HANDSHAKES_PER_SOURCE, timeoutMs: TLS_HANDSHAKE_TIMEOUT_MS };

/** Where a connection goes after TLS when its first plaintext bytes decide (see accept). */
export interface TlsRoute {
  readonly bytes: number;
  readonly onSecure: (plaintext: TcpConnection, firstBytes: Uint8Array) => void;
}

export type TlsRefusal = 'capacity' | 'per_source' | 'timeout' | 'handshake_failed';

export class TurnTlsGate {
  private pending = 0;
  /** Handshakes in progress per source address (only addresses with one: bounded by MAX_TLS_HANDSHAKES). */
  private readonly pendingBySource = new Map<string, number>();
  /** Ends each handshake in progress (for close). */
  private readonly aborts = new Set<() => void>();
  private closed = false;
  /** Handshakes completed (the connection went on to TURN). */
  handshakes = 0;
  private readonly limits: TurnTlsLimits;
  /** Connections refused or given up on, by why. */
  readonly refused = new Map<TlsRefusal, number>();

  constructor(
    private readonly clock: Clock,
    private readonly tls: TlsServer,
    /** Where a connection goes once its handshake is done: TURN over TCP, on the plaintext. */
    private readonly onSecure: (plaintext: TcpConnection) => void,
    limits: Partial<TurnTlsLimits> = {},
  ) {
    this.limits = { ...DEFAULT_TURN_TLS_LIMITS, ...limits };
  }

  /** Handshakes in progress now. */
  get inProgress(): number {
    return this.pending;
  }

  private count(why: TlsRefusal): void {
    this.refused.set(why, (this.refused.get(why) ?? 0) + 1);
  }

  /**
   * Takes a connection whose first bytes (`firstBytes`, already read) look like a ClientHello.
   * Its plaintext goes to the gate's own destination; or, with `route`, to `route.onSecure`
   * once the first `route.bytes` bytes inside TLS are here too (to tell protocols apart there),
   * the handshake's slot and time limit covering that wait as well.
   */
  accept(connection: TcpConnection, firstBytes: Uint8Array, route?: TlsRoute): void {
    const source = connection.remote.host;
    const ofSource = this.pendingBySource.get(source) ?? 0;
    if (this.closed) return connection.close();
    if (this.pending >= this.limits.handshakes || ofSource >= this.limits.perSource) {
      this.count(this.pending >= this.limits.handshakes ? 'capacity' : 'per_source');
      connection.close();
      return;
    }
    this.pending++;
    this.pendingBySource.set(source, ofSource + 1);
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      timer.cancel();
      this.aborts.delete(abort);
      this.pending--;
      const left = (this.pendingBySource.get(source) ?? 1) - 1;
      if (left > 0) this.pendingBySource.set(source, left);
      else this.pendingBySource.delete(source);
      return true;
    };
    // Closing the connection ends the handshake (the TLS side then rejects, already settled).
    const timer = this.clock.after(this.limits.timeoutMs, () => {
      if (!settle()) return;
      this.count('timeout');
      connection.close();
    });
    const abort = () => {
      if (settle()) connection.close();
    };
    this.aborts.add(abort);
    const secured = (plaintext: TcpConnection, inner: Uint8Array) => {
      if (!settle()) return plaintext.close();
      this.handshakes++;
      if (route) route.onSecure(plaintext, inner);
      else this.onSecure(plaintext);
    };
    this.tls.accept(connection, firstBytes).then(
      (plaintext) => {
        if (!route) return secured(plaintext, new Uint8Array(0));
        let inner: Uint8Array = new Uint8Array(0);
        plaintext.onData((bytes) => {
          inner = concatBytes(inner, bytes);
          if (inner.byteLength >= route.bytes) secured(plaintext, inner);
        });
        plaintext.onClose(() => {
          if (settle()) this.count('handshake_failed');
        });
      },
      () => {
        if (settle()) this.count('handshake_failed');
      },
    );
  }

  /** Ends the handshakes in progress and takes no more connections (the service is closing). */
  close(): void {
    this.closed = true;
    for (const abort of [...this.aborts]) abort();
  }
}
