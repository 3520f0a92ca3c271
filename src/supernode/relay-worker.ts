// One thread of a relay that runs on every core (relay-workers.ts starts it): a TURN server over
// UDP on a socket of its own, holding the allocations and relay sockets of the users whose home
// it is (turn/relay-home.ts); an Allocate of anyone else gets 300 Try Alternate to their home.
// It posts its counters to the main thread every second and when asked, marks its relays on the
// shared port board, and ends when told to (or with the process). Nothing here survives it: if
// the thread dies, its sockets close with it, and the main thread clears its row of the board.
import { parentPort, workerData } from 'node:worker_threads';
import type { Endpoint, UdpSocket } from '../env/types.js';
import { realEnv } from '../env/real.js';
import { PortBoard } from '../turn/port-board.js';
import { homeIndexOf } from '../turn/relay-home.js';
import { passwordFor } from '../turn/turn-credentials.js';
import { TurnServer } from '../turn/turn-server.js';
import { totalsOf } from '../turn/turn-totals.js';
import { TURN_COUNTERS_INTERVAL_MS, type FromRelayWorker, type RelayWorkerData, type ToRelayWorker } from './relay-workers.js';

/** Service ports tried in the worker's slice of the relay range before giving up. */
const SERVICE_PORT_TRIES = 16;

const data = workerData as RelayWorkerData;
const port = parentPort!;
const post = (message: FromRelayWorker) => port.postMessage(message);
const board = new PortBoard(data.board, data.servers);
let homes: readonly Endpoint[] = data.homes;
const bindHost = data.host ? { host: data.host } : {};

/** Its earlier port after a restart (its users' clients know it), else one of its slice of the relay range, else any. */
async function bindService(): Promise<UdpSocket> {
  if (data.preferredPort !== null) {
    const again = await realEnv.net.bindUdp({ ...bindHost, port: data.preferredPort }).catch(() => null);
    if (again) return again;
  }
  const slice = data.relayPorts;
  if (slice) {
    for (let tries = 0; tries < SERVICE_PORT_TRIES; tries++) {
      const socket = await realEnv.net.bindUdp({ ...bindHost, port: slice.min + realEnv.random.int(slice.max - slice.min + 1) }).catch(() => null);
      if (socket) return socket;
    }
  }
  return realEnv.net.bindUdp({ ...bindHost, port: 0 });
}

const socket = await bindService();
const v6 = data.ipv6Relay;
const turn = new TurnServer(realEnv.clock, {
  realm: data.realm,
  secret: data.secret,
  passwordFor: (username, nowMs) => passwordFor(data.secret, username, nowMs),
  bindRelay: (relayPort) => realEnv.net.bindUdp({ ...bindHost, port: relayPort }),
  relayHost: data.relayHost,
  ...(v6 ? { ipv6Relay: { host: v6.host, bind: (relayPort: number) => realEnv.net.bindUdp({ host: v6.bindHost, port: relayPort, ipv6Only: true }) } } : {}),
  random: realEnv.random,
  ...(data.relayPorts ? { relayPorts: data.relayPorts } : {}),
  ...(data.allowPeers ? { allowPeers: data.allowPeers } : {}),
  serviceEndpoints: [...data.serviceEndpoints, socket.local],
  limits: data.limits,
  sharedPorts: board.view(data.index + 1),
  homeOf: (user) => {
    const home = homeIndexOf(user, homes.length);
    // A home whose port is not known yet: the main thread's port, which knows it.
    return home === data.index ? null : homes[home]?.port ? homes[home]! : data.primary;
  },
});
// Requests, indications and ChannelData; a Binding request or anything else is not for this socket.
socket.onMessage((bytes, from) => void turn.receive(bytes, from, socket));
const counters = setInterval(() => post({ type: 'totals', totals: totalsOf(turn) }), TURN_COUNTERS_INTERVAL_MS);
port.on('message', (message: ToRelayWorker) => {
  switch (message.type) {
    case 'homes':
      homes = message.homes;
      return;
    case 'totals':
      post({ type: 'totals', totals: totalsOf(turn), ask: message.ask });
      return;
    case 'close':
      clearInterval(counters);
      turn.close();
      socket.close();
      port.close();
      return;
  }
});
post({ type: 'ready', port: socket.local.port });
