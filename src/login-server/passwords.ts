// Password hashing with scrypt (memory-hard, in node:crypto, no native add-on). Default cost is
// OWASP's recommendation for scrypt: N = 2^17, r = 8, p = 1 (128 MiB and ~0.3 s per hash here).
// Hashes run on libuv's thread pool. This class only hashes; how many run at once, and who
// waits, is the login server's bounded fair queue (hash-queue.ts, used through context.ts), so a
// burst of logins can neither make the server allocate N × 128 MiB nor starve other users.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptCost {
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

export const RECOMMENDED_SCRYPT_COST: ScryptCost = { logN: 17, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  const N = 2 ** cost.logN;
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_BYTES, { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

function format(cost: ScryptCost, salt: Buffer, key: Buffer): string {
  return `scrypt$${cost.logN}$${cost.r}$${cost.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export class PasswordHasher {
  /**
   * What an unknown username is checked against: a stored hash of today's cost (random salt and
   * key, so no password matches it). Checking it costs what checking a real account's hash
   * costs, so the answer's timing does not say whether the account exists.
   */
  readonly unknownUserHash: string;

  constructor(readonly cost: ScryptCost = RECOMMENDED_SCRYPT_COST) {
    this.unknownUserHash = format(cost, randomBytes(SALT_BYTES), randomBytes(KEY_BYTES));
  }

  /** `scrypt$logN$r$p$salt$key`, base64url: the cost travels with the hash, so it can be raised later. */
  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    return format(this.cost, salt, await derive(password, salt, this.cost));
  }

  verify(password: string, stored: string): Promise<boolean> {
    const parts = stored.split('$');
    if (parts.length !== 6 || parts[0] !== 'scrypt') return Promise.resolve(false);
    const [logN, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
    const salt = Buffer.from(parts[4]!, 'base64url');
    const expected = Buffer.from(parts[5]!, 'base64url');
    if (![logN, r, p].every(Number.isInteger) || logN < 10 || logN > 22 || expected.byteLength !== KEY_BYTES) return Promise.resolve(false);
    return derive(password, salt, { logN, r, p }).then((key) => timingSafeEqual(key, expected));
  }

  /** True when the stored hash is cheaper than today's cost (re-hash at the next login). */
  needsRehash(stored: string): boolean {
    const logN = Number(stored.split('$')[1]);
    return !(logN >= this.cost.logN);
  }
}
