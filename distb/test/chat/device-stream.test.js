// The reliable stream between two devices, alone: exactly once and in order over a channel that
// loses, repeats and reorders; and a restart of either side.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/env/prng.js';
import { DeviceStream } from '../../src/chat/device-stream.js';
import { testSeed, withSeed } from '../support/seed.js';
const bytes = (n) => new TextEncoder().encode(`item ${n}`);
const text = (b) => new TextDecoder().decode(b);
test('over a channel that loses 30%, repeats and reorders, 2 000 items arrive once each, in order', () => withSeed(testSeed(), (seed) => {
    const random = new SeededRandom(seed);
    const a = new DeviceStream(1n);
    const b = new DeviceStream(2n);
    const got = [];
    let inFlight = [];
    for (let i = 0; i < 2000; i++)
        assert.ok(a.enqueue(bytes(i)));
    for (let now = 0; now < 600_000 && (got.length < 2000 || a.pending > 0); now += 100) {
        for (const [from, to] of [[a, b], [b, a]]) {
            for (let frame = from.nextFrame(now); frame; frame = from.nextFrame(now)) {
                if (random.float() < 0.3)
                    continue;
                inFlight.push({ to, frame });
                if (random.float() < 0.1)
                    inFlight.push({ to, frame });
            }
        }
        // Deliver a random half of what is in flight (the rest later: reordering).
        const next = [];
        for (const item of inFlight) {
            if (random.float() < 0.5)
                next.push(item);
            else
                for (const payload of item.to.receive(item.frame))
                    got.push(text(payload));
        }
        inFlight = next;
    }
    assert.equal(got.length, 2000);
    assert.deepEqual(got, Array.from({ length: 2000 }, (_, i) => `item ${i}`));
    assert.equal(a.pending, 0, 'everything acknowledged');
}));
test('a sender that restarts (a new epoch) is heard from seq 1 again; its old frames and old acknowledgements are ignored', () => {
    const receiver = new DeviceStream(10n);
    const first = new DeviceStream(100n);
    first.enqueue(bytes(1));
    first.enqueue(bytes(2));
    const old = first.nextFrame(0);
    assert.deepEqual(receiver.receive(old).map(text), ['item 1', 'item 2']);
    const restarted = new DeviceStream(200n);
    restarted.enqueue(bytes(3));
    assert.deepEqual(receiver.receive(restarted.nextFrame(0)).map(text), ['item 3'], 'not taken for a repeat of seq 1');
    assert.deepEqual(receiver.receive(old), [], 'a late frame of the old stream is dropped');
    // The receiver's acknowledgement names the new epoch; one about the old stream acks nothing new.
    const ack = receiver.nextFrame(0);
    assert.equal(ack.ackEpoch, 200n);
    restarted.enqueue(bytes(4));
    const staleAck = { ...ack, ack: 5n, ackEpoch: 100n };
    restarted.receive(staleAck);
    assert.equal(restarted.pending, 2);
    restarted.receive(ack);
    assert.equal(restarted.pending, 1);
});
//# sourceMappingURL=device-stream.test.js.map