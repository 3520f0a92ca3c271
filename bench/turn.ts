// TURN relaying, ours beside coturn, the same load from the same generator: clients in this
// process allocate on the server, bind a channel to an echo peer (also here), and send
// 100-byte datagrams at a fixed rate; each comes back through the relay twice (client → relay →
// peer → relay → client). Measured per offered rate: loss, round-trip p50/p99, and the server
// process's CPU time per relayed datagram (from /proc: comparable across a single-threaded
// server and a multi-threaded one, "per core"). The direct round trip (no relay) at the same
// rate is the reference for the latency the relay adds.
//
// Ours runs with relay workers (one per core) unless told otherwise. Run alone with `--compare`,
// it measures several servers in alternating order, round after round, and reports medians:
// ours on one thread, ours with workers, coturn, and with `--before DIST` an older build's
// (its dist/ folder), e.g. `node dist/bench/turn.js --compare --before /tmp/before/dist`.
// `--profile DIR [--workers N] [--rates R]` runs ours under --cpu-prof at R datagrams/s.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { realEnv } from '../src/env/real.js';
import type { Endpoint, UdpSocket } from '../src/env/types.js';
import { TurnClient } from '../src/turn/turn-client.js';

const CLIENTS = 8;
const SECONDS = 3;
const PAYLOAD = 100;

interface Credentials {
  readonly username: string;
  readonly password: string;
}

interface Server {
  readonly name: string;
  readonly child: ChildProcess;
  readonly port: number;
  /** One per client (round robin when fewer). */
  readonly credentials: readonly Credentials[];
}

function waitForLine(child: ChildProcess, test: (line: string) => boolean, ms = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    // A server that never gets ready is ended here: the caller has no handle on it yet.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
      reject(new Error(`no ready line within ${ms} ms: ${buffer}`));
    }, ms);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      for (const line of buffer.split('\n')) {
        if (test(line)) {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          child.stderr?.off('data', onData);
          resolve(line);
          return;
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  });
}

const OUR_SERVER = fileURLToPath(new URL('./turn-server-process.js', import.meta.url));

/** Ours: this build's server process (or another build's `script`) with `workers` relay threads. */
async function startOurs(name = 'parley', workers = availableParallelism(), script = OUR_SERVER, nodeOptions: readonly string[] = []): Promise<Server> {
  const child = spawn(process.execPath, [...nodeOptions, script, '--relay-workers', String(workers)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const line = await waitForLine(child, (l) => l.startsWith('{'));
  // Older builds print one user's credentials.
  const info = JSON.parse(line) as { port: number; username: string; password: string; users?: Credentials[] };
  return { name, child, port: info.port, credentials: info.users ?? [{ username: info.username, password: info.password }] };
}

async function startCoturn(port: number): Promise<Server> {
  const child = spawn(
    'turnserver',
    ['-n', '--listening-ip=127.0.0.1', `--listening-port=${port}`, '--relay-ip=127.0.0.1', '--realm=parley', '--user=bench:secret', '--lt-cred-mech', '--no-tls', '--no-dtls', '--no-cli', '--allow-loopback-peers', '--simple-log', '--log-file=stdout', '--min-port=40000', '--max-port=40999'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await waitForLine(child, (l) => /Total General servers|listener opened on|IPv4\. UDP listener opened/.test(l));
  return { name: 'coturn', child, port, credentials: [{ username: 'bench', password: 'secret' }] };
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

/** Context switches (voluntary and not) of every thread of a process: how often its threads slept and were woken. */
function contextSwitches(pid: number): number {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
    for (const match of status.matchAll(/ctxt_switches:\s+(\d+)/g)) total += Number(match[1]);
  }
  return total;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

export interface LoadResult {
  readonly offered: number;
  readonly lossPercent: number;
  readonly p50: number;
  readonly p99: number;
  /** Server CPU microseconds per relayed datagram (each echo is relayed twice). */
  readonly cpuMicrosPerRelayed: number;
  /** The server's threads' context switches per relayed datagram (wake-ups, mostly). */
  readonly switchesPerRelayed: number;
}

/** Sends at `rate` datagrams/s (all clients together) for SECONDS through the relay (or directly). */
async function load(rate: number, paths: { send: (bytes: Uint8Array) => void; onEcho: (handler: (bytes: Uint8Array) => void) => void }[], serverPid: number | null): Promise<LoadResult> {
  const rtts: number[] = [];
  let received = 0;
  for (const path of paths) {
    path.onEcho((bytes) => {
      received++;
      const sent = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(1);
      rtts.push(performance.now() - sent);
    });
  }
  const cpuBefore = serverPid ? cpuSeconds(serverPid) : 0;
  const switchesBefore = serverPid ? contextSwitches(serverPid) : 0;
  const total = rate * SECONDS;
  const started = performance.now();
  let sent = 0;
  // Paced in 1 ms slices: as many as are due.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      while (sent < due) {
        const bytes = new Uint8Array(PAYLOAD);
        bytes[0] = 0x80; // RTP-like first byte
        new DataView(bytes.buffer).setFloat64(1, performance.now());
        paths[sent % paths.length]!.send(bytes);
        sent++;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await new Promise((resolve) => setTimeout(resolve, 300)); // the last echoes
  const cpu = serverPid ? cpuSeconds(serverPid) - cpuBefore : 0;
  const switches = serverPid ? contextSwitches(serverPid) - switchesBefore : 0;
  rtts.sort((a, b) => a - b);
  return { offered: rate, lossPercent: (100 * (total - received)) / total, p50: percentile(rtts, 0.5), p99: percentile(rtts, 0.99), cpuMicrosPerRelayed: received > 0 ? (cpu * 1e6) / (2 * received) : NaN, switchesPerRelayed: received > 0 ? switches / (2 * received) : NaN };
}

/** An echo peer: sends back what it gets. */
async function echoPeer(): Promise<UdpSocket> {
  const socket = await realEnv.net.bindUdp({ host: '127.0.0.1', port: 0 });
  socket.onMessage((bytes, from) => socket.send(bytes, from));
  return socket;
}

async function relayedPaths(server: Server, peer: UdpSocket) {
  const paths = [];
  const clients: TurnClient[] = [];
  const sockets: UdpSocket[] = [];
  // The TURN clients release their allocations; the sockets are ours to close (a client does not own its socket).
  const close = async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const socket of sockets) socket.close();
  };
  try {
    for (let i = 0; i < CLIENTS; i++) {
      const socket = await realEnv.net.bindUdp({ host: '127.0.0.1', port: 0 });
      sockets.push(socket);
      const turn = new TurnClient(socket, realEnv.clock, realEnv.random, { host: '127.0.0.1', port: server.port }, server.credentials[i % server.credentials.length]!);
      clients.push(turn);
      const allocated = await turn.allocate();
      if (!allocated.ok) throw new Error(`${server.name}: allocation failed: ${allocated.error.message}`);
      const bound = await turn.bindChannel(peer.local);
      if (!bound.ok) throw new Error(`${server.name}: channel bind failed: ${bound.error.message}`);
      let handler: (bytes: Uint8Array) => void = () => {};
      turn.onData((_from, data) => handler(data));
      paths.push({ send: (bytes: Uint8Array) => turn.send(peer.local, bytes), onEcho: (h: (bytes: Uint8Array) => void) => (handler = h) });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { paths, close };
}

async function directPaths(peer: UdpSocket) {
  const paths = [];
  const sockets: UdpSocket[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const socket = await realEnv.net.bindUdp({ host: '127.0.0.1', port: 0 });
    let handler: (bytes: Uint8Array) => void = () => {};
    socket.onMessage((bytes) => handler(bytes));
    sockets.push(socket);
    paths.push({ send: (bytes: Uint8Array) => socket.send(bytes, peer.local as Endpoint), onEcho: (h: (bytes: Uint8Array) => void) => (handler = h) });
  }
  return { paths, close: () => sockets.forEach((s) => s.close()) };
}

export interface TurnBenchResults {
  readonly rates: readonly number[];
  readonly parley: readonly LoadResult[];
  readonly coturn: readonly LoadResult[];
  readonly direct: LoadResult;
  readonly coturnThreads: number;
}

/**
 * Ends a server: killed, and its output pipes destroyed — once its ready line was read nobody
 * reads them, and a paused pipe stays open (and keeps this process alive) after the child is gone.
 */
function stopServer(server: Server): Promise<void> {
  const { child } = server;
  child.stdout?.destroy();
  child.stderr?.destroy();
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export async function benchTurn(rates: readonly number[] = [2_000, 5_000, 10_000, 15_000, 20_000, 30_000, 40_000]): Promise<TurnBenchResults> {
  const peer = await echoPeer();
  try {
    const results: Record<'parley' | 'coturn', LoadResult[]> = { parley: [], coturn: [] };
    let coturnThreads = 0;
    for (const start of [() => startOurs(), () => startCoturn(34_791)]) {
      const server = await start();
      let relay: Awaited<ReturnType<typeof relayedPaths>> | null = null;
      try {
        if (server.name === 'coturn') coturnThreads = Number(readFileSync(`/proc/${server.child.pid}/status`, 'utf8').match(/Threads:\s+(\d+)/)?.[1] ?? 0);
        relay = await relayedPaths(server, peer);
        await load(1_000, relay.paths, null); // warm-up
        for (const rate of rates) {
          const result = await load(rate, relay.paths, server.child.pid!);
          results[server.name as 'parley' | 'coturn'].push(result);
          if (result.lossPercent > 5) break; // far past what it carries
        }
      } finally {
        await relay?.close();
        await stopServer(server);
      }
    }
    // Half load: the largest measured rate at or below half of what ours carried, measured again directly.
    const knee = Math.max(...results.parley.filter((r) => r.lossPercent < 1).map((r) => r.offered), rates[0]!);
    const half = Math.max(...rates.filter((r) => r <= knee / 2), rates[0]!);
    const direct = await directPaths(peer);
    try {
      return { rates, parley: results.parley, coturn: results.coturn, direct: await load(half, direct.paths, null), coturnThreads };
    } finally {
      direct.close();
    }
  } finally {
    peer.close();
  }
}

/** One server measured at each rate (no early stop: every contender gets every rate). */
async function measure(start: () => Promise<Server>, peer: UdpSocket, rates: readonly number[]): Promise<LoadResult[]> {
  const server = await start();
  let relay: Awaited<ReturnType<typeof relayedPaths>> | null = null;
  try {
    relay = await relayedPaths(server, peer);
    await load(1_000, relay.paths, null); // warm-up
    const results: LoadResult[] = [];
    for (const rate of rates) results.push(await load(rate, relay.paths, server.child.pid!));
    return results;
  } finally {
    await relay?.close();
    await stopServer(server);
  }
}

const median = (values: number[]): number => {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor((sorted.length - 1) / 2)]!;
};

export interface TurnComparison {
  readonly rates: readonly number[];
  readonly rounds: number;
  readonly cores: number;
  /** Per contender, per rate: the median over rounds of each figure, and every round's loss. */
  readonly results: Record<string, { offered: number; lossPercent: number; losses: number[]; p50: number; p99: number; cpuMicrosPerRelayed: number; switchesPerRelayed: number }[]>;
  readonly direct: Record<number, { p50: number; p99: number }>;
}

/** Contenders in turn, the order rotated each round, each at every rate; medians over the rounds. */
export async function compareTurn(rates: readonly number[], rounds: number, before: string | null): Promise<TurnComparison> {
  const cores = availableParallelism();
  const contenders: [string, () => Promise<Server>][] = [
    ...(before ? [['parley-before', () => startOurs('parley-before', 0, `${before}/bench/turn-server-process.js`)] as [string, () => Promise<Server>]] : []),
    ['parley-1-thread', () => startOurs('parley-1-thread', 0)],
    [`parley-${cores}-workers`, () => startOurs(`parley-${cores}-workers`, cores)],
    ['coturn', () => startCoturn(34_791)],
  ];
  const raw: Record<string, LoadResult[][]> = Object.fromEntries(contenders.map(([name]) => [name, []]));
  const directRaw: LoadResult[][] = [];
  const peer = await echoPeer();
  try {
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < contenders.length; i++) {
        const [name, start] = contenders[(i + round) % contenders.length]!;
        raw[name]!.push(await measure(start, peer, rates));
      }
      const direct = await directPaths(peer);
      try {
        const results: LoadResult[] = [];
        for (const rate of rates) results.push(await load(rate, direct.paths, null));
        directRaw.push(results);
      } finally {
        direct.close();
      }
    }
  } finally {
    peer.close();
  }
  const results = Object.fromEntries(
    Object.entries(raw).map(([name, runs]) => [
      name,
      rates.map((offered, r) => ({
        offered,
        lossPercent: median(runs.map((run) => run[r]!.lossPercent)),
        losses: runs.map((run) => Math.round(run[r]!.lossPercent * 100) / 100),
        p50: median(runs.map((run) => run[r]!.p50)),
        p99: median(runs.map((run) => run[r]!.p99)),
        cpuMicrosPerRelayed: median(runs.map((run) => run[r]!.cpuMicrosPerRelayed)),
        switchesPerRelayed: median(runs.map((run) => run[r]!.switchesPerRelayed)),
      })),
    ]),
  );
  const direct = Object.fromEntries(rates.map((rate, r) => [rate, { p50: median(directRaw.map((run) => run[r]!.p50)), p99: median(directRaw.map((run) => run[r]!.p99)) }]));
  return { rates, rounds, cores, results, direct };
}

/** Ours under `--cpu-prof` (profiles in `dir`, one per thread) at `rate` for SECONDS, then ended cleanly so that the profiles are written. */
export async function profileTurn(dir: string, workers: number, rate: number): Promise<LoadResult> {
  const peer = await echoPeer();
  const server = await startOurs('parley', workers, OUR_SERVER, ['--cpu-prof', '--cpu-prof-dir', dir]);
  let relay: Awaited<ReturnType<typeof relayedPaths>> | null = null;
  try {
    relay = await relayedPaths(server, peer);
    return await load(rate, relay.paths, server.child.pid!);
  } finally {
    await relay?.close();
    await new Promise((resolve) => {
      server.child.once('exit', resolve);
      server.child.kill('SIGTERM');
    });
    server.child.stdout?.destroy();
    server.child.stderr?.destroy();
    peer.close();
  }
}

// Run alone: `node dist/bench/turn.js` (the section of `npm run bench`), or with `--compare` (see the header).
if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { compare: { type: 'boolean', default: false }, before: { type: 'string' }, rates: { type: 'string', default: '2500,5000,10000,15000' }, rounds: { type: 'string', default: '3' }, profile: { type: 'string' }, workers: { type: 'string', default: '0' } },
  });
  const rates = values.rates.split(',').map(Number);
  const run = values.profile ? profileTurn(values.profile, Number(values.workers), rates[0]!) : values.compare ? compareTurn(rates, Number(values.rounds), values.before ?? null) : benchTurn();
  console.log(JSON.stringify(await run, null, 2));
}
