// Connecting two devices: the offering side gathers candidates, sends them (with the
// credentials of its checks) in the end-to-end stream to one device of the other user, and
// starts checking when the answer comes; the answering side gathers, starts checking at once
// (its checks open its own NAT for the offerer's) and answers. Whatever path the ICE agents
// choose — direct, hole-punched or relayed — is handed over with the time it took.
import { create } from '@bufbuild/protobuf';
import type { Endpoint, Env, TlsConnect } from '../env/types.js';
import { equalBytes, toHex } from '../crypto/bytes.js';
import type { Messenger } from '../messenger/messenger.js';
import type { Relation } from '../messenger/transport.js';
import { ConnectivityOfferSchema, IceCandidateSchema, IceCandidateType, type ConnectivityOffer } from '../wire/messages.js';
import { Listeners } from '../util/listeners.js';
import { addressFamily } from '../stun/stun.js';
import { IceAgent } from '../ice/ice-agent.js';
import type { CandidateType, IceCandidate, IceParameters, SelectedPath } from '../ice/ice-candidate.js';

/** What the connector needs of the messenger: connectivity offers and answers in the end-to-end streams to other devices (blocked users' never arrive). */
export type ConnectivitySignalling = Pick<Messenger, 'subscribe' | 'send'>;

/** Where this device's supernode answers STUN/TURN, its TURN credentials, and the local interface. */
export interface LocalNetwork {
  readonly server: Endpoint;
  readonly turn: { username: string; password: string } | null;
  readonly localHost?: string;
  /** Dual-stack: the device's IPv6 address (a second host candidate) and its supernode's STUN over IPv6 (see IceAgentOptions). */
  readonly localHost6?: string;
  readonly server6?: Endpoint;
  /** Where TURN over TCP answers, when UDP is blocked (default: `server`). */
  readonly turnTcp?: Endpoint;
  /** TURN over TCP inside TLS there (the device's own link came through TLS on the web port). */
  readonly turnTls?: TlsConnect;
  /** Offer relayed candidates only (see IceAgentOptions). */
  readonly relayOnly?: boolean;
}

export interface Connection {
  readonly user: string;
  readonly device: Uint8Array;
  readonly agent: IceAgent;
  readonly path: SelectedPath;
  /** From the first step (gathering) to the chosen path, both sides' steps included. */
  readonly setupMs: number;
}

export type ConnectError = 'refused' | 'no_answer' | 'no_path';

const TYPES: Record<CandidateType, IceCandidateType> = {
  host: IceCandidateType.HOST,
  srflx: IceCandidateType.SERVER_REFLEXIVE,
  prflx: IceCandidateType.PEER_REFLEXIVE,
  relay: IceCandidateType.RELAYED,
};
const FROM_WIRE = new Map<IceCandidateType, CandidateType>(Object.entries(TYPES).map(([k, v]) => [v, k as CandidateType]));
/** Candidates taken from an offer; more is not a device. */
const MAX_CANDIDATES = 16;
/** Offers answered at once: each costs a socket and a relay allocation. */
export const MAX_ANSWERING = 8;
/**
 * Of those, offers from one user: an answer holds its place until a path works or 10 s pass, so
 * one user offering again and again held every place, and nobody else could connect (a call
 * rang but had no path). Four leave room for a call's early path and an ICE restart or two.
 */
export const MAX_ANSWERING_PER_USER = 4;

export function offerOf(attemptId: Uint8Array, answer: boolean, parameters: IceParameters): ConnectivityOffer {
  return create(ConnectivityOfferSchema, {
    attemptId,
    answer,
    ufrag: parameters.ufrag,
    pwd: parameters.pwd,
    candidates: parameters.candidates.map((c) => create(IceCandidateSchema, { type: TYPES[c.type], host: c.address.host, port: c.address.port, priority: c.priority, relayTcp: c.relayTcp === true })),
  });
}

/** The other side's parameters, with what makes no sense dropped. */
export function parametersOf(offer: ConnectivityOffer): IceParameters | null {
  if (offer.ufrag.length < 4 || offer.ufrag.length > 256 || offer.pwd.length < 22 || offer.pwd.length > 256) return null;
  const candidates: IceCandidate[] = [];
  for (const c of offer.candidates.slice(0, MAX_CANDIDATES)) {
    const type = FROM_WIRE.get(c.type);
    // IPv4 or IPv6 (in text, no zone): an address the STUN attributes cannot carry would throw where checks and permissions encode it.
    if (!type || addressFamily(c.host) === null || c.port === 0 || c.port > 65535) continue;
    candidates.push({ type, address: { host: c.host, port: c.port }, priority: c.priority, ...(type === 'relay' && c.relayTcp ? { relayTcp: true } : {}) });
  }
  return { ufrag: offer.ufrag, pwd: offer.pwd, candidates };
}

export class Connector {
  private readonly waiting = new Map<string, { device: Uint8Array; resolve: (offer: ConnectivityOffer) => void }>();
  private readonly listeners = new Listeners<[Connection]>();
  private readonly failures = new Listeners<[user: string, reason: string]>();
  private answering = 0;
  /** Offers being answered, per user (no entry: none). */
  private readonly answeringFor = new Map<string, number>();

  constructor(
    private readonly env: Env,
    private readonly signalling: ConnectivitySignalling,
    private readonly network: () => Promise<LocalNetwork>,
    /** Whether to connect when this user offers (default: buddies only). */
    private readonly accept: (user: string, relation: Relation) => boolean = (_user, relation) => relation === 'buddy',
  ) {
    signalling.subscribe('connectivity', (from, offer) => this.received(from, offer));
  }

  /** Connections the other side started, once they have a path. Returns the removal. */
  onConnection(listener: (connection: Connection) => void): () => void {
    return this.listeners.add(listener);
  }

  /** Offers the other side started that came to nothing, and why. Returns the removal. */
  onFailure(listener: (user: string, reason: string) => void): () => void {
    return this.failures.add(listener);
  }

  private async agent(controlling: boolean, urgent = false): Promise<IceAgent> {
    const local = await this.network();
    return IceAgent.gather(this.env, { controlling, server: local.server, ...(local.turn ? { turnCredentials: local.turn } : {}), ...(local.localHost ? { localHost: local.localHost } : {}), ...(local.localHost6 ? { localHost6: local.localHost6 } : {}), ...(local.server6 ? { server6: local.server6 } : {}), ...(local.turnTcp ? { turnTcp: local.turnTcp } : {}), ...(local.turnTls ? { turnTls: local.turnTls } : {}), ...(local.relayOnly ? { relayOnly: true } : {}), ...(urgent ? { urgent } : {}) });
  }

  /**
   * Connects to one device of `user`: resolves with the connection, or the reason there is none.
   * Each call gathers afresh (a new socket, the current supernode's STUN answer, a new TURN
   * allocation there), so connecting again to a device already connected is an ICE restart.
   * `urgent`: a path is needed now (IceAgentOptions.urgent). Rejects when this device has no
   * network to gather on (not attached to a supernode).
   */
  async connect(user: string, device: Uint8Array, timeoutMs = 10_000, options: { urgent?: boolean } = {}): Promise<{ ok: true; connection: Connection } | { ok: false; error: ConnectError }> {
    const started = this.env.clock.now();
    const agent = await this.agent(true, options.urgent === true);
    const attemptId = this.env.random.bytes(16);
    const key = toHex(attemptId);
    const answer = await new Promise<ConnectivityOffer | null>((resolve) => {
      const timer = this.env.clock.after(timeoutMs, () => resolve(null));
      this.waiting.set(key, {
        device,
        resolve: (offer) => {
          timer.cancel();
          resolve(offer);
        },
      });
      void this.signalling.send(user, [device], 'connectivity', offerOf(attemptId, false, agent.parameters));
    });
    this.waiting.delete(key);
    const remote = answer && !answer.refused ? parametersOf(answer) : null;
    if (!remote) {
      await agent.close();
      return { ok: false, error: answer?.refused ? 'refused' : 'no_answer' };
    }
    agent.connect(remote);
    const path = await agent.established(Math.max(1_000, timeoutMs - (this.env.clock.now() - started)));
    if (!path) {
      await agent.close();
      return { ok: false, error: 'no_path' };
    }
    return { ok: true, connection: { user, device, agent, path, setupMs: this.env.clock.now() - started } };
  }

  private received(from: { user: string; device: Uint8Array; relation: Relation }, offer: ConnectivityOffer): void {
    if (offer.answer) {
      const waiting = this.waiting.get(toHex(offer.attemptId));
      if (waiting && equalBytes(waiting.device, from.device)) waiting.resolve(offer);
      return;
    }
    void this.answer(from, offer);
  }

  private async answer(from: { user: string; device: Uint8Array; relation: Relation }, offer: ConnectivityOffer): Promise<void> {
    const started = this.env.clock.now();
    const remote = parametersOf(offer);
    const theirs = this.answeringFor.get(from.user) ?? 0;
    const reason = !remote
      ? 'an unusable offer'
      : !this.accept(from.user, from.relation)
        ? "refused by this user's setting"
        : this.answering >= MAX_ANSWERING
          ? 'too many connections being set up'
          : theirs >= MAX_ANSWERING_PER_USER
            ? 'too many connections being set up with this user'
            : null;
    if (reason || !remote) {
      void this.signalling.send(from.user, [from.device], 'connectivity', create(ConnectivityOfferSchema, { attemptId: offer.attemptId, answer: true, refused: true }));
      this.failures.emit(from.user, reason ?? 'an unusable offer');
      return;
    }
    this.answering++;
    this.answeringFor.set(from.user, theirs + 1);
    try {
      await this.answerWith(from, offer, remote, started);
    } finally {
      this.answering--;
      const left = (this.answeringFor.get(from.user) ?? 1) - 1;
      if (left > 0) this.answeringFor.set(from.user, left);
      else this.answeringFor.delete(from.user);
    }
  }

  private async answerWith(from: { user: string; device: Uint8Array }, offer: ConnectivityOffer, remote: IceParameters, started: number): Promise<void> {
    const agent = await this.agent(false);
    // Checks start before the answer leaves: ours open our NAT for the offerer's.
    agent.connect(remote);
    void this.signalling.send(from.user, [from.device], 'connectivity', offerOf(offer.attemptId, true, agent.parameters));
    const path = await agent.established();
    if (!path) {
      await agent.close();
      this.failures.emit(from.user, 'no path worked');
      return;
    }
    const connection = { user: from.user, device: from.device, agent, path, setupMs: this.env.clock.now() - started };
    this.listeners.emit(connection);
  }
}
