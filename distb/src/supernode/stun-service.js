import { StunServer } from '../nat/stun-server.js';
import { decodeStun, looksLikeStun } from '../nat/stun.js';
import { TurnServer } from '../nat/turn-server.js';
import { issueTurnCredentials, passwordFor } from '../nat/turn-credentials.js';
export const TURN_REALM = 'parley';
export async function startStunService(env, options) {
    const sockets = [];
    const bind = async (net, host, port) => {
        const socket = await net.bindUdp({ port, ...(host ? { host } : {}) });
        sockets.push(socket);
        return socket;
    };
    try {
        const primary = await bind(env.net, options.host, options.port);
        const advertise = (socket, host) => ({ host: host ?? options.advertisedHost, port: socket.local.port });
        let grid = [[primary]];
        const primaryHost = options.publicHost ?? options.host;
        let advertised = [[advertise(primary, primaryHost)]];
        if (options.alternate) {
            const alt = options.alternate;
            const altNet = alt.net ?? env.net;
            const secondPort = await bind(env.net, options.host, 0);
            const otherPrimary = await bind(altNet, alt.host, primary.local.port);
            const otherSecond = await bind(altNet, alt.host, secondPort.local.port);
            grid = [
                [primary, secondPort],
                [otherPrimary, otherSecond],
            ];
            advertised = [
                [advertise(primary, primaryHost), advertise(secondPort, primaryHost)],
                [advertise(otherPrimary, alt.host), advertise(otherSecond, alt.host)],
            ];
        }
        const server = new StunServer(env.clock, { grid, advertised });
        const secret = env.random.bytes(32);
        const relayHost = options.relayPublicHost ?? advertised[0][0].host;
        const turn = new TurnServer(env.clock, {
            realm: TURN_REALM,
            secret,
            passwordFor: (username, nowMs) => passwordFor(secret, username, nowMs),
            bindRelay: (port) => env.net.bindUdp({ port, ...(options.host ? { host: options.host } : {}) }),
            relayHost,
            random: env.random,
            ...(options.relayPorts ? { relayPorts: options.relayPorts } : {}),
            ...(options.allowPeer ? { allowPeer: options.allowPeer } : {}),
            ...(options.turnLimits ? { limits: options.turnLimits } : {}),
        });
        // One dispatcher per socket: STUN is decoded once, for the Binding server or (on the first
        // address and port) TURN; anything else there (ChannelData) is TURN's.
        grid.forEach((row, a) => row.forEach((socket, p) => {
            const carriesTurn = a === 0 && p === 0;
            socket.onMessage((bytes, from) => {
                if (!looksLikeStun(bytes)) {
                    if (carriesTurn)
                        turn.receive(bytes, from, socket);
                    return;
                }
                const decoded = decodeStun(bytes);
                if (!server.receiveDecoded(decoded, from, a, p) && carriesTurn && decoded.ok)
                    turn.receiveMessage(decoded.value, from, socket);
            });
        }));
        const listeners = [];
        for (const port of options.tcpPorts ?? []) {
            listeners.push(await env.net.listenTcp({ port, ...(options.host ? { host: options.host } : {}), onConnection: (connection) => turn.acceptStream(connection, new Uint8Array(0)) }));
        }
        return {
            server,
            turn,
            acceptStream: (connection, firstBytes) => turn.acceptStream(connection, firstBytes),
            credentials: (user, deviceTag) => issueTurnCredentials(secret, user, deviceTag, env.clock.wallTimeMs()),
            primary: advertised[0][0],
            close: () => {
                turn.close();
                sockets.forEach((s) => s.close());
                listeners.forEach((l) => l.close());
            },
        };
    }
    catch (error) {
        for (const s of sockets)
            s.close();
        throw error;
    }
}
//# sourceMappingURL=stun-service.js.map