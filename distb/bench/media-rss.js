// A process in a call, for the memory figure: both directions of a call's media on loopback for
// three seconds (codec, SRTP, jitter buffer, sockets); prints its resident set size in bytes.
import { createSocket } from 'node:dgram';
import { realEnv } from '../src/env/real.js';
import { BufferSource, MediaReceiver, MediaSender, RecordingSink } from '../src/media/media-stream.js';
import { testSignal } from '../src/media/audio-compare.js';
const sockets = [createSocket('udp4'), createSocket('udp4')];
await Promise.all(sockets.map((s) => new Promise((resolve) => s.bind(0, '127.0.0.1', resolve))));
const keys = [0, 1].map(() => ({ key: realEnv.random.bytes(16), salt: realEnv.random.bytes(14) }));
const ends = [0, 1].map((i) => {
    const other = sockets[1 - i];
    const receiver = new MediaReceiver(realEnv.clock, keys[1 - i], new RecordingSink(), { frameMs: 20 });
    sockets[i].on('message', (bytes) => receiver.receive(new Uint8Array(bytes)));
    const sender = new MediaSender(realEnv.clock, realEnv.random, { send: (bytes) => sockets[i].send(bytes, other.address().port, '127.0.0.1') }, keys[i], new BufferSource(testSignal(4, i + 1)), { frameMs: 20 });
    sender.start();
    return { sender, receiver };
});
await new Promise((resolve) => setTimeout(resolve, 3_000));
// What stays after a collection (run with --expose-gc): garbage is not the call's footprint.
globalThis.gc?.();
console.log(process.memoryUsage().rss);
for (const end of ends) {
    end.sender.stop();
    end.receiver.stop();
}
for (const s of sockets)
    s.close();
//# sourceMappingURL=media-rss.js.map