// Characters that look like others in a username, in the spirit of the "skeleton" of Unicode
// TS #39 (security mechanisms, confusable detection): two names with the same skeleton look the
// same to a reader, so the second one is refused as taken. Our own small table, not Unicode's
// confusables.txt: it covers what matters for names that are letters, digits and '._-' after
// NFKC and lower case (usernames.ts) —
// - Cyrillic, Greek and Armenian letters drawn like Latin ones ("аlice" with a Cyrillic а);
// - Latin small capitals and IPA letters drawn like the plain ones ("ᴀlice"; new names may not
//   hold small capitals at all, usernames.ts, but older ones may);
// - digits and letter pairs that read as one letter in many fonts: 0/o, 1/l, rn/m, vv/w, cl/d.
// Accents are kept apart (the skeleton is taken on NFD, so "é" = "e" + U+0301 ≠ "e").
// The skeleton is stored (users.username_skeleton, unique): changing this table needs a
// migration that recomputes the column.

/** Latin small capitals, a to z (there is none for x): no language writes with them, so new names may not hold them. */
const SMALL_CAPITALS = 'ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘꞯʀꜱᴛᴜᴠᴡʏᴢ';
const SMALL_CAPITAL_OF = 'abcdefghijklmnopqrstuvwyz';

export function isSmallCapital(char: string): boolean {
  return SMALL_CAPITALS.includes(char);
}

/** Each confusable character and the characters it reads as (lower case). */
const LOOKS_LIKE: Record<string, string> = {
  // Cyrillic
  а: 'a', б: '6', в: 'b', г: 'r', е: 'e', з: '3', к: 'k', м: 'm', н: 'h', о: 'o', п: 'n', р: 'p', с: 'c', т: 't', у: 'y', х: 'x', ь: 'b',
  ѕ: 's', і: 'i', ј: 'j', ԁ: 'd', һ: 'h', ӏ: 'l', ԛ: 'q', ԝ: 'w', ѵ: 'v', ү: 'y',
  // Greek
  α: 'a', β: 'b', γ: 'y', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ω: 'w', η: 'n',
  // Armenian
  հ: 'h', ո: 'n', ս: 'u', օ: 'o', ց: 'g', զ: 'q', ք: 'p',
  // Latin letters without a dot, and IPA forms of plain letters
  ı: 'i', ȷ: 'j', ɩ: 'i', ɑ: 'a', ɡ: 'g', ɵ: 'o', ʋ: 'u',
  // Digits read as letters
  '0': 'o',
  '1': 'l',
  // Latin small capitals, drawn like the letters they are small capitals of
  ...Object.fromEntries([...SMALL_CAPITALS].map((c, i) => [c, SMALL_CAPITAL_OF[i]!])),
};

/** Letter pairs that read as one letter: the letter is written as the pair, so both give one skeleton. */
const READ_AS_PAIR: Record<string, string> = { m: 'rn', w: 'vv', d: 'cl' };

/**
 * The skeleton of a normalised username (NFKC, lower case): names that look alike have the same
 * skeleton. Pure and stable for a given table.
 */
export function usernameSkeleton(name: string): string {
  let out = '';
  for (const char of name.normalize('NFD')) {
    const plain = LOOKS_LIKE[char] ?? char;
    for (const c of plain) out += READ_AS_PAIR[c] ?? c;
  }
  return out.normalize('NFD');
}
