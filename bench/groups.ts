// Group chats (issue 24) on the virtual network, seeded: MEMBERS users with one device each,
// every device attached to one of SUPERNODES supernodes (round robin, so most copies cross two
// supernodes), every link LINK_MS one way, no loss, no bandwidth limit. Measured:
// - latency from a send to the message shown on each member device (virtual ms, exact for the
//   seed; also in device-to-supernode round trips), for messages sent with the sender's sessions
//   and device lists warm, for each sender's first message (sessions set up, device lists looked
//   up, sender keys handed out), and for a sender idle longer than the device-list cache;
// - bytes per message at the sender and at each receiving device (IP/TCP headers included);
// - the sender's wall-clock time per message (this machine, shared): sealing once, the per-device
//   deliveries, the pairwise end-to-end seals and routed requests for every member device.
// `node dist/bench/groups-only.js [members] [seed]` runs it alone.
import { AttachedClient } from '../src/client/attachment.js';
import { HostCache } from '../src/overlay/host-cache.js';
import { MAX_ROUTES_IN_FLIGHT, overlayTransport } from '../src/client/overlay-transport.js';
import { MAX_PENDING_PER_LINK } from '../src/overlay/rpc.js';
import { LOOKUP_BURST, LOOKUPS_PER_SECOND } from '../src/supernode/attachments.js';
import { Messenger } from '../src/messenger/messenger.js';
import type { OfflineStore } from '../src/messenger/transport.js';
import { GroupClient } from '../src/groups/group-client.js';
import { MAX_GROUP_MEMBERS } from '../src/groups/limits.js';
import { overlayWorld } from '../test/support/supernodes.js';
import { fmt, summarise, type Measurement } from './measure.js';

export const LINK_MS = 10;
/** Quiet virtual time after each message: every copy shown and acknowledged (checked). */
const SETTLE_MS = 1_500;
/** The messenger's device-list cache (messenger.ts): a sender idle this long looks members up again. */
const DEVICE_LIST_CACHE_MS = 30_000;
const TEXT_100 = 'x'.repeat(100);
/** The admin adds a member this often while making the group. */
const INVITE_EVERY_MS = 250;
/** ... and no faster than this per member already in (about 140 routed copies a second). */
const INVITE_MS_PER_MEMBER = 7;
/** How often a running client fetches what waits in the login server's offline store (`parley online`). */
const OFFLINE_FETCH_MS = 30_000;

export interface Latency {
  /** Over every (message, receiving device). */
  readonly p50: number;
  readonly p99: number;
  /** Per message, until the last member device showed it; median and max over messages. */
  readonly allShownMedian: number;
  readonly allShownMax: number;
  readonly messages: number;
}

export interface GroupResults {
  readonly members: number;
  readonly seed: number;
  readonly linkMs: number;
  readonly supernodes: number;
  /** Device ↔ its supernode round trip (2 links each way). */
  readonly rttMs: number;
  readonly warm: Latency;
  readonly firstFromSender: Latency;
  readonly idleSender: Latency;
  /** Copies shown from the offline store (a sender's lookup of the member refused), first / idle messages. */
  readonly firstFromStore: number;
  readonly warmFromStore: number;
  /** Routed sends of warm messages the sender's supernode refused or did not answer (sent again by the stream). */
  readonly warmRouteFailures: number;
  readonly idleFromStore: number;
  /** Sealed copies the admin left in the offline store while making the group (members its lookups did not reach). */
  readonly createStored: number;
  /** Per warm message (median, range over messages). */
  readonly senderBytesSent: Measurement;
  readonly senderBytesReceived: Measurement;
  /** Per warm message and receiving device (median over devices, then over messages). */
  readonly receiverBytesReceived: Measurement;
  readonly receiverBytesSent: Measurement;
  /** All supernodes together, sent, per warm message. */
  readonly supernodeBytesSent: Measurement;
  /** Sender wall time per warm message, ms. */
  readonly senderWallMs: Measurement;
  /** The process's CPU time (user + system) over the same window, ms. */
  readonly senderCpuMs: Measurement;
  /** Making the group (the admin's 99 invites: ops to every member so far, welcomes). */
  readonly createVirtualMs: number;
  readonly createAdminBytesSent: number;
  readonly wallSeconds: number;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function latency(perMessage: readonly number[][]): Latency {
  const all = perMessage.flat();
  const last = perMessage.map((l) => Math.max(...l));
  return { p50: percentile(all, 50), p99: percentile(all, 99), allShownMedian: percentile(last, 50), allShownMax: Math.max(...last), messages: perMessage.length };
}

export interface GroupBenchOptions {
  readonly members: number;
  readonly seed: number;
  /** 1: every presence record on the one supernode, so no route costs the sender a lookup. */
  readonly supernodes: number;
  readonly senders: number;
  readonly warmPerSender: number;
}

export async function benchGroups({ members, seed, supernodes: SUPERNODES, senders, warmPerSender }: GroupBenchOptions): Promise<GroupResults> {
  if (members < 3 || members > MAX_GROUP_MEMBERS) throw new RangeError(`members must be 3..${MAX_GROUP_MEMBERS}`);
  const wallStarted = performance.now();
  const link = { latencyMs: LINK_MS };
  const { net, network, drive, elapse, supernodes } = await overlayWorld(seed, SUPERNODES, { link: () => link, maxVirtualMs: 3_600_000 });
  const scheduler = network.scheduler;
  const users = Array.from({ length: members }, (_, i) => `member${String(i).padStart(3, '0')}`);
  // The login server's offline store, as its API behaves (per device, oldest first, until
  // acknowledged), without quotas: copies for devices a sender could not look up go there.
  const waiting: { id: number; device: number; sender: string; ciphertext: Uint8Array; storedAtMs: number }[] = [];
  let nextId = 1;
  const storeFor = (caller: string, device: number): OfflineStore => ({
    devicesOf: async (user) => {
      const i = users.indexOf(user);
      return i < 0 ? [] : [{ id: i, dhKey: devices[i]!.messenger.deviceKey }];
    },
    store: async (deviceId, ciphertext) => void waiting.push({ id: nextId++, device: deviceId, sender: caller, ciphertext, storedAtMs: scheduler.wallTimeMs() }),
    fetch: async () => waiting.filter((m) => m.device === device).slice(0, 50),
    ack: async (acked) => {
      for (const id of acked) waiting.splice(waiting.findIndex((m) => m.id === id), 1);
    },
  });
  let offlineCopies = 0;
  const devices: { user: string; host: ReturnType<typeof network.addHost>; attached: AttachedClient; messenger: Messenger; groups: GroupClient }[] = [];
  /** Per message id: when each receiving device showed it (virtual ms). */
  const shownAt = new Map<string, number[]>();
  const fetching: { cancel(): void }[] = [];
  try {
    for (const [i, user] of users.entries()) {
      const host = network.addHost({ link });
      const env = host.env();
      const identity = net.identity(user);
      const attached = new AttachedClient(env, { identity, verifier: net.verifier, username: user, hostCache: new HostCache(), bootstrap: [supernodes[i % SUPERNODES]!.ref] });
      await drive(attached.start());
      const messenger = new Messenger(env, { identity, verifier: net.verifier, username: user, transport: overlayTransport(attached), offline: storeFor(user, i) });
      const groups = new GroupClient(env, messenger, { identity, verifier: net.verifier });
      groups.onMessage((m) => {
        if (m.offline) offlineCopies++;
        const list = shownAt.get(m.id) ?? [];
        list.push(scheduler.now());
        shownAt.set(m.id, list);
      });
      devices.push({ user, host, attached, messenger, groups });
      // Each client fetches its offline messages every 30 s, at its own phase.
      const fetchLoop = () => {
        void messenger.fetchOffline().catch(() => {});
        fetching.push(env.clock.after(OFFLINE_FETCH_MS, fetchLoop));
      };
      fetching.push(env.clock.after((i * OFFLINE_FETCH_MS) / members, fetchLoop));
    }
    await elapse(2_000);
    const admin = devices[0]!;
    const createStarted = scheduler.now();
    const adminSentBefore = admin.host.bytesSent;
    // Members added one at a time, 4 a second: each ADD goes to every member so far, whose
    // devices the admin looks up once per 30 s, within the supernode's lookup budget (a burst of
    // 20, then 5/s). All at once (`create(name, members)`), most of those lookups are refused:
    // the copies go through the offline store, and a member whose ops then come more than 64
    // ahead of a missing one stalls (docs/groups.md, "Not built yet").
    const groupId = await drive(admin.groups.create('benchmark'));
    for (const [n, user] of users.slice(1).entries()) {
      await drive(admin.groups.invite(groupId, user));
      // Each ADD is a routed copy per member device so far: paced within the admin's route
      // budget (200/s) as well, or its streams fall behind for minutes.
      await elapse(Math.max(INVITE_EVERY_MS, (n + 1) * INVITE_MS_PER_MEMBER));
    }
    for (let i = 0; i < 1_200 && devices.some((d) => d.groups.list().length !== 1 || d.groups.group(groupId).members.length !== members); i++) await elapse(100);
    const createVirtualMs = scheduler.now() - createStarted;
    const createStored = nextId - 1;
    const missing = devices.filter((d) => d.groups.list().length !== 1 || d.groups.group(groupId).members.length !== members);
    if (missing.length > 0) throw new Error(`not every device saw the whole group: ${missing.length} did not (${missing.slice(0, 3).map((d) => `${d.user}: ${d.groups.list().map((g) => g.members.length).join()} refused ${JSON.stringify(Object.fromEntries(d.groups.refused))} waited ${JSON.stringify(Object.fromEntries(d.groups.waited))}`).join("; ")}); admin failures ${JSON.stringify(Object.fromEntries(admin.groups.failures))}`);
    await drive(admin.messenger.acknowledged(60_000));
    const createAdminBytesSent = admin.host.bytesSent - adminSentBefore;
    await elapse(2_000);

    /**
     * Sends one message from `d` and waits until every other device showed it (copies for
     * devices the sender could not look up wait in the offline store for the device's next
     * fetch) and acknowledged it; returns the latencies and how many came from the store.
     */
    const sendOne = async (d: (typeof devices)[number]) => {
      const sentAt = scheduler.now();
      const offlineBefore = offlineCopies;
      const out = await drive(d.groups.send(groupId, TEXT_100));
      for (let i = 0; i < (3 * OFFLINE_FETCH_MS) / 500 && (shownAt.get(out.id)?.length ?? 0) < members - 1; i++) await elapse(500);
      const shown = shownAt.get(out.id) ?? [];
      if (shown.length !== members - 1 || out.devices !== members - 1) throw new Error(`message ${out.id}: shown on ${shown.length} of ${members - 1} devices`);
      if (!(await drive(d.messenger.acknowledged(60_000)))) throw new Error(`message ${out.id}: not every device acknowledged`);
      await elapse(SETTLE_MS);
      return { latencies: shown.map((t) => t - sentAt), fromStore: offlineCopies - offlineBefore };
    };

    const first: number[][] = [];
    const warm: number[][] = [];
    const idle: number[][] = [];
    let firstFromStore = 0;
    let warmFromStore = 0;
    let warmRouteFailures = 0;
    let idleFromStore = 0;
    const senderSent: number[] = [];
    const senderReceived: number[] = [];
    const receiverReceived: number[] = [];
    const receiverSent: number[] = [];
    const supernodeSent: number[] = [];
    const senderWall: number[] = [];
    const senderCpu: number[] = [];
    const median = (values: number[]) => percentile(values, 50);
    // Senders spread over the group, not the admin (its streams carried the making of the group).
    const chosen = Array.from({ length: senders }, (_, i) => devices[1 + Math.floor((i * (members - 1)) / senders)]!);
    for (const sender of chosen) {
      const sent = await sendOne(sender);
      first.push(sent.latencies);
      firstFromStore += sent.fromStore;
      // Its device lists, looked up within the supernode's lookup budget (a burst of 20, then
      // 5/s; a refused lookup would be answered from the last list and asked again 5 s later):
      // warm messages then go to every device live, with no lookup.
      for (const [n, d] of devices.filter((x) => x !== sender).entries()) {
        if (n >= LOOKUP_BURST - 2) await elapse(1_000 / LOOKUPS_PER_SECOND + 10);
        await drive(sender.messenger.devicesOf(d.user).catch(() => []));
      }
      for (let i = 0; i < warmPerSender; i++) {
        const receivers = devices.filter((d) => d !== sender);
        const before = { sent: sender.host.bytesSent, received: sender.host.bytesReceived, rx: receivers.map((d) => [d.host.bytesReceived, d.host.bytesSent] as const), sn: supernodes.reduce((n, s) => n + s.host.bytesSent, 0) };
        // The sender's own work: packets first reach its supernode after two links, so for
        // anything shorter only this device (and rare keep-alives elsewhere) runs.
        const offlineBefore = offlineCopies;
        const wallStart = performance.now();
        const cpuStart = process.cpuUsage();
        const sentAt = scheduler.now();
        const failedBefore = sender.messenger.failures.get('transport_send') ?? 0;
        const out = await drive(sender.groups.send(groupId, TEXT_100));
        await elapse(LINK_MS);
        senderWall.push(performance.now() - wallStart);
        const cpu = process.cpuUsage(cpuStart);
        senderCpu.push((cpu.user + cpu.system) / 1000);
        for (let w = 0; w < (3 * OFFLINE_FETCH_MS) / 500 && (shownAt.get(out.id)?.length ?? 0) < members - 1; w++) await elapse(500);
        if (!(await drive(sender.messenger.acknowledged(60_000)))) throw new Error(`message ${out.id}: not every device acknowledged`);
        await elapse(SETTLE_MS);
        const shown = shownAt.get(out.id) ?? [];
        if (shown.length !== members - 1) throw new Error(`warm message ${out.id}: shown on ${shown.length} of ${members - 1} devices`);
        warmFromStore += offlineCopies - offlineBefore;
        warmRouteFailures += (sender.messenger.failures.get('transport_send') ?? 0) - failedBefore;
        warm.push(shown.map((t) => t - sentAt));
        senderSent.push(sender.host.bytesSent - before.sent);
        senderReceived.push(sender.host.bytesReceived - before.received);
        receiverReceived.push(median(receivers.map((d, j) => d.host.bytesReceived - before.rx[j]![0])));
        receiverSent.push(median(receivers.map((d, j) => d.host.bytesSent - before.rx[j]![1])));
        supernodeSent.push(supernodes.reduce((n, s) => n + s.host.bytesSent, 0) - before.sn);
      }
    }
    // Senders idle longer than the device-list cache: sessions kept, device lists looked up again.
    await elapse(DEVICE_LIST_CACHE_MS + 1_000);
    for (const sender of chosen) {
      const sent = await sendOne(sender);
      idle.push(sent.latencies);
      idleFromStore += sent.fromStore;
    }

    return {
      members,
      seed,
      linkMs: LINK_MS,
      supernodes: SUPERNODES,
      rttMs: 4 * LINK_MS,
      warm: latency(warm),
      firstFromSender: latency(first),
      idleSender: latency(idle),
      firstFromStore,
      warmFromStore,
      warmRouteFailures,
      idleFromStore,
      createStored,
      senderBytesSent: summarise(senderSent),
      senderBytesReceived: summarise(senderReceived),
      receiverBytesReceived: summarise(receiverReceived),
      receiverBytesSent: summarise(receiverSent),
      supernodeBytesSent: summarise(supernodeSent),
      senderWallMs: summarise(senderWall),
      senderCpuMs: summarise(senderCpu),
      createVirtualMs,
      createAdminBytesSent,
      wallSeconds: (performance.now() - wallStarted) / 1000,
    };
  } finally {
    for (const t of fetching) t.cancel();
    for (const d of devices) {
      d.groups.close();
      d.messenger.close();
      d.attached.close();
    }
    for (const s of supernodes) s.running.close();
  }
}

/** The "Group chats (issue 24)" section of docs/benchmarks.md: four supernodes (as deployed, the default limits) and one (no route costs a lookup). */
export function groupLines(g: GroupResults, one: GroupResults): string[] {
  const rtt = (ms: number) => `${fmt(ms)} ms (${fmt(ms / g.rttMs, 1)} RTT)`;
  const cell = (l: Latency) => `${rtt(l.p50)} / ${rtt(l.p99)}; last device ${rtt(l.allShownMedian)} / ${rtt(l.allShownMax)}`;
  const m = (x: Measurement) => `${fmt(x.median)} (${fmt(x.min)}–${fmt(x.max)})`;
  const ms = (x: Measurement) => `${fmt(x.median, 1)} ms (${fmt(x.min, 1)}–${fmt(x.max, 1)})`;
  const devices = g.members - 1;
  return [
    '## Group chats (issue 24)',
    '',
    `The virtual network (seed ${g.seed}): one group of ${fmt(g.members)} members, **one device each** (so ${fmt(devices)} receiving devices per message), every device attached to a supernode in turn; every link ${g.linkMs} ms one way, so a packet between two hosts takes ${2 * g.linkMs} ms and **1 RTT (a device's round trip to its supernode) = ${g.rttMs} ms**; no loss, no bandwidth limit, every member online. An offline store behaves as the login server's (without its quotas), and every device fetches from it every ${fmt(OFFLINE_FETCH_MS / 1000)} s as \`parley online\` does. The admin adds the members one by one, ${fmt(INVITE_EVERY_MS)} ms apart or ${fmt(INVITE_MS_PER_MEMBER)} ms per member already in, whichever is longer (within its route budget: each ADD is a copy per member device); the senders are other members. Messages of 100 characters, one at a time, each waited for until shown on every other device and acknowledged, then ${fmt(SETTLE_MS)} ms more. Two worlds: **${g.supernodes} supernodes** (as deployed: a supernode holds the presence records of some users only, so routing to the others costs the sender one of its lookups, a burst of 20 then 5/s, limits.md) and **1 supernode** (it holds every record: no route costs a lookup; the protocol's own path). Times are virtual (exact for the seed), except the sender's cost; the runs took ${fmt(g.wallSeconds)} s and ${fmt(one.wallSeconds)} s of wall time. \`node dist/bench/groups-only.js [members] [seed]\` runs this section alone.`,
    '',
    `| latency, send → shown on each device: p50 / p99 over every (message, device); the last device of each message: median / max | ${g.supernodes} supernodes | 1 supernode |`,
    '| --- | --- | --- |',
    `| sessions warm, the sender's device lists looked up beforehand (${g.warm.messages} and ${one.warm.messages} messages) | ${cell(g.warm)}; ${fmt(g.warmFromStore)} copies came through the offline store, ${fmt(g.warmRouteFailures)} routed sends were refused (sent again by the stream) | ${cell(one.warm)}; ${fmt(one.warmFromStore)} through the store, ${fmt(one.warmRouteFailures)} refused |`,
    `| a sender's first message: its device lists looked up, Noise sessions set up, its sender key handed out (${g.firstFromSender.messages} senders) | ${cell(g.firstFromSender)}; ${fmt(g.firstFromStore)} copies through the store | ${cell(one.firstFromSender)}; ${fmt(one.firstFromStore)} through the store |`,
    `| a sender idle over ${fmt(DEVICE_LIST_CACHE_MS / 1000)} s: sessions kept, every member's device list looked up again | ${cell(g.idleSender)}; ${fmt(g.idleFromStore)} copies through the store | ${cell(one.idleSender)}; ${fmt(one.idleFromStore)} through the store |`,
    '',
    `| per message (sessions warm), IP/TCP headers included: median (range over messages) | ${g.supernodes} supernodes | 1 supernode |`,
    '| --- | --- | --- |',
    `| bytes sent by the sender: one copy per member device, each in its pairwise session, routed through its supernode | ${m(g.senderBytesSent)} B | ${m(one.senderBytesSent)} B = ${fmt(one.senderBytesSent.median / devices)} B per receiving device |`,
    `| bytes received by the sender: the route answers and the devices' end-to-end acknowledgements | ${m(g.senderBytesReceived)} B | ${m(one.senderBytesReceived)} B |`,
    `| bytes received by each receiving device (median over devices) | ${m(g.receiverBytesReceived)} B | ${m(one.receiverBytesReceived)} B |`,
    `| bytes sent by each receiving device: its acknowledgement (median over devices) | ${m(g.receiverBytesSent)} B | ${m(one.receiverBytesSent)} B |`,
    `| bytes sent by the supernodes together | ${m(g.supernodeBytesSent)} B | ${m(one.supernodeBytesSent)} B |`,
    `| the sender's cost, wall time (this machine, shared): one sender-key seal and signature, ${fmt(devices)} deliveries, ${fmt(devices)} pairwise seals and routed requests | ${ms(g.senderWallMs)} | ${ms(one.senderWallMs)} = ${fmt((one.senderWallMs.median * 1000) / devices)} µs per receiving device |`,
    `| the same, the process's CPU time (user + system) | ${ms(g.senderCpuMs)} | ${ms(one.senderCpuMs)} |`,
    `| making the group: ${fmt(devices)} members added one by one (each ADD to every member so far, a welcome to the new one) | ${fmt(g.createVirtualMs / 1000, 1)} s until every device holds the whole group; the admin sends ${fmt(g.createAdminBytesSent / 1024)} KiB; ${fmt(g.createStored)} copies left in the store | ${fmt(one.createVirtualMs / 1000, 1)} s; ${fmt(one.createAdminBytesSent / 1024)} KiB; ${fmt(one.createStored)} in the store |`,
    '',
    `Where the time goes. **Warm**: every copy goes live; a route's answer waits for the delivery to the device, and a sender keeps at most ${MAX_ROUTES_IN_FLIGHT} routes in flight on its link (\`MAX_ROUTES_IN_FLIGHT\`, below the link's ${MAX_PENDING_PER_LINK} requests), so ${fmt(devices)} copies leave in ${Math.ceil(devices / MAX_ROUTES_IN_FLIGHT)} waves and the last devices are shown theirs a route's round trip later; with several supernodes a route to a user whose record the sender's supernode does not hold costs a lookup through the overlay first (what a lookup found is kept there 10 s). **A sender's first message**: the sender looks up each member's devices, one member after another, and its supernode allows a client a burst of 20 lookups, then 5 a second (limits.md); a lookup refused leaves that member's copy sealed in the offline store, shown at the device's next fetch (every 30 s), which is the p99 and most of the p50. **After 30 s idle** the lookups are refused the same way, but a refused one is answered with the member's last device list (\`ListCache\`, asked again 5 s later), so every copy goes live; what remains is the lookups themselves, one member after another. Making the group is paced for the same reason: added faster than the admin's route budget (200/s) allows, the admin's streams fall behind for minutes.`,
    "",
    "The sender's cost is from calling `send` until one link crossing of virtual time later, before any copy can reach a supernode: the sender's own work (one sender-key seal and signature, a delivery per device (with the sender key beside it until the device acknowledged one), a pairwise seal and a routed request per device) and the virtual network's handling of its packets, on one thread of a 2-core machine shared by several runs (the CPU time is the whole process's over the same window, V8's collector threads included, so it can exceed the wall time). Bytes: the sender uploads one copy per member device (docs/groups.md, \"Delivery\"); the ranges' high ends are messages during which keep-alives or a re-sent frame fell in the window.",
  ];
}

/** Both worlds of the section: four supernodes and one (about a minute of wall time in all at 100 members). */
export async function benchGroupWorlds(members = 100, seed = 1): Promise<{ spread: GroupResults; single: GroupResults }> {
  const spread = await benchGroups({ members, seed, supernodes: 4, senders: 4, warmPerSender: 4 });
  const single = await benchGroups({ members, seed, supernodes: 1, senders: 4, warmPerSender: 4 });
  return { spread, single };
}
