// What a run measured: lookups (success, latency in ms and in round trips), time to recover
// after each fault, records, links and clients per supernode, messages, and the simulator's own
// speed and memory. As data (`SimReport`), markdown, and one self-contained HTML page with an
// SVG timeline (no scripts, no dependencies).
import { SeededRandom } from '../env/prng.js';
import type { FaultRecord } from './faults.js';
import type { ForgeryLedger } from './forger.js';
import type { MessageLedger } from './ledger.js';
import type { Scenario } from './scenario.js';
import type { SimWorld } from './world.js';

export interface TickSample {
  readonly atMs: number;
  readonly phase: 'faults' | 'liveness';
  readonly clientsAttached: number;
  readonly clientsUp: number;
  readonly supernodesUp: number;
  readonly lookupsOk: number;
  readonly lookupsFailed: number;
}

export interface Spread {
  readonly min: number;
  readonly p50: number;
  readonly max: number;
}

/** One node's counters: bytes on the wire (its host's link, headers included) and handler time. */
interface HostCounters {
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly cpuMs: number;
}

/** Every node's counters at one moment, and the handler time no node was charged. */
export interface CounterSnapshot {
  readonly supernodes: readonly HostCounters[];
  readonly clients: readonly HostCounters[];
  readonly unaccountedCpuMs: number;
  readonly continuationsCpuMs: number;
}

/** Takes the counters of every supernode and client (the same order as the world's lists). */
export function snapshotCounters(world: SimWorld): CounterSnapshot {
  const of = (host: { bytesSent: number; bytesReceived: number; cpuMs: number }): HostCounters => ({ bytesSent: host.bytesSent, bytesReceived: host.bytesReceived, cpuMs: host.cpuMs });
  const scheduler = world.network.scheduler;
  return {
    supernodes: world.supernodes.map((s) => of(s.host)),
    clients: world.clients.map((c) => of(c.host)),
    unaccountedCpuMs: scheduler.unaccountedCpuMs,
    continuationsCpuMs: scheduler.continuationsCpuMs,
  };
}

/** Bytes per simulated second one node of a role sent and received over the run. */
export interface TrafficPerNode {
  readonly sentBytesPerS: Spread;
  readonly receivedBytesPerS: Spread;
}

/** Wall time per simulated second in one node's handlers, over the run (machine-dependent). */
export interface CpuPerNode {
  readonly msPerSimulatedS: Spread;
  /** All nodes of the role together, as a share of the run's wall time. */
  readonly shareOfRun: number;
}

export interface SimReport {
  readonly scenario: Scenario;
  /** Round trip between two random nodes' links (2 × the two one-way latencies), median. */
  readonly medianRttMs: number;
  readonly lookups: { readonly started: number; readonly found: number; readonly p50Ms: number; readonly p99Ms: number; readonly p50Rtt: number; readonly p99Rtt: number; readonly quietFound: number; readonly quietStarted: number };
  readonly messages: { readonly accepted: number; readonly refusedAtSend: number; readonly undelivered: number; readonly deliveryP50Ms: number; readonly deliveryP99Ms: number };
  readonly faults: readonly { readonly kind: string; readonly detail: string; readonly startMs: number; readonly endMs: number | null; readonly recoveredAfterStartMs: number | null; readonly recoveredAfterEndMs: number | null }[];
  /** Time from the start of the liveness phase until the network had healed (null: it did not). */
  readonly healedAfterMs: number | null;
  readonly perSupernode: { readonly records: Spread; readonly links: Spread; readonly clients: Spread };
  /** Traffic per node over the run (after the build), by role: from the virtual network's counters. */
  readonly traffic: { readonly supernode: TrafficPerNode; readonly client: TrafficPerNode };
  readonly maxQueuedPayloads: number;
  /**
   * The forgers' work and the honest supernodes' refusals: records forged, forged copies
   * published, store requests the honest supernodes rejected (all reasons) and attaches they
   * refused for a bad presence record.
   */
  readonly forgeries: { readonly forged: number; readonly published: number; readonly storesRejected: number; readonly attachesRefusedBadPresence: number };
  /**
   * Attaches the honest supernodes refused for a record stamped from the future or expired on
   * arrival: devices whose clocks are off beyond the tolerance (the bad-clock fault), and the
   * clients it struck.
   */
  readonly badClocks: { readonly clients: number; readonly refusedFromTheFuture: number; readonly refusedExpired: number };
  /** The login server the devices used (scenario.login), the calls it answered and the offline messages it stored. */
  readonly login: { readonly kind: string; readonly calls: number; readonly offlineStored: number };
  readonly timeline: readonly TickSample[];
  /** Not deterministic: they depend on the machine (left out when comparing runs). */
  readonly machine: {
    readonly buildWallMs: number;
    readonly buildVirtualMs: number;
    readonly wallMs: number;
    readonly simulatedMs: number;
    readonly nodes: number;
    /** Simulated node-seconds per wall-clock second, over the run after the build. */
    readonly nodeSecondsPerWallSecond: number;
    readonly heapPerNodeBytes: number;
    /**
     * Handler time over the run, per node by role: a packet delivered to a node and its timers
     * are its own, and so are the promise continuations after them (Scheduler.measureCpu).
     * Apart, the shares of the run's wall time no node was charged: the network's own events
     * (NATs, retransmissions), and the driver with the simulator's own continuations.
     */
    readonly cpu: { readonly supernode: CpuPerNode; readonly client: CpuPerNode; readonly networkShare: number; readonly continuationsShare: number };
  };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function spread(values: readonly number[]): Spread {
  return values.length === 0 ? { min: 0, p50: 0, max: 0 } : { min: Math.min(...values), p50: percentile(values, 50), max: Math.max(...values) };
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const roundSpread = (s: Spread, digits: number): Spread => ({ min: round(s.min, digits), p50: round(s.p50, digits), max: round(s.max, digits) });

export function buildReport(parts: {
  scenario: Scenario;
  world: SimWorld;
  ledger: MessageLedger;
  lookups: readonly { latencyMs: number; found: boolean; checked: boolean }[];
  samples: readonly TickSample[];
  faults: readonly FaultRecord[];
  healedAtMs: number | null;
  maxQueue: number;
  forgeries: ForgeryLedger;
  build: { wallMs: number; virtualMs: number };
  simulatedMs: number;
  wallMs: number;
  heapPerNodeBytes: number;
  nodes: number;
  /** The counters when the run began (after the build); the report takes them again at the end. */
  countersAtRunStart: CounterSnapshot;
}): SimReport {
  const { world, ledger, lookups } = parts;
  // The link latencies of public nodes (a NATed client's is its gateway's, plus 1 ms inside).
  const oneWay = [...world.supernodes.map((s) => s.host.link.latencyMs), ...world.clients.map((c) => (c.gateway ? c.gateway.link.latencyMs + 1 : c.host.link.latencyMs))];
  const pairs = new SeededRandom(parts.scenario.seed ^ 0x277);
  const rtts = Array.from({ length: 1_000 }, () => 2 * (oneWay[pairs.int(oneWay.length)]! + oneWay[pairs.int(oneWay.length)]!));
  const medianRttMs = round(percentile(rtts, 50));
  const found = lookups.filter((l) => l.found).map((l) => l.latencyMs);
  const quiet = lookups.filter((l) => l.checked);
  const running = world.supernodes.flatMap((s) => (s.running ? [s.running] : []));
  const delivery = ledger.deliveryMs();
  const p50 = percentile(found, 50);
  const p99 = percentile(found, 99);
  const runWallMs = Math.max(1, parts.wallMs - parts.build.wallMs);
  const start = parts.countersAtRunStart;
  const end = snapshotCounters(world);
  const simulatedS = Math.max(0.001, parts.simulatedMs / 1000);
  const deltas = (ends: readonly HostCounters[], starts: readonly HostCounters[]) =>
    ends.map((e, i) => ({ sent: e.bytesSent - (starts[i]?.bytesSent ?? 0), received: e.bytesReceived - (starts[i]?.bytesReceived ?? 0), cpuMs: e.cpuMs - (starts[i]?.cpuMs ?? 0) }));
  const supernodeDeltas = deltas(end.supernodes, start.supernodes);
  const clientDeltas = deltas(end.clients, start.clients);
  const traffic = (d: typeof supernodeDeltas): TrafficPerNode => ({
    sentBytesPerS: roundSpread(spread(d.map((x) => x.sent / simulatedS)), 0),
    receivedBytesPerS: roundSpread(spread(d.map((x) => x.received / simulatedS)), 0),
  });
  const cpu = (d: typeof supernodeDeltas): CpuPerNode => ({
    msPerSimulatedS: roundSpread(spread(d.map((x) => x.cpuMs / simulatedS)), 3),
    shareOfRun: round(d.reduce((sum, x) => sum + x.cpuMs, 0) / runWallMs, 3),
  });
  return {
    scenario: parts.scenario,
    medianRttMs,
    lookups: {
      started: lookups.length,
      found: found.length,
      p50Ms: round(p50),
      p99Ms: round(p99),
      p50Rtt: round(p50 / medianRttMs, 2),
      p99Rtt: round(p99 / medianRttMs, 2),
      quietStarted: quiet.length,
      quietFound: quiet.filter((l) => l.found).length,
    },
    messages: { accepted: ledger.sent, refusedAtSend: ledger.refusedAtSend, undelivered: ledger.undelivered().length, deliveryP50Ms: round(percentile(delivery, 50)), deliveryP99Ms: round(percentile(delivery, 99)) },
    faults: parts.faults.map((r) => ({
      kind: r.fault.kind,
      detail: r.detail,
      startMs: r.startMs,
      endMs: r.endMs,
      recoveredAfterStartMs: r.healthyAfterStartMs === null ? null : r.healthyAfterStartMs - r.startMs,
      recoveredAfterEndMs: r.healthyAfterEndMs === null || r.endMs === null ? null : r.healthyAfterEndMs - r.endMs,
    })),
    healedAfterMs: parts.healedAtMs,
    perSupernode: {
      records: spread(running.map((r) => r.dht.store.size)),
      links: spread(running.map((r) => r.links.size)),
      clients: spread(running.map((r) => r.attachments.size)),
    },
    traffic: { supernode: traffic(supernodeDeltas), client: traffic(clientDeltas) },
    maxQueuedPayloads: parts.maxQueue,
    forgeries: {
      forged: parts.forgeries.count,
      published: parts.forgeries.published,
      storesRejected: running.reduce((sum, r) => sum + r.dht.counters.storeRequests.rejected, 0),
      attachesRefusedBadPresence: running.reduce((sum, r) => sum + (r.attachments.refused.get('bad_presence') ?? 0), 0),
    },
    badClocks: {
      clients: parts.faults.reduce((sum, r) => sum + (r.fault.kind === 'bad-clock' ? r.struck : 0), 0),
      refusedFromTheFuture: running.reduce((sum, r) => sum + (r.attachments.refusedPresence.get('not_yet_valid') ?? 0), 0),
      refusedExpired: running.reduce((sum, r) => sum + (r.attachments.refusedPresence.get('expired') ?? 0), 0),
    },
    login: { kind: parts.scenario.login, calls: world.login.calls, offlineStored: world.login.offlineStored },
    timeline: parts.samples,
    machine: {
      buildWallMs: Math.round(parts.build.wallMs),
      buildVirtualMs: Math.round(parts.build.virtualMs),
      wallMs: Math.round(parts.wallMs),
      simulatedMs: parts.simulatedMs,
      nodes: parts.nodes,
      nodeSecondsPerWallSecond: round((parts.nodes * parts.simulatedMs) / runWallMs),
      heapPerNodeBytes: Math.round(parts.heapPerNodeBytes),
      cpu: {
        supernode: cpu(supernodeDeltas),
        client: cpu(clientDeltas),
        networkShare: round((end.unaccountedCpuMs - start.unaccountedCpuMs) / runWallMs, 3),
        continuationsShare: round((end.continuationsCpuMs - start.continuationsCpuMs) / runWallMs, 3),
      },
    },
  };
}

/** The report without what depends on the machine: equal for equal seeds and options. */
export function deterministicPart(report: SimReport): Omit<SimReport, 'machine'> {
  const { machine: _machine, ...rest } = report;
  return rest;
}

const seconds = (ms: number | null) => (ms === null ? '—' : `${round(ms / 1000)} s`);
const kib = (bytes: number) => (bytes < 1024 ? `${Math.round(bytes)} B` : `${round(bytes / 1024)} KiB`);
const percent = (share: number) => `${round(share * 100)} %`;

export function reportMarkdown(report: SimReport, outcome: { violation: { invariant: string; detail: string; atMs: number } | null; replay: string }): string {
  const s = report.scenario;
  const m = report.machine;
  const lines = [
    `# parley sim — seed ${s.seed}`,
    '',
    outcome.violation ? `**FAILED**: ${outcome.violation.invariant} at ${seconds(outcome.violation.atMs)}: ${outcome.violation.detail}` : `**PASSED**: every invariant held; healed ${seconds(report.healedAfterMs)} after faults stopped.`,
    '',
    `Replay: \`${outcome.replay}\``,
    '',
    '## Scenario',
    '',
    `${s.supernodes} supernodes, ${s.clients} clients (NAT mix ${Object.entries(s.natMix).map(([k, v]) => `${k} ${Math.round(v * 100)} %`).join(', ')}); links ${s.link.latencyMinMs}–${s.link.latencyMaxMs} ms one way, jitter ${s.link.jitterMs} ms, loss ${s.link.lossRate * 100} %; churn ${s.churnPerClientMinute} crashes per client-minute; ${s.messagesPerSecond} messages and ${s.lookupsPerSecond} lookups per second; ${s.faultPhaseMs / 1000} s of faults.`,
    '',
    '| fault | what | at | ended | healthy after start | healthy after end |',
    '| --- | --- | --- | --- | --- | --- |',
    ...report.faults.map((f) => `| ${f.kind} | ${f.detail} | ${seconds(f.startMs)} | ${seconds(f.endMs)} | ${seconds(f.recoveredAfterStartMs)} | ${seconds(f.recoveredAfterEndMs)} |`),
    '',
    '## Lookups and messages',
    '',
    `| lookups | found | p50 | p99 | quiet-time found |`,
    '| --- | --- | --- | --- | --- |',
    `| ${report.lookups.started} | ${report.lookups.found} | ${report.lookups.p50Ms} ms (${report.lookups.p50Rtt} RTT) | ${report.lookups.p99Ms} ms (${report.lookups.p99Rtt} RTT) | ${report.lookups.quietFound} / ${report.lookups.quietStarted} |`,
    '',
    `RTT: the median round trip between two nodes' links, ${report.medianRttMs} ms.`,
    '',
    `Messages: ${report.messages.accepted} accepted, ${report.messages.undelivered} not shown, ${report.messages.refusedAtSend} refused at send; delivery p50 ${report.messages.deliveryP50Ms} ms, p99 ${report.messages.deliveryP99Ms} ms. Most payloads waiting at one device: ${report.maxQueuedPayloads}.`,
    '',
    `Login server (${report.login.kind}): ${report.login.calls} calls answered, ${report.login.offlineStored} offline messages stored.`,
    '',
    `Clocks beyond the tolerance: ${report.badClocks.clients} client(s) struck; the honest supernodes refused ${report.badClocks.refusedFromTheFuture} attaches for a record from the future and ${report.badClocks.refusedExpired} for one expired on arrival.`,
    '',
    `Forged presence records: ${report.forgeries.forged} made by ${s.forgers} forger(s), ${report.forgeries.published} published; the honest supernodes rejected ${report.forgeries.storesRejected} store requests and refused ${report.forgeries.attachesRefusedBadPresence} attaches for a bad presence record (all reasons).`,
    '',
    '## Per supernode (at the end)',
    '',
    '| | min | p50 | max |',
    '| --- | --- | --- | --- |',
    `| presence records | ${report.perSupernode.records.min} | ${report.perSupernode.records.p50} | ${report.perSupernode.records.max} |`,
    `| links | ${report.perSupernode.links.min} | ${report.perSupernode.links.p50} | ${report.perSupernode.links.max} |`,
    `| attached clients | ${report.perSupernode.clients.min} | ${report.perSupernode.clients.p50} | ${report.perSupernode.clients.max} |`,
    '',
    '## Traffic and CPU per node (over the run, per simulated second)',
    '',
    '| | sent min / p50 / max | received min / p50 / max | handler CPU min / p50 / max | all of the role |',
    '| --- | --- | --- | --- | --- |',
    ...(['supernode', 'client'] as const).map((role) => {
      const t = report.traffic[role];
      const c = m.cpu[role];
      const bytes = (x: Spread) => `${kib(x.min)} / ${kib(x.p50)} / ${kib(x.max)}`;
      return `| ${role} | ${bytes(t.sentBytesPerS)} | ${bytes(t.receivedBytesPerS)} | ${c.msPerSimulatedS.min} / ${c.msPerSimulatedS.p50} / ${c.msPerSimulatedS.max} ms | ${percent(c.shareOfRun)} of the run's wall time |`;
    }),
    '',
    `Bytes are IP packets on each node's own link (headers included; a NATed client's, inside its NAT). Handler CPU is the wall time in the packets delivered to a node and its timers, and in the promise continuations after them; the network's own events took ${percent(m.cpu.networkShare)} of the run's wall time, the driver and the simulator's own continuations ${percent(m.cpu.continuationsShare)}.`,
    '',
    '## The simulator',
    '',
    `${m.nodes} nodes; build ${seconds(m.buildWallMs)} wall (${seconds(m.buildVirtualMs)} virtual); run ${seconds(m.simulatedMs)} simulated in ${seconds(m.wallMs - m.buildWallMs)} wall: ${m.nodeSecondsPerWallSecond} node-seconds per wall second; heap ${round(m.heapPerNodeBytes / 1024)} KiB per node.`,
    '',
  ];
  return lines.join('\n');
}

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The timeline as SVG: clients attached and supernodes up (share), lookups failed, fault spans shaded. */
export function timelineSvg(report: SimReport): string {
  const width = 760;
  const height = 240;
  const pad = { left: 44, right: 12, top: 12, bottom: 28 };
  const t = report.timeline;
  const endMs = Math.max(1, t[t.length - 1]?.atMs ?? 1);
  const x = (ms: number) => pad.left + (ms / endMs) * (width - pad.left - pad.right);
  const y = (share: number) => pad.top + (1 - share) * (height - pad.top - pad.bottom);
  const line = (value: (s: TickSample) => number, colour: string) =>
    `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${t.map((s) => `${x(s.atMs).toFixed(1)},${y(value(s)).toFixed(1)}`).join(' ')}"/>`;
  const maxFailed = Math.max(1, ...t.map((s) => s.lookupsFailed));
  const spans = report.faults.map((f) => `<rect x="${x(f.startMs).toFixed(1)}" y="${pad.top}" width="${Math.max(1, x(f.endMs ?? endMs) - x(f.startMs)).toFixed(1)}" height="${height - pad.top - pad.bottom}" fill="#f4c7c3" opacity="0.5"><title>${escapeHtml(f.kind)}</title></rect><text x="${(x(f.startMs) + 2).toFixed(1)}" y="${pad.top + 10}" font-size="10">${escapeHtml(f.kind)}</text>`);
  const ticks = Array.from({ length: 5 }, (_, i) => (i * endMs) / 4).map((ms) => `<text x="${x(ms).toFixed(1)}" y="${height - 8}" font-size="10" text-anchor="middle">${round(ms / 1000, 0)} s</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    ...spans,
    `<line x1="${pad.left}" y1="${y(0)}" x2="${width - pad.right}" y2="${y(0)}" stroke="#999"/>`,
    `<line x1="${pad.left}" y1="${y(1)}" x2="${width - pad.right}" y2="${y(1)}" stroke="#ddd"/>`,
    `<text x="4" y="${y(1) + 4}" font-size="10">100 %</text><text x="4" y="${y(0)}" font-size="10">0</text>`,
    ...ticks,
    line((s) => s.clientsAttached / Math.max(1, report.scenario.clients), '#1a73e8'),
    line((s) => s.supernodesUp / Math.max(1, report.scenario.supernodes), '#188038'),
    line((s) => s.lookupsFailed / maxFailed, '#d93025'),
    '</svg>',
  ].join('\n');
}

export function reportHtml(report: SimReport, outcome: { violation: { invariant: string; detail: string; atMs: number } | null; replay: string }): string {
  // The markdown's tables and paragraphs, as plain HTML (a small converter for what we write).
  const body = reportMarkdown(report, outcome)
    .split('\n\n')
    .map((block) => {
      if (block.startsWith('# ')) return `<h1>${escapeHtml(block.slice(2))}</h1>`;
      if (block.startsWith('## ')) return `<h2>${escapeHtml(block.slice(3))}</h2>`;
      if (block.startsWith('|')) {
        const rows = block.split('\n').filter((row) => !/^\| ---/.test(row));
        return `<table>${rows.map((row, i) => `<tr>${row.split('|').slice(1, -1).map((cell) => (i === 0 ? `<th>${escapeHtml(cell.trim())}</th>` : `<td>${escapeHtml(cell.trim())}</td>`)).join('')}</tr>`).join('')}</table>`;
      }
      return `<p>${escapeHtml(block).replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>').replace(/`(.+?)`/g, '<code>$1</code>')}</p>`;
    })
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>parley sim — seed ${report.scenario.seed}</title>
<style>body{font-family:sans-serif;max-width:800px;margin:2em auto;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}code{background:#f3f3f3;padding:1px 4px}</style>
</head><body>
${body}
<h2>Timeline</h2>
<p><span style="color:#1a73e8">clients attached</span>, <span style="color:#188038">supernodes up</span> (shares), <span style="color:#d93025">lookups failed per second</span> (scaled to its maximum); faults shaded.</p>
${timelineSvg(report)}
</body></html>
`;
}
