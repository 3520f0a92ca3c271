// `parley admin`: the login server operator's commands, run on the login server's host against
// its database (the embedded one in its data folder, or PostgreSQL): single-use enrolment
// tokens for new supernodes, the list of enrolled supernodes, revoking one.
import { join, resolve } from 'node:path';
import { realEnv } from '../env/real.js';
import { toBase64Url } from '../crypto/bytes.js';
import { newEnrolmentToken } from '../crypto/enrolment.js';
import { openDatabase } from '../login-server/store/database.js';
import { SupernodeRegistry } from '../login-server/store/supernode-registry.js';
import { CommandError } from './command-error.js';

export interface AdminOptions {
  /** The login server's data folder (its login.db), unless `database` names PostgreSQL. */
  readonly data: string;
  readonly database?: string;
  readonly label?: string;
  readonly hours: number;
  readonly liveMinutes?: number;
}

async function withRegistry<T>(options: AdminOptions, work: (registry: SupernodeRegistry) => Promise<T>): Promise<T> {
  const database = await openDatabase(options.database ?? join(resolve(options.data), 'login.db'));
  try {
    return await work(new SupernodeRegistry(database.db));
  } finally {
    await database.close();
  }
}

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

export async function admin(args: readonly string[], options: AdminOptions): Promise<void> {
  const [what, ...rest] = args;
  const now = realEnv.clock.wallTimeMs();
  switch (what) {
    case 'enrol-supernode': {
      if (rest.length > 0) throw new CommandError(`too many arguments: ${rest.join(' ')}`);
      const token = newEnrolmentToken(realEnv.random);
      const added = await withRegistry(options, (registry) => registry.addToken(token, options.label ?? '', now, options.hours * 3_600_000));
      if (!added.ok) throw new CommandError(added.error.message);
      console.log(token);
      console.error(`single use, valid until ${new Date(added.value.expiresAtMs).toISOString()}. On the supernode's host:`);
      console.error(`  parley supernode --network network.json --enrol ${token} --host <its address>`);
      console.error('(network.json from the login server\'s data folder, or `parley network descriptor`: it holds no secret)');
      return;
    }
    case 'supernodes': {
      const all = await withRegistry(options, (registry) => registry.all());
      if (all.length === 0) console.log('no supernode is enrolled: parley admin enrol-supernode makes a token for one');
      const liveMs = (options.liveMinutes ?? 15) * 60_000;
      for (const s of all) {
        const state = s.revokedAtMs !== null ? 'revoked' : now - s.lastSeenMs <= liveMs ? 'live' : 'silent';
        const web = s.webPort !== null ? `+${s.webPort}` : '';
        console.log(`#${s.id} ${s.host}:${s.port}${web} ${state}, seen ${ago(now - s.lastSeenMs)}${s.label ? `, ${s.label}` : ''}; key ${toBase64Url(s.dhKey)}`);
      }
      return;
    }
    case 'revoke-supernode': {
      const id = Number(rest[0]);
      if (rest.length !== 1 || !Number.isInteger(id) || id < 1) throw new CommandError('parley admin revoke-supernode <id> (the #id parley admin supernodes shows)');
      const revoked = await withRegistry(options, (registry) => registry.revoke(id, now));
      if (!revoked) throw new CommandError(`no enrolled supernode #${id} that is not revoked already`);
      console.log(`supernode #${id} revoked: it renews no more and leaves the bootstrap list (its certificate lasts until it expires)`);
      return;
    }
    default:
      throw new CommandError('parley admin enrol-supernode | supernodes | revoke-supernode <id>');
  }
}
