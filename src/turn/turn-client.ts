// A TURN client (RFC 8656) over UDP: allocates a relayed address on a supernode, answers the
// long-term-credential challenge, installs permissions, binds channels (ChannelData carries 4
// bytes of header instead of 36), keeps the allocation refreshed, and hands over what peers
// send. The socket may carry other traffic too: what is not TURN goes to `other`.
// Over a TCP control connection (turn-tcp.ts `streamSocket`) it can allocate a TCP relay
// instead (RFC 6062): `connect` asks for a connection to a peer, `onConnectionAttempt` hears of
// peers that connected in, and turn-tcp-client.ts binds either to a new data connection.
// An Allocate answered 300 Try Alternate (a relay on several threads, RFC 8489 section 10: signed, checked
// here) is sent again to the ALTERNATE-SERVER, which is the client's server from then on.
import { encodePeerIndication } from './indications.js';
import { sameEndpoint, type Clock, type Endpoint, type Random, type Timer, type UdpSocket } from '../env/types.js';
import { err, ok, type CodedError, type Result } from '../result.js';
import { StunTransactions, type StunAnswer } from '../stun/stun-client.js';
import { Attr, StunClass, StunMethod, attribute, checkIntegrity, decodeAddress, decodeErrorCode, decodeUint32, encodeAddress, encodeStun, encodeUint32, type DecodedStun, type StunAttribute } from '../stun/stun.js';
import { longTermKey } from './turn-credentials.js';
import { decodeChannelData, encodeChannelData, isChannelData } from './channel-data.js';

export type TurnClientErrorCode = 'timeout' | 'refused' | 'malformed' | 'closed';
export type TurnClientError = CodedError<TurnClientErrorCode> & { readonly status?: number };

export interface Allocated {
  readonly relayed: Endpoint;
  /** This client's address as the TURN server saw it (server-reflexive). */
  readonly mapped: Endpoint;
  readonly lifetimeS: number;
}

const PERMISSION_REFRESH_MS = 240_000; // permissions live 300 s
const CHANNEL_REFRESH_MS = 480_000; // channels live 600 s
const FIRST_CHANNEL = 0x4000;
/** How long a Connect waits for its answer: the server tries the peer for 30 s at least (RFC 6062 section 5.2). */
export const CONNECT_WAIT_MS = 40_000;
/**
 * A Binding indication to the server this often keeps the NAT's mapping alive (RFC 4787 lets
 * mappings die after 2 minutes of silence; a dead mapping strands the allocation).
 */
export const TURN_KEEPALIVE_MS = 15_000;
/** 300 Try Alternate answers followed for one request (a relay redirects once; more is a loop). */
export const MAX_REDIRECTS = 2;

export class TurnClient {
  private readonly transactions: StunTransactions;
  private auth: { realm: Uint8Array; nonce: Uint8Array; key: Uint8Array } | null = null;
  private readonly channels = new Map<string, number>();
  private readonly peersByChannel = new Map<number, Endpoint>();
  private readonly permissionTimers = new Map<string, Timer>();
  private readonly channelTimers = new Map<number, Timer>();
  private refreshTimer: Timer | null = null;
  private keepaliveTimer: Timer | null = null;
  private dataHandler: (peer: Endpoint, data: Uint8Array) => void = () => {};
  private attemptHandler: (peer: Endpoint, connectionId: Uint8Array) => void = () => {};
  private nextChannel = FIRST_CHANNEL;
  private closed = false;
  allocated: Allocated | null = null;
  /** Where requests go: the server given, or the alternate it redirected an Allocate to. */
  private current: Endpoint;

  /** `moved` hears of a redirect before anything is sent to the new server (a socket split that routes the server's datagrams learns its address). */
  constructor(
    readonly socket: UdpSocket,
    private readonly clock: Clock,
    random: Random,
    server: Endpoint,
    private readonly credentials: { username: string; password: string },
    other: (bytes: Uint8Array, from: Endpoint) => void = () => {},
    private readonly moved: (server: Endpoint) => void = () => {},
  ) {
    this.current = server;
    this.transactions = new StunTransactions(socket, clock, random, (bytes, from, message) => {
      if (sameEndpoint(from, this.current) && this.fromServer(bytes, message)) return;
      other(bytes, from);
    });
  }

  /** The TURN server this client talks to (after a redirect, the alternate). */
  get server(): Endpoint {
    return this.current;
  }

  /** What peers send through the relay, with the peer's address. */
  onData(handler: (peer: Endpoint, data: Uint8Array) => void): void {
    this.dataHandler = handler;
  }

  /** Peers that connected to a TCP relay (RFC 6062 ConnectionAttempt): bind each with turn-tcp-client.ts within 30 s. */
  onConnectionAttempt(handler: (peer: Endpoint, connectionId: Uint8Array) => void): void {
    this.attemptHandler = handler;
  }

  /**
   * The credentials attributes and key of this client's allocation, for a request it sends on
   * another connection (ConnectionBind); null before the server has challenged it.
   */
  credentialsFor(): { readonly attributes: StunAttribute[]; readonly key: Uint8Array } | null {
    const auth = this.auth;
    if (!auth) return null;
    return { attributes: [{ type: Attr.USERNAME, value: new TextEncoder().encode(this.credentials.username) }, { type: Attr.REALM, value: auth.realm }, { type: Attr.NONCE, value: auth.nonce }], key: auth.key };
  }

  /** A TURN request with credentials; answers the 401/438 challenge once. `timing` overrides retransmission (a Connect is sent once and waits). */
  private async request(
    method: number,
    attributes: StunAttribute[] | ((transactionId: Uint8Array) => StunAttribute[]),
    timing: { readonly rtoMs: number; readonly attempts: number } = { rtoMs: 200, attempts: 5 },
  ): Promise<Result<StunAnswer, TurnClientError>> {
    if (this.closed) return err({ code: 'closed', message: 'the TURN client is closed' });
    let redirects = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      const auth = this.auth;
      const withAuth = (transactionId: Uint8Array) => {
        const listed = typeof attributes === 'function' ? attributes(transactionId) : attributes;
        return auth ? [...listed, { type: Attr.USERNAME, value: new TextEncoder().encode(this.credentials.username) }, { type: Attr.REALM, value: auth.realm }, { type: Attr.NONCE, value: auth.nonce }] : listed;
      };
      const answer = await this.transactions.request(this.current, withAuth, { method, ...timing, ...(auth ? { integrityKey: auth.key } : {}) });
      if (!answer.ok) return err({ code: 'timeout', message: `no answer from the TURN server ${this.current.host}:${this.current.port}` });
      if (answer.value.message.cls === StunClass.SUCCESS) return answer;
      const errorAttr = attribute(answer.value.message, Attr.ERROR_CODE);
      const error = errorAttr ? decodeErrorCode(errorAttr) : null;
      const status = error?.ok ? error.value.code : 0;
      const realm = attribute(answer.value.message, Attr.REALM);
      const nonce = attribute(answer.value.message, Attr.NONCE);
      // 401 the first time (or 438: a stale nonce): learn realm and nonce, and ask again.
      if ((status === 401 && !auth) || status === 438) {
        if (!realm || !nonce) return err({ code: 'malformed', message: 'a challenge without realm or nonce', status });
        const realmText = new TextDecoder().decode(realm);
        this.auth = { realm, nonce, key: longTermKey(this.credentials.username, realmText, this.credentials.password) };
        continue;
      }
      // 300 to a signed Allocate: the same request to the alternate, with the same credentials
      // (the nonce stays good: it names the client's address, not the server's port).
      const alternate = status === 300 && method === StunMethod.ALLOCATE && auth && checkIntegrity(answer.value.message, auth.key) ? attribute(answer.value.message, Attr.ALTERNATE_SERVER) : undefined;
      const to = alternate ? decodeAddress(alternate, false) : null;
      if (to?.ok && redirects < MAX_REDIRECTS) {
        redirects++;
        attempt--;
        this.current = to.value;
        this.moved(to.value);
        continue;
      }
      return err({ code: 'refused', message: `TURN ${status} ${error?.ok ? error.value.reason : ''}`.trim(), status });
    }
    return err({ code: 'refused', message: 'the TURN server kept challenging: wrong credentials?' });
  }

  /**
   * Allocates a relayed address, and keeps it refreshed until `close`. `family` asks for an IPv6
   * relay (REQUESTED-ADDRESS-FAMILY, RFC 8656 section 18.1); a server without one answers 440.
   */
  async allocate(lifetimeS = 600, family: 'ipv4' | 'ipv6' = 'ipv4', transport: 'udp' | 'tcp' = 'udp'): Promise<Result<Allocated, TurnClientError>> {
    const answer = await this.request(StunMethod.ALLOCATE, [
      // REQUESTED-TRANSPORT: the IP protocol number, UDP (17) or TCP (6, RFC 6062 over a TCP control connection).
      { type: Attr.REQUESTED_TRANSPORT, value: Uint8Array.of(transport === 'tcp' ? 6 : 17, 0, 0, 0) },
      { type: Attr.LIFETIME, value: encodeUint32(lifetimeS) },
      ...(family === 'ipv6' ? [{ type: Attr.REQUESTED_ADDRESS_FAMILY, value: Uint8Array.of(0x02, 0, 0, 0) }] : []),
    ]);
    if (!answer.ok) return answer;
    const relayedAttr = attribute(answer.value.message, Attr.XOR_RELAYED_ADDRESS);
    const mappedAttr = attribute(answer.value.message, Attr.XOR_MAPPED_ADDRESS);
    const relayed = relayedAttr ? decodeAddress(relayedAttr, true, answer.value.message.transactionId) : null;
    const mapped = mappedAttr ? decodeAddress(mappedAttr, true, answer.value.message.transactionId) : null;
    const lifetimeAttr = attribute(answer.value.message, Attr.LIFETIME);
    const granted = lifetimeAttr ? (decodeUint32(lifetimeAttr) ?? lifetimeS) : lifetimeS;
    if (!relayed?.ok || !mapped?.ok) return err({ code: 'malformed', message: 'an allocation without relayed or mapped address' });
    this.allocated = { relayed: relayed.value, mapped: mapped.value, lifetimeS: granted };
    this.scheduleRefresh(granted);
    this.keepAlive();
    return ok(this.allocated);
  }

  private keepAlive(): void {
    this.keepaliveTimer = this.clock.after(TURN_KEEPALIVE_MS, () => {
      if (this.closed) return;
      this.socket.send(encodeStun({ method: StunMethod.BINDING, cls: StunClass.INDICATION, transactionId: new Uint8Array(12), attributes: [], classic: false }), this.current);
      this.keepAlive();
    });
  }

  private scheduleRefresh(lifetimeS: number): void {
    this.refreshTimer?.cancel();
    // Refresh a minute before it runs out (or halfway for short lifetimes).
    const inMs = Math.max(1_000, Math.min(lifetimeS * 1000 - 60_000, (lifetimeS * 1000) / 2));
    this.refreshTimer = this.clock.after(inMs, () => {
      void this.request(StunMethod.REFRESH, [{ type: Attr.LIFETIME, value: encodeUint32(lifetimeS) }]).then((answer) => {
        if (answer.ok && !this.closed) this.scheduleRefresh(lifetimeS);
      });
    });
  }

  /** Lets these peers' addresses send to the relayed address (kept up while the client runs). */
  async permit(peers: readonly Endpoint[]): Promise<Result<void, TurnClientError>> {
    const answer = await this.request(
      StunMethod.CREATE_PERMISSION,
      (transactionId) => peers.map((p) => ({ type: Attr.XOR_PEER_ADDRESS, value: encodeAddress(p, true, transactionId) })),
    );
    if (!answer.ok) return answer;
    for (const peer of peers) {
      this.permissionTimers.get(peer.host)?.cancel();
      this.permissionTimers.set(peer.host, this.clock.after(PERMISSION_REFRESH_MS, () => void this.permit([peer])));
    }
    return ok(undefined);
  }

  /**
   * Asks a TCP relay to connect to `peer` (RFC 6062 Connect): its CONNECTION-ID, to bind on a new
   * data connection (turn-tcp-client.ts). Sent once (the stream is reliable; a second Connect
   * would be 446), waiting as long as the server may take to connect (30 s and more).
   */
  async connect(peer: Endpoint): Promise<Result<Uint8Array, TurnClientError>> {
    const answer = await this.request(StunMethod.CONNECT, (transactionId) => [{ type: Attr.XOR_PEER_ADDRESS, value: encodeAddress(peer, true, transactionId) }], { rtoMs: CONNECT_WAIT_MS, attempts: 1 });
    if (!answer.ok) return answer;
    const id = attribute(answer.value.message, Attr.CONNECTION_ID);
    if (!id || id.byteLength !== 4) return err({ code: 'malformed', message: 'a Connect answer without CONNECTION-ID' });
    return ok(id.slice());
  }

  /** Binds a channel to a peer (which also permits it); later sends use 4-byte ChannelData headers. */
  async bindChannel(peer: Endpoint): Promise<Result<number, TurnClientError>> {
    const key = `${peer.host}:${peer.port}`;
    const channel = this.channels.get(key) ?? this.nextChannel++;
    // Known before the answer is: over TCP, ChannelData from the peer can follow the answer in
    // the same chunk, and is handled before the code after `await` runs.
    this.peersByChannel.set(channel, peer);
    const answer = await this.request(StunMethod.CHANNEL_BIND, (transactionId) => [
      { type: Attr.CHANNEL_NUMBER, value: Uint8Array.of(channel >> 8, channel & 0xff, 0, 0) },
      { type: Attr.XOR_PEER_ADDRESS, value: encodeAddress(peer, true, transactionId) },
    ]);
    if (!answer.ok) return answer;
    this.channels.set(key, channel);
    this.channelTimers.get(channel)?.cancel();
    this.channelTimers.set(channel, this.clock.after(CHANNEL_REFRESH_MS, () => void this.bindChannel(peer)));
    return ok(channel);
  }

  /** Sends to a peer through the relay: ChannelData when a channel is bound, else a Send indication. */
  send(peer: Endpoint, data: Uint8Array): void {
    if (this.closed) return;
    const channel = this.channels.get(`${peer.host}:${peer.port}`);
    if (channel !== undefined) {
      this.socket.send(encodeChannelData(channel, data), this.current);
      return;
    }
    // Nothing answers an indication: its transaction id need not be random (an IPv6 peer is XORed with it).
    this.socket.send(encodePeerIndication(StunMethod.SEND, new Uint8Array(12), peer, data), this.current);
  }

  /** ChannelData and Data indications (`message`: decoded already by the transactions); false for anything else. */
  private fromServer(bytes: Uint8Array, message: DecodedStun | undefined): boolean {
    if (isChannelData(bytes)) {
      const decoded = decodeChannelData(bytes);
      const peer = decoded && this.peersByChannel.get(decoded.channel);
      if (decoded && peer) this.dataHandler(peer, decoded.data);
      return true;
    }
    if (message?.method === StunMethod.CONNECTION_ATTEMPT && message.cls === StunClass.INDICATION) {
      const peerAttr = attribute(message, Attr.XOR_PEER_ADDRESS);
      const id = attribute(message, Attr.CONNECTION_ID);
      const peer = peerAttr ? decodeAddress(peerAttr, true, message.transactionId) : null;
      if (peer?.ok && id?.byteLength === 4) this.attemptHandler(peer.value, id.slice());
      return true;
    }
    if (!message || message.method !== StunMethod.DATA || message.cls !== StunClass.INDICATION) return false;
    const peerAttr = attribute(message, Attr.XOR_PEER_ADDRESS);
    const data = attribute(message, Attr.DATA);
    const peer = peerAttr ? decodeAddress(peerAttr, true, message.transactionId) : null;
    if (peer?.ok && data) this.dataHandler(peer.value, data);
    return true;
  }

  /** Releases the allocation (Refresh with lifetime 0) and stops refreshing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.refreshTimer?.cancel();
    this.keepaliveTimer?.cancel();
    for (const timer of [...this.permissionTimers.values(), ...this.channelTimers.values()]) timer.cancel();
    if (this.allocated) await this.request(StunMethod.REFRESH, [{ type: Attr.LIFETIME, value: encodeUint32(0) }]);
    this.closed = true;
    this.transactions.close();
  }
}
