import { err, ok } from '../result.js';
import { StunClass, StunMethod, decodeStun, encodeStun, looksLikeStun } from './stun.js';
import { toHex } from '../crypto/bytes.js';
export class StunTransactions {
    socket;
    clock;
    random;
    other;
    pending = new Map();
    /** Datagrams that were not an answer to a request of ours. */
    stray = 0;
    constructor(socket, clock, random, 
    /** Datagrams that are not STUN answers go here (the same socket may carry other protocols), with the STUN message when they are one. */
    other = () => { }) {
        this.socket = socket;
        this.clock = clock;
        this.random = random;
        this.other = other;
        socket.onMessage((bytes, from) => this.receive(bytes, from));
    }
    request(to, attributes = [], options = {}) {
        const transactionId = this.random.bytes(12);
        const bytes = encodeStun({ method: options.method ?? StunMethod.BINDING, cls: StunClass.REQUEST, transactionId, attributes, classic: false }, { fingerprint: true, ...(options.integrityKey ? { integrityKey: options.integrityKey } : {}) });
        const key = toHex(transactionId);
        const attempts = options.attempts ?? 7;
        let rto = options.rtoMs ?? 100;
        return new Promise((resolve) => {
            const entry = {
                startedMs: this.clock.now(),
                resolve: (answer) => {
                    entry.timer?.cancel();
                    entry.deadline?.cancel();
                    this.pending.delete(key);
                    resolve(answer);
                },
                timer: null,
                deadline: null,
            };
            this.pending.set(key, entry);
            let sent = 0;
            const send = () => {
                sent++;
                this.socket.send(bytes.slice(), to);
                // After the last send, one more timeout to wait for its answer.
                entry.timer = this.clock.after(rto, sent < attempts ? send : () => entry.resolve(err({ code: 'timeout' })));
                rto *= 2;
            };
            send();
            if (options.deadlineMs !== undefined)
                entry.deadline = this.clock.after(options.deadlineMs, () => entry.resolve(err({ code: 'timeout' })));
        });
    }
    receive(bytes, from) {
        if (!looksLikeStun(bytes))
            return this.other(bytes, from);
        const decoded = decodeStun(bytes);
        if (!decoded.ok)
            return this.other(bytes, from);
        if (decoded.value.cls !== StunClass.SUCCESS && decoded.value.cls !== StunClass.ERROR)
            return this.other(bytes, from, decoded.value);
        const entry = this.pending.get(toHex(decoded.value.transactionId));
        if (!entry) {
            this.stray++;
            return;
        }
        entry.resolve(ok({ message: decoded.value, from, rttMs: this.clock.now() - entry.startedMs }));
    }
    /** Gives up every request in flight. */
    close() {
        for (const entry of [...this.pending.values()])
            entry.resolve(err({ code: 'timeout' }));
    }
}
//# sourceMappingURL=stun-client.js.map