// Legitimate work while a flood runs (issue 19): password logins, device logins and supernode
// attaches per second without a flood and during one, in the same run, and the ratio. Each round
// measures a window without the flood, starts the flood, lets it settle, measures a window
// during it, and stops it; figures are medians over the rounds (after a warm-up round).
// Login server: the whole HTTP stack in this process (Fastify inject), SQLite, scrypt at the
// recommended cost, the default limits, a real clock (locks and windows pass in real time); the
// flood's requests go through the same stack on the same thread, as they would on the server.
// Supernode: real sockets on loopback; the flood runs in a worker thread (socket-flood.ts) from
// other loopback addresses, so the attacker's own work is not on the supernode's thread.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { realEnv } from '../src/env/real.js';
import type { Env, TcpConnectOptions } from '../src/env/types.js';
import { Role } from '../src/crypto/certificate.js';
import { toBase64Url } from '../src/crypto/bytes.js';
import { SecureChannel } from '../src/crypto/secure-channel.js';
import type { NodeIdentity } from '../src/crypto/identity.js';
import { attachTo, type SupernodeAddress } from '../src/client/attachment.js';
import { startSupernode, type RunningSupernode } from '../src/supernode/supernode.js';
import { DEFAULT_MAX_PENDING_HANDSHAKES, PENDING_HANDSHAKES_SHARE_PER_HOST, DEFAULT_HANDSHAKE_TIMEOUT_MS, HANDSHAKE_BURST_PER_HOST, HANDSHAKES_PER_SECOND_PER_HOST } from '../src/crypto/secure-link.js';
import { DEFAULT_CONFIG } from '../src/login-server/context.js';
import { openDatabase } from '../src/login-server/store/database.js';
import { PasswordHasher, RECOMMENDED_SCRYPT_COST } from '../src/login-server/passwords.js';
import { call, RealClock, testServer, TestDevice, type Response } from '../test/support/login-server.js';
import { testNetwork, type TestNetwork } from '../test/support/identities.js';
import { fmt, fmtMeasurement, summarise, type Measurement } from './measure.js';
import type { SocketFloodCounts, SocketFloodOptions } from './socket-flood.js';
import type { AmplificationResult } from './reflection.js';

/** One legitimate rate without a flood and during it, and what the flood did meanwhile. */
export interface UnderFlood {
  readonly without: Measurement;
  readonly during: Measurement;
  /** during / without, of the medians. */
  readonly ratio: number;
  /** The flood's own rate (its requests or connections per second) and what became of them. */
  readonly flood: string;
}

export interface HttpAnswerBytes {
  readonly request: string;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

export interface FloodResults {
  readonly rounds: number;
  readonly windowMs: { login: number; attach: number };
  readonly passwordLogins: { oneAddress: UnderFlood; manyAddresses: UnderFlood };
  readonly deviceLogins: UnderFlood;
  readonly attaches: { idleOneAddress: UnderFlood; idleManyAddresses: UnderFlood; handshakeReplayOneAddress: UnderFlood };
  readonly loginHttp: readonly HttpAnswerBytes[];
}

/** A flood in progress: stopping it says what it did. */
interface Flood {
  stop(): Promise<string>;
}

/** What one attempt of a legitimate loop came to: done, or a pause before trying again. */
type Attempt = { readonly done: true } | { readonly done: false; readonly pauseMs: number };

const DONE: Attempt = { done: true };
const ROUNDS = 3;
const LOGIN_WINDOW_MS = 4_000;
const ATTACH_WINDOW_MS = 2_000;
/** Time for a flood to reach its steady state before the window during it opens. */
const SETTLE_MS = 500;
/** After a failed attach, a legitimate client's pause before it tries again (the real one backs off from a second). */
const ATTACH_RETRY_MS = 50;

/**
 * The password hash here: 16 MiB, an eighth of the recommended cost. At the recommended cost a
 * hash takes 1–2 s on the shared 2-core machine, under one login a second: too few in a window
 * to compare. The queue and throttles work the same at any cost; the absolute rates scale with it.
 */
const BENCH_SCRYPT_COST = { logN: 14, r: 8, p: 1 } as const;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Successful attempts per second: `workers` loops run `attempt` until `windowMs` ends; only attempts finished inside the window count. */
async function ratePerSecond(workers: number, windowMs: number, attempt: (worker: number) => Promise<Attempt>): Promise<number> {
  const endsAt = performance.now() + windowMs;
  let done = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (performance.now() < endsAt) {
        const outcome = await attempt(worker);
        if (performance.now() > endsAt) return;
        if (outcome.done) done++;
        else await sleep(Math.min(outcome.pauseMs, endsAt - performance.now()));
      }
    }),
  );
  return (done * 1000) / windowMs;
}

/** Each round: a window without the flood, then one during it (after it settled). Medians of `rounds` after a warm-up. */
async function withAndWithout(rounds: number, measureOnce: () => Promise<number>, startFlood: () => Promise<Flood>): Promise<UnderFlood> {
  const without: number[] = [];
  const during: number[] = [];
  let flood = '';
  for (let round = 0; round <= rounds; round++) {
    const quiet = await measureOnce();
    const running = await startFlood();
    const startedMs = performance.now();
    let loud: number;
    try {
      await sleep(SETTLE_MS);
      loud = await measureOnce();
    } finally {
      flood = `${await running.stop()} (over ${fmt((performance.now() - startedMs) / 1000, 1)} s)`;
    }
    if (round === 0) continue; // warm-up
    without.push(quiet);
    during.push(loud);
  }
  const w = summarise(without);
  const d = summarise(during);
  return { without: w, during: d, ratio: d.median / w.median, flood };
}

/** `inFlight` loops send `request` until stopped; the flood's summary counts its answers by status. */
function requestFlood(name: string, inFlight: number, request: (serial: number) => Promise<Response>): Flood {
  let stopping = false;
  let serial = 0;
  const statuses = new Map<number, number>();
  const startedMs = performance.now();
  const loops = Array.from({ length: inFlight }, async () => {
    while (!stopping) {
      const response = await request(serial++);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    }
  });
  return {
    stop: async () => {
      stopping = true;
      await Promise.all(loops);
      const total = [...statuses.values()].reduce((a, b) => a + b, 0);
      const byStatus = [...statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}: ${fmt((count / total) * 100)}%`);
      return `${name}: ${fmt((total * 1000) / (performance.now() - startedMs))} requests/s answered ${byStatus.join(', ')}`;
    },
  };
}

/** The pause a refused login asks for (429 or 503 with Retry-After); anything else is a bench failure. */
function pauseAfter(response: Response, what: string): Attempt {
  const retryAfterMs = (response.body.error as { retryAfterMs?: number } | undefined)?.retryAfterMs;
  if ((response.status === 429 || response.status === 503) && retryAfterMs !== undefined) return { done: false, pauseMs: retryAfterMs };
  throw new Error(`${what}: ${response.status} ${JSON.stringify(response.body)}`);
}

// ---- Login server ----

type LoginServer = Awaited<ReturnType<typeof testServer>>;

async function withLoginServer<T>(body: (server: LoginServer) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-floods-'));
  try {
    const server = await testServer(await openDatabase(join(dir, 'db')), { clock: new RealClock(), hasher: new PasswordHasher(BENCH_SCRYPT_COST) });
    try {
      return await body(server);
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Accounts with one device each, written to the store directly (one password hash serves them all). */
async function accounts(server: LoginServer, names: readonly string[]): Promise<TestDevice[]> {
  const devices = names.map((name) => new TestDevice(server.app, server.ca, name));
  const passwordHash = await server.context.hasher.hash(devices[0]!.password);
  for (const device of devices) {
    const user = await server.context.store.createUser({ username: device.username, displayName: device.username, passwordHash, nowMs: Date.now(), discoverable: false, showLastSeen: false });
    if (!user.ok) throw new Error(`account ${device.username}: ${user.error.message}`);
    const enrolled = await server.context.store.registerDevice({ userId: user.value.id, signingKey: device.keys.signing.publicKey, dhKey: device.keys.dh.publicKey, name: 'bench device', nowMs: Date.now() });
    if (!enrolled.ok) throw new Error(`device of ${device.username}: ${enrolled.error.message}`);
  }
  return devices;
}

/** A fresh address for each legitimate login (many users, many addresses): no legitimate caller meets a per-address limit. */
function addresses(prefix: number): () => string {
  let next = 0;
  return () => {
    const i = next++;
    return `${prefix}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  };
}

export async function passwordLoginFloods(rounds: number): Promise<FloodResults['passwordLogins']> {
  return withLoginServer(async (server) => {
    const users = await accounts(server, ['victim', ...Array.from({ length: 4 }, (_, i) => `user${i}`)]);
    // Four users log in again and again, each from its own address (their right passwords do not count against them).
    const legitimate = users.slice(1);
    const measureOnce = () =>
      ratePerSecond(legitimate.length, LOGIN_WINDOW_MS, async (i) => {
        const response = await legitimate[i]!.passwordLogin(undefined, `10.0.0.${i + 1}`);
        return response.status === 200 ? DONE : pauseAfter(response, 'password login');
      });
    // Guesses made beforehand (the attacker's work is not on the server's thread), each with a
    // well-formed device (the attacker's own keys and proof): only the password is wrong.
    const guess = (username: string) => new TestDevice(server.app, server.ca, username).passwordLoginBody('wrong password');
    const send = (body: object, ip: string) => call(server.app, 'POST', '/v1/login/password', body, undefined, ip);
    // One address, one account, 16 guesses in flight.
    const atVictim = guess('victim');
    const oneAddress = await withAndWithout(rounds, measureOnce, async () => requestFlood('one address, 16 in flight', 16, () => send(atVictim, '192.0.2.66')));
    // 4 096 addresses (a botnet), each guessing for its own unknown name (an unknown name costs a hash too), 64 in flight: the hash queue stays full.
    const botnet = Array.from({ length: 4096 }, (_, i) => ({ body: guess(`ghost${i}`), ip: `198.18.${i >> 8}.${i & 255}` }));
    const manyAddresses = await withAndWithout(rounds, measureOnce, async () =>
      requestFlood('4 096 addresses, 64 in flight', 64, (serial) => {
        const bot = botnet[serial % botnet.length]!;
        return send(bot.body, bot.ip);
      }),
    );
    return { oneAddress, manyAddresses };
  });
}

export async function deviceLoginFlood(rounds: number): Promise<UnderFlood> {
  return withLoginServer(async (server) => {
    const devices = await accounts(server, ['victim', ...Array.from({ length: 15 }, (_, i) => `user${i}`)]);
    const fresh = addresses(10);
    // Sixteen devices, the victim's among them, log in by key (challenge, signature) again and again.
    const measureOnce = () =>
      ratePerSecond(devices.length, LOGIN_WINDOW_MS, async (i) => {
        const ip = fresh();
        const device = devices[i]!;
        const asked = await call(server.app, 'POST', '/v1/login/challenge', { signingKey: toBase64Url(device.keys.signing.publicKey) }, undefined, ip);
        if (asked.status !== 200) return pauseAfter(asked, 'challenge');
        const response = await device.deviceLogin(asked.body.challenge as string, ip);
        return response.status === 200 ? DONE : pauseAfter(response, 'device login');
      });
    // The victim's signing key (any buddy can list it), challenges asked from one address, 4 in flight.
    const victimKey = toBase64Url(devices[0]!.keys.signing.publicKey);
    return withAndWithout(rounds, measureOnce, async () => requestFlood('one address, 4 in flight', 4, () => call(server.app, 'POST', '/v1/login/challenge', { signingKey: victimKey }, undefined, '192.0.2.77')));
  });
}

/** Bytes of one HTTP/1.1 exchange on a real socket (no TLS): the request as written, the whole answer until the server closes. */
async function httpExchange(port: number, request: string): Promise<HttpAnswerBytes> {
  const socket = connect({ host: '127.0.0.1', port });
  try {
    await once(socket, 'connect');
    let bytesOut = 0;
    socket.on('data', (chunk: Buffer) => (bytesOut += chunk.byteLength));
    const closed = once(socket, 'close');
    socket.write(request);
    await closed;
    return { request: request.slice(0, request.indexOf(' HTTP/1.1')), bytesIn: Buffer.byteLength(request), bytesOut };
  } finally {
    socket.destroy();
  }
}

async function loginHttpBytes(): Promise<HttpAnswerBytes[]> {
  return withLoginServer(async (server) => {
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (server.app.server.address() as { port: number }).port;
    const body = JSON.stringify({ signingKey: toBase64Url(new Uint8Array(32).fill(7)) });
    return [
      await httpExchange(port, 'GET /v1/info HTTP/1.1\r\nHost: login.example\r\nConnection: close\r\n\r\n'),
      await httpExchange(port, `POST /v1/login/challenge HTTP/1.1\r\nHost: login.example\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`),
    ];
  });
}

// ---- Supernode ----

/** A socket flood in a worker thread; resolves once the worker runs. Stopping it closes every socket it opened. */
export async function socketFlood(name: string, options: SocketFloodOptions): Promise<Flood> {
  const worker = new Worker(new URL('./socket-flood.js', import.meta.url), { workerData: options });
  await once(worker, 'online');
  const startedMs = performance.now();
  return {
    stop: async () => {
      const counted = once(worker, 'message');
      worker.postMessage('stop');
      const [counts] = (await counted) as [SocketFloodCounts];
      await worker.terminate();
      const seconds = (performance.now() - startedMs) / 1000;
      return `${name}: ${fmt(counts.connections / seconds)} connections/s${options.kind === 'replay' ? `, ${fmt(counts.answered / seconds)} handshake answers/s` : ''}`;
    },
  };
}

/** The bytes an IK initiator sends first: a recording an attacker replays at no cost to itself. */
function firstHandshakeMessage(identity: NodeIdentity, net: TestNetwork, supernodeDhKey: Uint8Array): Uint8Array {
  const channel = new SecureChannel('initiator', { identity, verifier: net.verifier, remoteStaticKey: supernodeDhKey, random: realEnv.random, wallTimeMs: () => Date.now() });
  return Buffer.concat(channel.start().flatMap((output) => (output.kind === 'write' ? [output.bytes] : [])));
}

/** The real environment, its TCP connections made from `localHost`. */
function fromAddress(localHost: string): Env {
  return { ...realEnv, net: Object.assign(Object.create(realEnv.net) as Env['net'], { connectTcp: (options: TcpConnectOptions) => realEnv.net.connectTcp({ ...options, localHost }) }) };
}

export async function attachFloods(rounds: number): Promise<FloodResults['attaches']> {
  const net = testNetwork(realEnv.random);
  const issuedAtMs = Date.now() - 60_000;
  const identity = net.identity('', { role: Role.SUPERNODE, issuedAtMs });
  let supernode: RunningSupernode | null = null;
  try {
    supernode = await startSupernode(realEnv, { identity, verifier: net.verifier, host: '127.0.0.1', port: 0, stun: false });
    const address: SupernodeAddress = { host: '127.0.0.1', port: supernode.port, dhKey: identity.dh.publicKey };
    // Clients attach (secure link, presence record, answer) and leave, 8 at a time, each from an
    // address of its own in 127.0.4.0/24 (as clients on the internet are: one address may start
    // only HANDSHAKES_PER_SECOND_PER_HOST handshakes); identities come round again only long
    // after their last link closed.
    const clients = Array.from({ length: 256 }, (_, i) => ({ username: `client${i}`, identity: net.identity(`client${i}`, { issuedAtMs }) }));
    let next = 0;
    const measureOnce = () =>
      ratePerSecond(8, ATTACH_WINDOW_MS, async () => {
        const client = clients[next++ % clients.length]!;
        try {
          const attached = await attachTo(fromAddress(`127.0.4.${(next % 250) + 1}`), address, { identity: client.identity, verifier: net.verifier, username: client.username, attachTimeoutMs: 2_000 });
          attached.link.close();
          return DONE;
        } catch {
          return { done: false, pauseMs: ATTACH_RETRY_MS };
        }
      });
    const perSource = Math.floor(DEFAULT_MAX_PENDING_HANDSHAKES * PENDING_HANDSHAKES_SHARE_PER_HOST);
    const target = { host: '127.0.0.1', port: supernode.port };
    const idleOneAddress = await withAndWithout(rounds, measureOnce, () => socketFlood(`${perSource} idle connections from one address`, { kind: 'idle', ...target, sources: ['127.0.1.1'], perSource }));
    // Just enough addresses for their shares to cover every handshake slot.
    const sources = Array.from({ length: DEFAULT_MAX_PENDING_HANDSHAKES / perSource }, (_, i) => `127.0.2.${i + 1}`);
    const idleManyAddresses = await withAndWithout(rounds, measureOnce, () => socketFlood(`${perSource} idle connections from each of ${sources.length} addresses`, { kind: 'idle', ...target, sources, perSource }));
    const firstMessage = firstHandshakeMessage(net.identity('mallory', { issuedAtMs }), net, identity.dh.publicKey);
    const handshakeReplayOneAddress = await withAndWithout(rounds, measureOnce, () => socketFlood(`a recorded first handshake message replayed on ${perSource} connections from one address`, { kind: 'replay', ...target, sources: ['127.0.3.1'], perSource, firstMessage }));
    return { idleOneAddress, idleManyAddresses, handshakeReplayOneAddress };
  } finally {
    supernode?.close();
  }
}

export async function benchFloods(rounds = ROUNDS): Promise<FloodResults> {
  return {
    rounds,
    windowMs: { login: LOGIN_WINDOW_MS, attach: ATTACH_WINDOW_MS },
    passwordLogins: await passwordLoginFloods(rounds),
    deviceLogins: await deviceLoginFlood(rounds),
    attaches: await attachFloods(rounds),
    loginHttp: await loginHttpBytes(),
  };
}

// ---- The section of docs/benchmarks.md ----

function row(figure: string, r: UnderFlood, digits = 1): string {
  return `| ${figure} | ${fmtMeasurement(r.without, digits)} → ${fmtMeasurement(r.during, digits)}: ratio ${fmt(r.ratio, 2)} | ${r.flood} |`;
}

/** The "Under attack (issue 19)" section: legitimate rates under floods, then amplification. */
export function underAttackLines(floods: FloodResults, amplification: readonly AmplificationResult[]): string[] {
  const { hashQueue, loginThrottle, challengeRate } = DEFAULT_CONFIG;
  const { passwordLogins: pw, attaches: at } = floods;
  return [
    '## Under attack (issue 19)',
    '',
    `**Legitimate work while a flood runs.** Each round measures a window without the flood (${fmt(floods.windowMs.login / 1000)} s for logins, ${fmt(floods.windowMs.attach / 1000)} s for attaches), starts the flood, lets it settle ${fmt(SETTLE_MS)} ms, measures a window during it, and stops it; medians of ${floods.rounds} rounds after a warm-up, the ratio is of the medians. Login server: the whole HTTP stack in this process (inject), SQLite, scrypt N=2^${BENCH_SCRYPT_COST.logN} r=${BENCH_SCRYPT_COST.r} (16 MiB; the recommended N=2^${RECOMMENDED_SCRYPT_COST.logN} is too slow on this shared machine to count logins in a few seconds: rates scale with the cost, the queue and throttles do not change), default limits (hash queue: ${hashQueue.maxRunning} running, ${hashQueue.maxWaiting} waiting, ${hashQueue.maxPerSource} per address; ${loginThrottle.freeFailures} free failures per account and address; ${challengeRate.maxPerWindow} challenges a minute per address), a real clock; the flood's requests run through the same stack on the same thread, as on a real server. A refused legitimate login waits its Retry-After, as the client does. Supernode: real sockets on loopback, the flood in a worker thread from other loopback addresses (${fmt(DEFAULT_MAX_PENDING_HANDSHAKES)} handshake slots, ${fmt(DEFAULT_MAX_PENDING_HANDSHAKES * PENDING_HANDSHAKES_SHARE_PER_HOST)} per address, handshake timeout ${fmt(DEFAULT_HANDSHAKE_TIMEOUT_MS / 1000)} s, the oldest giving way when all are taken; ${fmt(HANDSHAKE_BURST_PER_HOST)} handshakes started per address, then ${fmt(HANDSHAKES_PER_SECOND_PER_HOST)}/s), the clients each from a loopback address of their own; an attach is a secure link (Noise IK), a presence record and the answer, then the client leaves; a failed attach is retried after ${ATTACH_RETRY_MS} ms.`,
    '',
    '| figure | without → during the flood (ratio) | the flood in the same run |',
    '| --- | --- | --- |',
    row('password logins/s, 4 users each from its own address; flood: wrong passwords for another account from one address', pw.oneAddress),
    row('the same; flood: wrong passwords from 4 096 addresses for unknown names (the hash queue full)', pw.manyAddresses),
    row("device logins/s (challenge, signature), 16 devices, each login from a fresh address; flood: challenges for one victim device's key from one address", floods.deviceLogins),
    row('client attaches/s to a supernode, 8 at a time; flood: idle connections (connect, say nothing) from one address', at.idleOneAddress),
    row('the same; flood: idle connections from as many addresses as cover every handshake slot', at.idleManyAddresses),
    row('the same; flood: a recorded first handshake message replayed from one address (no crypto for the attacker)', at.handshakeReplayOneAddress),
    '',
    `**Amplification of unauthenticated requests** to a supernode's STUN/TURN port, from one source (virtual network): the answer to one request alone, and over a flood of 100 requests per second for 10 s, where the reply budget (what answers add beyond their requests, per source: 4 KiB at once, then 128 bytes/s) withholds answers. Target: ≤ 1 over a flood.`,
    '',
    '| request | bytes in | one answer: out / in | over the flood: out / in |',
    '| --- | --- | --- | --- |',
    ...amplification.map((a) => `| ${a.kind} | ${a.requestBytes} | ${fmt(a.singleRatio, 2)} | ${fmt(a.floodRatio, 3)} |`),
    '',
    "The login server's unauthenticated requests are answered over TCP only: an answer goes to an address that completed the TCP handshake, so a forged source gets nothing and they cannot be reflected at a victim; their size is not amplification. For reference, HTTP/1.1 on a real socket without TLS (TLS adds to both ways): " +
      floods.loginHttp.map((h) => `\`${h.request}\` ${fmt(h.bytesIn)} B in, ${fmt(h.bytesOut)} B out`).join('; ') +
      ' (an unknown key: the same answer shape as a known one; /v1/info grows with the bootstrap list, empty here).',
  ];
}
