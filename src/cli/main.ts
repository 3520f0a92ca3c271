#!/usr/bin/env node
// The `parley` command: finds the command in the table, resolves its options (command line,
// and for servers also PARLEY_* variables and --config FILE), and runs it — or prints its help
// and does nothing else.
import { readFileSync } from 'node:fs';
import { Arguments, UsageError } from './arguments.js';
import { COMMANDS, findCommand, type Command, type CommandOutcome } from './commands.js';
import { commandHelp, overviewHelp, synopsisLine } from './help.js';
import { describeOptionsError, resolveOptions } from './options.js';
import { terminalError } from './terminal-text.js';
import { sizeYoungGenerationFor } from '../ops/young-generation.js';

/** Commands that run servers; every other command is a client (a small young generation). */
const SERVER_COMMANDS: ReadonlySet<string> = new Set(['local', 'login-server', 'supernode', 'sim']);

/** Exit codes: 1 for a command that failed, 2 for a usage mistake. */
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

function usageMistake(message: string, command?: Command): number {
  const hint = command
    ? `Usage: ${synopsisLine(command.usage)}\n(parley ${command.usage.name} --help for its options)`
    : 'Usage: parley <command> [arguments] [options]\n(parley help lists the commands)';
  console.error(`${message}\n${hint}`);
  return EXIT_USAGE;
}

async function main(argv: readonly string[]): Promise<CommandOutcome> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(overviewHelp(COMMANDS.map((c) => c.usage)));
    return 0;
  }
  const command = findCommand(name);
  if (!command) return usageMistake(`parley: unknown command: ${name}`);
  // Before the command's modules load: their loading is what grew a client's young generation.
  sizeYoungGenerationFor(SERVER_COMMANDS.has(command.usage.name) ? 'server' : 'client');
  const resolved = resolveOptions(command.usage, rest, { env: process.env, readFile: (path) => readFileSync(path, 'utf8') });
  if (!resolved.ok) return usageMistake(describeOptionsError(name, resolved.error), command);
  if (resolved.value.help) {
    console.log(commandHelp(command.usage));
    return 0;
  }
  try {
    return await command.run(new Arguments(command.usage, resolved.value));
  } catch (error) {
    if (error instanceof UsageError) return usageMistake(`parley ${name}: ${error.message}`, command);
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (outcome) => {
    if (outcome !== 'running') process.exit(outcome);
  },
  (error: unknown) => {
    // A CommandError or LoginError is the command's own refusal; anything else is reported the same way.
    // Made safe for the terminal: a refusal often carries a server's or a peer's words.
    console.error(`parley: ${terminalError(error)}`);
    process.exit(EXIT_FAILED);
  },
);
