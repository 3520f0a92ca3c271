// The terminal sanitiser fed any text, astral characters and unpaired surrogates included: what
// it returns holds no control, bidi control, separator or unpaired surrogate; it is safe already
// (a second pass changes nothing); and it changes nothing else: every code point it keeps stays
// where it was, and every one it replaces is one a terminal must not get from someone else.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PLACEHOLDER, terminalLines, terminalText } from '../../src/cli/terminal-text.js';

const RUNS = { numRuns: 2000, seed: 19 };

/** Any string: whole code points (astral too), lone UTF-16 units, and the characters attacks use, mixed. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)), maxLength: 64 }),
  fc.string({ unit: fc.constantFrom('\x1b', '\x07', '\r', '\n', '\b', '\u009b', '\u202e', '\u2066', '\u200d', '\ud83d', '\ude00', 'a', 'é', '你', '👍'), maxLength: 64 }),
);

const FORBIDDEN = /[\p{Cc}\p{Cs}\p{Bidi_Control}\p{Zl}\p{Zp}]/u;

test('fuzz: terminalText leaves nothing a terminal obeys and changes nothing else', () => {
  fc.assert(
    fc.property(anyText, (text) => {
      const safe = terminalText(text);
      assert.doesNotMatch(safe, FORBIDDEN);
      assert.equal(terminalText(safe), safe);
      const before = [...text.replace(/\t/g, ' ')];
      const after = [...safe];
      assert.equal(after.length, before.length, 'one code point in, one out');
      for (let i = 0; i < before.length; i++) {
        if (after[i] !== before[i]) {
          assert.equal(after[i], PLACEHOLDER);
          assert.match(before[i]!, /[\p{Cc}\p{Cs}\p{Cf}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0]/u, `replaced U+${before[i]!.codePointAt(0)!.toString(16)}`);
        }
      }
    }),
    RUNS,
  );
});

test('fuzz: terminalLines keeps only its own newlines, each followed by the indent', () => {
  fc.assert(
    fc.property(anyText, (text) => {
      const lines = terminalLines(text).split('\n');
      for (const line of lines) assert.doesNotMatch(line, FORBIDDEN);
      for (const line of lines.slice(1)) assert.ok(line.startsWith('  | '));
    }),
    RUNS,
  );
});
