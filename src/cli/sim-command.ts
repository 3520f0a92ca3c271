// `parley sim`: runs one seeded simulation (src/sim/) and prints its report; on a violation,
// the invariant, the simulated time and the line that replays the run, and exit code 1.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, type Arguments } from './arguments.js';
import { FAULT_KINDS, INJECTIONS, LOGIN_KINDS, type FaultKind, type Injection, type LoginKind, type ScenarioOptions } from '../sim/scenario.js';
import { runSim } from '../sim/run.js';
import { reportHtml, reportMarkdown } from '../sim/report.js';

/** A share or rate given on the command line: a number from `min` to `max`. */
function number(args: Arguments, name: string, min: number, max: number): number | undefined {
  const text = args.string(name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) throw new UsageError(`--${name} must be a number from ${min} to ${max} (got ${JSON.stringify(text)})`);
  return value;
}

function names<T extends string>(args: Arguments, name: string, allowed: readonly T[]): T[] | undefined {
  const text = args.string(name);
  if (text === undefined) return undefined;
  if (text === 'none') return [];
  const given = text.split(',').map((s) => s.trim());
  for (const item of given) if (!(allowed as readonly string[]).includes(item)) throw new UsageError(`--${name} takes a list of ${allowed.join(', ')} or none (got ${JSON.stringify(item)})`);
  return given as T[];
}

/** The scenario options the command line fixes (the rest is drawn from the seed). */
export function simOptions(args: Arguments): ScenarioOptions {
  const supernodes = args.int('supernodes', 2, 100_000);
  const clients = args.int('clients', 2, 1_000_000);
  const faults = names<FaultKind>(args, 'faults', FAULT_KINDS);
  const faultSeconds = args.int('fault-seconds', 30, 24 * 3600);
  const lossRate = number(args, 'loss', 0, 0.5);
  const churn = number(args, 'churn', 0, 10);
  const messages = args.int('messages', 0, 10_000);
  const lookups = args.int('lookups', 0, 10_000);
  const injections = names<Injection>(args, 'inject', INJECTIONS);
  const forgers = args.int('forgers', 0, 100);
  const login = args.string('login');
  if (login !== undefined && !(LOGIN_KINDS as readonly string[]).includes(login)) throw new UsageError(`--login takes ${LOGIN_KINDS.join(' or ')} (got ${JSON.stringify(login)})`);
  return {
    ...(supernodes !== undefined ? { supernodes } : {}),
    ...(clients !== undefined ? { clients } : {}),
    ...(faults !== undefined ? { faults } : {}),
    ...(faultSeconds !== undefined ? { faultPhaseMs: faultSeconds * 1000 } : {}),
    ...(lossRate !== undefined ? { lossRate } : {}),
    ...(churn !== undefined ? { churnPerClientMinute: churn } : {}),
    ...(messages !== undefined ? { messagesPerSecond: messages } : {}),
    ...(lookups !== undefined ? { lookupsPerSecond: lookups } : {}),
    ...(injections !== undefined ? { injections } : {}),
    ...(forgers !== undefined ? { forgers } : {}),
    ...(login !== undefined ? { login: login as LoginKind } : {}),
  };
}

export async function simCommand(args: Arguments): Promise<number> {
  args.atMost(0);
  const seed = args.int('seed', 0, 0xffff_ffff);
  if (seed === undefined) throw new UsageError('parley sim needs --seed N (any whole number; the same seed replays the same run)');
  const options = simOptions(args);
  const reportDir = args.string('report');
  const quiet = args.flag('quiet');
  const result = await runSim(seed, options, quiet ? {} : { log: (line) => console.error(`[sim ${seed}] ${line}`) });
  const markdown = reportMarkdown(result.report, result);
  console.log(markdown);
  if (reportDir !== undefined) {
    mkdirSync(reportDir, { recursive: true });
    writeFileSync(join(reportDir, `sim-${seed}.md`), markdown);
    writeFileSync(join(reportDir, `sim-${seed}.html`), reportHtml(result.report, result));
    writeFileSync(join(reportDir, `sim-${seed}.json`), JSON.stringify(result.report, null, 1));
    console.error(`report written to ${join(reportDir, `sim-${seed}.{md,html,json}`)}`);
  }
  const v = result.violation;
  if (v) {
    console.error(`VIOLATION: ${v.invariant}\n  at ${(v.atMs / 1000).toFixed(1)} s simulated: ${v.detail}\n  replay: ${result.replay}`);
    return 1;
  }
  return 0;
}
