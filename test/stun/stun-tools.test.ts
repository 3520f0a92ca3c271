// A supernode's STUN and TURN service against clients nobody here wrote: coturn's
// turnutils_stunclient and turnutils_natdiscovery (RFC 5780), Debian's classic `stun` (RFC 3489)
// and coturn's TURN client turnutils_uclient, on loopback with 127.0.0.2 as the second address.
// They must get correct answers: the address they came from, the second address, (no NAT on
// loopback) endpoint-independent mapping and filtering, and every relayed packet back.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { realEnv } from '../../src/env/real.js';
import { startStunService } from '../../src/supernode/stun-service.js';

const run = promisify(execFile);

/** Runs a tool (installed by scripts/setup: Debian's coturn and stun-client) and returns what it printed. */
async function tool(command: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { timeout: 20_000 });
    return stdout + stderr;
  } catch (error) {
    const e = error as { code?: string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${command} is not installed: run scripts/setup (it installs Debian's coturn and stun-client)`, { cause: error });
    return `${e.stdout ?? ''}${e.stderr ?? ''}\n(exit: ${String(e.code)})`;
  }
}

test('standard STUN clients get correct answers from a supernode\'s STUN service', { timeout: 60_000 }, async () => {
  const service = await startStunService(realEnv, { host: '127.0.0.1', port: 0, advertisedHost: '127.0.0.1', alternate: { host: '127.0.0.2' } });
  try {
    const port = String(service.primary.port);
    const other = service.server.otherAddress!;
    assert.equal(other.host, '127.0.0.2');

    const stunclient = await tool('turnutils_stunclient', ['-f', '-p', port, '127.0.0.1']);
    assert.match(stunclient, new RegExp(`Response origin: : 127\\.0\\.0\\.1:${port}`), stunclient);
    assert.match(stunclient, new RegExp(`Other addr: : 127\\.0\\.0\\.2:${other.port}`), stunclient);
    assert.match(stunclient, /UDP reflexive addr: 127\.0\.0\.1:\d+/, stunclient);
    assert.match(stunclient, /RFC 5780 response 3/, `all three RFC 5780 exchanges (change request, response port) answered:\n${stunclient}`);

    const discovery = await tool('turnutils_natdiscovery', ['-m', '-f', '-p', port, '127.0.0.1']);
    assert.match(discovery, /NAT with Endpoint Independent Mapping!/, discovery);
    assert.match(discovery, /NAT with Endpoint Independent Filtering!/, discovery);
    assert.doesNotMatch(discovery, /Not received/, discovery);

    const classic = await tool('stun', [`127.0.0.1:${port}`]);
    assert.match(classic, /Primary: Open/, classic);
    assert.equal(service.server.refused.size, 0, JSON.stringify([...service.server.refused]));
  } finally {
    service.close();
  }
});

test('coturn\'s TURN client allocates over UDP or TCP, with RTCP relays on reserved ports, binds channels or sends indications, and gets every packet relayed, with DONT-FRAGMENT too where the system sets DF; wrong credentials get nothing', { timeout: 60_000 }, async () => {
  // TURN over TCP on the same port number (a supernode shares its TCP port with its secure links).
  // A port free for UDP may be taken for TCP by another test's connection: then another port.
  const service = await (async () => {
    for (let attempt = 1; ; attempt++) {
      const udp = await startStunService(realEnv, { host: '127.0.0.1', port: 0, advertisedHost: '127.0.0.1' });
      udp.close();
      try {
        return await startStunService(realEnv, { host: '127.0.0.1', port: udp.primary.port, advertisedHost: '127.0.0.1', tcpPorts: [udp.primary.port] });
      } catch (error) {
        if ((error as { code?: string }).code !== 'address_in_use' || attempt >= 5) throw error;
      }
    }
  })();
  try {
    const port = String(service.primary.port);
    const { username, password } = service.credentials('alice', 'd3v1ce');
    // -y: two allocations relay to each other; -c: no RTCP allocation; -s: Send indications instead of channels; -t: TURN over TCP.
    // Without -c each client also allocates an RTCP relay: EVEN-PORT with the R bit for RTP,
    // then the reserved next port by its RESERVATION-TOKEN (RFC 8656 section 7.2): four relays.
    for (const [mode, sessions] of [[['-c'], 2], [['-c', '-s'], 2], [['-c', '-t'], 2], [[], 4]] as const) {
      const before = service.turn.relayed.toPeers;
      const out = await tool('turnutils_uclient', ['-y', ...mode, '-n', '50', '-l', '100', '-u', username, '-w', password, '-p', port, '127.0.0.1']);
      assert.match(out, new RegExp(`tot_send_msgs=${50 * sessions}, tot_recv_msgs=${50 * sessions}\\b`), out);
      assert.match(out, /Total lost packets 0 \(0\.0+%\)/, out);
      assert.ok(service.turn.relayed.toPeers - before >= 50 * sessions, `relayed ${service.turn.relayed.toPeers - before} to peers`);
    }
    // The client claims both RTCP reservations (else its RTCP sessions would not relay), then makes
    // one more R-bit Allocate whose reservation it leaves to lapse (30 s: turn-server.test.ts).
    assert.ok(service.turn.reservationCount <= 1, `${service.turn.reservationCount} reservations left`);
    // -g asks for DONT-FRAGMENT: honoured where UDP goes out with the DF bit (Linux by default), else 420 as RFC 8656 section 7.2 asks.
    const df = await tool('turnutils_uclient', ['-y', '-c', '-g', '-n', '5', '-u', username, '-w', password, '-p', port, '127.0.0.1']);
    if (realEnv.net.udpDontFragment) assert.match(df, /tot_send_msgs=10, tot_recv_msgs=10\b/, df);
    else assert.match(df, /error 420/, df);
    const refused = await tool('turnutils_uclient', ['-y', '-c', '-n', '5', '-u', username, '-w', 'not-the-password', '-p', port, '127.0.0.1']);
    assert.match(refused, /Cannot complete Allocation/, refused);
    assert.ok((service.turn.refused.get('wrong_credentials') ?? 0) > 0);
  } finally {
    service.close();
  }
});
