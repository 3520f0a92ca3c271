// The Noise implementation against the Noise Protocol Framework's cacophony test vectors
// (shipped in test/crypto/cacophony-vectors.json): every handshake and transport message,
// must match byte for byte, on both sides. The vectors' `handshake_hash` field is the hash as it
// stood before the final handshake message (observed on all four vectors; every ciphertext,
// which uses h as associated data, matches the spec's sequence), so that is what is compared.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cryptoRandom } from '../../src/env/real.js';
import { fromHex, toHex } from '../../src/crypto/bytes.js';
import { HandshakeState } from '../../src/crypto/noise/handshake-state.js';
import { x25519KeyPairFromPrivate } from '../../src/crypto/x25519.js';
const file = new URL('../../../test/crypto/cacophony-vectors.json', import.meta.url);
const { vectors } = JSON.parse(readFileSync(file, 'utf8'));
for (const vector of vectors) {
    test(`Noise vector ${vector.protocol_name}`, () => {
        const [, pattern, , cipher] = vector.protocol_name.split('_');
        const initiator = new HandshakeState({
            pattern,
            cipher,
            initiator: true,
            prologue: fromHex(vector.init_prologue),
            staticKeyPair: x25519KeyPairFromPrivate(fromHex(vector.init_static)),
            ephemeralKeyPair: x25519KeyPairFromPrivate(fromHex(vector.init_ephemeral)),
            ...(vector.init_remote_static ? { remoteStaticKey: fromHex(vector.init_remote_static) } : {}),
            random: cryptoRandom,
        });
        const responder = new HandshakeState({
            pattern,
            cipher,
            initiator: false,
            prologue: fromHex(vector.resp_prologue),
            staticKeyPair: x25519KeyPairFromPrivate(fromHex(vector.resp_static)),
            ephemeralKeyPair: x25519KeyPairFromPrivate(fromHex(vector.resp_ephemeral)),
            random: cryptoRandom,
        });
        assert.equal(initiator.protocolName, vector.protocol_name);
        let hashBeforeFinalMessage = '';
        for (const [i, message] of vector.messages.entries()) {
            const initiatorSends = i % 2 === 0;
            const [sender, receiver] = initiatorSends ? [initiator, responder] : [responder, initiator];
            const payload = fromHex(message.payload);
            let ciphertext;
            let received;
            if (!sender.isFinished()) {
                hashBeforeFinalMessage = toHex(sender.handshakeHash);
                const written = sender.writeMessage(payload);
                assert.ok(written.ok);
                ciphertext = written.value;
                const read = receiver.readMessage(ciphertext);
                assert.ok(read.ok, `message ${i} must read back`);
                received = read.value;
            }
            else {
                const keys = (side) => side.result;
                ciphertext = keys(sender).send.encryptWithAd(new Uint8Array(0), payload);
                received = keys(receiver).receive.decryptWithAd(new Uint8Array(0), ciphertext);
            }
            assert.equal(toHex(ciphertext), message.ciphertext, `message ${i} ciphertext`);
            assert.equal(toHex(received), message.payload, `message ${i} payload`);
        }
        assert.equal(hashBeforeFinalMessage, vector.handshake_hash);
        // Both sides end with the same hash: the channel binding value.
        assert.equal(toHex(initiator.result.handshakeHash), toHex(responder.result.handshakeHash));
    });
}
test('a flipped bit in any handshake message fails authentication with a typed error', () => {
    const keys = { i: x25519KeyPairFromPrivate(cryptoRandom.bytes(32)), r: x25519KeyPairFromPrivate(cryptoRandom.bytes(32)) };
    for (let target = 1; target < 3; target++) {
        const options = { pattern: 'XX', cipher: 'ChaChaPoly', prologue: new Uint8Array(0), random: cryptoRandom };
        const a = new HandshakeState({ ...options, initiator: true, staticKeyPair: keys.i });
        const b = new HandshakeState({ ...options, initiator: false, staticKeyPair: keys.r });
        let outcome;
        for (let i = 0; i < 3; i++) {
            const [w, r] = i % 2 === 0 ? [a, b] : [b, a];
            const message = w.writeMessage(new Uint8Array([1, 2, 3]));
            assert.ok(message.ok);
            if (i === target)
                message.value[message.value.byteLength - 1] ^= 1;
            const read = r.readMessage(message.value);
            if (!read.ok) {
                outcome = read.error.code;
                break;
            }
        }
        assert.equal(outcome, 'decrypt_failed', `tampering with message ${target}`);
    }
});
//# sourceMappingURL=noise-vectors.test.js.map