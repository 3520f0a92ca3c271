// Text that came from someone else (names, status text, chat, buddy requests, search results,
// reasons and errors carrying a peer's or a server's words), made safe to print on a terminal.
// A terminal obeys what it is sent: ESC starts sequences that move the cursor, rewrite earlier
// lines, set the window title or (on some terminals) answer back into the input; BEL rings; CR
// and backspace overwrite what was printed; bidi overrides and isolates reorder the rest of the
// line, so "alice" can read as someone else and a command to copy can read as another one.
// Invisible characters make names that look alike or blank. Each such character becomes U+FFFD,
// visible and never a control; every other character (accents, CJK, RTL scripts, emoji with
// their joiners, variation selectors and flag tags) is printed as it is.

/** What an unsafe character is shown as. */
export const PLACEHOLDER = '\uFFFD';

// By Unicode category, so nothing new slips through a hand-made list: controls (Cc: C0, DEL,
// C1), unpaired surrogates (Cs), line and paragraph separators (Zl, Zp), and format characters
// (Cf: bidi marks, embeddings, overrides and isolates, zero-width space, word joiner, soft
// hyphen, byte order mark…) except those emoji and scripts need: the zero-width
// joiner and non-joiner, and the tag characters of subdivision flags. Then the Hangul fillers,
// letters that print as nothing (blank "names").
const UNSAFE = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}]|(?!\u200C|\u200D|[\u{E0020}-\u{E007F}])\p{Cf}|[\u115F\u1160\u3164\uFFA0]/gu;

/** One line of someone else's text: every control (newlines too) and invisible format character replaced; a tab is a space. */
export function terminalText(text: string): string {
  return text.replace(/\t/g, ' ').replace(UNSAFE, PLACEHOLDER);
}

/**
 * Someone else's text that may hold several lines (a chat message, an error): each line made
 * safe, and every line after the first indented by `continuation`, so no line of it can pass
 * for a line of our own output (such as a message from another user).
 */
export function terminalLines(text: string, continuation = '  | '): string {
  return text
    .split(/\r\n|\n/)
    .map(terminalText)
    .join(`\n${continuation}`);
}

/** An error's message, made safe: errors often carry a server's or a peer's words. */
export function terminalError(error: unknown): string {
  return terminalLines(error instanceof Error ? error.message : String(error));
}
