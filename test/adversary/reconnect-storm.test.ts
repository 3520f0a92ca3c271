// Skype's two outages, on the virtual network with the real supernode and client code: in 2007
// every client restarted at once after an OS update and the reconnect storm collapsed the
// supernodes; in 2010 a quarter of the supernodes crashed together and their clients piled onto
// the rest. Here two thousand clients do both. The supernodes must stay up and inside their
// admission limits (refusing what they cannot take, cheaply), and every client must be back on
// some supernode within a stated (virtual) time. Seeded: a failure names its seed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/env/prng.js';
import { VirtualNetwork, type VirtualHost } from '../../src/env/virtual/index.js';
import { AttachedClient } from '../../src/client/attachment.js';
import { HostCache } from '../../src/overlay/host-cache.js';
import type { NodeIdentity } from '../../src/crypto/identity.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';
import { testSeed, withSeed } from '../support/seed.js';
import { startSupernodes, type TestSupernode } from '../support/supernodes.js';

const CLIENTS = 2000;
const SUPERNODES = 10;
/** Each supernode takes a share of the clients with room to spare, not all of them. */
const MAX_CLIENTS_PER_SUPERNODE = 400;
/** The stated bounds: every client is back on a supernode this soon after the storm starts (virtual time). */
const RESTART_STORM_BOUND_MS = 60_000;
const CRASH_STORM_BOUND_MS = 120_000;

interface Device {
  readonly username: string;
  readonly host: VirtualHost;
  readonly identity: NodeIdentity;
  /** The host cache outlives the process, as its file does. */
  readonly hostCache: HostCache;
  client: AttachedClient;
}

test(`reconnect storms: ${CLIENTS} clients restarting at once, then ${SUPERNODES * 0.3} of ${SUPERNODES} supernodes crashing together; every client is back within the bound and no supernode goes over its limits`, { timeout: 600_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const net = testNetwork(new SeededRandom(seed));
    const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
    const scheduler = network.scheduler;
    let supernodes: TestSupernode[] = [];
    const devices: Device[] = [];
    try {
      supernodes = await startSupernodes(network, net, SUPERNODES, { link: (i) => ({ latencyMs: 5 + (i % 4) * 5 }), attachment: { maxClients: MAX_CLIENTS_PER_SUPERNODE } });
      const bootstrap = supernodes.map((s) => s.ref);
      for (const s of supernodes) await scheduler.drive(s.running.join(bootstrap));
      const startClient = (device: Omit<Device, 'client'>) =>
        new AttachedClient(device.host.env(), { identity: device.identity, verifier: net.verifier, username: device.username, hostCache: device.hostCache, bootstrap });
      for (let i = 0; i < CLIENTS; i++) {
        const gateway = network.addGateway({ nat: i % 3 === 0 ? 'symmetric' : 'port-restricted' });
        const host = network.addHost({ behind: gateway, link: { latencyMs: 10 + (i % 7) * 10 } });
        const username = `user${i}`;
        const device = { username, host, identity: net.identity(username), hostCache: new HostCache() };
        devices.push({ ...device, client: startClient(device) });
      }
      const attachedCount = () => supernodes.reduce((sum, s) => sum + s.running.attachments.size, 0);
      /** Virtual ms until every device is attached to one of `live` again, checking the supernodes' limits all along. */
      const allBack = async (what: string, boundMs: number, live: TestSupernode[]) => {
        const startedMs = scheduler.now();
        let peak = 0;
        await scheduler.drive(
          new Promise<void>((resolve, reject) => {
            const check = () => {
              for (const s of live) peak = Math.max(peak, s.running.attachments.size);
              const back = devices.filter((d) => live.some((s) => s.ref.host === d.client.supernode?.host)).length;
              if (back === devices.length) return resolve();
              if (scheduler.now() - startedMs > boundMs) return reject(new Error(`${what}: ${back} of ${devices.length} clients back after ${boundMs} ms`));
              scheduler.after(250, check);
            };
            check();
          }),
        );
        assert.ok(peak <= MAX_CLIENTS_PER_SUPERNODE, `${what}: a supernode held ${peak} clients, over its limit of ${MAX_CLIENTS_PER_SUPERNODE}`);
        return scheduler.now() - startedMs;
      };

      // Everyone comes online together (a cold start is a storm too).
      let refusedAtFirst = 0;
      for (const d of devices) d.client.onEvent((e) => e.kind === 'unreachable' && refusedAtFirst++);
      for (const d of devices) void d.client.stayAttached();
      const coldMs = await allBack('cold start', RESTART_STORM_BOUND_MS, supernodes);

      // 2007: every client restarts at once (the same host cache: what it learnt survives).
      for (const d of devices) d.client.close();
      for (const d of devices) d.client = startClient(d);
      for (const d of devices) void d.client.stayAttached();
      const restartMs = await allBack('mass restart', RESTART_STORM_BOUND_MS, supernodes);
      assert.equal(attachedCount(), CLIENTS, 'each client holds one session: none left behind by the restart');

      // 2010: 30 % of the supernodes crash together; their clients notice by keep-alive and move.
      const crashed = supernodes.slice(0, Math.round(SUPERNODES * 0.3));
      const survivors = supernodes.slice(crashed.length);
      const orphans = devices.filter((d) => crashed.some((s) => s.ref.host === d.client.supernode?.host)).length;
      for (const s of crashed) {
        s.host.crash();
        s.running.close();
      }
      const crashMs = await allBack('supernode crash', CRASH_STORM_BOUND_MS, survivors);
      const onSurvivors = survivors.reduce((sum, s) => sum + s.running.attachments.size, 0);
      assert.equal(onSurvivors, CLIENTS, 'every client is on a surviving supernode');
      console.log(`# seed ${seed}: ${CLIENTS} clients on ${SUPERNODES} supernodes (limit ${MAX_CLIENTS_PER_SUPERNODE} each); cold start: all attached in ${(coldMs / 1000).toFixed(1)} s (${refusedAtFirst} rounds found no supernode to take them); mass restart: all back in ${(restartMs / 1000).toFixed(1)} s; ${crashed.length} supernodes crashed with ${orphans} clients: all back in ${(crashMs / 1000).toFixed(1)} s (virtual time)`);
    } finally {
      for (const d of devices) d.client.close();
      for (const s of supernodes) s.running.close();
    }
  }),
);
