// Help texts from the command table: the overview (`parley help`) and one command's help
// (`parley <command> --help`). Text only; printing them never starts or writes anything.
import { optionsOf, variableName } from './options.js';
const TITLE = 'parley — peer-to-peer voice and chat on a supernode network';
export function overviewHelp(commands) {
    const width = Math.max(...commands.map((c) => c.name.length)) + 2;
    return [
        TITLE,
        '',
        'Usage: parley <command> [arguments] [options]',
        '',
        'Commands:',
        ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
        '',
        'parley <command> --help (or parley help <command>) prints its arguments and options.',
        '',
    ].join('\n');
}
/** The first line of a command's synopsis, to show under an error. */
export function synopsisLine(usage) {
    return `parley ${usage.name}${usage.synopsis[0] ? ` ${usage.synopsis[0]}` : ''}`;
}
function optionLabel(option) {
    const long = `--${option.name}${option.value ? ` ${option.value}` : ''}`;
    return option.short ? `-${option.short}, ${long}` : long;
}
function optionLine(option, width) {
    const notes = [
        ...(option.default !== undefined && option.default !== false ? [`default: ${String(option.default)}`] : []),
        ...(option.alsoFrom ?? []).map((v) => `also from ${v}`),
    ];
    return `  ${optionLabel(option).padEnd(width)}${option.help}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
}
export function commandHelp(usage) {
    const prefix = `parley ${usage.name} `;
    const synopsis = usage.synopsis.length === 0 ? [`  parley ${usage.name}`] : usage.synopsis.map((line, i) => `  ${i === 0 ? prefix : ' '.repeat(prefix.length)}${line}`);
    const options = optionsOf(usage);
    const width = Math.max(...options.map((o) => optionLabel(o).length)) + 3;
    const example = usage.options.find((o) => o.kind === 'string')?.name ?? usage.options[0]?.name ?? 'port';
    return [
        'Usage:',
        ...synopsis,
        '',
        usage.description.replace(/^/gm, '  '),
        '',
        'Options:',
        ...options.map((o) => optionLine(o, width)),
        ...(usage.configurable
            ? [
                '',
                `Every option may also come from the environment as PARLEY_<OPTION> (e.g. ${variableName(example)}) or from`,
                `the JSON file given with --config (keys are option names, e.g. {"${example}": …}). The command line`,
                'wins over the environment, the environment over the file, the file over the defaults.',
            ]
            : []),
        '',
    ].join('\n');
}
//# sourceMappingURL=help.js.map