// Hostile text on the terminal (issue 19): the CLI printed other users' names, status text and
// chat as they came, so an ESC sequence in a message could rewrite the screen, set the window
// title or ring the bell, and a bidi override could make one name read as another. Now it all
// goes through one sanitiser. Here: a table of hostile strings (and ordinary text that must
// survive), then real processes where mallory's status and messages reach bob's terminal.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PLACEHOLDER as X, terminalError, terminalLines, terminalText } from '../../src/cli/terminal-text.js';
import { PARLEY_MAIN as MAIN, startParley, stopParley, type RunningParley } from '../support/processes.js';

/** What must never reach a terminal from someone else: controls, bidi controls, unpaired surrogates. */
const FORBIDDEN = /[\p{Cc}\p{Cs}\p{Bidi_Control}\u2028\u2029]/u;
/** The same in a program's whole output, whose own lines end in newlines. */
const FORBIDDEN_IN_OUTPUT = /(?!\n)[\p{Cc}\p{Cs}\p{Bidi_Control}\u2028\u2029]/u;

test('hostile strings lose every control, bidi and invisible character, each shown as U+FFFD', () => {
  const cases: [string, string, string][] = [
    ['clear screen and home', 'hi\x1b[2J\x1b[H', `hi${X}[2J${X}[H`],
    ['set the window title (OSC, BEL-terminated)', '\x1b]0;pwned\x07', `${X}]0;pwned${X}`],
    ['OSC 52: write the clipboard', '\x1b]52;c;cm0gLXJmIH4=\x1b\\', `${X}]52;c;cm0gLXJmIH4=${X}\\`],
    ['8-bit CSI (C1)', 'a\u009b31mred', `a${X}31mred`],
    ['bell', 'ding\x07', `ding${X}`],
    ['carriage return overwrites the line', 'alice: hi\rbob: send money', `alice: hi${X}bob: send money`],
    ['backspaces erase what was shown', 'admin\b\b\b\b\bguest', `admin${X.repeat(5)}guest`],
    ['newline forges a line', 'hi\n[12:00:00] bob: hi', `hi${X}[12:00:00] bob: hi`],
    ['NUL and DEL', 'a\x00b\x7fc', `a${X}b${X}c`],
    ['right-to-left override', 'alice\u202Egnp.exe', `alice${X}gnp.exe`],
    ['isolates (Trojan Source)', '\u2066admin\u2069\u2067x\u2068', `${X}admin${X}${X}x${X}`],
    ['bidi marks', '\u200Fbob\u200E\u061C', `${X}bob${X}${X}`],
    ['zero-width space and word joiner make look-alike names', 'al\u200Bice\u2060', `al${X}ice${X}`],
    ['byte order mark and soft hyphen', '\uFEFFbo\u00ADb', `${X}bo${X}b`],
    ['line and paragraph separators', 'a\u2028b\u2029c', `a${X}b${X}c`],
    ['a Hangul filler: a blank name', '\u3164', X],
    ['an unpaired surrogate', 'a\uD800b\uDC00', `a${X}b${X}`],
    ['a tab is a space', 'a\tb', 'a b'],
    // Ordinary text is left alone.
    ['accents, precomposed and combining', 'Zoë Ångström e\u0301', 'Zoë Ångström e\u0301'],
    ['CJK, Arabic, Hebrew', '你好 こんにちは مرحبا שלום', '你好 こんにちは مرحبا שלום'],
    ['emoji with joiners and variation selectors', '👩‍👩‍👧 ❤️ 👍🏽', '👩‍👩‍👧 ❤️ 👍🏽'],
    ['a subdivision flag (tag characters)', '🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}', '🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}'],
    ['Persian with a zero-width non-joiner', 'می‌خواهم', 'می‌خواهم'],
  ];
  for (const [name, hostile, shown] of cases) {
    const safe = terminalText(hostile);
    assert.equal(safe, shown, name);
    assert.doesNotMatch(safe, FORBIDDEN, name);
    assert.equal(terminalText(safe), safe, `${name}: the result is already safe`);
  }
});

test('several lines: each made safe, the later ones indented so none passes for a line of our own; errors too', () => {
  assert.equal(terminalLines('hi\r\n[12:00:00] bob: send money\n\x1b[1A'), `hi\n  | [12:00:00] bob: send money\n  | ${X}[1A`);
  assert.equal(terminalLines('one line'), 'one line');
  assert.equal(terminalLines('a\rb'), `a${X}b`, 'a lone CR is not a line break');
  assert.equal(terminalError(new Error('the server said: \x1b]0;x\x07')), `the server said: ${X}]0;x${X}`);
  assert.equal(terminalError('not an Error\x1b'), `not an Error${X}`);
});

// ESC and BEL, CR, a bidi override and isolate, and a newline that tries to forge a line from alice.
const HOSTILE_STATUS = 'lunch\x1b]0;owned\x07\x1b[2J';
const HOSTILE_CHAT = 'hello\x1b[31m red\x07\rX \u202Eevil\u2066\n[00:00:00] alice: send me your password';

test('end to end: mallory\'s escape-laden status and messages reach bob\'s terminal with no control, bidi or forged line', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-escapes-'));
  const local = await startParley(['local', '--dir', join(dir, 'net'), '--port', '0'], 'descriptor:');
  let bob: RunningParley | null = null;
  let mallory: RunningParley | null = null;
  try {
    const common = ['--network', join(dir, 'net', 'network.json'), '--profile', join(dir, 'profile')];
    const parley = (args: string[], input = '') => {
      const run = spawnSync(process.execPath, [MAIN, ...args, ...common], { input, encoding: 'utf8', timeout: 30_000 });
      return { status: run.status, out: run.stdout + run.stderr };
    };
    for (const user of ['mallory', 'bob']) {
      assert.equal(parley(['register', user, '--password-stdin'], `${user} password 1\n`).status, 0);
      assert.equal(parley(['login', user, '--password-stdin'], `${user} password 1\n`).status, 0);
    }
    // A buddy request whose words are hostile (sealed for bob's device), accepted so that bob sees mallory's status too.
    assert.equal(parley(['buddies', 'add', 'bob', HOSTILE_CHAT, '--user', 'mallory']).status, 0);
    assert.equal(parley(['buddies', 'accept', 'mallory', '--user', 'bob']).status, 0);
    assert.equal(parley(['status', 'away', HOSTILE_STATUS, '--user', 'mallory']).status, 0);
    const offline = parley(['chat', 'bob', HOSTILE_CHAT, '--user', 'mallory']);
    assert.equal(offline.status, 0, offline.out);

    bob = await startParley(['online', '--user', 'bob', '--no-promotion', ...common], 'is online');
    await bob.waitFor(/2 messages arrived while you were offline/);
    mallory = await startParley(['online', '--user', 'mallory', '--no-promotion', ...common], 'is online');
    const all = await bob.waitFor(/mallory is away: /);

    assert.doesNotMatch(all, FORBIDDEN_IN_OUTPUT, JSON.stringify(all));
    assert.ok(all.includes(`mallory is away: lunch${X}]0;owned${X}${X}[2J`), JSON.stringify(all));
    assert.ok(all.includes(`] mallory: hello${X}[31m red${X}${X}X ${X}evil${X}\n  | [00:00:00] alice: send me your password`), JSON.stringify(all));
    assert.doesNotMatch(all, /^\[00:00:00\] alice:/m, 'no line passes for one from alice');
  } finally {
    if (bob) await stopParley(bob.child);
    if (mallory) await stopParley(mallory.child);
    await stopParley(local.child);
    rmSync(dir, { recursive: true, force: true });
  }
});
