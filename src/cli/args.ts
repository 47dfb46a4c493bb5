/**
 * The `iptc` command line: options per command, with the iptables tools'
 * short and long spellings, and the exit statuses iptables uses.
 */
import { IptcError } from '../errors.js';
import { tableNameOf, type TableName } from '../names.js';

/** iptables' exit statuses (xtables.h: OTHER_PROBLEM, PARAMETER_PROBLEM, RESOURCE_PROBLEM). */
export const EXIT = { other: 1, parameter: 2, resource: 4 } as const;

/** A mistake on the command line: exit status 2, like iptables' PARAMETER_PROBLEM. */
export class UsageError extends Error {}

/** The exit status for an error, as iptables would give it. */
export function exitStatus(e: unknown): number {
  if (e instanceof UsageError) return EXIT.parameter;
  if (e instanceof IptcError) {
    if (e.code === 'ERR_IPTC_PARSE') return EXIT.parameter;
    if (e.code === 'ERR_IPTC_LOCK_TIMEOUT') return EXIT.resource;
  }
  return EXIT.other;
}

/** How an option takes a value: never, always (the next word, or --name=value), or a number when the next word is not an option (-w [secs], as iptables reads it). */
type Takes = 'none' | 'value' | 'number';

interface OptionSpec {
  name: string;
  takes: Takes;
  /** Other spellings (short ones first). */
  aliases: string[];
}

const o = (name: string, takes: Takes, ...aliases: string[]): OptionSpec => ({ name, takes, aliases });

const COMMON = [o('--ipv6', 'none', '-6'), o('--ipv4', 'none', '-4'), o('--backend', 'value'), o('--netns', 'value'), o('--help', 'none', '-h')];
const WAIT = [o('--wait', 'number', '-w'), o('--wait-interval', 'value', '-W')];

export const OPTIONS: Record<string, OptionSpec[]> = {
  save: [...COMMON, o('--table', 'value', '-t'), o('--counters', 'none', '-c'), o('--json', 'none')],
  restore: [...COMMON, ...WAIT, o('--table', 'value', '-T'), o('--counters', 'none', '-c'), o('--noflush', 'none', '-n'), o('--test', 'none', '-t'), o('--verbose', 'none', '-v')],
  list: [...COMMON, o('--table', 'value', '-t'), o('--exact', 'none', '-x'), o('--list-rules', 'none', '-S'), o('--verbose', 'none', '-v'), o('--numeric', 'none', '-n'), o('--line-numbers', 'none'), o('--json', 'none')],
  top: [...COMMON, o('--table', 'value', '-t'), o('--interval', 'value'), o('--rows', 'value'), o('--count', 'value'), o('--json', 'none')],
  exporter: [...COMMON, o('--table', 'value', '-t'), o('--listen', 'value')],
  watch: [...COMMON, o('--table', 'value', '-t'), o('--interval', 'value'), o('--count', 'value')],
  diff: [...COMMON, o('--table', 'value', '-t'), o('--noflush', 'none', '-n'), o('--json', 'none')],
  apply: [...COMMON, ...WAIT, o('--table', 'value', '-t'), o('--noflush', 'none', '-n'), o('--dry-run', 'none')],
};

export interface Args {
  flags: Set<string>;
  values: Map<string, string>;
  rest: string[];
}

/** Reads a command's options; words that are not options are left in `rest`, in order. */
export function parseArgs(cmd: string, argv: readonly string[]): Args {
  const specs = OPTIONS[cmd]!;
  const a: Args = { flags: new Set(), values: new Map(), rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === '--') {
      a.rest.push(...argv.slice(i + 1));
      break;
    }
    if (!w.startsWith('-') || w === '-') {
      a.rest.push(w);
      continue;
    }
    const eq = w.startsWith('--') ? w.indexOf('=') : -1;
    const spelled = eq > 0 ? w.slice(0, eq) : w;
    const spec = specs.find((s) => s.name === spelled || s.aliases.includes(spelled));
    if (!spec) throw new UsageError(`unknown option ${spelled} for iptc ${cmd} (see iptc ${cmd} --help)`);
    if (spec.takes === 'none') {
      if (eq > 0) throw new UsageError(`${spelled} takes no value`);
      a.flags.add(spec.name);
      continue;
    }
    let v: string | undefined = eq > 0 ? w.slice(eq + 1) : undefined;
    const next = argv[i + 1];
    if (spec.takes === 'number') {
      if (v !== undefined) v = waitSeconds(spelled, v) || undefined;
      else if ((v = waitSeconds(spelled, next))) i++;
      a.values.set(spec.name, v ?? '');
      continue;
    }
    if (v === undefined) {
      // A value never starts like an option: `-T -n` is a missing table, not a table named -n.
      if (next === undefined || (next.startsWith('-') && next !== '-' && !/^-[0-9]/.test(next))) throw new UsageError(`${spelled} needs a value`);
      v = argv[++i]!;
    }
    a.values.set(spec.name, v);
  }
  if (a.flags.has('--ipv4') && a.flags.has('--ipv6')) throw new UsageError('-4 and -6 cannot be given together');
  return a;
}

/**
 * -w's seconds, read as iptables reads them: the next word unless that is an
 * option (then '' : wait for ever); a word that is not a number is an error.
 */
export function waitSeconds(flag: string, next: string | undefined): string {
  if (next === undefined || next.startsWith('-')) return '';
  if (!/^[0-9]+$/.test(next)) throw new UsageError(`${flag} takes a whole number of seconds, got ${next}`);
  return next;
}

/** A whole number of at least `min` from an option, or `dflt`. */
export function intOption(a: Args, name: string, dflt: number, min: number): number {
  const v = a.values.get(name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`${name} must be a whole number of at least ${min}, got ${v}`);
  return Number(v);
}

/** -t / -T as the library takes it (checked there, as any caller's: a table the kernel lacks is ERR_IPTC_ABSENT). */
export function tableOption(a: Args): TableName | undefined {
  const t = a.values.get('--table');
  return t === undefined ? undefined : tableNameOf(t);
}

/** -w [secs] as a lock timeout in ms: absent, the library's default; -w alone, for ever. */
export function lockTimeoutOf(a: Args): number | undefined {
  const w = a.values.get('--wait');
  if (w === undefined) return undefined;
  return w === '' ? -1 : Number(w) * 1000;
}
