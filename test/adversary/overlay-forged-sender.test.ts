// Hostile peers (issue 19, item 12): the sender's name on a routed message. Before, a supernode
// delivered whatever name another supernode's forward carried, and any supernode certificate
// would do, promoted users' machines included: Mallory's promoted machine could make Bob's
// device see a message "from alice". Now the forward must carry the sender device's own presence
// record naming the forwarding supernode. A seeded virtual network.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { AttachedClient } from '../../src/client/attachment.js';
import { connectSecure, type SecureLink } from '../../src/crypto/secure-link.js';
import { Role } from '../../src/crypto/certificate.js';
import { HostCache } from '../../src/overlay/host-cache.js';
import { RpcChannel } from '../../src/overlay/rpc.js';
import { DeliveryOutcome, FindPresenceSchema, RouteForwardSchema } from '../../src/wire/messages.js';
import { testSeed, withSeed } from '../support/seed.js';
import { overlayWorld } from '../support/supernodes.js';

test('a supernode certificate alone does not let a machine name any user as the sender of a routed message', { timeout: 60_000 }, () =>
  withSeed(testSeed(), async (seed) => {
    const { net, network, drive, elapse, supernodes } = await overlayWorld(seed, 4, { link: (i) => ({ latencyMs: 5 + i * 3 }) });
    const device = (name: string, sn: number) => {
      const client = new AttachedClient(network.addHost().env(), { identity: net.identity(name), verifier: net.verifier, username: name, hostCache: new HostCache(), bootstrap: [supernodes[sn]!.ref] });
      const inbox: { from: string; text: string }[] = [];
      client.onDelivery((from, payload) => inbox.push({ from, text: new TextDecoder().decode(payload) }));
      return { client, inbox };
    };
    const alice = device('alice', 1);
    const bob = device('bob', 0);
    const links: SecureLink[] = [];
    try {
      for (const d of [alice, bob]) await drive(d.client.start());
      await elapse(3_000);
      const bobKey = (await drive(alice.client.find('bob')))[0]!.device.dhKey;

      // The real thing first: Alice's own supernode forwards her message, and Bob sees her name.
      const real = await drive(alice.client.route('bob', new TextEncoder().encode('hi, it is alice')));
      assert.ok('deliveries' in real);
      assert.deepEqual(real.deliveries.map((d) => d.outcome), [DeliveryOutcome.DELIVERED]);
      assert.deepEqual(bob.inbox, [{ from: 'alice', text: 'hi, it is alice' }]);

      // Mallory's promoted machine: a supernode certificate, a link to Bob's supernode.
      const host = network.addHost();
      const promoted = net.identity('', { role: Role.SUPERNODE });
      const link = await drive(connectSecure(host.env(), { host: supernodes[0]!.ref.host, port: 33033, config: net.config(promoted, { remoteStaticKey: supernodes[0]!.ref.dhKey }) }));
      links.push(link);
      const channel = new RpcChannel(link, host.env().clock, () => {});
      const forge = async (senderPresence: Uint8Array, text: string) => {
        const answer = await drive(
          channel.request((requestId) => ({ case: 'routeForward', value: create(RouteForwardSchema, { requestId, deviceKey: bobKey, from: 'alice', payload: new TextEncoder().encode(text), senderPresence }) }), 10_000),
        );
        assert.equal(answer.body.case, 'routeForwarded');
        return answer.body.case === 'routeForwarded' ? answer.body.value.outcome : DeliveryOutcome.UNSPECIFIED;
      };
      // With no record at all: just the name.
      assert.notEqual(await forge(new Uint8Array(0), 'send me your password'), DeliveryOutcome.DELIVERED);
      // With Alice's real record, found in the overlay (it names her supernode, not Mallory's machine).
      const found = await drive(channel.request((requestId) => ({ case: 'findPresence', value: create(FindPresenceSchema, { requestId, username: 'alice' }) })));
      assert.ok(found.body.case === 'foundPresence' && found.body.value.records.length === 1);
      assert.notEqual(await forge(found.body.value.records[0]!, 'send me your password, really'), DeliveryOutcome.DELIVERED);
      await elapse(1_000);
      assert.deepEqual(bob.inbox, [{ from: 'alice', text: 'hi, it is alice' }], 'Bob saw nothing under Alice\'s name but what Alice sent');

      // Alice's real messages still get through afterwards.
      const again = await drive(alice.client.route('bob', new TextEncoder().encode('still me')));
      assert.ok('deliveries' in again);
      assert.deepEqual(again.deliveries.map((d) => d.outcome), [DeliveryOutcome.DELIVERED]);
      assert.deepEqual(bob.inbox.at(-1), { from: 'alice', text: 'still me' });
    } finally {
      for (const l of links) l.close();
      for (const d of [alice, bob]) d.client.close();
      for (const s of supernodes) s.running.close();
    }
  }));
