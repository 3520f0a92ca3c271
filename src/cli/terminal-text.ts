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

// C0 controls and DEL and C1 controls; the Arabic letter mark, left-to-right and right-to-left
// marks, embeddings, overrides, isolates; zero-width space, word joiner, invisible operators,
// deprecated format characters; line and paragraph separators; soft hyphen, Mongolian vowel
// separator, Hangul fillers (blank "names"), the byte order mark, interlinear annotations; a
// surrogate without its pair (with the u flag, a paired surrogate is part of one code point
// and does not match).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001F\u007F-\u009F\u00AD\u061C\u115F\u1160\u180E\u200B\u200E\u200F\u2028-\u202E\u2060-\u2064\u2066-\u206F\u3164\uFEFF\uFFA0\uFFF9-\uFFFB\uD800-\uDFFF]/gu;

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
