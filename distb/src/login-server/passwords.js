// Password hashing with scrypt (memory-hard, in node:crypto, no native add-on). Default cost is
// OWASP's recommendation for scrypt: N = 2^17, r = 8, p = 1 (128 MiB and ~0.3 s per hash here).
// Hashes run on libuv's thread pool; at most `maxConcurrent` at once, so a burst of logins
// cannot make the server allocate N × 128 MiB.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
export const RECOMMENDED_SCRYPT_COST = { logN: 17, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;
function derive(password, salt, cost) {
    const N = 2 ** cost.logN;
    return new Promise((resolve, reject) => scrypt(password.normalize('NFKC'), salt, KEY_BYTES, { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r + 1024 * 1024 }, (error, key) => error ? reject(error) : resolve(key)));
}
export class PasswordHasher {
    cost;
    maxConcurrent;
    running = 0;
    waiting = [];
    constructor(cost = RECOMMENDED_SCRYPT_COST, maxConcurrent = 2) {
        this.cost = cost;
        this.maxConcurrent = maxConcurrent;
    }
    async slot(work) {
        if (this.running >= this.maxConcurrent)
            await new Promise((resolve) => this.waiting.push(resolve));
        this.running++;
        try {
            return await work();
        }
        finally {
            this.running--;
            this.waiting.shift()?.();
        }
    }
    /** `scrypt$logN$r$p$salt$key`, base64url: the cost travels with the hash, so it can be raised later. */
    hash(password) {
        return this.slot(async () => {
            const salt = randomBytes(SALT_BYTES);
            const key = await derive(password, salt, this.cost);
            const { logN, r, p } = this.cost;
            return `scrypt$${logN}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
        });
    }
    verify(password, stored) {
        const parts = stored.split('$');
        if (parts.length !== 6 || parts[0] !== 'scrypt')
            return Promise.resolve(false);
        const [logN, r, p] = parts.slice(1, 4).map(Number);
        const salt = Buffer.from(parts[4], 'base64url');
        const expected = Buffer.from(parts[5], 'base64url');
        if (![logN, r, p].every(Number.isInteger) || logN < 10 || logN > 22 || expected.byteLength !== KEY_BYTES)
            return Promise.resolve(false);
        return this.slot(async () => timingSafeEqual(await derive(password, salt, { logN, r, p }), expected));
    }
    /** True when the stored hash is cheaper than today's cost (re-hash at the next login). */
    needsRehash(stored) {
        const logN = Number(stored.split('$')[1]);
        return !(logN >= this.cost.logN);
    }
}
//# sourceMappingURL=passwords.js.map