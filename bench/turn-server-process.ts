// A supernode's STUN/TURN service alone in its own process, for the relay benchmark: prints its
// port and credentials for CLIENT_USERS users (a relay's load comes from many users; with relay
// workers each user has a home thread), then serves until killed. `--relay-workers N` runs the
// relay on N threads (0: this one). Limits are raised so the benchmark measures relaying, not
// quotas; loopback peers are allowed as in `parley local`.
import { parseArgs } from 'node:util';
import { realEnv } from '../src/env/real.js';
import { startStunService } from '../src/supernode/stun-service.js';
import { LOOPBACK_PEERS } from '../src/turn/peer-policy.js';

const CLIENT_USERS = 8;
const { values } = parseArgs({ options: { 'relay-workers': { type: 'string', default: '0' } } });
const relayWorkers = Number(values['relay-workers']);

const service = await startStunService(realEnv, {
  host: '127.0.0.1',
  port: 0,
  advertisedHost: '127.0.0.1',
  // The echo peer is on loopback too, which a supernode on the internet refuses.
  allowPeers: LOOPBACK_PEERS,
  turnLimits: { allocationsPerUser: 1_000, bytesPerSecondPerAllocation: 1e9, bytesPerSecond: 1e10 },
  relayWorkers,
});
const users = Array.from({ length: CLIENT_USERS }, (_, i) => service.credentials(`bench${i}`, 'bench'));
console.log(JSON.stringify({ port: service.primary.port, username: users[0]!.username, password: users[0]!.password, users: users.map((u) => ({ username: u.username, password: u.password })) }));
// SIGTERM ends it cleanly (so that `node --cpu-prof` writes its profile); the benchmark kills it.
process.on('SIGTERM', () => {
  service.close();
  void (service.relayWorkers?.close() ?? Promise.resolve()).then(() => process.exit(0));
});
