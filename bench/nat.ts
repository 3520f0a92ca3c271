// NAT traversal figures: NAT detection time and call path setup per placement pair on the
// virtual network with 20 ms round trips (exact, virtual time), and the same matrix with real
// processes in the network lab (this machine's kernel has no netem: no added delay there).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VirtualNetwork, type Gateway, type NatClass } from '../src/env/virtual/index.js';
import { StunServer } from '../src/stun/stun-server.js';
import { detectNat, type NatType } from '../src/nat/nat-detection.js';
import { startStunService } from '../src/supernode/stun-service.js';
import { IceAgent, type PathKind } from '../src/ice/ice-agent.js';
import { PLACEMENTS, bestPath, type Placement } from '../test/support/nat-matrix.js';

/** One-way latency of each link: client 2.5 ms, its NAT 2.5 ms, a server or public host 5 ms: 20 ms round trips everywhere. */
const CLIENT_LINK = { latencyMs: 2.5 };
const NAT_LINK = { latencyMs: 2.5 };
const SERVER_LINK = { latencyMs: 5 };

export interface DetectionResult {
  readonly placement: string;
  readonly type: NatType;
  readonly ms: number;
  readonly rttMs: number;
}

export async function benchNatDetection(): Promise<DetectionResult[]> {
  const network = new VirtualNetwork(7);
  const a = network.addHost({ link: SERVER_LINK });
  const b = network.addHost({ link: SERVER_LINK });
  const grid = [
    [await a.env().net.bindUdp({ port: 3478 }), await a.env().net.bindUdp({ port: 3479 })],
    [await b.env().net.bindUdp({ port: 3478 }), await b.env().net.bindUdp({ port: 3479 })],
  ];
  new StunServer(network.scheduler, { grid }).listen();
  const results: DetectionResult[] = [];
  for (const nat of [null, 'full-cone', 'address-restricted', 'port-restricted', 'symmetric'] as (NatClass | null)[]) {
    const host = nat ? network.addHost({ link: CLIENT_LINK, behind: network.addGateway({ nat, link: NAT_LINK }) }) : network.addHost({ link: { latencyMs: 5 } });
    const report = await network.scheduler.drive(detectNat(host.env(), { host: a.addressText, port: 3478 }));
    results.push({ placement: nat ?? 'public', type: report.type, ms: report.durationMs, rttMs: report.rttMs ?? NaN });
  }
  return results;
}

export interface SetupResult {
  readonly a: Placement;
  readonly b: Placement;
  readonly path: PathKind;
  readonly best: string;
  readonly gatherMs: number;
  readonly checksMs: number;
  /** Gathering, one signalling round trip through the supernodes (offer, answer), and the checks. */
  readonly totalMs: number;
}

function placeHost(network: VirtualNetwork, placement: Placement, lan: () => Gateway) {
  switch (placement) {
    case 'public':
      return network.addHost({ link: { latencyMs: 5 } });
    case 'double-nat': {
      const carrier = network.addGateway({ nat: 'port-restricted', link: { latencyMs: 1.5 } });
      return network.addHost({ link: { latencyMs: 0.5 }, behind: network.addGateway({ nat: 'port-restricted', behind: carrier, link: { latencyMs: 3 } }) });
    }
    case 'same-lan':
      return network.addHost({ link: CLIENT_LINK, behind: lan() });
    case 'udp-blocked':
    case 'web-only':
      return network.addHost({ link: CLIENT_LINK, behind: network.addGateway({ nat: 'port-restricted', firewall: placement, link: NAT_LINK }) });
    default:
      return network.addHost({ link: CLIENT_LINK, behind: network.addGateway({ nat: placement as NatClass, link: NAT_LINK }) });
  }
}

export async function benchPathSetup(): Promise<SetupResult[]> {
  const results: SetupResult[] = [];
  const connectable = PLACEMENTS;
  let seed = 100;
  for (let i = 0; i < connectable.length; i++) {
    for (let j = i; j < connectable.length; j++) {
      const [pa, pb] = [connectable[i]!, connectable[j]!];
      const network = new VirtualNetwork(seed++);
      const drive = <T>(work: Promise<T>) => network.scheduler.drive(work, 60_000);
      const sn = network.addHost({ link: SERVER_LINK });
      const service = await drive(startStunService(sn.env(), { port: 3478, advertisedHost: sn.addressText, tcpPorts: [3478, 443] }));
      let lan: Gateway | null = null;
      const shared = () => (lan ??= network.addGateway({ nat: 'port-restricted', link: NAT_LINK }));
      const hosts = [placeHost(network, pa, shared), placeHost(network, pb, shared)];
      const server = { host: sn.addressText, port: 3478 };
      const gatherStart = network.scheduler.now();
      const placements = [pa, pb];
      const agents = await drive(
        Promise.all(
          hosts.map((h, k) =>
            IceAgent.gather(h.env(), {
              controlling: k === 0,
              server,
              turnCredentials: service.credentials(`u${k}`, 'd'),
              ...(placements[k] === 'web-only' ? { turnTcp: { host: sn.addressText, port: 443 } } : {}),
            }),
          ),
        ),
      );
      const gatherMs = network.scheduler.now() - gatherStart;
      // The answer reaches the offerer one signalling trip (device → supernode → device, 20 ms) after the answerer starts.
      agents[1]!.connect(agents[0]!.parameters);
      network.scheduler.after(20, () => agents[0]!.connect(agents[1]!.parameters));
      const path = await drive(agents[0]!.established(10_000));
      await drive(Promise.all(agents.map((x) => x.close())));
      if (!path) throw new Error(`${pa} ↔ ${pb}: no path`);
      results.push({ a: pa, b: pb, path: path.kind, best: bestPath(pa, pb), gatherMs, checksMs: path.setupMs, totalMs: gatherMs + 20 + 20 + path.setupMs });
    }
  }
  return results;
}

export interface LabResult {
  readonly a: Placement;
  readonly b: Placement;
  readonly path: string;
  readonly best: string;
  readonly setupMs: number;
  readonly rttMs: number;
}

/** The lab matrix with real processes (needs root); null with the reason when it cannot run. */
export function benchLab(): { results: LabResult[] } | { skipped: string } {
  if (process.getuid?.() !== 0) return { skipped: 'not root: the lab needs network namespaces' };
  const dir = mkdtempSync(join(tmpdir(), 'parley-lab-bench-'));
  try {
    const file = join(dir, 'results.json');
    const test = fileURLToPath(new URL('../test/netlab/matrix.test.js', import.meta.url));
    const run = spawnSync(process.execPath, ['--test', test], { env: { ...process.env, PARLEY_LAB_RESULTS: file }, encoding: 'utf8', timeout: 600_000 });
    try {
      return { results: JSON.parse(readFileSync(file, 'utf8')) as LabResult[] };
    } catch {
      return { skipped: `the lab run wrote no results: ${(run.stdout + run.stderr).slice(-400)}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await benchNatDetection());
  console.log(await benchPathSetup());
}
