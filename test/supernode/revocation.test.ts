// A supernode the operator revoked keeps a certificate that is in date for up to three days; the
// login server lists its key, and every supernode that hears of it (at its next renewal) refuses
// it at once: open links close, new handshakes fail, the routing table forgets it. Others are
// untouched. Virtual network, seeded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/env/prng.js';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { CertificateVerifier, Role } from '../../src/crypto/certificate.js';
import { connectSecure } from '../../src/crypto/secure-link.js';
import { equalBytes } from '../../src/crypto/bytes.js';
import { supernodeId } from '../../src/overlay/node-id.js';
import { startSupernode, type RunningSupernode } from '../../src/supernode/supernode.js';
import { testNetwork, TEST_EPOCH_MS } from '../support/identities.js';
import { testSeed, withSeed } from '../support/seed.js';

test('a revoked supernode is refused by a supernode that heard of it: links closed, handshakes refused, forgotten; others stay', () =>
  withSeed(testSeed(), async (seed) => {
    const net = testNetwork(new SeededRandom(seed));
    const network = new VirtualNetwork(seed, { epochMs: TEST_EPOCH_MS });
    const drive = <T>(work: Promise<T>) => network.scheduler.drive(work);
    const running: RunningSupernode[] = [];
    try {
      const start = async (verifier: CertificateVerifier) => {
        const host = network.addHost({ link: { latencyMs: 5 } });
        const identity = net.identity('', { role: Role.SUPERNODE });
        const supernode = await startSupernode(host.env(), { identity, verifier, port: 33033 });
        running.push(supernode);
        return { host, identity, supernode, ref: { host: host.addressText, port: 33033, dhKey: identity.dh.publicKey } };
      };
      // A has a verifier of its own (it is its own process); B and C share the test network's.
      const a = await start(new CertificateVerifier(net.ca.keyPair.publicKey));
      const b = await start(net.verifier);
      const c = await start(net.verifier);
      const refs = [a.ref, b.ref, c.ref];
      for (const s of [a, b, c]) await drive(s.supernode.join(refs));
      assert.ok(a.supernode.dht.table.get(supernodeId(b.identity.dh.publicKey)), 'A knows B');
      const peerLinksBefore = a.supernode.dht.peerLinkCount;
      assert.ok(peerLinksBefore >= 2, `A holds overlay links (to B and C): ${peerLinksBefore}`);

      assert.equal(a.supernode.refuseRevoked([b.identity.dh.publicKey]), 1);
      assert.equal(a.supernode.refuseRevoked([b.identity.dh.publicKey]), 0, 'once is enough');
      assert.equal(a.supernode.dht.table.get(supernodeId(b.identity.dh.publicKey)), undefined, 'A forgot B');
      await drive(new Promise<void>((resolve) => network.scheduler.after(100, resolve)));
      assert.equal(a.supernode.dht.peerLinkCount, peerLinksBefore - 1, 'the link to B closed, the others stay');
      assert.ok(![...a.supernode.links].some((l) => equalBytes(l.peer.dhKey, b.identity.dh.publicKey)), 'no link from B stays open at A');

      // B tries again: its certificate is in date and CA-signed, and refused.
      const again = await drive(
        connectSecure(b.host.env(), { host: a.ref.host, port: 33033, config: { identity: b.identity, verifier: net.verifier, remoteStaticKey: a.identity.dh.publicKey } }).then(
          (link) => {
            link.close();
            return 'connected';
          },
          (error: Error) => error.message,
        ),
      );
      assert.match(again, /BAD_CERTIFICATE/, 'a new handshake from the revoked supernode is refused for its certificate');
      assert.equal(a.supernode.failures.get('bad_certificate'), 1, 'and counted');

      // C is untouched.
      const fine = await drive(connectSecure(c.host.env(), { host: a.ref.host, port: 33033, config: { identity: c.identity, verifier: net.verifier, remoteStaticKey: a.identity.dh.publicKey } }));
      assert.equal(fine.peer.role, Role.SUPERNODE);
      fine.close();
    } finally {
      for (const s of running) s.close();
    }
  }));
