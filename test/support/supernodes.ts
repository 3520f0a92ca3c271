// Supernodes on the virtual network for overlay tests and benchmarks. Each is a host, a
// certified supernode identity and a running supernode on port 33033, made in that order (so
// seeded runs draw their randomness as before).
import type { VirtualHost, VirtualNetwork, LinkSpec } from '../../src/env/virtual/index.js';
import { Role } from '../../src/crypto/certificate.js';
import type { AttachmentLimits } from '../../src/supernode/attachments.js';
import { startSupernode, type RunningSupernode } from '../../src/supernode/supernode.js';
import type { TestNetwork } from './identities.js';

export interface TestSupernode {
  readonly host: VirtualHost;
  readonly running: RunningSupernode;
  readonly ref: { host: string; port: number; dhKey: Uint8Array };
}

export async function startSupernodes(
  network: VirtualNetwork,
  net: TestNetwork,
  count: number,
  options: { link?: (index: number) => Partial<LinkSpec>; attachment?: Partial<AttachmentLimits> } = {},
): Promise<TestSupernode[]> {
  const supernodes: TestSupernode[] = [];
  for (let i = 0; i < count; i++) {
    const host = options.link ? network.addHost({ link: options.link(i) }) : network.addHost();
    const identity = net.identity('', { role: Role.SUPERNODE });
    const running = await startSupernode(host.env(), { identity, verifier: net.verifier, port: 33033, ...(options.attachment ? { attachment: options.attachment } : {}) });
    supernodes.push({ host, running, ref: { host: host.addressText, port: 33033, dhKey: identity.dh.publicKey } });
  }
  return supernodes;
}
