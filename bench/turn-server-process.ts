// A supernode's STUN/TURN service alone in its own process, for the relay benchmark: prints its
// port and a set of credentials, then serves until killed. Limits are raised so the benchmark
// measures relaying, not quotas; loopback peers are allowed as in `parley local`.
import { realEnv } from '../src/env/real.js';
import { startStunService } from '../src/supernode/stun-service.js';
import { LOOPBACK_PEERS } from '../src/turn/peer-policy.js';

const service = await startStunService(realEnv, {
  host: '127.0.0.1',
  port: 0,
  advertisedHost: '127.0.0.1',
  // The echo peer is on loopback too, which a supernode on the internet refuses.
  allowPeers: LOOPBACK_PEERS,
  turnLimits: { allocationsPerUser: 1_000, bytesPerSecondPerAllocation: 1e9, bytesPerSecond: 1e10 },
});
const credentials = service.credentials('bench', 'bench');
console.log(JSON.stringify({ port: service.primary.port, username: credentials.username, password: credentials.password }));
