// Text that users choose and the login server stores and hands to other users: display names,
// device names, buddy-request messages. Whoever shows it — a terminal, a web page, a log — must
// see what the writer would see, so the text may not steer its reader:
// - no control characters (C0, DEL, C1): ESC starts ANSI sequences that recolour or rewrite a
//   terminal, BEL rings it, CR overwrites a line; a message may hold line feeds, a name may not;
// - no format characters (Unicode category Cf): bidi overrides and isolates (U+202A–202E,
//   U+2066–2069) reverse what follows ("gpj.exe" shown as "exe.jpg"), zero-width spaces and
//   joiners hide characters, tags smuggle text; the one exception is the zero-width joiner
//   between two emoji (family and profession emoji are built with it);
// - no line or paragraph separators, no spaces but U+0020, no private-use code points, no lone
//   surrogates, no noncharacters, and no letters that draw nothing (Hangul fillers);
// - no more than MAX_COMBINING_MARKS_IN_A_ROW combining marks on one character (text that
//   spills over the lines above and below);
// - a name shows something: not empty, not only spaces, and no spaces at either end (a message
//   may be empty).
// Lengths are bounded by the request schemas (in code points); this module says what is allowed.
// The client checks its own text with it before sending, the login server before storing.
import { err, ok, type CodedError, type Result } from '../result.js';

export type UserTextKind = 'name' | 'message';

export type UserTextError = CodedError<'invalid_text'>;

/** Combining marks allowed on one base character (Vietnamese needs two, a few scripts three). */
export const MAX_COMBINING_MARKS_IN_A_ROW = 4;

const ZERO_WIDTH_JOINER = 0x200d;
/** An emoji, a skin-tone modifier or the emoji presentation selector: what a joiner may stand between. */
const EMOJI = /^(?:\p{Extended_Pictographic}|[\u{1F3FB}-\u{1F3FF}]|\u{FE0F})$/u;
/** Letters that draw nothing: Hangul fillers, and the Braille blank often used as an "empty" name. */
const INVISIBLE_LETTERS = new Set([0x115f, 0x1160, 0x3164, 0xffa0, 0x2800]);

function describe(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Why one character may not appear, or null when it may. */
function refusal(char: string, codePoint: number, kind: UserTextKind): string | null {
  if (codePoint === 0x0a) return kind === 'message' ? null : 'a line break';
  if (/\p{Cc}/u.test(char)) return `the control character ${describe(codePoint)}`;
  if (codePoint >= 0x202a && codePoint <= 0x202e) return `the bidirectional override ${describe(codePoint)}`;
  if (codePoint >= 0x2066 && codePoint <= 0x2069) return `the bidirectional isolate ${describe(codePoint)}`;
  if (/\p{Cf}/u.test(char)) return `the invisible format character ${describe(codePoint)}`;
  if (/[\p{Zl}\p{Zp}]/u.test(char)) return `the separator ${describe(codePoint)}`;
  if (/\p{Zs}/u.test(char) && codePoint !== 0x20) return `the space ${describe(codePoint)} (use an ordinary space)`;
  if (/\p{Co}/u.test(char)) return `the private-use character ${describe(codePoint)}`;
  if (/\p{Cs}/u.test(char)) return 'a lone surrogate';
  if ((codePoint & 0xfffe) === 0xfffe || (codePoint >= 0xfdd0 && codePoint <= 0xfdef)) return `the noncharacter ${describe(codePoint)}`;
  if (INVISIBLE_LETTERS.has(codePoint)) return `the invisible character ${describe(codePoint)}`;
  return null;
}

/** `text` if it is safe to store and show (see the header), else why not. */
export function checkUserText(text: string, kind: UserTextKind): Result<string, UserTextError> {
  const what = kind === 'name' ? 'a name' : 'a message';
  const chars = [...text];
  if (kind === 'name') {
    if (!/[^\s]/u.test(text)) return err({ code: 'invalid_text', message: `${what} needs something visible` });
    if (chars[0] === ' ' || chars[chars.length - 1] === ' ') return err({ code: 'invalid_text', message: `${what} does not start or end with a space` });
  }
  let marksInARow = 0;
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]!;
    const codePoint = char.codePointAt(0)!;
    marksInARow = /\p{M}/u.test(char) ? marksInARow + 1 : 0;
    if (marksInARow > MAX_COMBINING_MARKS_IN_A_ROW) return err({ code: 'invalid_text', message: `${what} holds more than ${MAX_COMBINING_MARKS_IN_A_ROW} combining marks on one character` });
    if (codePoint === ZERO_WIDTH_JOINER && i > 0 && i < chars.length - 1 && EMOJI.test(chars[i - 1]!) && EMOJI.test(chars[i + 1]!)) continue;
    const why = refusal(char, codePoint, kind);
    if (why) return err({ code: 'invalid_text', message: `${what} may not hold ${why}` });
  }
  return ok(text);
}
