// A command's own refusal (bad arguments, a missing file, a server's "no"): main.ts prints its
// message and exits 1, without a stack. A file of its own because every command throws it, and
// the commands import each other less than they import it (it was in account-commands.ts, which
// made most of the CLI a cycle through that file).
export class CommandError extends Error {}
