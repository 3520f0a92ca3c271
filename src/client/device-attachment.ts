// A device's attachment to the overlay, as every front end starts it: the host cache from the
// device's store (saved at every change), the login server's live list of supernodes merged in,
// revoked supernodes forgotten and refused, then attached once (a command) or for good (a
// device that stays online). The device core builds on it; commands that only look something up
// in the overlay (`whois`, `nat`) use it alone.
import { CertificateVerifier } from '../crypto/certificate.js';
import type { NetworkDescriptor } from '../crypto/descriptor.js';
import type { NodeIdentity } from '../crypto/identity.js';
import type { Env, TlsConnect } from '../env/types.js';
import type { HostCache } from '../overlay/host-cache.js';
import { detectNat, natTypeToWire, udpTimeoutFor, type NatReport } from '../nat/nat-detection.js';
import { AttachedClient } from './attachment.js';
import { liveBootstrapFrom, revokedSupernodesFrom } from './live-bootstrap.js';

/** What the attachment needs of the login server. */
export interface BootstrapSource {
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
}

/** Where the host cache outlives the process. */
export interface HostCacheStore {
  loadHostCache(nowWallMs: number): HostCache;
  saveHostCache(cache: HostCache): void;
}

export class DeviceAttachment {
  readonly client: AttachedClient;
  readonly verifier: CertificateVerifier;
  private readonly hostCache: HostCache;

  constructor(
    private readonly env: Env,
    private readonly parts: { readonly username: string; readonly identity: NodeIdentity; readonly descriptor: NetworkDescriptor; readonly loginServer: BootstrapSource; readonly store: HostCacheStore; readonly webTls?: TlsConnect },
  ) {
    this.verifier = new CertificateVerifier(parts.descriptor.caPublicKey);
    this.hostCache = parts.store.loadHostCache(env.clock.wallTimeMs());
    this.client = new AttachedClient(env, { identity: parts.identity, verifier: this.verifier, username: parts.username, hostCache: this.hostCache, bootstrap: parts.descriptor.bootstrap, ...(parts.webTls ? { webTls: parts.webTls } : {}) });
    this.client.onEvent(() => this.save());
  }

  save(): void {
    this.parts.store.saveHostCache(this.hostCache);
  }

  /**
   * The login server's live list (enrolled supernodes that renewed lately), merged into the host
   * cache; supernodes the operator revoked lately are forgotten and refused (their certificates
   * are still in date). Rejects when the answer does not check out.
   */
  async refreshBootstrap(): Promise<void> {
    const info = await this.parts.loginServer.call('GET', '/v1/info');
    const revoked = revokedSupernodesFrom(info);
    this.verifier.revoke(revoked);
    this.hostCache.forgetKeys(revoked);
    this.hostCache.merge(liveBootstrapFrom(info, this.parts.descriptor.networkId), 'bootstrap');
    this.save();
  }

  /**
   * Attaches. The live list is waited for only when nothing else is known; else it is merged
   * when it comes (the next start has it), and an answer that does not check out goes to
   * `onLateFailure`, never an unhandled rejection. 'once' rejects when no supernode answers;
   * 'persist' keeps trying in the background (with failover's growing, jittered pause) and
   * resolves at once with the first failure, if any.
   */
  async attach(mode: 'once' | 'persist', onLateFailure: (what: 'bootstrap-list' | 'attach', error: unknown) => void): Promise<void> {
    const refresh = this.refreshBootstrap();
    const known = this.hostCache.size > 0 || this.parts.descriptor.bootstrap.some((b) => b.dhKey);
    if (!known) await refresh;
    else refresh.catch((error: unknown) => onLateFailure('bootstrap-list', error));
    if (mode === 'once') {
      await this.client.start();
      return;
    }
    try {
      await this.client.start();
    } catch (error) {
      onLateFailure('attach', error);
      void this.client.stayAttached();
    }
  }

  /**
   * Tests what this device is behind against its supernode's STUN service (and another
   * supernode's, on another host, so that a one-address supernode still tells a symmetric NAT),
   * and publishes the type in its presence record. Null when not attached.
   */
  async detectNat(): Promise<NatReport | null> {
    const { client } = this;
    const supernode = client.supernode;
    const local = client.localAddress;
    if (!supernode || !local) return null;
    const onlyWebPortReached = client.supernodeEndpoint?.port !== supernode.port;
    const second = client.knownSupernodes().find((s) => s.host !== supernode.host);
    const report = await detectNat(this.env, { host: supernode.host, port: supernode.port }, {
      localHost: local.host,
      onlyWebPortReached,
      udpTimeoutMs: udpTimeoutFor(client.attachTimeMs),
      ...(second ? { secondServer: { host: second.host, port: second.port } } : {}),
    });
    client.setNatType(natTypeToWire(report.type));
    return report;
  }

  close(): void {
    this.client.close();
    this.save();
  }
}
