// Username rules: 3–32 characters after normalisation (NFKC, lower case); letters, digits,
// '.', '_' and '-'; starts with a letter. Unique without regard to case. Anything else — spaces,
// quotes, SQL fragments — is refused here, before any query (which are parameterised anyway).
import { err, ok } from '../result.js';
export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
const ALLOWED = /^\p{L}[\p{L}\p{N}._-]*$/u;
export function normaliseUsername(input) {
    const name = input.normalize('NFKC').toLowerCase();
    const length = [...name].length;
    if (length < USERNAME_MIN || length > USERNAME_MAX) {
        return err({ code: 'invalid_username', message: `a username has ${USERNAME_MIN} to ${USERNAME_MAX} characters` });
    }
    if (!ALLOWED.test(name)) {
        return err({ code: 'invalid_username', message: "a username starts with a letter and holds only letters, digits, '.', '_' and '-'" });
    }
    return ok(name);
}
//# sourceMappingURL=usernames.js.map