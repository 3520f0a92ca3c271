// The local API's token: 32 random bytes per install, kept in the profile with owner-only
// permissions. Whoever can read the profile is this user; any other local process or web page
// gets a 401. Compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { makePrivateDir, writePrivate } from '../env/private-files.js';
const TOKEN_BYTES = 32;
/** The token at `path`, made on first use. */
export function loadOrCreateToken(path) {
    if (existsSync(path)) {
        const text = readFileSync(path, 'utf8').trim();
        if (/^[A-Za-z0-9_-]{43}$/.test(text))
            return text;
    }
    makePrivateDir(dirname(path));
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    writePrivate(path, `${token}\n`);
    return token;
}
/** Whether `given` is the token (hashes compared, so neither length nor content leaks through timing). */
export function tokenMatches(given, token) {
    if (given === undefined)
        return false;
    const a = createHash('sha256').update(given).digest();
    const b = createHash('sha256').update(token).digest();
    return timingSafeEqual(a, b);
}
//# sourceMappingURL=api-token.js.map