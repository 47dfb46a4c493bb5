#!/usr/bin/env node
/**
 * The `iptc` command, for people at a terminal. It uses only the library:
 * nothing is spawned.
 *
 *   iptc save    [-t table] [-6] [-c] [--backend B] [--netns NAME]
 *   iptc restore [-n] [-c] [-T table] [-6] [--backend B] [--netns NAME] < file
 *   iptc list    [-t table] [-6] [-x] [--backend B] [--netns NAME] [chain]
 *   iptc top     [-t table] [-6] [--interval ms] [--rows N] [--count N] [--backend B] [--netns NAME]
 *   iptc diff    [-t table] [-n] [-6] [--backend B] [--netns NAME] FILE
 *   iptc apply   [-t table] [-n] [-6] [--backend B] [--netns NAME] [--dry-run] FILE
 */
import { readFileSync } from 'node:fs';
import { diff, formatDiff } from '../diff.js';
import { IptcError } from '../errors.js';
import { applySync, formatPlan, plan, planSync } from '../plan.js';
import { listTablesSync, restore } from '../restore.js';
import { Table } from '../table.js';
import { listTable } from './format.js';
import { otherBackendWarning, whichBackendSync, type BackendChoice } from '../which.js';
import { top } from './top.js';

const HELP: Record<string, string> = {
  '': `usage: iptc <command> [options]

Commands (each has --help):
  save      print tables in iptables-save format
  restore   load iptables-save format from standard input
  list      show a table's rules with counters, like iptables -nvL
  top       a live view of the busiest rules
  diff      compare the live tables with an iptables-save file
  apply     change the live tables into an iptables-save file, keeping counters

Common options: -6 (IPv6; default IPv4), --netns NAME|PATH (an ip-netns name or a path),
--backend legacy|nft|auto (which kernel firewall to read and write:
iptables-legacy's xtables tables or iptables-nft's nf_tables tables; auto,
the default, takes the one that holds rules).`,
  save: `usage: iptc save [-t table] [-6] [-c] [--backend B] [--netns NAME]

Prints every table (or just -t table) in iptables-save format.
  -t, --table NAME   only this table
  -6                 IPv6 (ip6tables-save)
  -c, --counters     include rule counters ([packets:bytes])
  --backend B        legacy, nft or auto (default)
  --netns NAME       act in this network namespace (ip-netns name or path)`,
  restore: `usage: iptc restore [-n] [-c] [-T table] [-6] [--backend B] [--netns NAME] < file

Reads iptables-save format from standard input; each table is committed atomically.
  -n, --noflush      add to the tables instead of replacing them
  -c, --counters     take counters from the input
  -T, --table NAME   restore only this table
  -6                 IPv6 (ip6tables-restore)
  --backend B        legacy, nft or auto (default)
  --netns NAME       act in this network namespace`,
  list: `usage: iptc list [-t table] [-6] [-x] [--backend B] [--netns NAME] [chain]

Shows the rules of a table (default filter), or of one chain, with counters.
  -t, --table NAME   the table
  -6                 IPv6
  -x, --exact        exact counters instead of K/M/G units
  --backend B        legacy, nft or auto (default)
  --netns NAME       act in this network namespace`,
  top: `usage: iptc top [-t table] [-6] [--interval ms] [--rows N] [--count N] [--backend B] [--netns NAME]

A live view of the busiest rules by packets/s and bits/s. On a terminal it
redraws the screen; press q or Ctrl-C to quit. Otherwise it prints a block of
lines per interval.
  -t, --table NAME   the table (default filter)
  -6                 IPv6
  --interval MS      refresh period (default 1000)
  --rows N           rules to show (default 20)
  --count N          stop after N refreshes
  --backend B        legacy, nft or auto (default)
  --netns NAME       act in this network namespace`,
  diff: `usage: iptc diff [-t table] [-n] [-6] [--backend B] [--netns NAME] FILE

Compares the live tables with what iptables-restore (-n: iptables-restore
--noflush) would make of them with FILE (iptables-save format; - for standard
input): every table FILE has a block for, or just -t table. A built-in chain
keeps its policy unless FILE has its :CHAIN POLICY line. For each table that
differs prints *table and lines such as
  + -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT     a rule FILE adds
  - -A INPUT -j DROP                                a rule FILE removes
  ~ moved -A INPUT -j LOG (3 -> 1)                  a rule in another place
  :INPUT policy ACCEPT -> DROP, + chain X, - chain Y, chain A renamed to B
Exit status: 0 when equal, 1 when different, 2 on error (like diff(1)).
  -t, --table NAME   only this table
  -n, --noflush      FILE adds to the tables (as iptables-restore -n reads it)
  -6                 IPv6
  --backend B        legacy, nft or auto (default)
  --netns NAME       act in this network namespace`,
  apply: `usage: iptc apply [-t table] [-n] [-6] [--backend B] [--netns NAME] [--dry-run] FILE

Makes the live tables what iptables-restore (-n: iptables-restore --noflush)
would make of them with FILE (iptables-save format; - for standard input),
with the fewest changes, so that rules which stay keep their counters: every
table FILE has a block for, or just -t table, each in one atomic commit. A
built-in chain keeps its policy unless FILE has its :CHAIN POLICY line.
Prints the plan as iptables-restore --noflush input; it deletes rules by
their text, never by position.
  -t, --table NAME   only this table
  -n, --noflush      FILE adds to the tables (as iptables-restore -n reads it)
  -6                 IPv6
  --dry-run          print the plan, change nothing
  --backend B        legacy, nft or auto (default)
  --netns NAME       act in this network namespace`,
};

interface Args {
  flags: Set<string>;
  values: Map<string, string>;
  rest: string[];
}

const ALIASES: Record<string, string> = { '-t': '--table', '-T': '--table', '-c': '--counters', '-n': '--noflush', '-x': '--exact', '-h': '--help' };
const TAKES_VALUE = new Set(['--table', '--netns', '--interval', '--rows', '--count', '--backend']);
const ALLOWED: Record<string, string[]> = {
  save: ['--table', '-6', '--counters', '--backend', '--netns', '--help'],
  restore: ['--noflush', '--counters', '--table', '-6', '--backend', '--netns', '--help'],
  list: ['--table', '-6', '--exact', '--backend', '--netns', '--help'],
  top: ['--table', '-6', '--interval', '--rows', '--count', '--backend', '--netns', '--help'],
  diff: ['--table', '--noflush', '-6', '--backend', '--netns', '--help'],
  apply: ['--table', '--noflush', '-6', '--backend', '--netns', '--dry-run', '--help'],
};

class UsageError extends Error {}

function parse(cmd: string, argv: string[]): Args {
  const a: Args = { flags: new Set(), values: new Map(), rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (!w.startsWith('-') || w === '-') {
      a.rest.push(w);
      continue;
    }
    const [rawName, inline] = w.startsWith('--') && w.includes('=') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w, undefined];
    const name = ALIASES[rawName] ?? rawName;
    if (!ALLOWED[cmd]!.includes(name)) throw new UsageError(`unknown option ${rawName} for iptc ${cmd} (see iptc ${cmd} --help)`);
    if (TAKES_VALUE.has(name)) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${rawName} needs a value`);
      a.values.set(name, v);
    } else a.flags.add(name);
  }
  return a;
}

function int(a: Args, name: string, dflt: number, min: number): number {
  const v = a.values.get(name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`${name} must be a whole number of at least ${min}, got ${v}`);
  return Number(v);
}

/** The FILE of diff and apply (- is standard input), and the tables to compare: -t, or every *table in it. */
function desiredFile(a: Args, table: string | undefined): { text: string; tables: string[] } {
  if (a.rest.length !== 1) throw new UsageError(a.rest.length ? `unexpected argument ${a.rest[1]}` : 'a FILE is needed (- for standard input)');
  const text = readFileSync(a.rest[0] === '-' ? 0 : a.rest[0]!, 'utf8');
  const named = text.split('\n').filter((l) => l.startsWith('*')).map((l) => l.slice(1).trim().split(/[ \t]/)[0]!);
  if (!table && !named.length) throw new UsageError(`${a.rest[0]} has no *table block`);
  return { text, tables: table ? [table] : [...new Set(named)] };
}

function ctime(d: Date): string {
  // What iptables-save prints: "Tue Dec  1 14:22:55 2026"
  const p = (n: number) => String(n).padStart(2, '0');
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()];
  return `${day} ${mon} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
}

async function run(argv: string[]): Promise<void> {
  const cmd = argv[0];
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(`${HELP['']}\n`);
    return;
  }
  if (!ALLOWED[cmd]) throw new UsageError(`unknown command '${cmd}' (try iptc --help)`);
  const a = parse(cmd, argv.slice(1));
  if (a.flags.has('--help')) {
    process.stdout.write(`${HELP[cmd]}\n`);
    return;
  }
  const family = a.flags.has('-6') ? 'ipv6' : 'ipv4';
  const netns = a.values.get('--netns');
  const table = a.values.get('--table');
  const choice = a.values.get('--backend') ?? 'auto';
  if (!['legacy', 'nft', 'auto'].includes(choice)) throw new UsageError(`--backend must be legacy, nft or auto, got ${choice}`);
  // One backend for the whole command, decided once.
  const backend = whichBackendSync({ family, netns, backend: choice as BackendChoice });
  const program = `${family === 'ipv4' ? 'iptc save' : 'iptc save -6'}${backend === 'nft' ? ' (nf_tables)' : ''}`;
  // As iptables-nft warns about legacy tables, warn about the backend not read.
  if (cmd === 'save' || cmd === 'list') {
    const warning = otherBackendWarning(backend, { family, netns });
    if (warning) process.stderr.write(`# Warning: ${warning}\n`);
  }
  switch (cmd) {
    case 'save': {
      if (a.rest.length) throw new UsageError(`unexpected argument ${a.rest[0]}`);
      const names = table ? [table] : listTablesSync({ family, netns, backend });
      for (const name of names) {
        const t = await Table.open(name, { family, netns, backend });
        process.stdout.write(`# Generated by ${program} on ${ctime(new Date())}\n`);
        process.stdout.write(t.save({ counters: a.flags.has('--counters') }));
        process.stdout.write(`# Completed on ${ctime(new Date())}\n`);
      }
      return;
    }
    case 'restore': {
      if (a.rest.length) throw new UsageError(`unexpected argument ${a.rest[0]} (the input comes on standard input)`);
      const text = readFileSync(0, 'utf8');
      await restore(text, { family, netns, noflush: a.flags.has('--noflush'), counters: a.flags.has('--counters'), table, backend });
      return;
    }
    case 'list': {
      if (a.rest.length > 1) throw new UsageError(`unexpected argument ${a.rest[1]}`);
      const t = await Table.open(table ?? 'filter', { family, netns, backend });
      const chain = a.rest[0];
      if (chain !== undefined && !t.chain(chain)) throw new UsageError(`no chain '${chain}' in table ${t.name}`);
      process.stdout.write(listTable(t, chain, a.flags.has('--exact')));
      return;
    }
    case 'top': {
      if (a.rest.length) throw new UsageError(`unexpected argument ${a.rest[0]}`);
      await top({
        table: table ?? 'filter',
        family,
        netns,
        backend,
        intervalMs: int(a, '--interval', 1000, 10),
        rows: int(a, '--rows', 20, 1),
        count: a.values.has('--count') ? int(a, '--count', 1, 1) : undefined,
        out: process.stdout,
        input: process.stdin,
      });
      return;
    }
    case 'diff': {
      const { text, tables } = desiredFile(a, table);
      let differ = false;
      const noflush = a.flags.has('--noflush');
      for (const name of tables) {
        const d = await diff(await Table.open(name, { family, netns, backend }), text, { noflush });
        if (d.equal) continue;
        differ = true;
        process.stdout.write(`*${name}\n${formatDiff(d)}`);
      }
      process.exitCode = differ ? 1 : 0;
      return;
    }
    case 'apply': {
      const { text, tables } = desiredFile(a, table);
      const noflush = a.flags.has('--noflush');
      for (const name of tables) {
        if (a.flags.has('--dry-run')) {
          process.stdout.write(formatPlan(await plan(await Table.open(name, { family, netns, backend }), text, { noflush })));
          continue;
        }
        // The plan is made under the xtables lock, against the table as read under it.
        let shown = '';
        await Table.update(name, { family, netns, backend }, (t) => {
          const p = planSync(t, text, { noflush });
          applySync(p, { commit: false });
          shown = formatPlan(p);
        });
        process.stdout.write(shown);
      }
      return;
    }
  }
}

// exitCode, not exit(): output to a pipe must drain first.
run(process.argv.slice(2)).catch((e: unknown) => {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`iptc: ${msg.split('\n')[0]}\n`);
  // diff(1)'s convention for iptc diff: 1 means "different", so every error is 2.
  process.exitCode = e instanceof UsageError || process.argv[2] === 'diff' ? 2 : 1;
  if (!(e instanceof IptcError) && !(e instanceof UsageError) && process.env.IPTC_DEBUG) console.error(e);
});
