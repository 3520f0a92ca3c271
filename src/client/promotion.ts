// Promotion and demotion: a client becomes a supernode on its own when another supernode has
// dialled it back (it is publicly reachable), its measured upload is high enough and it has been
// up long enough; the user can forbid it. As a supernode it keeps checking, through a peer, that
// it can still be reached, and goes back to being a client when it cannot.
//
// The reachability evidence is the checker's signed attestation; the login server (`certify`)
// trades it for a supernode certificate for this node's keys.
import type { Env, TcpListener, Timer } from '../env/types.js';
import type { CertificateVerifier } from '../crypto/certificate.js';
import { Role } from '../crypto/certificate.js';
import type { NodeIdentity } from '../crypto/identity.js';
import { listenSecure } from '../crypto/secure-link.js';
import { requestReachabilityCheck, verifyAttestation } from '../overlay/reachability.js';
import { TokenBucket } from '../util/token-bucket.js';
import { Listeners } from '../util/listeners.js';
import { DEFAULT_DIAL_BACK_TIMEOUT_MS, sendUploadProbe } from '../supernode/dial-back.js';
import type { RunningSupernode, SupernodeOptions } from '../supernode/supernode.js';
import type { AttachedClient } from './attachment.js';

export interface PromotionPolicy {
  /** The user's setting: may this machine serve others as a supernode? */
  readonly allowed: boolean;
  /** Up this long before the first check (a machine that comes and goes makes a poor supernode). */
  readonly minUptimeMs: number;
  /** Upload rate, as measured by the checking supernode. */
  readonly minUploadKbps: number;
  /** After a check that said no, wait this long before the next. */
  readonly retryMs: number;
  /** A supernode re-checks its reachability this often... */
  readonly recheckMs: number;
  /** ...and demotes after this many failed checks in a row (one lost check is not proof). */
  readonly demoteAfterFailures: number;
}

/**
 * An hour up, 1 Mbit/s up: a supernode carries signalling, not media (about 2.4 bytes/s per
 * attached client in keep-alives), so 1 Mbit/s serves thousands; an hour filters out machines
 * that come and go, whose clients would fail over again soon. Reachability is re-checked every
 * 5 minutes, so an unreachable supernode is gone within about 6 minutes.
 */
export const DEFAULT_PROMOTION_POLICY: PromotionPolicy = Object.freeze({
  allowed: true,
  minUptimeMs: 60 * 60_000,
  minUploadKbps: 1_000,
  retryMs: 30 * 60_000,
  recheckMs: 5 * 60_000,
  demoteAfterFailures: 2,
});
/** After a failed re-check, the next comes sooner: confirm or clear quickly. */
const CONFIRM_AFTER_FAILURE_MS = 30_000;

export type PromotionEvent =
  | { readonly kind: 'forbidden' }
  | { readonly kind: 'not-promoted'; readonly reason: string; readonly atMs: number }
  | { readonly kind: 'promoted'; readonly uploadKbps: number; readonly port: number; readonly atMs: number }
  | { readonly kind: 'check-failed'; readonly reason: string; readonly failures: number; readonly atMs: number }
  | { readonly kind: 'demoted'; readonly reason: string; readonly atMs: number };

export interface PromoterConfig {
  /** The device's identity (keys and device certificate). */
  readonly identity: NodeIdentity;
  readonly verifier: CertificateVerifier;
  readonly client: AttachedClient;
  /** Where this node listens: for dial-backs as a client, for everyone as a supernode. */
  readonly port: number;
  readonly host?: string;
  readonly policy?: Partial<PromotionPolicy>;
  /** Trades a reachability attestation for a supernode certificate for this node's keys. */
  certify(attestation: Uint8Array): Promise<Uint8Array>;
  readonly supernode?: Pick<SupernodeOptions, 'attachment' | 'maxLinks'>;
  readonly log?: (line: string) => void;
}

export class Promoter {
  readonly policy: PromotionPolicy;
  private listener: TcpListener | null = null;
  private running: RunningSupernode | null = null;
  private timer: Timer | null = null;
  private failures = 0;
  private closed = false;
  private readonly listeners = new Listeners<[PromotionEvent]>();
  /** Dial-backs this node answers with a 64 KiB probe: a supernode cannot make it send more. */
  private readonly probes: TokenBucket;

  constructor(
    private readonly env: Env,
    private readonly config: PromoterConfig,
  ) {
    this.policy = { ...DEFAULT_PROMOTION_POLICY, ...config.policy };
    this.probes = new TokenBucket(2, 1 / 30, env.clock.now());
  }

  /** Returns the removal. */
  onEvent(listener: (event: PromotionEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  private emit(event: PromotionEvent): void {
    this.config.log?.(`promotion: ${event.kind}${'reason' in event ? `: ${event.reason}` : ''}`);
    this.listeners.emit(event);
  }

  /** The supernode this node runs, while promoted. */
  get supernode(): RunningSupernode | null {
    return this.running;
  }

  /** The port dial-backs reach (the listener's, when `port` was 0). */
  get port(): number {
    return this.running?.port ?? this.listener?.local.port ?? this.config.port;
  }

  async start(): Promise<void> {
    if (!this.policy.allowed) {
      this.emit({ kind: 'forbidden' });
      return;
    }
    await this.listenAsClient(this.config.port);
    this.schedule(this.policy.minUptimeMs, () => this.tryPromotion());
  }

  private schedule(delayMs: number, work: () => Promise<void>): void {
    this.timer?.cancel();
    if (this.closed) return;
    this.timer = this.env.clock.after(delayMs, () => void work());
  }

  /** As a client, the listener only answers dial-backs from supernodes. */
  private async listenAsClient(port: number): Promise<void> {
    this.listener = await listenSecure(this.env, {
      ...(this.config.host ? { host: this.config.host } : {}),
      port,
      config: { identity: this.config.identity, verifier: this.config.verifier },
      onLink: (link) => {
        if (link.peer.role !== Role.SUPERNODE || !this.probes.take(this.env.clock.now())) return link.close();
        sendUploadProbe(link);
        // The checker closes when it has measured; a checker that does not is cut off.
        const cutoff = this.env.clock.after(2 * DEFAULT_DIAL_BACK_TIMEOUT_MS, () => link.close());
        link.onClose(() => cutoff.cancel());
      },
    });
  }

  private notPromoted(reason: string): void {
    this.emit({ kind: 'not-promoted', reason, atMs: this.env.clock.now() });
    this.schedule(this.policy.retryMs, () => this.tryPromotion());
  }

  private async tryPromotion(): Promise<void> {
    if (this.closed || this.running) return;
    const port = this.port;
    let answer;
    try {
      answer = await this.config.client.checkReachability(port);
    } catch (error) {
      return this.notPromoted(`no reachability check: ${(error as Error).message}`);
    }
    if (this.closed) return;
    if (!answer.reachable) return this.notPromoted(`not reachable from outside: ${answer.detail}`);
    const attested = verifyAttestation(answer.attestation, this.config.verifier, this.env.clock.wallTimeMs());
    if (!attested.ok) return this.notPromoted(`the supernode's attestation is not valid: ${attested.error.code}`);
    const { uploadKbps, host } = attested.value;
    if (uploadKbps < this.policy.minUploadKbps) return this.notPromoted(`upload ${Math.round(uploadKbps)} kbit/s is below ${this.policy.minUploadKbps}`);
    let certificate: Uint8Array;
    try {
      certificate = await this.config.certify(answer.attestation);
    } catch (error) {
      return this.notPromoted(`no supernode certificate: ${(error as Error).message}`);
    }
    if (this.closed) return;
    this.listener?.close();
    this.listener = null;
    try {
      // A supernode's code (DHT, STUN and TURN servers, routing) is loaded when this device becomes
      // one, not by every client waiting for its dial-back (resident memory, issue 22).
      const { startSupernode } = await import('../supernode/supernode.js');
      if (this.closed) return;
      this.running = await startSupernode(this.env, {
        identity: { ...this.config.identity, certificate },
        verifier: this.config.verifier,
        ...(this.config.host ? { host: this.config.host } : {}),
        port,
        advertise: { host, port },
        ...this.config.supernode,
        ...(this.config.log ? { log: this.config.log } : {}),
      });
    } catch (error) {
      await this.listenAsClient(port);
      return this.notPromoted(`could not start the supernode: ${(error as Error).message}`);
    }
    this.failures = 0;
    this.emit({ kind: 'promoted', uploadKbps, port, atMs: this.env.clock.now() });
    // Joins the overlay through the supernodes this client knows.
    await this.running.join(this.config.client.knownSupernodes());
    this.schedule(this.policy.recheckMs, () => this.recheck());
  }

  /** Asks a peer supernode to dial this one back; demotes after repeated failures. */
  private async recheck(): Promise<void> {
    const running = this.running;
    if (this.closed || !running) return;
    const peers = running.dht.table.all();
    let reason: string | null = null;
    if (peers.length === 0) reason = 'no peer supernode to check with';
    else {
      const peer = peers[this.env.random.int(peers.length)]!;
      try {
        const answer = await requestReachabilityCheck(await running.dht.channelTo(peer), running.port);
        if (!answer.reachable) reason = answer.detail;
      } catch (error) {
        reason = `the check failed: ${(error as Error).message}`;
      }
    }
    if (this.closed || this.running !== running) return;
    if (reason === null) {
      this.failures = 0;
      return this.schedule(this.policy.recheckMs, () => this.recheck());
    }
    this.failures++;
    this.emit({ kind: 'check-failed', reason, failures: this.failures, atMs: this.env.clock.now() });
    if (this.failures < this.policy.demoteAfterFailures) return this.schedule(Math.min(this.policy.recheckMs, CONFIRM_AFTER_FAILURE_MS), () => this.recheck());
    await this.demote(`unreachable (${reason})`);
  }

  /** Stops serving: attached clients fail over elsewhere; this node waits out the uptime again. */
  private async demote(reason: string): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = null;
    running.close();
    this.emit({ kind: 'demoted', reason, atMs: this.env.clock.now() });
    await this.listenAsClient(running.port);
    this.schedule(this.policy.minUptimeMs, () => this.tryPromotion());
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.listener?.close();
    this.running?.close();
  }
}
