// A command's resolved arguments as its code reads them: typed getters that check the name is
// one the command declares (a mistake in the table is a bug, not a user's error) and that say
// where a bad value came from.
import type { CommandUsage, ResolvedOptions } from './options.js';

/** The user's mistake on the command line (or in the environment or config file): exit code 2. */
export class UsageError extends Error {}

export class Arguments {
  private readonly declared: ReadonlyMap<string, string>;

  constructor(
    private readonly usage: CommandUsage,
    private readonly resolved: ResolvedOptions,
  ) {
    this.declared = new Map(usage.options.map((o) => [o.name, o.kind]));
  }

  get positionals(): readonly string[] {
    return this.resolved.positionals;
  }

  /** The positionals, refusing more than `max`. */
  atMost(max: number): readonly string[] {
    const extra = this.resolved.positionals.slice(max);
    if (extra.length > 0) throw new UsageError(`too many arguments: ${extra.join(' ')}`);
    return this.resolved.positionals;
  }

  private value(name: string, kind: string): unknown {
    if (this.declared.get(name) !== kind) throw new Error(`parley ${this.usage.name} declares no ${kind} option --${name}`);
    return this.resolved.values.get(name);
  }

  string(name: string): string | undefined {
    return this.value(name, 'string') as string | undefined;
  }

  flag(name: string): boolean {
    return (this.value(name, 'boolean') as boolean | undefined) ?? false;
  }

  list(name: string): readonly string[] | undefined {
    return this.value(name, 'list') as readonly string[] | undefined;
  }

  /** A whole number from `min` to `max`, or undefined when the option is not set. */
  int(name: string, min: number, max: number): number | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
      throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(text)}${this.from(name)})`);
    }
    return value;
  }

  /** One of `choices`, or undefined when the option is not set. */
  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    if (!(choices as readonly string[]).includes(text)) throw new UsageError(`--${name} is ${choices.join(' or ')} (got ${JSON.stringify(text)}${this.from(name)})`);
    return text as T;
  }

  /** ` from PARLEY_PORT` or ` from config.json` when the value did not come from the command line. */
  from(name: string): string {
    const source = this.resolved.sources.get(name);
    return source === undefined || source === 'command line' ? '' : ` from ${source}`;
  }
}
