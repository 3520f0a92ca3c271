// Hostile senders and the offline store (issue 19): before, any user could fill any device's
// store (1 000 messages in 40 s), and then the recipient's buddy got 507 until the device came
// online. Now each sender has a share of a device's store, and all senders who are not the
// recipient's buddies share a small part of it together. A real login server (its HTTP API over
// Fastify's inject) on SQLite and on PostgreSQL, as in test/login-server/api.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toBase64Url } from '../../src/crypto/bytes.js';
import { cryptoRandom } from '../../src/env/real.js';
import { DEFAULT_STORE_LIMITS, type StoreLimits } from '../../src/login-server/store/login-store.js';
import { DIALECTS, freshDatabase } from '../support/databases.js';
import { call, testServer, TestDevice } from '../support/login-server.js';

const MESSAGE_BYTES = 1024;
const sealed = () => ({ ciphertext: toBase64Url(cryptoRandom.bytes(MESSAGE_BYTES)) });

type Server = Awaited<ReturnType<typeof testServer>>;

let nextIp = 1;
/** A registered, logged-in user; each from its own address, as sybils would come. */
async function user(server: Server, name: string): Promise<TestDevice> {
  const device = new TestDevice(server.app, server.ca, name);
  const ip = `10.77.${Math.floor(nextIp / 250)}.${(nextIp++ % 250) + 1}`;
  const registered = await call(server.app, 'POST', '/v1/accounts', { username: name, password: device.password }, undefined, ip);
  assert.equal(registered.status, 201, `register ${name}: ${JSON.stringify(registered.body)}`);
  assert.equal((await device.passwordLogin(undefined, ip)).status, 200);
  return device;
}

async function befriend(from: TestDevice, to: TestDevice): Promise<void> {
  const asked = await from.send('POST', '/v1/buddy-requests', { to: to.username });
  assert.equal(asked.status, 202);
  assert.equal((await to.send('POST', `/v1/buddy-requests/${asked.body.id as number}/accept`)).status, 200);
}

/** Deposits until refused (or `max` deposits); how many were kept, and the refusal. */
async function fill(sender: TestDevice, deviceId: number, max: number): Promise<{ kept: number; refusal: { status: number; code: string | undefined } | null }> {
  for (let kept = 0; kept < max; kept++) {
    const answer = await sender.send('POST', `/v1/offline/${deviceId}`, sealed());
    if (answer.status !== 202) return { kept, refusal: { status: answer.status, code: answer.body.error?.code } };
  }
  return { kept: max, refusal: null };
}

async function refusals(server: Server, reason: string): Promise<number> {
  const metric = await server.context.metrics.offlineRefused.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

async function waiting(device: TestDevice): Promise<{ sender: string }[]> {
  return (await device.get('/v1/offline?limit=500')).body.messages as { sender: string }[];
}

for (const dialect of DIALECTS) {
  describe(`offline store under a hostile sender, on ${dialect}`, () => {
    test('with the default limits, a stranger is refused after its share and the buddy still deposits', async () => {
      const fresh = await freshDatabase(dialect);
      const server = await testServer(await fresh.open());
      try {
        const victim = await user(server, 'victim');
        const friend = await user(server, 'friend');
        const mallory = await user(server, 'mallory');
        await befriend(friend, victim);

        const flood = await fill(mallory, victim.deviceId, DEFAULT_STORE_LIMITS.maxOfflineMessagesPerDevice);
        assert.equal(flood.kept, DEFAULT_STORE_LIMITS.maxOfflineMessagesPerStranger, "a stranger keeps only a stranger's share");
        assert.deepEqual(flood.refusal, { status: 429, code: 'sender_share_exceeded' });
        const again = await mallory.send('POST', `/v1/offline/${victim.deviceId}`, sealed());
        assert.equal(again.status, 429, 'still refused: the share comes back only when the device fetches');
        assert.match(again.body.error?.message ?? '', /at most 10 messages/);
        assert.equal(await refusals(server, 'sender_share_exceeded'), 2);

        assert.equal((await friend.send('POST', `/v1/offline/${victim.deviceId}`, sealed())).status, 202, 'the buddy still gets in');
        const kept = await waiting(victim);
        assert.equal(kept.filter((m) => m.sender === 'mallory').length, DEFAULT_STORE_LIMITS.maxOfflineMessagesPerStranger);
        assert.equal(kept.filter((m) => m.sender === 'friend').length, 1);
      } finally {
        await server.close();
        await fresh.drop();
      }
    });

    test('many throwaway accounts fill only the strangers\' share; buddies and the user\'s own devices keep theirs; each buddy has a share too', async () => {
      const limits: Partial<StoreLimits> = {
        maxOfflineMessagesPerDevice: 20,
        maxOfflineMessagesPerBuddy: 6,
        maxOfflineMessagesPerStranger: 2,
        maxOfflineMessagesFromStrangers: 5,
        maxOutgoingRequestsPerUser: 2,
      };
      const fresh = await freshDatabase(dialect);
      const server = await testServer(await fresh.open(), { limits });
      try {
        const victim = await user(server, 'victim');
        const friend = await user(server, 'friend');
        const sybils = [await user(server, 'sybil-a'), await user(server, 'sybil-b'), await user(server, 'sybil-c')];
        await befriend(friend, victim);
        // The victim's other device: the user's own messages (copies for their other devices) are never a stranger's.
        const victimPhone = new TestDevice(server.app, server.ca, 'victim');
        assert.equal((await victimPhone.passwordLogin(undefined, '10.78.0.1')).status, 200);

        const [a, b, c] = sybils as [TestDevice, TestDevice, TestDevice];
        assert.equal((await fill(a, victim.deviceId, 10)).kept, 2);
        assert.equal((await fill(b, victim.deviceId, 10)).kept, 2);
        const third = await fill(c, victim.deviceId, 10);
        assert.equal(third.kept, 1, "the strangers' share (5) is full after the first of sybil-c's");
        assert.deepEqual(third.refusal, { status: 429, code: 'strangers_share_exceeded' });
        assert.equal(await refusals(server, 'strangers_share_exceeded'), 1);

        const buddy = await fill(friend, victim.deviceId, 20);
        assert.equal(buddy.kept, 6, "the buddy keeps a whole buddy's share, whatever the strangers did");
        assert.deepEqual(buddy.refusal, { status: 429, code: 'sender_share_exceeded' });
        const own = await fill(victimPhone, victim.deviceId, 20);
        assert.equal(own.kept, 20 - 5 - 6, 'the own device fills the rest of the store');
        assert.deepEqual(own.refusal, { status: 507, code: 'quota_exceeded' });

        // Fetched and acknowledged, the shares come back.
        const ids = ((await victim.get('/v1/offline?limit=500')).body.messages as { id: number }[]).map((m) => m.id);
        assert.equal(ids.length, 20);
        assert.equal((await victim.send('POST', '/v1/offline/ack', { ids })).body.deleted, 20);
        assert.equal((await fill(c, victim.deviceId, 10)).kept, 2);

        // Buddy requests stay possible for strangers, but one account's pending ones are bounded.
        const asked = [];
        for (const to of ['victim', 'friend', 'sybil-b']) asked.push(await a.send('POST', '/v1/buddy-requests', { to })); // in order: the third is the one over
        assert.deepEqual(asked.map((r) => r.status), [202, 202, 429]);
        assert.equal(asked[2]!.body.error?.code, 'too_many_outgoing_requests');
        const counted = await server.context.metrics.buddyRequestsRefused.get();
        assert.equal(counted.values.find((v) => v.labels.reason === 'too_many_outgoing_requests')?.value, 1);
      } finally {
        await server.close();
        await fresh.drop();
      }
    });
  });
}
