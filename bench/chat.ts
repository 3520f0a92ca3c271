// End-to-end chat: latency and throughput on real loopback sockets (two supernodes and two
// clients in this process, alice attached to one supernode and bob to the other), and bytes on
// the wire per message on the virtual network (exact counts, headers included).
import { realEnv } from '../src/env/real.js';
import { SeededRandom } from '../src/env/prng.js';
import { VirtualNetwork } from '../src/env/virtual/index.js';
import type { Env } from '../src/env/types.js';
import { Role } from '../src/crypto/certificate.js';
import { AttachedClient } from '../src/client/attachment.js';
import { HostCache } from '../src/overlay/host-cache.js';
import { ChatClient } from '../src/chat/chat-client.js';
import { Messenger } from '../src/messenger/messenger.js';
import { overlayTransport } from '../src/client/overlay-transport.js';
import { startSupernode } from '../src/supernode/supernode.js';
import { testNetwork, TEST_EPOCH_MS, type TestNetwork } from '../test/support/identities.js';
import { startSupernodes } from '../test/support/supernodes.js';

export interface ChatResults {
  latencyMs: { p50: number; p99: number };
  loopbackRttMs: number;
  messagesPerSecond: number;
  throughputMessages: number;
  bytesPerMessageBulk: number;
  bytesForOneMessage: number;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const TEXT_100 = 'x'.repeat(100);

async function pair(env: Env, net: TestNetwork, refs: { host: string; port: number; dhKey: Uint8Array }[], drive: <T>(p: Promise<T>) => Promise<T>) {
  const device = async (user: string, ref: (typeof refs)[number]) => {
    const identity = net.identity(user, { issuedAtMs: env.clock.wallTimeMs() - 1000 });
    const attached = new AttachedClient(env, { identity, verifier: net.verifier, username: user, hostCache: new HostCache(), bootstrap: [ref] });
    await drive(attached.start());
    const messenger = new Messenger(env, { identity, verifier: net.verifier, username: user, transport: overlayTransport(attached) });
    return { attached, messenger, chat: new ChatClient(env, messenger) };
  };
  return { alice: await device('alice', refs[0]!), bob: await device('bob', refs[1]!) };
}

async function onLoopback(): Promise<Pick<ChatResults, 'latencyMs' | 'loopbackRttMs' | 'messagesPerSecond' | 'throughputMessages'>> {
  const net = testNetwork(realEnv.random);
  const supernodes = [];
  for (let i = 0; i < 2; i++) {
    const identity = net.identity('', { role: Role.SUPERNODE, issuedAtMs: Date.now() - 1000 });
    const running = await startSupernode(realEnv, { identity, verifier: net.verifier, host: '127.0.0.1', port: 0 });
    supernodes.push({ running, ref: { host: '127.0.0.1', port: running.port, dhKey: identity.dh.publicKey } });
  }
  for (const s of supernodes) await s.running.join(supernodes.map((x) => x.ref));
  const { alice, bob } = await pair(realEnv, net, supernodes.map((s) => s.ref), (p) => p);
  let arrived: (() => void) | null = null;
  let count = 0;
  bob.chat.onMessage(() => {
    count++;
    arrived?.();
  });
  // The loopback round trip itself, for reference: a ping over alice's supernode link.
  const rtts: number[] = [];
  for (let i = 0; i < 200; i++) {
    const started = performance.now();
    await alice.attached.checkReachability(0).catch(() => {}); // answered at once: port 0 is out of range
    rtts.push(performance.now() - started);
  }
  // Latency: one message at a time, from send to bob's screen (sessions warmed up first).
  await alice.chat.send('bob', 'warm-up');
  await alice.chat.acknowledged(5000);
  const latencies: number[] = [];
  for (let i = 0; i < 500; i++) {
    const started = performance.now();
    const shown = new Promise<void>((resolve) => (arrived = resolve));
    await alice.chat.send('bob', TEXT_100);
    await shown;
    latencies.push(performance.now() - started);
  }
  arrived = null;
  await alice.chat.acknowledged(5000);
  // Throughput: queue many, until bob acknowledged all.
  const total = 20_000;
  const before = count;
  const started = performance.now();
  for (let i = 0; i < total; i++) await alice.chat.send('bob', TEXT_100);
  const acked = await alice.chat.acknowledged(60_000);
  const seconds = (performance.now() - started) / 1000;
  if (!acked || count - before !== total) throw new Error(`throughput run: ${count - before} of ${total} arrived`);
  for (const d of [alice, bob]) {
    d.chat.close();
    d.messenger.close();
    d.attached.close();
  }
  for (const s of supernodes) s.running.close();
  return { latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) }, loopbackRttMs: percentile(rtts, 50), messagesPerSecond: total / seconds, throughputMessages: total };
}

async function onVirtualNetwork(seed = 5): Promise<Pick<ChatResults, 'bytesPerMessageBulk' | 'bytesForOneMessage'>> {
  const net = testNetwork(new SeededRandom(seed));
  const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
  const drive = <T>(work: Promise<T>) => network.scheduler.drive(work);
  const elapse = (ms: number) => drive(new Promise<void>((resolve) => network.scheduler.after(ms, resolve)));
  const supernodes = await startSupernodes(network, net, 2);
  for (const s of supernodes) await drive(s.running.join(supernodes.map((x) => x.ref)));
  const hosts = [network.addHost(), network.addHost()];
  const device = async (user: string, i: number) => {
    const identity = net.identity(user);
    const env = hosts[i]!.env();
    const attached = new AttachedClient(env, { identity, verifier: net.verifier, username: user, hostCache: new HostCache(), bootstrap: [supernodes[i]!.ref] });
    await drive(attached.start());
    const messenger = new Messenger(env, { identity, verifier: net.verifier, username: user, transport: overlayTransport(attached) });
    return { attached, messenger, chat: new ChatClient(env, messenger) };
  };
  const alice = await device('alice', 0);
  const bob = await device('bob', 1);
  await drive(alice.chat.send('bob', 'warm-up: session and device list'));
  await drive(alice.chat.acknowledged(10_000));
  await elapse(1_000);
  const sent = () => hosts[0]!.bytesSent + hosts[0]!.bytesReceived;
  // One message on its own: the frame, its routing, the delivery acknowledgements and the end-to-end ack.
  let before = sent();
  await drive(alice.chat.send('bob', TEXT_100));
  await drive(alice.chat.acknowledged(10_000));
  await elapse(1_000);
  const bytesForOneMessage = sent() - before;
  before = sent();
  for (let i = 0; i < 1000; i++) await drive(alice.chat.send('bob', TEXT_100));
  await drive(alice.chat.acknowledged(60_000));
  await elapse(1_000);
  const bytesPerMessageBulk = (sent() - before) / 1000;
  for (const d of [alice, bob]) {
    d.chat.close();
    d.messenger.close();
    d.attached.close();
  }
  for (const s of supernodes) s.running.close();
  return { bytesPerMessageBulk, bytesForOneMessage };
}

export async function benchChat(): Promise<ChatResults> {
  return { ...(await onLoopback()), ...(await onVirtualNetwork()) };
}
