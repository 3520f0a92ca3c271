// A command that cannot do what was asked, for a reason the user can act on: printed as is (no
// stack), and the process exits 1.
export class CommandError extends Error {}
