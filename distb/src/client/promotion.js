import { Role } from '../crypto/certificate.js';
import { listenSecure } from '../crypto/secure-link.js';
import { requestReachabilityCheck, verifyAttestation } from '../overlay/reachability.js';
import { TokenBucket } from '../overlay/token-bucket.js';
import { DEFAULT_DIAL_BACK_TIMEOUT_MS, sendUploadProbe } from '../supernode/dial-back.js';
import { startSupernode } from '../supernode/supernode.js';
/**
 * An hour up, 1 Mbit/s up: a supernode carries signalling, not media (about 2.4 bytes/s per
 * attached client in keep-alives), so 1 Mbit/s serves thousands; an hour filters out machines
 * that come and go, whose clients would fail over again soon. Reachability is re-checked every
 * 5 minutes, so an unreachable supernode is gone within about 6 minutes.
 */
export const DEFAULT_PROMOTION_POLICY = Object.freeze({
    allowed: true,
    minUptimeMs: 60 * 60_000,
    minUploadKbps: 1_000,
    retryMs: 30 * 60_000,
    recheckMs: 5 * 60_000,
    demoteAfterFailures: 2,
});
/** After a failed re-check, the next comes sooner: confirm or clear quickly. */
const CONFIRM_AFTER_FAILURE_MS = 30_000;
export class Promoter {
    env;
    config;
    policy;
    listener = null;
    running = null;
    timer = null;
    failures = 0;
    closed = false;
    listeners = [];
    /** Dial-backs this node answers with a 64 KiB probe: a supernode cannot make it send more. */
    probes;
    constructor(env, config) {
        this.env = env;
        this.config = config;
        this.policy = { ...DEFAULT_PROMOTION_POLICY, ...config.policy };
        this.probes = new TokenBucket(2, 1 / 30, env.clock.now());
    }
    onEvent(listener) {
        this.listeners.push(listener);
    }
    emit(event) {
        this.config.log?.(`promotion: ${event.kind}${'reason' in event ? `: ${event.reason}` : ''}`);
        for (const listener of this.listeners)
            listener(event);
    }
    /** The supernode this node runs, while promoted. */
    get supernode() {
        return this.running;
    }
    /** The port dial-backs reach (the listener's, when `port` was 0). */
    get port() {
        return this.running?.port ?? this.listener?.local.port ?? this.config.port;
    }
    async start() {
        if (!this.policy.allowed) {
            this.emit({ kind: 'forbidden' });
            return;
        }
        await this.listenAsClient(this.config.port);
        this.schedule(this.policy.minUptimeMs, () => this.tryPromotion());
    }
    schedule(delayMs, work) {
        this.timer?.cancel();
        if (this.closed)
            return;
        this.timer = this.env.clock.after(delayMs, () => void work());
    }
    /** As a client, the listener only answers dial-backs from supernodes. */
    async listenAsClient(port) {
        this.listener = await listenSecure(this.env, {
            ...(this.config.host ? { host: this.config.host } : {}),
            port,
            config: { identity: this.config.identity, verifier: this.config.verifier },
            onLink: (link) => {
                if (link.peer.role !== Role.SUPERNODE || !this.probes.take(this.env.clock.now()))
                    return link.close();
                sendUploadProbe(link);
                // The checker closes when it has measured; a checker that does not is cut off.
                const cutoff = this.env.clock.after(2 * DEFAULT_DIAL_BACK_TIMEOUT_MS, () => link.close());
                link.onClose(() => cutoff.cancel());
            },
        });
    }
    notPromoted(reason) {
        this.emit({ kind: 'not-promoted', reason, atMs: this.env.clock.now() });
        this.schedule(this.policy.retryMs, () => this.tryPromotion());
    }
    async tryPromotion() {
        if (this.closed || this.running)
            return;
        const port = this.port;
        let answer;
        try {
            answer = await this.config.client.checkReachability(port);
        }
        catch (error) {
            return this.notPromoted(`no reachability check: ${error.message}`);
        }
        if (this.closed)
            return;
        if (!answer.reachable)
            return this.notPromoted(`not reachable from outside: ${answer.detail}`);
        const attested = verifyAttestation(answer.attestation, this.config.verifier, this.env.clock.wallTimeMs());
        if (!attested.ok)
            return this.notPromoted(`the supernode's attestation is not valid: ${attested.error.code}`);
        const { uploadKbps, host } = attested.value;
        if (uploadKbps < this.policy.minUploadKbps)
            return this.notPromoted(`upload ${Math.round(uploadKbps)} kbit/s is below ${this.policy.minUploadKbps}`);
        let certificate;
        try {
            certificate = await this.config.certify(answer.attestation);
        }
        catch (error) {
            return this.notPromoted(`no supernode certificate: ${error.message}`);
        }
        if (this.closed)
            return;
        this.listener?.close();
        this.listener = null;
        try {
            this.running = await startSupernode(this.env, {
                identity: { ...this.config.identity, certificate },
                verifier: this.config.verifier,
                ...(this.config.host ? { host: this.config.host } : {}),
                port,
                advertise: { host, port },
                ...this.config.supernode,
                ...(this.config.log ? { log: this.config.log } : {}),
            });
        }
        catch (error) {
            await this.listenAsClient(port);
            return this.notPromoted(`could not start the supernode: ${error.message}`);
        }
        this.failures = 0;
        this.emit({ kind: 'promoted', uploadKbps, port, atMs: this.env.clock.now() });
        // Joins the overlay through the supernodes this client knows.
        await this.running.join(this.config.client.knownSupernodes());
        this.schedule(this.policy.recheckMs, () => this.recheck());
    }
    /** Asks a peer supernode to dial this one back; demotes after repeated failures. */
    async recheck() {
        const running = this.running;
        if (this.closed || !running)
            return;
        const peers = running.dht.table.all();
        let reason = null;
        if (peers.length === 0)
            reason = 'no peer supernode to check with';
        else {
            const peer = peers[this.env.random.int(peers.length)];
            try {
                const answer = await requestReachabilityCheck(await running.dht.channelTo(peer), running.port);
                if (!answer.reachable)
                    reason = answer.detail;
            }
            catch (error) {
                reason = `the check failed: ${error.message}`;
            }
        }
        if (this.closed || this.running !== running)
            return;
        if (reason === null) {
            this.failures = 0;
            return this.schedule(this.policy.recheckMs, () => this.recheck());
        }
        this.failures++;
        this.emit({ kind: 'check-failed', reason, failures: this.failures, atMs: this.env.clock.now() });
        if (this.failures < this.policy.demoteAfterFailures)
            return this.schedule(Math.min(this.policy.recheckMs, CONFIRM_AFTER_FAILURE_MS), () => this.recheck());
        await this.demote(`unreachable (${reason})`);
    }
    /** Stops serving: attached clients fail over elsewhere; this node waits out the uptime again. */
    async demote(reason) {
        const running = this.running;
        if (!running)
            return;
        this.running = null;
        running.close();
        this.emit({ kind: 'demoted', reason, atMs: this.env.clock.now() });
        await this.listenAsClient(running.port);
        this.schedule(this.policy.minUptimeMs, () => this.tryPromotion());
    }
    close() {
        this.closed = true;
        this.timer?.cancel();
        this.listener?.close();
        this.running?.close();
    }
}
//# sourceMappingURL=promotion.js.map