// `parley online` and `parley whois`: a device attached to the supernode overlay.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { realEnv } from '../env/real.js';
import { CertificateVerifier } from '../crypto/certificate.js';
import { toHex } from '../crypto/bytes.js';
import type { Account } from '../client/account.js';
import { AttachedClient } from '../client/attachment.js';
import { LoginError } from '../client/login-client.js';
import type { NetworkDescriptor } from '../crypto/descriptor.js';
import { HostCache, parseHostCache } from '../overlay/host-cache.js';
import { CandidateType } from '../wire/messages.js';

function loadHostCache(path: string): HostCache {
  if (!existsSync(path)) return new HostCache();
  const parsed = parseHostCache(readFileSync(path, 'utf8'));
  return parsed.ok ? parsed.value : new HostCache();
}

async function attach(account: Account, descriptor: NetworkDescriptor): Promise<{ client: AttachedClient; hostCache: HostCache; save: () => void }> {
  const identity = await account.identity();
  const hostCache = loadHostCache(account.hostCachePath);
  const save = () => writeFileSync(account.hostCachePath, hostCache.toJSON());
  const client = new AttachedClient(realEnv, {
    identity,
    verifier: new CertificateVerifier(descriptor.caPublicKey),
    username: account.username,
    hostCache,
    bootstrap: descriptor.bootstrap,
  });
  client.onEvent((event) => {
    if (event.kind === 'attached') console.log(`attached to supernode ${event.supernode.host}:${event.supernode.port} (from the ${event.source === 'bootstrap' ? 'bootstrap list' : 'host cache'})`);
    if (event.kind === 'lost') console.log(`lost supernode ${event.supernode.host}:${event.supernode.port}: ${event.reason}; failing over`);
    if (event.kind === 'unreachable') console.log('no supernode answers; retrying');
    save();
  });
  await client.start();
  return { client, hostCache, save };
}

/** Stays attached until Ctrl-C, so others can find this device. */
export async function online(account: Account, descriptor: NetworkDescriptor): Promise<void> {
  const { client, save } = await attach(account, descriptor);
  console.log(`${account.username} is online (Ctrl-C to go offline)`);
  const stop = () => {
    client.close();
    save();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** Finds a user through the overlay; when it does not, asks the login server, and says which. */
export async function whois(account: Account, descriptor: NetworkDescriptor, username: string): Promise<void> {
  const { client, save } = await attach(account, descriptor);
  try {
    const started = realEnv.clock.now();
    const records = await client.find(username.toLowerCase());
    const ms = realEnv.clock.now() - started;
    if (records.length > 0) {
      console.log(`${username}: online, found in the overlay in ${ms.toFixed(1)} ms (${records.length} device${records.length > 1 ? 's' : ''})`);
      for (const r of records) {
        const via = r.supernodes.map((s) => `${s.host}:${s.port}`).join(', ') || 'no supernode';
        const candidates = r.candidates.map((c) => `${CandidateType[c.type]?.toLowerCase() ?? 'candidate'} ${c.host}:${c.port}`).join(', ');
        console.log(`  device ${toHex(r.device.dhKey).slice(0, 16)} via ${via}${candidates ? `; candidates ${candidates}` : ''}; record valid until ${new Date(r.expiresAtMs).toISOString()}`);
      }
      return;
    }
    try {
      const entry = await account.call<{ username: string; lastSeenMs: number | null }>('GET', `/v1/directory/users/${encodeURIComponent(username)}`);
      const seen = entry.lastSeenMs === null ? 'last seen: hidden' : `last seen ${new Date(entry.lastSeenMs).toISOString()}`;
      console.log(`${username}: not online (the overlay has no record); the login server knows the user, ${seen}`);
    } catch (error) {
      if (error instanceof LoginError && error.status === 404) console.log(`${username}: no such user (asked the overlay, then the login server)`);
      else throw error;
    }
  } finally {
    client.close();
    save();
  }
}
