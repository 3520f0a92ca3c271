// `parley online` and `parley whois`: a device attached to the supernode overlay.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { realEnv } from '../env/real.js';
import { CertificateVerifier } from '../crypto/certificate.js';
import { toBase64Url, toHex } from '../crypto/bytes.js';
import type { Account } from '../client/account.js';
import { AttachedClient } from '../client/attachment.js';
import { LoginError } from '../client/login-client.js';
import type { NetworkDescriptor } from '../crypto/descriptor.js';
import { HostCache, parseHostCache } from '../overlay/host-cache.js';
import { CandidateType } from '../wire/messages.js';
import { fromBase64Url } from '../crypto/bytes.js';
import { Promoter } from '../client/promotion.js';

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

export interface OnlineOptions {
  /** Where this device listens for dial-backs, and serves as a supernode once promoted (0: any free port). */
  readonly port: number;
  readonly host?: string;
  /** The user's setting: may this machine become a supernode? */
  readonly allowPromotion: boolean;
  readonly promoteAfterMs?: number;
}

/**
 * Stays attached until Ctrl-C, so others can find this device; meanwhile, unless the user
 * forbids it, the device becomes a supernode when a supernode's dial-back finds it reachable.
 */
export async function online(account: Account, descriptor: NetworkDescriptor, options: OnlineOptions): Promise<void> {
  const { client, save } = await attach(account, descriptor);
  const identity = await account.identity();
  const promoter = new Promoter(realEnv, {
    identity,
    verifier: new CertificateVerifier(descriptor.caPublicKey),
    client,
    port: options.port,
    ...(options.host ? { host: options.host } : {}),
    policy: { allowed: options.allowPromotion, ...(options.promoteAfterMs !== undefined ? { minUptimeMs: options.promoteAfterMs } : {}) },
    certify: async (attestation) => {
      const issued = await account.call<{ certificate: string }>('POST', '/v1/devices/current/supernode-certificate', { attestation: toBase64Url(attestation) });
      const certificate = fromBase64Url(issued.certificate);
      if (!certificate) throw new Error('the login server sent an unreadable certificate');
      return certificate;
    },
  });
  promoter.onEvent((event) => {
    if (event.kind === 'forbidden') console.log('this device will not become a supernode (--no-promotion)');
    if (event.kind === 'not-promoted') console.log(`not a supernode: ${event.reason}`);
    if (event.kind === 'promoted') console.log(`promoted: now also a supernode on port ${event.port} (dial-back measured ${Math.round(event.uploadKbps)} kbit/s up)`);
    if (event.kind === 'check-failed') console.log(`supernode reachability check failed (${event.failures}): ${event.reason}`);
    if (event.kind === 'demoted') console.log(`demoted: no longer a supernode (${event.reason})`);
  });
  await promoter.start();
  console.log(`${account.username} is online (Ctrl-C to go offline)`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      promoter.close();
      client.close();
      save();
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
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
