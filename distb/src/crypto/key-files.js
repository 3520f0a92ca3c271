// Key files: the network CA key and device keys, created once and kept with 0600
// permissions (the local network, the login server and clients use them).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePrivateDir, writePrivate } from '../env/private-files.js';
import { fromBase64Url, toBase64Url } from './bytes.js';
import { networkCaFromKeyPair } from './certificate.js';
import { signingKeyPairFromSeed, generateSigningKeyPair } from './ed25519.js';
import { exportDeviceKeys, generateDeviceKeys, importDeviceKeys } from './identity.js';
export { writePrivate };
export function loadOrCreateCa(dir, random) {
    makePrivateDir(dir);
    const path = join(dir, 'ca.key.json');
    if (existsSync(path)) {
        const seed = fromBase64Url(JSON.parse(readFileSync(path, 'utf8')).seed);
        if (!seed || seed.byteLength !== 32)
            throw new Error(`${path} does not hold a CA key`);
        return networkCaFromKeyPair(signingKeyPairFromSeed(seed));
    }
    const keyPair = generateSigningKeyPair(random);
    writePrivate(path, `${JSON.stringify({ seed: toBase64Url(keyPair.seed) })}\n`);
    return networkCaFromKeyPair(keyPair);
}
export function loadOrCreateKeys(path, random) {
    if (existsSync(path)) {
        const keys = importDeviceKeys(JSON.parse(readFileSync(path, 'utf8')));
        if (!keys)
            throw new Error(`${path} does not hold device keys`);
        return keys;
    }
    const keys = generateDeviceKeys(random);
    writePrivate(path, `${JSON.stringify(exportDeviceKeys(keys))}\n`);
    return keys;
}
//# sourceMappingURL=key-files.js.map