// Deployment figures (issue 18), with real processes on loopback:
// - from an empty supernode folder to a working supernode in the network: the operator's token
//   (`parley admin enrol-supernode`) and the supernode's first start (keys, enrolment, joining the
//   overlay), timed until it says which ports to open;
// - a supernode process's resident memory and CPU with 1 000 clients attached over real TCP
//   (secure links, keep-alives), against the same process idle: the per-client cost.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realEnv } from '../src/env/real.js';
import { CertificateVerifier, Role } from '../src/crypto/certificate.js';
import { fromBase64Url } from '../src/crypto/bytes.js';
import { certifyKeys, generateDeviceKeys } from '../src/crypto/identity.js';
import { loadOrCreateCa } from '../src/crypto/key-files.js';
import { AttachedClient } from '../src/client/attachment.js';
import { HostCache } from '../src/overlay/host-cache.js';
import { summarise, type Measurement } from './measure.js';
import { PARLEY_MAIN as MAIN, startParley, stopParley, type RunningParley } from '../test/support/processes.js';


export interface DeployResults {
  readonly enrolToJoinedMs: Measurement;
  readonly adminCommandMs: Measurement;
  readonly clients: number;
  /** Attaches the supernode refused for the per-address handshake rate (all bench clients share 127.0.0.1), each tried again after ATTACH_RETRY_MS. */
  readonly refusedAttaches: number;
  readonly idleRssMb: number;
  readonly loadedRssMb: number;
  readonly rssPerClientKb: number;
  /** CPU of the supernode process while the clients only keep alive, percent of one core. */
  readonly keepaliveCpuPercent: number;
  /** One Prometheus scrape of that supernode's /metrics with the clients attached: wall time, the supernode's CPU, the body's size. */
  readonly scrape: { readonly wallMs: Measurement; readonly cpuMs: number; readonly bytes: number; readonly count: number };
}

/** Scrapes of /metrics timed one after another (a Prometheus server scrapes every 15-60 s). */
const SCRAPES = 20;

/** Times SCRAPES scrapes of `url`, and what they cost the process `pid` in CPU (ms per scrape, from /proc). */
async function scrapeCost(url: string, pid: number): Promise<DeployResults['scrape']> {
  const wallMs: number[] = [];
  let bytes = 0;
  const before = processUsage(pid);
  for (let i = 0; i < SCRAPES; i++) {
    const started = performance.now();
    const response = await fetch(url);
    const body = await response.text();
    wallMs.push(performance.now() - started);
    if (response.status !== 200) throw new Error(`scrape of ${url}: HTTP ${response.status}`);
    bytes = body.length;
  }
  const after = processUsage(pid);
  return { wallMs: summarise(wallMs), cpuMs: (after.cpuMs - before.cpuMs) / SCRAPES, bytes, count: SCRAPES };
}

/** Resident set size and CPU time (user + system, ms) of a process, from /proc. */
function processUsage(pid: number): { rssBytes: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  return { rssBytes: rssKb * 1024, cpuMs: (ticks * 1000) / 100 };
}

/** A client refused for the per-address handshake rate tries again after this, at most this many times. */
const ATTACH_RETRY_MS = 100;
const ATTACH_ATTEMPTS = 100;
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function benchDeploy(rounds = 5, clientCount = 1_000): Promise<DeployResults> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-deploy-'));
  const data = join(dir, 'login');
  const running: RunningParley[] = [];
  try {
    running.push(await startParley(['login-server', '--data', data, '--port', '0'], /descriptor: /, 60_000));
    const network = join(data, 'network.json');
    const enrolMs: number[] = [];
    const adminMs: number[] = [];
    let last: RunningParley | null = null;
    for (let i = 0; i <= rounds; i++) {
      const started = performance.now();
      const token = spawnSync(process.execPath, [MAIN, 'admin', 'enrol-supernode', '--data', data, '--label', `bench-${i}`], { encoding: 'utf8' });
      if (token.status !== 0) throw new Error(`admin enrol-supernode: ${token.stderr}`);
      const tokenMs = performance.now() - started;
      const supernode = await startParley(['supernode', '--dir', join(dir, `sn-${i}`), '--network', network, '--enrol', token.stdout.trim(), '--port', '0', '--metrics', '127.0.0.1:0'], /open to the internet/, 60_000);
      const total = performance.now() - started;
      running.push(supernode);
      if (i > 0) {
        // Round 0 warms the file cache; it is not counted.
        enrolMs.push(total);
        adminMs.push(tokenMs);
      }
      if (i < rounds) await stopParley(supernode.child);
      last = supernode;
    }

    // The last supernode, alone in its process: idle, then with the clients attached.
    const pid = last!.child.pid!;
    const port = Number(/listening on [^:]+:(\d+)/.exec(last!.output)![1]);
    const dhKey = fromBase64Url(/supernode key: (\S+)/.exec(last!.output)![1]!)!;
    await wait(2_000);
    const idle = processUsage(pid);
    const ca = loadOrCreateCa(data, realEnv.random); // the bench plays the login server's part for its clients
    const verifier = new CertificateVerifier(ca.keyPair.publicKey);
    const now = realEnv.clock.wallTimeMs();
    const clients: AttachedClient[] = [];
    let refusedAttaches = 0;
    try {
      for (let i = 0; i < clientCount; i++) {
        const identity = certifyKeys(ca, generateDeviceKeys(realEnv.random), { username: `bench${i}`, role: Role.DEVICE, issuedAtMs: now, serial: 1_000_000 + i });
        const client = new AttachedClient(realEnv, { identity, verifier, username: `bench${i}`, hostCache: new HostCache(), bootstrap: [{ host: '127.0.0.1', port, dhKey }] });
        clients.push(client);
        // Every bench client comes from 127.0.0.1, and a supernode lets one address start at most
        // 64 handshakes at once and 32 a second after that (issue 19): past that, a client waits
        // and tries again, as a real one fails over with a pause.
        for (let attempt = 1; ; attempt++) {
          try {
            await client.start();
            break;
          } catch (error) {
            if (attempt >= ATTACH_ATTEMPTS) throw error;
            refusedAttaches++;
            await wait(ATTACH_RETRY_MS);
          }
        }
      }
      await wait(2_000);
      const loaded = processUsage(pid);
      const metricsUrl = /metrics on (\S+)/.exec(last!.output)?.[1];
      if (!metricsUrl) throw new Error('the supernode did not say where its metrics are');
      const scrape = await scrapeCost(metricsUrl, pid);
      const keepaliveFrom = processUsage(pid);
      // Keep-alives only, for 20 s.
      const windowMs = 20_000;
      await wait(windowMs);
      const after = processUsage(pid);
      return {
        scrape,
        enrolToJoinedMs: summarise(enrolMs),
        adminCommandMs: summarise(adminMs),
        clients: clientCount,
        refusedAttaches,
        idleRssMb: idle.rssBytes / 2 ** 20,
        loadedRssMb: loaded.rssBytes / 2 ** 20,
        rssPerClientKb: (loaded.rssBytes - idle.rssBytes) / clientCount / 1024,
        keepaliveCpuPercent: ((after.cpuMs - keepaliveFrom.cpuMs) / windowMs) * 100,
      };
    } finally {
      for (const client of clients) client.close();
    }
  } finally {
    for (const process of running) await stopParley(process.child);
    rmSync(dir, { recursive: true, force: true });
  }
}
