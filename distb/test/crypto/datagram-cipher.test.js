import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DatagramOpener, DatagramSealer } from '../../src/crypto/datagram-cipher.js';
import { ReplayWindow } from '../../src/crypto/replay-window.js';
const KEY = new Uint8Array(32).fill(5);
test('datagrams open in any order, each once; replays and forgeries are refused with their reason', () => {
    const sealer = new DatagramSealer('ChaChaPoly', KEY);
    const opener = new DatagramOpener('ChaChaPoly', KEY, 64);
    const sent = Array.from({ length: 10 }, (_, i) => sealer.seal(Uint8Array.of(i)));
    for (const i of [3, 0, 9, 1, 2, 8, 4, 7, 5, 6]) {
        const opened = opener.open(sent[i]);
        assert.ok(opened.ok, `datagram ${i}`);
        assert.equal(opened.value[0], i);
    }
    const replay = opener.open(sent[4]);
    assert.ok(!replay.ok && replay.error.code === 'replayed');
    const forged = sealer.seal(Uint8Array.of(42));
    forged[forged.byteLength - 1] ^= 1;
    const bad = opener.open(forged);
    assert.ok(!bad.ok && bad.error.code === 'decrypt_failed');
    const short = opener.open(new Uint8Array(10));
    assert.ok(!short.ok && short.error.code === 'truncated');
});
test('a forged datagram does not burn its counter: the genuine one still opens', () => {
    const sealer = new DatagramSealer('AESGCM', KEY);
    const opener = new DatagramOpener('AESGCM', KEY);
    const genuine = sealer.seal(Uint8Array.of(1, 2, 3));
    const forged = genuine.slice();
    forged[9] ^= 0xff;
    assert.ok(!opener.open(forged).ok);
    assert.ok(opener.open(genuine).ok);
});
test('datagrams older than the window are refused as too old', () => {
    const sealer = new DatagramSealer('ChaChaPoly', KEY);
    const opener = new DatagramOpener('ChaChaPoly', KEY, 32);
    const first = sealer.seal(Uint8Array.of(0));
    let last = first;
    for (let i = 0; i < 40; i++)
        last = sealer.seal(Uint8Array.of(1));
    assert.ok(opener.open(last).ok);
    const old = opener.open(first);
    assert.ok(!old.ok && old.error.code === 'too_old');
});
test('the replay window agrees with a set of everything seen, for any order of counters', () => {
    fc.assert(fc.property(fc.array(fc.nat(5000), { maxLength: 300 }), (counters) => {
        const window = new ReplayWindow(64);
        const seen = new Set();
        let highest = -1;
        for (const c of counters) {
            const verdict = window.check(c);
            const expected = c > highest ? 'fresh' : highest - c >= 64 ? 'too_old' : seen.has(c) ? 'replayed' : 'fresh';
            assert.equal(verdict, expected, `counter ${c} after highest ${highest}`);
            if (verdict === 'fresh') {
                window.accept(c);
                seen.add(c);
                highest = Math.max(highest, c);
            }
        }
    }));
});
test('fuzz: the opener returns a typed result for any bytes', () => {
    const opener = new DatagramOpener('ChaChaPoly', KEY);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => typeof opener.open(bytes).ok === 'boolean'), { numRuns: 400 });
});
//# sourceMappingURL=datagram-cipher.test.js.map