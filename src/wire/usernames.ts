// Username rules: 3–32 characters after normalisation (NFKC, lower case); letters, digits,
// '.', '_' and '-'; starts with a letter. Unique without regard to case. Anything else — spaces,
// quotes, SQL fragments — is refused here, before any query (which are parameterised anyway).
//
// A new name must also not pass for another one (issue 19): its letters come from one script —
// one writing system, where Japanese is Han with kana and Korean is Han with Hangul — so no
// Cyrillic "а" inside a Latin "alice"; and it may not share a skeleton (confusables.ts) with a
// name that exists, which catches whole-script look-alikes ("аррӏе" all in Cyrillic), digits for
// letters ("a1ice") and letter pairs ("rnary"). Small capitals ("ᴀlice") are refused outright. Those two rules apply when a name is registered, not when one is looked
// up: accounts made before them keep logging in, and can be found, as they are.
//
// Both ends apply these rules (the client before it asks, the login server before it stores), so
// they live here, under the protocol, not in either role.
import { err, ok, type CodedError, type Result } from '../result.js';
import { isSmallCapital } from './confusables.js';

export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
const ALLOWED = /^\p{L}[\p{L}\p{N}._-]*$/u;

export type UsernameError = CodedError<'invalid_username'>;

export function normaliseUsername(input: string): Result<string, UsernameError> {
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

/** Scripts new names may be written in, and the writing systems each belongs to. */
const WRITING_SYSTEMS: Record<string, readonly string[]> = {
  Latin: ['Latin'],
  Greek: ['Greek'],
  Cyrillic: ['Cyrillic'],
  Armenian: ['Armenian'],
  Georgian: ['Georgian'],
  Hebrew: ['Hebrew'],
  Arabic: ['Arabic'],
  Thaana: ['Thaana'],
  Thai: ['Thai'],
  Lao: ['Lao'],
  Ethiopic: ['Ethiopic'],
  Hangul: ['Korean'],
  Hiragana: ['Japanese'],
  Katakana: ['Japanese'],
  Han: ['Chinese', 'Japanese', 'Korean'],
};
const SCRIPT_TESTS = Object.entries(WRITING_SYSTEMS).map(([script, systems]) => ({ script, systems, test: new RegExp(`\\p{Script_Extensions=${script}}`, 'u') }));
/** Characters every writing system shares in a name. */
const NEUTRAL = /^[0-9._-]$/;

/** The writing systems a character belongs to (none: a script new names are not written in). */
function writingSystems(char: string): Set<string> {
  const systems = new Set<string>();
  for (const { systems: of, test } of SCRIPT_TESTS) if (test.test(char)) for (const s of of) systems.add(s);
  return systems;
}

/** A name to register: normalised as for any lookup, and in one writing system. */
export function normaliseNewUsername(input: string): Result<string, UsernameError> {
  const name = normaliseUsername(input);
  if (!name.ok) return name;
  let common: ReadonlySet<string> | null = null;
  for (const char of name.value) {
    if (NEUTRAL.test(char)) continue;
    if (isSmallCapital(char)) return err({ code: 'invalid_username', message: `a new username may not hold the small capital '${char}': write the letter itself` });
    const systems = writingSystems(char);
    if (systems.size === 0) {
      return err({ code: 'invalid_username', message: `a new username may not hold '${char}' (U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}): its script is not one names are written in` });
    }
    common = common === null ? systems : new Set([...common].filter((s: string) => systems.has(s)));
    if (common.size === 0) {
      return err({ code: 'invalid_username', message: `a new username is written in one script: '${char}' is from another script than the letters before it` });
    }
  }
  return ok(name.value);
}
