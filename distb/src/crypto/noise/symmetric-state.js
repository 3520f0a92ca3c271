// Noise SymmetricState (Noise spec section 5.2) with SHA-256.
import { createHash, createHmac } from 'node:crypto';
import { CipherState } from './cipher-state.js';
export const HASH_BYTES = 32;
const EMPTY = new Uint8Array(0);
export function sha256(...parts) {
    const hash = createHash('sha256');
    for (const part of parts)
        hash.update(part);
    return new Uint8Array(hash.digest());
}
function hmac(key, ...parts) {
    const mac = createHmac('sha256', key);
    for (const part of parts)
        mac.update(part);
    return new Uint8Array(mac.digest());
}
/** HKDF as Noise defines it (section 4.3), returning two or three outputs. */
export function hkdf(chainingKey, inputKeyMaterial, outputs) {
    const temp = hmac(chainingKey, inputKeyMaterial);
    const out1 = hmac(temp, Uint8Array.of(1));
    const out2 = hmac(temp, out1, Uint8Array.of(2));
    if (outputs === 2)
        return [out1, out2];
    return [out1, out2, hmac(temp, out2, Uint8Array.of(3))];
}
export class SymmetricState {
    protocolName;
    cipher;
    ck;
    h;
    cipherState;
    constructor(protocolName, cipher) {
        this.protocolName = protocolName;
        this.cipher = cipher;
        const name = new TextEncoder().encode(protocolName);
        if (name.byteLength <= HASH_BYTES) {
            this.h = new Uint8Array(HASH_BYTES);
            this.h.set(name);
        }
        else {
            this.h = sha256(name);
        }
        this.ck = this.h;
        this.cipherState = new CipherState(cipher);
    }
    get handshakeHash() {
        return this.h;
    }
    hasKey() {
        return this.cipherState.hasKey();
    }
    mixKey(inputKeyMaterial) {
        const [ck, tempK] = hkdf(this.ck, inputKeyMaterial, 2);
        this.ck = ck;
        this.cipherState.initializeKey(tempK);
    }
    mixHash(data) {
        this.h = sha256(this.h, data);
    }
    encryptAndHash(plaintext) {
        const ciphertext = this.cipherState.encryptWithAd(this.h, plaintext);
        this.mixHash(ciphertext);
        return ciphertext;
    }
    decryptAndHash(ciphertext) {
        const plaintext = this.cipherState.decryptWithAd(this.h, ciphertext);
        if (plaintext === null)
            return null;
        this.mixHash(ciphertext);
        return plaintext;
    }
    /**
     * Noise's Split(): the two transport keys, and cipher states keyed with them (the keys for
     * protocols that derive further keys from them).
     */
    split() {
        const [k1, k2] = hkdf(this.ck, EMPTY, 2);
        return { keys: [k1, k2], ciphers: [new CipherState(this.cipher, k1), new CipherState(this.cipher, k2)] };
    }
}
//# sourceMappingURL=symmetric-state.js.map