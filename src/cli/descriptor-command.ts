// `parley network descriptor`: a descriptor with the network's live bootstrap list, from the
// login server named (and pinned) by the descriptor one has: what to hand to new users and
// supernodes. It holds no secret.
import { writeFileSync } from 'node:fs';
import { serializeNetworkDescriptor, type NetworkDescriptor } from '../crypto/descriptor.js';
import { LoginClient } from '../client/login-client.js';
import { liveBootstrapFrom } from '../client/live-bootstrap.js';
import { CommandError } from './command-error.js';

export async function networkDescriptor(descriptor: NetworkDescriptor, out: string | undefined): Promise<void> {
  const client = new LoginClient(descriptor);
  try {
    const bootstrap = liveBootstrapFrom(await client.request('GET', '/v1/info'), descriptor.networkId);
    if (bootstrap.length === 0) throw new CommandError('the login server knows no live supernode: enrol one first (parley admin enrol-supernode, then parley supernode --enrol)');
    const text = serializeNetworkDescriptor({ ...descriptor, bootstrap });
    if (out) {
      writeFileSync(out, text);
      console.error(`wrote ${out} with ${bootstrap.length} bootstrap supernodes`);
    } else {
      process.stdout.write(text);
    }
  } finally {
    client.close();
  }
}
