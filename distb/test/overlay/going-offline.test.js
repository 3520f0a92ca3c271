// A device that leaves is offline in the overlay within seconds, not when its record would have
// expired: a clean close is its goodbye (proven by the authenticated link) and its supernode
// withdraws the record it published; a device whose link dies silently is withdrawn once its
// supernode drops it; a record nobody withdraws dies with its lease; and no one but a supernode
// the record names can withdraw it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { AttachedClient } from '../../src/client/attachment.js';
import { HostCache } from '../../src/overlay/host-cache.js';
import { supernodeId } from '../../src/overlay/node-id.js';
import { PATH_CACHE_TTL_MS, RECORD_LEASE_MS } from '../../src/supernode/dht.js';
import { WithdrawOutcome, WithdrawPresenceSchema } from '../../src/wire/messages.js';
import { testSeed, withSeed } from '../support/seed.js';
import { overlayWorld } from '../support/supernodes.js';
/** Twelve supernodes (more than the 8 replicas, so some lookups go through caches), alice and bob on different ones. */
async function world(seed) {
    const w = await overlayWorld(seed, 12, { link: (i) => ({ latencyMs: 5 + 2 * i }) });
    const device = async (name, sn) => {
        const host = w.network.addHost({ behind: w.network.addGateway({ nat: 'port-restricted' }), link: { latencyMs: 15 } });
        const attached = new AttachedClient(host.env(), { identity: w.net.identity(name), verifier: w.net.verifier, username: name, hostCache: new HostCache(), bootstrap: [w.supernodes[sn].ref] });
        await w.drive(attached.start());
        return { host, attached };
    };
    const alice = await device('alice', 0);
    const bob = await device('bob', 7);
    await w.elapse(2_000);
    const close = () => {
        alice.attached.close();
        bob.attached.close();
        for (const s of w.supernodes)
            s.running.close();
    };
    /** Virtual ms until bob's lookup of alice finds nothing, checking every second (null: not within `limitMs`). */
    const untilOffline = async (limitMs) => {
        const started = w.network.scheduler.now();
        while (w.network.scheduler.now() - started <= limitMs) {
            if ((await w.drive(bob.attached.find('alice'))).length === 0)
                return w.network.scheduler.now() - started;
            await w.elapse(1_000);
        }
        return null;
    };
    return { ...w, alice, bob, close, untilOffline };
}
test('a device that closes cleanly is offline for a lookup from another supernode within seconds', { timeout: 60_000 }, () => withSeed(testSeed(), async (seed) => {
    const w = await world(seed);
    try {
        assert.equal((await w.drive(w.bob.attached.find('alice'))).length, 1, 'found while online (bob\'s supernode may now cache it)');
        w.alice.attached.close();
        const ms = await w.untilOffline(30_000);
        assert.ok(ms !== null && ms <= 12_000, `offline for lookups after ${ms} ms`);
        // No replica holds it any more, and a copy offered again is refused as stale.
        const now = w.network.scheduler.wallTimeMs();
        const holders = w.supernodes.filter((s) => s.running.dht.store.get('alice', now).length > 0);
        assert.deepEqual(holders.map((s) => s.ref.host), [], 'no supernode holds alice\'s record');
    }
    finally {
        w.close();
    }
}));
test('a device whose link dies without a goodbye is offline once its supernode drops it (within 100 s), and withdrawn from the replicas', { timeout: 60_000 }, () => withSeed(testSeed(), async (seed) => {
    const w = await world(seed);
    try {
        const record = (await w.drive(w.bob.attached.find('alice')))[0];
        w.alice.host.crash();
        // Three keep-alive intervals of silence, swept once per interval: at most 100 s.
        const ms = await w.untilOffline(120_000);
        assert.ok(ms !== null && ms <= 100_000 + 5_000, `offline for lookups after ${ms} ms`);
        assert.ok(ms < RECORD_LEASE_MS, 'withdrawn, not merely expired');
        const sn = w.supernodes[0];
        assert.equal(sn.running.attachments.size, 0, 'alice was dropped by her supernode');
        // The withdrawn record, offered again (by a replica that missed the withdrawal, say), is refused as stale by the replicas.
        const stale = w.supernodes.filter((s) => s.running.dht.store.put(record) === 'stale');
        assert.ok(stale.length >= 8, `${stale.length} supernodes refuse the withdrawn record`);
    }
    finally {
        w.close();
    }
}));
test('a record that nobody withdraws (its device and its supernode both gone) dies with its lease, within 3 minutes (and a lookup cache\'s 10 s)', { timeout: 60_000 }, () => withSeed(testSeed(), async (seed) => {
    const w = await world(seed);
    try {
        assert.equal((await w.drive(w.bob.attached.find('alice'))).length, 1);
        w.alice.host.crash();
        w.supernodes[0].host.crash();
        // The replicas drop it when its lease ends; a lookup's cache may hold it a little longer.
        const ms = await w.untilOffline(RECORD_LEASE_MS + 30_000);
        assert.ok(ms !== null && ms <= RECORD_LEASE_MS + PATH_CACHE_TTL_MS, `offline for lookups after ${ms} ms`);
        assert.ok(ms > 100_000, 'no withdrawal could have come: it died with its lease');
    }
    finally {
        w.close();
    }
}));
test('a withdrawal from a supernode the record does not name is refused: nobody takes someone else offline', { timeout: 60_000 }, () => withSeed(testSeed(), async (seed) => {
    const w = await world(seed);
    try {
        const record = (await w.drive(w.bob.attached.find('alice')))[0];
        // Supernode 5 (not alice's) knows her genuine record, as any supernode may, and sends it back as withdrawn to every replica.
        const forger = w.supernodes[5].running.dht;
        const outcomes = [];
        for (const s of w.supernodes) {
            if (s.running.dht === forger)
                continue;
            const channel = await w.drive(forger.channelTo({ id: supernodeId(s.ref.dhKey), host: s.ref.host, port: s.ref.port, dhKey: s.ref.dhKey }));
            const answer = await w.drive(channel.request((requestId) => ({ case: 'withdrawPresence', value: create(WithdrawPresenceSchema, { requestId, record: record.encoded }) })));
            assert.equal(answer.body.case, 'withdrawn');
            if (answer.body.case === 'withdrawn') {
                outcomes.push(answer.body.value.outcome);
                assert.match(answer.body.value.detail, /not_named/);
            }
        }
        assert.ok(outcomes.length === 11 && outcomes.every((o) => o === WithdrawOutcome.REFUSED), 'every supernode refused');
        await w.elapse(11_000); // past any cache
        assert.equal((await w.drive(w.bob.attached.find('alice'))).length, 1, 'alice is still online');
        // A damaged record is refused too (it does not verify).
        const damaged = Uint8Array.from(record.encoded);
        damaged[damaged.length - 1] ^= 1;
        const s = w.supernodes[0];
        const channel = await w.drive(forger.channelTo({ id: supernodeId(s.ref.dhKey), host: s.ref.host, port: s.ref.port, dhKey: s.ref.dhKey }));
        const answer = await w.drive(channel.request((requestId) => ({ case: 'withdrawPresence', value: create(WithdrawPresenceSchema, { requestId, record: damaged }) })));
        assert.ok(answer.body.case === 'withdrawn' && answer.body.value.outcome === WithdrawOutcome.REFUSED && /bad_signature/.test(answer.body.value.detail));
    }
    finally {
        w.close();
    }
}));
test('a device whose link broke and that attached again is not withdrawn by the old link\'s withdrawal: its newer record stands', { timeout: 60_000 }, () => withSeed(testSeed(), async (seed) => {
    const w = await world(seed);
    try {
        const before = (await w.drive(w.bob.attached.find('alice')))[0];
        // Alice's supernode drops her link (as its sweep does): it withdraws her record, and she attaches again with a newer one.
        const events = [];
        w.alice.attached.onEvent((e) => events.push(e.kind));
        w.supernodes[0].running.attachments.sessionsOf('alice')[0].link.close();
        await w.elapse(15_000);
        assert.ok(events.includes('attached'), 'alice attached elsewhere');
        const after = await w.drive(w.bob.attached.find('alice'));
        assert.equal(after.length, 1, 'still online');
        assert.ok(after[0].sequence > before.sequence);
    }
    finally {
        w.close();
    }
}));
//# sourceMappingURL=going-offline.test.js.map