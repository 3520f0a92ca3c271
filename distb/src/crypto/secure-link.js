// Runs a SecureChannel over a TCP connection of the injected `Net`: the adapter owns the
// socket and the timers, the channel owns the protocol. Works unchanged on real sockets and on
// the virtual network.
import { Inbox, Latch } from '../env/inbox.js';
import { CloseReason } from '../wire/messages.js';
import { SecureChannel } from './secure-channel.js';
import { concatBytes } from './bytes.js';
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Handshakes a listener runs at once; more connections are closed at once (bounded work per peer flood). */
export const DEFAULT_MAX_PENDING_HANDSHAKES = 256;
export class ChannelFailure extends Error {
    detail;
    constructor(detail) {
        super(`${detail.code}: ${detail.message}`);
        this.detail = detail;
        this.name = 'ChannelFailure';
    }
    get code() {
        return this.detail.code;
    }
}
class ChannelOverTcp {
    channel;
    connection;
    peer;
    version = 0;
    handshakeHash = new Uint8Array(0);
    inbox = new Inbox();
    closed = new Latch();
    timer;
    settle;
    constructor(channel, connection, env, handshakeTimeoutMs, settle) {
        this.channel = channel;
        this.connection = connection;
        this.settle = settle;
        this.timer = env.clock.after(handshakeTimeoutMs, () => {
            if (!channel.isEstablished)
                this.apply(channel.abort('handshake_timeout', `no handshake within ${handshakeTimeoutMs} ms`));
        });
        connection.onData((bytes) => this.apply(channel.receiveBytes(bytes)));
        connection.onClose(() => this.apply(channel.transportClosed()));
    }
    get remote() {
        return this.connection.remote;
    }
    get local() {
        return this.connection.local;
    }
    apply(outputs) {
        for (const output of outputs) {
            switch (output.kind) {
                case 'write':
                    this.connection.write(output.bytes);
                    break;
                case 'established':
                    this.peer = output.peer;
                    this.version = output.version;
                    this.handshakeHash = output.handshakeHash;
                    this.timer?.cancel();
                    this.timer = null;
                    this.settle?.(null);
                    this.settle = null;
                    break;
                case 'message':
                    this.inbox.deliver(output.envelope);
                    break;
                case 'closed':
                    this.timer?.cancel();
                    this.timer = null;
                    this.connection.close();
                    if (this.settle) {
                        this.settle(output.error ?? { code: 'connection_lost', message: 'closed during the handshake' });
                        this.settle = null;
                    }
                    else {
                        this.closed.fire(output.error);
                    }
                    break;
            }
        }
    }
    send(body) {
        this.apply(this.channel.sendMessage(body));
    }
    onMessage(handler) {
        this.inbox.setHandler(handler);
    }
    onClose(handler) {
        this.closed.addHandler(handler);
    }
    close(reason = CloseReason.NORMAL, detail = '') {
        this.apply(this.channel.close(reason, detail));
    }
}
function channelConfig(env, config) {
    return { ...config, random: env.random, wallTimeMs: () => env.clock.wallTimeMs() };
}
/** Connects and runs the handshake; rejects with a NetError or a ChannelFailure. */
export async function connectSecure(env, options) {
    const connection = await env.net.connectTcp({ host: options.host, port: options.port, ...(options.connectTimeoutMs ? { timeoutMs: options.connectTimeoutMs } : {}) });
    const channel = new SecureChannel('initiator', channelConfig(env, options.config));
    return new Promise((resolve, reject) => {
        const link = new ChannelOverTcp(channel, connection, env, options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, (error) => error ? reject(new ChannelFailure(error)) : resolve(link));
        link.apply(channel.start());
    });
}
/** Bytes a connection must send before it is told apart from another protocol on the port. */
const SNIFF_BYTES = 8;
export function listenSecure(env, options) {
    let pending = 0;
    const maxPending = options.maxPendingHandshakes ?? DEFAULT_MAX_PENDING_HANDSHAKES;
    return env.net.listenTcp({
        ...(options.host ? { host: options.host } : {}),
        port: options.port,
        onConnection: (connection) => {
            if (pending >= maxPending) {
                connection.close();
                options.onFailure?.({ code: 'handshake_timeout', message: 'too many handshakes in progress' }, connection.remote);
                return;
            }
            // The slot is given back once: when the handshake ends either way, or when the
            // connection is given up on — not when the peer gets round to closing its side.
            pending++;
            let held = true;
            const release = () => {
                if (!held)
                    return;
                held = false;
                pending--;
            };
            const other = options.otherProtocol;
            if (!other)
                return startChannel(connection, null, release);
            // Which protocol: decided on the first bytes, within the handshake timeout.
            let sniffed = new Uint8Array(0);
            let decided = false;
            const timer = env.clock.after(options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, () => {
                release();
                connection.close();
                options.onFailure?.({ code: 'handshake_timeout', message: 'no protocol chosen within the handshake timeout' }, connection.remote);
            });
            connection.onClose(() => {
                if (decided)
                    return;
                decided = true;
                timer.cancel();
                release();
            });
            connection.onData((bytes) => {
                if (decided)
                    return;
                sniffed = concatBytes(sniffed, bytes);
                if (sniffed.byteLength < SNIFF_BYTES)
                    return;
                decided = true;
                timer.cancel();
                if (other.claims(sniffed)) {
                    release();
                    other.take(connection, sniffed);
                }
                else
                    startChannel(connection, sniffed, release);
            });
        },
    });
    function startChannel(connection, firstBytes, release) {
        const channel = new SecureChannel('responder', channelConfig(env, options.config));
        const link = new ChannelOverTcp(channel, connection, env, options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, (error) => {
            release();
            if (error)
                options.onFailure?.(error, connection.remote);
            else
                options.onLink(link);
        });
        if (firstBytes)
            link.apply(channel.receiveBytes(firstBytes));
    }
}
//# sourceMappingURL=secure-link.js.map