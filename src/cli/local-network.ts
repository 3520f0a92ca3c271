// A local Parley network in one folder: the network CA (created once, kept with 0600
// permissions), persistent supernode keys, and the network descriptor clients start with.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Random } from '../env/types.js';
import { fromBase64Url, toBase64Url } from '../crypto/bytes.js';
import { networkCaFromKeyPair, type NetworkCa } from '../crypto/certificate.js';
import { signingKeyPairFromSeed, generateSigningKeyPair } from '../crypto/ed25519.js';
import { exportDeviceKeys, generateDeviceKeys, importDeviceKeys, type DeviceKeys } from '../crypto/identity.js';

const PRIVATE_FILE_MODE = 0o600;

function writePrivate(path: string, text: string): void {
  writeFileSync(path, text, { mode: PRIVATE_FILE_MODE });
  chmodSync(path, PRIVATE_FILE_MODE); // also when the file already existed with looser rights
}

export function loadOrCreateCa(dir: string, random: Random): NetworkCa {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'ca.key.json');
  if (existsSync(path)) {
    const seed = fromBase64Url((JSON.parse(readFileSync(path, 'utf8')) as { seed: string }).seed);
    if (!seed || seed.byteLength !== 32) throw new Error(`${path} does not hold a CA key`);
    return networkCaFromKeyPair(signingKeyPairFromSeed(seed));
  }
  const keyPair = generateSigningKeyPair(random);
  writePrivate(path, `${JSON.stringify({ seed: toBase64Url(keyPair.seed) })}\n`);
  return networkCaFromKeyPair(keyPair);
}

export function loadOrCreateKeys(path: string, random: Random): DeviceKeys {
  if (existsSync(path)) {
    const keys = importDeviceKeys(JSON.parse(readFileSync(path, 'utf8')) as { signingSeed: string; dhPrivate: string });
    if (!keys) throw new Error(`${path} does not hold device keys`);
    return keys;
  }
  const keys = generateDeviceKeys(random);
  writePrivate(path, `${JSON.stringify(exportDeviceKeys(keys))}\n`);
  return keys;
}
