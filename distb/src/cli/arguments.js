/** The user's mistake on the command line (or in the environment or config file): exit code 2. */
export class UsageError extends Error {
}
export class Arguments {
    usage;
    resolved;
    declared;
    constructor(usage, resolved) {
        this.usage = usage;
        this.resolved = resolved;
        this.declared = new Map(usage.options.map((o) => [o.name, o.kind]));
    }
    get positionals() {
        return this.resolved.positionals;
    }
    /** The positionals, refusing more than `max`. */
    atMost(max) {
        const extra = this.resolved.positionals.slice(max);
        if (extra.length > 0)
            throw new UsageError(`too many arguments: ${extra.join(' ')}`);
        return this.resolved.positionals;
    }
    value(name, kind) {
        if (this.declared.get(name) !== kind)
            throw new Error(`parley ${this.usage.name} declares no ${kind} option --${name}`);
        return this.resolved.values.get(name);
    }
    string(name) {
        return this.value(name, 'string');
    }
    flag(name) {
        return this.value(name, 'boolean') ?? false;
    }
    list(name) {
        return this.value(name, 'list');
    }
    /** A whole number from `min` to `max`, or undefined when the option is not set. */
    int(name, min, max) {
        const text = this.string(name);
        if (text === undefined)
            return undefined;
        const value = Number(text);
        if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
            throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(text)}${this.from(name)})`);
        }
        return value;
    }
    /** One of `choices`, or undefined when the option is not set. */
    choice(name, choices) {
        const text = this.string(name);
        if (text === undefined)
            return undefined;
        if (!choices.includes(text))
            throw new UsageError(`--${name} is ${choices.join(' or ')} (got ${JSON.stringify(text)}${this.from(name)})`);
        return text;
    }
    /** ` from PARLEY_PORT` or ` from config.json` when the value did not come from the command line. */
    from(name) {
        const source = this.resolved.sources.get(name);
        return source === undefined || source === 'command line' ? '' : ` from ${source}`;
    }
}
//# sourceMappingURL=arguments.js.map