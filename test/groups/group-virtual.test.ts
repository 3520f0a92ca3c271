// Group chat on the virtual network, seeded: MEMBERS users with DEVICES devices each, every
// device attached to the overlay with its own messenger and group client, and an offline store
// as the login server's behaves. Members join and leave, one is removed, one member's devices
// are all offline for part of the run. Every device of every member gets every message sent while
// its user was a member exactly once, each sender's in its order, and the display order is the
// same on every device; a member who left or was removed, keeping every key it had, opens
// nothing sent after. CI runs 20 x 3 (PARLEY_GROUP_MEMBERS / PARLEY_GROUP_DEVICES change it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AttachedClient } from '../../src/client/attachment.js';
import { HostCache } from '../../src/overlay/host-cache.js';
import { overlayTransport } from '../../src/client/overlay-transport.js';
import { Messenger } from '../../src/messenger/messenger.js';
import type { OfflineStore } from '../../src/messenger/transport.js';
import { toHex } from '../../src/crypto/bytes.js';
import type { NodeIdentity } from '../../src/crypto/identity.js';
import { GroupClient, type GroupMessage } from '../../src/groups/group-client.js';
import { MemoryGroupStore } from '../../src/groups/group-history.js';
import { GroupSession } from '../../src/groups/group-session.js';
import { ReceivedSenderKey, readHeader } from '../../src/groups/sender-key.js';
import { create } from '@bufbuild/protobuf';
import { GroupDeliverySchema, type GroupCiphertext } from '../../src/wire/messages.js';
import { testSeed, withSeed } from '../support/seed.js';
import { overlayWorld } from '../support/supernodes.js';

const MEMBERS = Number(process.env.PARLEY_GROUP_MEMBERS ?? 20);
const DEVICES = Number(process.env.PARLEY_GROUP_DEVICES ?? 3);

interface Sent {
  readonly id: string;
  readonly from: string;
  readonly device: string;
  readonly seq: bigint;
  /** The users the group had when it was sent (the sender's view, settled). */
  readonly members: readonly string[];
}

test(`a group of ${MEMBERS} members with ${DEVICES} devices each: joins, a leave, a removal, a member offline; every message once per device, in each sender's order; the departed open nothing after`, { timeout: 600_000 }, (t) =>
  withSeed(testSeed(), async (seed) => {
    const { net, network, drive, elapse, supernodes } = await overlayWorld(seed, 4, { link: (i) => ({ latencyMs: 5 + 3 * i }), maxVirtualMs: 3_600_000 });
    assert.ok(MEMBERS >= 8 && DEVICES >= 1, 'the scenario needs at least 8 members');
    const users = Array.from({ length: MEMBERS }, (_, i) => `user${String(i).padStart(2, '0')}`);
    const identities = new Map<string, NodeIdentity[]>(users.map((u) => [u, Array.from({ length: DEVICES }, () => net.identity(u))]));

    // The login server's offline store: per device, oldest first, until acknowledged.
    const ids = new Map<string, number>();
    let nextDeviceId = 1;
    for (const [, list] of identities) for (const id of list) ids.set(toHex(id.dh.publicKey), nextDeviceId++);
    const waiting: { id: number; device: number; sender: string; ciphertext: Uint8Array; storedAtMs: number }[] = [];
    let nextId = 1;
    const storeFor = (caller: string, device: number): OfflineStore => ({
      devicesOf: async (user) => (identities.get(user) ?? []).map((i) => ({ id: ids.get(toHex(i.dh.publicKey))!, dhKey: i.dh.publicKey })),
      store: async (deviceId, ciphertext) => void waiting.push({ id: nextId++, device: deviceId, sender: caller, ciphertext, storedAtMs: network.scheduler.wallTimeMs() }),
      fetch: async () => waiting.filter((m) => m.device === device).slice(0, 50),
      ack: async (acked) => {
        for (const id of acked) waiting.splice(waiting.findIndex((m) => m.id === id), 1);
      },
    });

    interface Dev {
      readonly user: string;
      readonly key: string;
      readonly identity: NodeIdentity;
      readonly store: MemoryGroupStore;
      readonly inbox: GroupMessage[];
      readonly host: ReturnType<typeof network.addHost>;
      attached: AttachedClient;
      messenger: Messenger;
      groups: GroupClient;
      online: boolean;
    }
    const start = async (d: Pick<Dev, 'user' | 'identity' | 'store' | 'inbox' | 'host'>) => {
      const attached = new AttachedClient(d.host.env(), { identity: d.identity, verifier: net.verifier, username: d.user, hostCache: new HostCache(), bootstrap: supernodes.map((s) => s.ref) });
      await drive(attached.start());
      const messenger = new Messenger(d.host.env(), { identity: d.identity, verifier: net.verifier, username: d.user, transport: overlayTransport(attached), offline: storeFor(d.user, ids.get(toHex(d.identity.dh.publicKey))!) });
      const groups = new GroupClient(d.host.env(), messenger, { identity: d.identity, verifier: net.verifier, store: d.store });
      groups.onMessage((m) => d.inbox.push(m));
      return { attached, messenger, groups };
    };
    const devices: Dev[] = [];
    for (const user of users) {
      for (const identity of identities.get(user)!) {
        const host = network.addHost({ behind: network.addGateway({ nat: 'port-restricted' }), link: { latencyMs: 5 + (devices.length % 7) } });
        const base = { user, key: toHex(identity.dh.publicKey), identity, store: new MemoryGroupStore(), inbox: [] as GroupMessage[], host };
        devices.push({ ...base, ...(await start(base)), online: true });
      }
    }
    const devicesOf = (user: string) => devices.filter((d) => d.user === user);
    const stop = (d: Dev) => {
      d.groups.close();
      d.messenger.close();
      d.attached.close();
      d.online = false;
    };
    const restart = async (d: Dev) => {
      Object.assign(d, await start(d), { online: true });
      await drive(d.messenger.fetchOffline());
    };
    try {
      await elapse(3_000);
      const admin = devices[0]!;
      const initial = users.slice(1, Math.max(2, Math.floor(MEMBERS * 0.7)));
      const groupId = await drive(admin.groups.create('climbing club', initial));
      await elapse(5_000);
      for (const user of [admin.user, ...initial]) for (const d of devicesOf(user)) assert.equal(d.groups.list().length, 1, `${user} ${d.key.slice(0, 6)} was welcomed`);

      const sent: Sent[] = [];
      let round = 0;
      /** Every member sends one message, from one of its devices in turn. */
      const sendRound = async () => {
        const members = admin.groups.group(groupId).members;
        for (const user of members) {
          const d = devicesOf(user)[round % DEVICES]!;
          if (!d.online || !d.groups.group(groupId).active) continue;
          const text = `${user} round ${round}${round % 2 === 0 ? ` @${admin.user}` : ''}`;
          const out = await drive(d.groups.send(groupId, text, round % 2 === 0 ? [admin.user] : []));
          sent.push({ id: out.id, from: user, device: d.key, seq: out.seq, members });
        }
        round++;
        await elapse(3_000);
      };

      await sendRound();
      // One member's devices all go offline for a while.
      const away = initial[Math.floor(initial.length / 2)]!;
      for (const d of devicesOf(away)) stop(d);
      await sendRound();
      // New members join.
      const joining = users.slice(1 + initial.length, Math.min(MEMBERS, 1 + initial.length + 3));
      for (const user of joining) await drive(admin.groups.invite(groupId, user));
      await elapse(5_000);
      await sendRound();
      // A member leaves (from one of its devices); another is removed. Their devices' state is
      // kept first, as a hostile member would keep it.
      const leaver = initial[1]!;
      const removed = initial[3]!;
      const kept = new Map<string, { user: string; key: string; json: ReturnType<GroupSession['toJSON']> }>();
      // What each of their devices has on disk (written within a second of every change).
      for (const d of [...devicesOf(leaver), ...devicesOf(removed)]) kept.set(d.key, { user: d.user, key: d.key, json: JSON.parse(d.store.loadSessions().find((s) => s.id === groupId)!.json) });
      await drive(devicesOf(leaver)[DEVICES > 1 ? 1 : 0]!.groups.leave(groupId));
      await elapse(5_000);
      await drive(admin.groups.remove(groupId, removed));
      await elapse(5_000);
      assert.ok(!admin.groups.group(groupId).members.includes(leaver) && !admin.groups.group(groupId).members.includes(removed));
      // What the remaining members send from now on, as it reached one of them.
      const after: { from: string; device: Uint8Array; ciphertext: GroupCiphertext }[] = [];
      const watcher = devicesOf(users[1]!)[0]!;
      watcher.messenger.subscribe('group', (from, payload) => {
        if (payload.body.case === 'message' && payload.body.value.ciphertext) after.push({ from: from.user, device: from.device, ciphertext: payload.body.value.ciphertext });
      });
      await sendRound();
      // The member who was away comes back, fetches what waited, and the group goes on.
      for (const d of devicesOf(away)) await restart(d);
      await sendRound();
      await sendRound();
      // Until every device acknowledged everything, fetching what waits as a running client does.
      for (let i = 0; i < 60 && (devices.some((d) => d.online && d.messenger.unacknowledged > 0) || waiting.length > 0); i++) {
        await elapse(5_000);
        for (const d of devices) if (d.online) await drive(d.messenger.fetchOffline());
      }

      // Every device got exactly what it should: each message sent while its user was a member, once.
      const final = admin.groups.group(groupId).members;
      for (const d of devices) {
        const expected = sent.filter((m) => m.members.includes(d.user) && m.device !== d.key).map((m) => m.id).sort();
        const got = d.inbox.map((m) => m.id);
        assert.equal(new Set(got).size, got.length, `${d.user} ${d.key.slice(0, 6)} was shown a message twice`);
        assert.deepEqual([...got].sort(), expected, `${d.user} ${d.key.slice(0, 6)}: the messages of its membership, no more, no less`);
        // Each sender device's messages in its order.
        const bySender = new Map<string, bigint[]>();
        for (const m of d.inbox) bySender.set(toHex(m.fromDevice), [...(bySender.get(toHex(m.fromDevice)) ?? []), m.seq]);
        for (const [sender, seqs] of bySender) assert.deepEqual(seqs, [...seqs].sort((a, b) => (a < b ? -1 : 1)), `${d.user} ${d.key.slice(0, 6)}: ${sender.slice(0, 6)}'s messages in order`);
        assert.ok(d.inbox.every((m) => m.mentionsMe === m.mentions.includes(d.user)));
      }
      // The away member's devices got what was sent while they were off through the store.
      for (const d of devicesOf(away)) assert.ok(d.inbox.some((m) => m.offline), `${d.key.slice(0, 6)} caught up from the offline store`);
      // The same display order everywhere, over the messages every final member's device holds.
      const common = new Set(sent.filter((m) => final.every((u) => m.members.includes(u))).map((m) => m.id));
      const orders = devices.filter((d) => final.includes(d.user)).map((d) => d.store.messages(groupId, 100_000).filter((m) => common.has(m.id)).map((m) => m.id));
      for (const order of orders) assert.deepEqual(order, orders[0]);
      assert.ok(common.size > 0);

      // The departed, with every key they kept, open nothing sent after they went.
      assert.ok(after.length > 0);
      for (const { user, key, json } of kept.values()) {
        const hostile = GroupSession.fromJSON(json, { user, device: new Uint8Array(Buffer.from(key, 'hex')) })!;
        for (const a of after) {
          const opened = hostile.receive({ user: a.from, device: a.device }, create(GroupDeliverySchema, { ciphertext: a.ciphertext }), 0);
          assert.ok(!opened.ok, `${user}'s kept session opened a later message`);
          const header = readHeader(a.ciphertext);
          assert.ok(header.ok);
          for (const s of json.senders) for (const k of s.keys) assert.ok(!ReceivedSenderKey.fromJSON(k)!.open(a.ciphertext, header.value.iteration).ok);
        }
      }
      // What the run came to, for docs/groups.md.
      const sum = (f: (d: Dev) => number) => devices.reduce((n, d) => n + f(d), 0);
      const reasons = new Map<string, number>();
      for (const d of devices) for (const [reason, n] of [...d.groups.refused, ...d.groups.waited]) reasons.set(reason, (reasons.get(reason) ?? 0) + n);
      t.diagnostic(`${sent.length} messages, ${sum((d) => d.inbox.length)} shown, ${sum((d) => d.inbox.filter((m) => m.offline).length)} of them from the offline store, ${sum((d) => d.groups.duplicates)} copies dropped as repeats, ${nextId - 1} sealed copies left for offline devices; refused or held: ${JSON.stringify(Object.fromEntries(reasons))}`);
      for (const d of devices) {
        assert.equal(d.groups.refused.get('bad_signature') ?? 0, 0);
        assert.equal(d.groups.refused.get('gap_skipped') ?? 0, 0, `${d.user}: no gap had to be passed over`);
      }
    } finally {
      for (const d of devices) if (d.online) stop(d);
      for (const s of supernodes) s.running.close();
    }
  }));
