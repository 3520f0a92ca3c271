// A command's options from its declaration and three sources: the command line, the environment
// and a JSON config file. Pure: the caller hands in the arguments, the variables and a way to
// read the config file, and gets the values or a typed error. Precedence: command line >
// environment > config file > the declared default. Only commands marked `configurable` (the
// servers) read the environment and config files; the others take the command line alone.
import { parseArgs } from 'node:util';
/** The option every configurable command takes, and the one every command takes. */
export const CONFIG_OPTION = { name: 'config', kind: 'string', value: 'FILE', help: 'read options from this JSON file (keys are option names)' };
export const HELP_OPTION = { name: 'help', kind: 'boolean', short: 'h', help: 'print this help and exit' };
/** Every option the command accepts, including --config (servers) and --help. */
export function optionsOf(usage) {
    return [...usage.options, ...(usage.configurable ? [CONFIG_OPTION] : []), HELP_OPTION];
}
/** `tls-cert` → `PARLEY_TLS_CERT`. */
export function variableName(option) {
    return `PARLEY_${option.toUpperCase().replace(/-/g, '_')}`;
}
const fail = (error) => ({ ok: false, error });
export function resolveOptions(usage, args, sources) {
    const declared = optionsOf(usage);
    const byName = new Map(declared.map((o) => [o.name, o]));
    // Not strict: we check the tokens ourselves, so that an error names the option, and so that
    // --help wins over every other mistake on the line.
    const { tokens } = parseArgs({
        args: [...args],
        options: Object.fromEntries(declared.map((o) => [o.name, { type: o.kind === 'boolean' ? 'boolean' : 'string', multiple: o.kind === 'list', ...(o.short ? { short: o.short } : {}) }])),
        allowPositionals: true,
        strict: false,
        tokens: true,
    });
    // Also `--port --help`: someone asking for help never gets a server started by a typo.
    const terminator = args.indexOf('--');
    const help = (terminator === -1 ? args : args.slice(0, terminator)).some((a) => a === '--help' || a === '-h');
    const given = new Map();
    const positionals = [];
    for (const token of tokens) {
        if (token.kind === 'positional')
            positionals.push(token.value);
        if (token.kind !== 'option')
            continue;
        const option = byName.get(token.name);
        // `-x` is an option only if it is declared as some option's short name.
        if (!option || (!token.rawName.startsWith('--') && option.short === undefined)) {
            if (help)
                continue;
            return fail({ code: 'unknown_option', option: token.rawName });
        }
        if (option.kind === 'boolean') {
            if (token.value !== undefined && !help)
                return fail({ code: 'unexpected_value', option: token.rawName });
            given.set(option.name, true);
        }
        else if (token.value === undefined) {
            if (!help)
                return fail({ code: 'missing_value', option: token.rawName });
        }
        else if (option.kind === 'list') {
            given.set(option.name, [...(given.get(option.name) ?? []), token.value]);
        }
        else {
            given.set(option.name, token.value);
        }
    }
    if (help)
        return { ok: true, value: { values: new Map(), sources: new Map(), positionals, help } };
    const values = new Map();
    const from = new Map();
    const take = (name, value, source) => {
        values.set(name, value);
        from.set(name, source);
    };
    for (const [name, value] of given)
        take(name, value, 'command line');
    if (usage.configurable) {
        for (const option of usage.options.concat(CONFIG_OPTION)) {
            if (values.has(option.name))
                continue;
            for (const variable of [variableName(option.name), ...(option.alsoFrom ?? [])]) {
                const text = sources.env[variable];
                if (text === undefined || text === '')
                    continue;
                const parsed = fromVariable(option, text);
                if (typeof parsed === 'object' && 'error' in parsed)
                    return fail({ code: 'bad_variable', variable, message: parsed.error });
                take(option.name, parsed, variable);
                break;
            }
        }
        const file = values.get('config');
        if (typeof file === 'string') {
            const loaded = readConfigFile(usage, file, sources.readFile);
            if (!loaded.ok)
                return fail(loaded.error);
            for (const [name, value] of loaded.values)
                if (!values.has(name))
                    take(name, value, file);
        }
    }
    for (const option of usage.options) {
        if (!values.has(option.name) && option.default !== undefined)
            take(option.name, option.kind === 'list' ? [String(option.default)] : option.default, 'default');
    }
    return { ok: true, value: { values, sources: from, positionals, help: false } };
}
function fromVariable(option, text) {
    if (option.kind === 'list')
        return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (option.kind === 'string')
        return text;
    if (/^(1|true|yes|on)$/i.test(text))
        return true;
    if (/^(0|false|no|off)$/i.test(text))
        return false;
    return { error: `is a switch: 1, true, yes or on; 0, false, no or off (got ${JSON.stringify(text)})` };
}
function readConfigFile(usage, file, readFile) {
    let text;
    try {
        text = readFile(file);
    }
    catch (error) {
        return { ok: false, error: { code: 'config_unreadable', file, message: error.message } };
    }
    let raw;
    try {
        raw = JSON.parse(text);
    }
    catch (error) {
        return { ok: false, error: { code: 'config_invalid', file, message: error.message } };
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
        return { ok: false, error: { code: 'config_invalid', file, message: 'not a JSON object' } };
    const byName = new Map(usage.options.map((o) => [o.name, o]));
    const values = new Map();
    for (const [key, value] of Object.entries(raw)) {
        const option = byName.get(key);
        if (!option)
            return { ok: false, error: { code: 'config_unknown_key', file, key } };
        const bad = (message) => ({ ok: false, error: { code: 'config_bad_value', file, key, message } });
        if (option.kind === 'boolean') {
            if (typeof value !== 'boolean')
                return bad('must be true or false');
            values.set(key, value);
        }
        else if (option.kind === 'list') {
            const items = typeof value === 'string' ? [value] : value;
            if (!Array.isArray(items) || !items.every((i) => typeof i === 'string'))
                return bad('must be a string or a list of strings');
            values.set(key, items);
        }
        else {
            if (typeof value === 'number' && Number.isFinite(value))
                values.set(key, String(value));
            else if (typeof value === 'string')
                values.set(key, value);
            else
                return bad('must be a string or a number');
        }
    }
    return { ok: true, values };
}
/** One line for the user, naming the option, variable or key and where it came from. */
export function describeOptionsError(command, error) {
    switch (error.code) {
        case 'unknown_option':
            return `parley ${command}: unknown option ${error.option}`;
        case 'missing_value':
            return `parley ${command}: ${error.option} needs a value`;
        case 'unexpected_value':
            return `parley ${command}: ${error.option} takes no value`;
        case 'bad_variable':
            return `parley ${command}: ${error.variable} ${error.message}`;
        case 'config_unreadable':
            return `parley ${command}: cannot read the config file ${error.file}: ${error.message}`;
        case 'config_invalid':
            return `parley ${command}: the config file ${error.file} is not valid: ${error.message}`;
        case 'config_unknown_key':
            return `parley ${command}: unknown key "${error.key}" in the config file ${error.file}`;
        case 'config_bad_value':
            return `parley ${command}: "${error.key}" in the config file ${error.file} ${error.message}`;
    }
}
//# sourceMappingURL=options.js.map