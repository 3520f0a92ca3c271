// Issue 19, same class as items 8-10 (addresses a peer names, work dearer than the request): an
// ICE peer knows our check password, so it can send connectivity checks from as many source
// addresses as it likes. Each address a check comes from used to be learned as a peer-reflexive
// candidate with no limit: a pair, and a triggered check of ours with five retransmissions sent
// to that address. One peer made us spray STUN at every address it named, and grow the check
// list (sorted on every insert) without end. RFC 8445 section 6.1.2.5 asks for a limit on the
// check list. Now at most MAX_REMOTE_CANDIDATES remote candidates are kept; checks from more
// addresses are answered (one answer per check, smaller than the check) but not learned, and
// counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import type { Endpoint, UdpSocket } from '../../src/env/types.js';
import { startStunService } from '../../src/supernode/stun-service.js';
import { IceAgent, MAX_REMOTE_CANDIDATES } from '../../src/ice/ice-agent.js';
import { Attr, StunClass, StunMethod, decodeStun, encodeStun, encodeUint32 } from '../../src/stun/stun.js';
import { testSeed, withSeed } from '../support/seed.js';

/** Source addresses the attacker sends checks from (distinct ports of one host). */
const SPRAY_SOURCES = 400;
/** A check and its retransmissions (ice-agent.ts CHECK_ATTEMPTS). */
const CHECK_ATTEMPTS = 6;

test(`checks from ${SPRAY_SOURCES} source addresses make the agent learn at most ${MAX_REMOTE_CANDIDATES} of them and send its own checks only there; the rest are answered, not learned, and counted`, () =>
  withSeed(testSeed(), async (seed) => {
    const network = new VirtualNetwork(seed);
    const drive = <T>(work: Promise<T>) => network.scheduler.drive(work, 120_000);
    const elapse = (ms: number) => drive(new Promise<void>((resolve) => network.scheduler.after(ms, resolve)));
    const sn = network.addHost({ link: { latencyMs: 5 } });
    const service = await drive(startStunService(sn.env(), { port: 3478, advertisedHost: sn.addressText }));
    const aliceHost = network.addHost({ link: { latencyMs: 5 } });
    const malloryHost = network.addHost({ link: { latencyMs: 5 } });
    const sockets: UdpSocket[] = [];
    let alice: IceAgent | null = null;
    try {
      alice = await drive(IceAgent.gather(aliceHost.env(), { controlling: false, server: { host: sn.addressText, port: 3478 } }));
      const aliceHostCandidate = alice.parameters.candidates.find((c) => c.type === 'host')!.address;
      // Mallory is alice's ICE peer (a buddy who offered): it knows alice's ufrag and pwd, and
      // names one candidate of its own.
      const malloryUfrag = 'mallory1';
      const malloryPwd = 'm'.repeat(24);
      for (let i = 0; i < SPRAY_SOURCES; i++) sockets.push(await drive(malloryHost.env().net.bindUdp({ port: 0 })));
      alice.connect({ ufrag: malloryUfrag, pwd: malloryPwd, candidates: [{ type: 'host', address: sockets[0]!.local, priority: 2_130_706_431 }] });
      // What alice sends to each of mallory's addresses: her checks (requests) and her answers.
      const checksTo = new Map<number, number>();
      let answers = 0;
      for (const socket of sockets) {
        socket.onMessage((bytes) => {
          const decoded = decodeStun(bytes);
          if (!decoded.ok) return;
          if (decoded.value.cls === StunClass.REQUEST) checksTo.set(socket.local.port, (checksTo.get(socket.local.port) ?? 0) + 1);
          else if (decoded.value.cls === StunClass.SUCCESS) answers++;
        });
      }
      const check = (socket: UdpSocket, to: Endpoint, n: number) => {
        const transactionId = new Uint8Array(12);
        new DataView(transactionId.buffer).setUint32(0, n);
        const bytes = encodeStun(
          {
            method: StunMethod.BINDING,
            cls: StunClass.REQUEST,
            transactionId,
            attributes: [
              { type: Attr.USERNAME, value: new TextEncoder().encode(`${alice!.ufrag}:${malloryUfrag}`) },
              { type: Attr.PRIORITY, value: encodeUint32(1_862_270_975) },
              { type: Attr.ICE_CONTROLLING, value: new Uint8Array(8) },
            ],
            classic: false,
          },
          { integrityKey: new TextEncoder().encode(alice!.pwd), fingerprint: true },
        );
        socket.send(bytes, to);
      };
      // One valid check from each source address, 5 ms apart.
      for (let i = 0; i < SPRAY_SOURCES; i++) {
        check(sockets[i]!, aliceHostCandidate, i);
        await elapse(5);
      }
      // Every check alice started has run its course (100 ms doubling, six times: 6.3 s).
      await elapse(10_000);

      assert.equal(answers, SPRAY_SOURCES, 'every valid check is answered, learned or not');
      const addressesChecked = checksTo.size;
      const checksSent = [...checksTo.values()].reduce((a, b) => a + b, 0);
      assert.ok(addressesChecked <= MAX_REMOTE_CANDIDATES, `alice sent checks to ${addressesChecked} of mallory's addresses (at most ${MAX_REMOTE_CANDIDATES})`);
      assert.ok(checksSent <= MAX_REMOTE_CANDIDATES * CHECK_ATTEMPTS, `alice sent ${checksSent} checks (at most ${MAX_REMOTE_CANDIDATES * CHECK_ATTEMPTS})`);
      // The candidate mallory named and the first addresses that checked were learned; the rest refused and counted.
      assert.ok(checksTo.has(sockets[0]!.local.port), 'the candidate of the offer is checked');
      assert.equal(alice.refused.candidates, SPRAY_SOURCES - MAX_REMOTE_CANDIDATES);
    } finally {
      for (const socket of sockets) socket.close();
      if (alice) await drive(alice.close());
      service.close();
    }
  }));
