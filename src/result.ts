// Results for operations that can fail on bad input: a typed value or a typed error,
// never an exception. Exceptions are for bugs.
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}

/** An error with a stable `code` a caller can switch on and a message for people. */
export interface CodedError<C extends string> {
  readonly code: C;
  readonly message: string;
}
