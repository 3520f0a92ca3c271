// The supernode service as far as the foundation goes: it accepts secure links from nodes of
// its network and answers pings. Attachments, the overlay, STUN and TURN build on this.
import { create } from '@bufbuild/protobuf';
import type { Env, TcpListener } from '../env/types.js';
import type { CertificateVerifier } from '../crypto/certificate.js';
import type { NodeIdentity } from '../crypto/identity.js';
import { listenSecure, type SecureLink } from '../crypto/secure-link.js';
import type { ChannelError } from '../crypto/secure-channel.js';
import { CloseReason, PongSchema } from '../wire/messages.js';

/** Links one supernode serves at once; more are turned away at the handshake. */
export const DEFAULT_MAX_LINKS = 10_000;

export interface SupernodeOptions {
  readonly identity: NodeIdentity;
  readonly verifier: CertificateVerifier;
  readonly host?: string;
  readonly port: number;
  readonly maxLinks?: number;
  readonly log?: (line: string) => void;
}

export interface RunningSupernode {
  readonly port: number;
  readonly links: ReadonlySet<SecureLink>;
  readonly failures: ReadonlyMap<ChannelError['code'], number>;
  close(): void;
}

export async function startSupernode(env: Env, options: SupernodeOptions): Promise<RunningSupernode> {
  const links = new Set<SecureLink>();
  const failures = new Map<ChannelError['code'], number>();
  const maxLinks = options.maxLinks ?? DEFAULT_MAX_LINKS;
  const log = options.log ?? (() => {});
  const listener: TcpListener = await listenSecure(env, {
    ...(options.host ? { host: options.host } : {}),
    port: options.port,
    config: { identity: options.identity, verifier: options.verifier },
    onFailure: (error, remote) => {
      failures.set(error.code, (failures.get(error.code) ?? 0) + 1);
      log(`refused ${remote.host}:${remote.port}: ${error.code} (${error.message})`);
    },
    onLink: (link) => {
      if (links.size >= maxLinks) {
        link.close(CloseReason.SHUTDOWN, 'supernode full');
        return;
      }
      links.add(link);
      link.onClose(() => links.delete(link));
      link.onMessage((envelope) => {
        if (envelope.body.case === 'ping') link.send({ case: 'pong', value: create(PongSchema, { nonce: envelope.body.value.nonce }) });
      });
    },
  });
  return {
    port: listener.local.port,
    links,
    failures,
    close: () => {
      listener.close();
      for (const link of links) link.close(CloseReason.SHUTDOWN);
    },
  };
}
