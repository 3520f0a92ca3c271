// `parley supernode`: one more supernode for an existing network, run by its operator. It is
// certified with the network's CA key (held in the folder given), so it serves only networks
// whose operator runs it; users' machines become supernodes by promotion instead.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { realEnv } from '../env/real.js';
import { equalBytes } from '../crypto/bytes.js';
import { CertificateVerifier, Role } from '../crypto/certificate.js';
import { parseNetworkDescriptor, type BootstrapEntry } from '../crypto/descriptor.js';
import { certifyKeys } from '../crypto/identity.js';
import { loadOrCreateCa, loadOrCreateKeys } from '../crypto/key-files.js';
import { startSupernode } from '../supernode/supernode.js';
import { CommandError } from './account-commands.js';

export async function runSupernode(values: { dir: string; host: string; port?: string; webPort?: number; stun?: { alternate: { host: string } } }): Promise<void> {
  const dir = resolve(values.dir);
  const descriptorPath = join(dir, 'network.json');
  if (!existsSync(descriptorPath)) throw new CommandError(`no network.json in ${dir}: start the network first (parley local, or parley login-server)`);
  if (!existsSync(join(dir, 'ca.key.json'))) {
    throw new CommandError(`no CA key in ${dir}: an operator's supernode is certified with the network's CA key (users' machines become supernodes by promotion: parley online)`);
  }
  const parsed = parseNetworkDescriptor(readFileSync(descriptorPath, 'utf8'));
  if (!parsed.ok) throw new CommandError(`${descriptorPath}: ${parsed.error.code}: ${parsed.error.message}`);
  const descriptor = parsed.value;
  const ca = loadOrCreateCa(dir, realEnv.random);
  if (!equalBytes(ca.keyPair.publicKey, descriptor.caPublicKey)) throw new CommandError(`the CA key in ${dir} is not the CA of its network.json`);
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CommandError('--port must be a whole number from 0 to 65535');
  const keys = loadOrCreateKeys(join(dir, `supernode-extra-${port}.key.json`), realEnv.random);
  const nowMs = realEnv.clock.wallTimeMs();
  const identity = certifyKeys(ca, keys, { username: '', role: Role.SUPERNODE, issuedAtMs: nowMs, serial: nowMs * 100 + 77 });
  const supernode = await startSupernode(realEnv, {
    identity,
    verifier: new CertificateVerifier(descriptor.caPublicKey),
    host: values.host,
    port,
    ...(values.webPort ? { webPort: values.webPort } : {}),
    ...(values.stun ? { stun: values.stun } : {}),
    log: (line) => console.log(`supernode: ${line}`),
  });
  const seeds = descriptor.bootstrap.filter((b): b is BootstrapEntry & { dhKey: Uint8Array } => b.dhKey !== undefined && !equalBytes(b.dhKey, keys.dh.publicKey));
  await supernode.join(seeds);
  console.log(`supernode listening on ${values.host}:${supernode.port}${supernode.webPort ? ` and ${supernode.webPort} (web port)` : ''}; joined the overlay through ${seeds.length} bootstrap supernodes and knows ${supernode.dht.table.size}`);
  const stop = () => {
    supernode.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
