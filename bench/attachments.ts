// One supernode with 10 000 attached clients on the virtual network: heap per attached client
// (the supernode's share) and CPU for the keep-alive traffic.
import { SeededRandom } from '../src/env/prng.js';
import { VirtualNetwork } from '../src/env/virtual/index.js';
import { Role } from '../src/crypto/certificate.js';
import { AttachedClient } from '../src/client/attachment.js';
import { HostCache } from '../src/overlay/host-cache.js';
import { startSupernode } from '../src/supernode/supernode.js';
import { testNetwork, TEST_EPOCH_MS } from '../test/support/identities.js';
import { heapUsed } from './measure.js';

export interface AttachmentResults {
  clients: number;
  bytesPerClient: number;
  keepaliveCpuPercent: number;
  keepalivesPerSecond: number;
  attachWallSeconds: number;
}

export async function benchAttachments(count = 10_000, seed = 11): Promise<AttachmentResults> {
  const random = new SeededRandom(seed);
  const net = testNetwork(random);
  const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
  const drive = <T>(work: Promise<T>) => network.scheduler.drive(work, 24 * 3_600_000);
  const snHost = network.addHost();
  const identity = net.identity('', { role: Role.SUPERNODE });
  const supernode = await startSupernode(snHost.env(), { identity, verifier: net.verifier, port: 33033, attachment: { maxClients: count } });
  const bootstrap = [{ host: snHost.addressText, port: 33033, dhKey: identity.dh.publicKey }];
  const clients: AttachedClient[] = [];
  const hosts = [];
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const host = network.addHost({ link: { latencyMs: 5 + random.int(40) } });
    hosts.push(host);
    const client = new AttachedClient(host.env(), { identity: net.identity(`user${i}`), verifier: net.verifier, username: `user${i}`, hostCache: new HostCache(), bootstrap });
    clients.push(client);
    client.start().catch(() => {}); // a client that did not attach is caught below: all of them must be
    if (i % 200 === 199) await drive(new Promise<void>((resolve) => network.scheduler.after(1_000, resolve)));
  }
  await drive(new Promise<void>((resolve) => network.scheduler.after(5_000, resolve)));
  const attachWallSeconds = (performance.now() - started) / 1000;
  if (supernode.attachments.size !== count) throw new Error(`only ${supernode.attachments.size} of ${count} attached`);

  // CPU for 200 virtual seconds of steady keep-alives (both ends run in this process).
  const pingsBefore = network.stats.delivered;
  const cpuBefore = process.cpuUsage();
  await drive(new Promise<void>((resolve) => network.scheduler.after(200_000, resolve)));
  const cpu = process.cpuUsage(cpuBefore);
  const packets = network.stats.delivered - pingsBefore;
  const keepaliveCpuPercent = ((cpu.user + cpu.system) / 1000 / 200_000) * 100;

  // The supernode's share of memory: heap with every client attached, minus the heap after the
  // clients vanished (crashed) and the supernode dropped their sessions; client objects stay.
  const withSessions = heapUsed();
  for (const host of hosts) host.crash();
  await drive(new Promise<void>((resolve) => network.scheduler.after(4 * 25_000, resolve)));
  if (supernode.attachments.size !== 0) throw new Error('sessions were not dropped');
  const withoutSessions = heapUsed();
  for (const client of clients) client.close();
  supernode.close();
  return {
    clients: count,
    bytesPerClient: (withSessions - withoutSessions) / count,
    keepaliveCpuPercent,
    keepalivesPerSecond: packets / 200 / 2, // a ping and a pong are two packets
    attachWallSeconds,
  };
}
