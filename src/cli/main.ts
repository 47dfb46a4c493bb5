#!/usr/bin/env node
/**
 * The `iptc` command, for people at a terminal. It uses only the library:
 * nothing is spawned.
 *
 *   iptc save    [-t table] [-6] [-c] [--netns NAME]
 *   iptc restore [-n] [-c] [-T table] [-6] [--netns NAME] < file
 *   iptc list    [-t table] [-6] [-x] [--netns NAME] [chain]
 *   iptc top     [-t table] [-6] [--interval ms] [--rows N] [--count N] [--netns NAME]
 */
import { readFileSync } from 'node:fs';
import { IptcError } from '../errors.js';
import { listTablesSync, restore } from '../restore.js';
import { Table } from '../table.js';
import { listTable } from './format.js';
import { nftTablesSync, nftWarning } from '../nft.js';
import { top } from './top.js';

const HELP: Record<string, string> = {
  '': `usage: iptc <command> [options]

Commands (each has --help):
  save      print tables in iptables-save format
  restore   load iptables-save format from standard input
  list      show a table's rules with counters, like iptables -nvL
  top       a live view of the busiest rules

Common options: -6 (IPv6; default IPv4), --netns NAME|PATH (an ip-netns name or a path).`,
  save: `usage: iptc save [-t table] [-6] [-c] [--netns NAME]

Prints every table (or just -t table) in iptables-save format.
  -t, --table NAME   only this table
  -6                 IPv6 (ip6tables-save)
  -c, --counters     include rule counters ([packets:bytes])
  --netns NAME       act in this network namespace (ip-netns name or path)`,
  restore: `usage: iptc restore [-n] [-c] [-T table] [-6] [--netns NAME] < file

Reads iptables-save format from standard input; each table is committed atomically.
  -n, --noflush      add to the tables instead of replacing them
  -c, --counters     take counters from the input
  -T, --table NAME   restore only this table
  -6                 IPv6 (ip6tables-restore)
  --netns NAME       act in this network namespace`,
  list: `usage: iptc list [-t table] [-6] [-x] [--netns NAME] [chain]

Shows the rules of a table (default filter), or of one chain, with counters.
  -t, --table NAME   the table
  -6                 IPv6
  -x, --exact        exact counters instead of K/M/G units
  --netns NAME       act in this network namespace`,
  top: `usage: iptc top [-t table] [-6] [--interval ms] [--rows N] [--count N] [--netns NAME]

A live view of the busiest rules by packets/s and bits/s. On a terminal it
redraws the screen; press q or Ctrl-C to quit. Otherwise it prints a block of
lines per interval.
  -t, --table NAME   the table (default filter)
  -6                 IPv6
  --interval MS      refresh period (default 1000)
  --rows N           rules to show (default 20)
  --count N          stop after N refreshes
  --netns NAME       act in this network namespace`,
};

interface Args {
  flags: Set<string>;
  values: Map<string, string>;
  rest: string[];
}

const ALIASES: Record<string, string> = { '-t': '--table', '-T': '--table', '-c': '--counters', '-n': '--noflush', '-x': '--exact', '-h': '--help' };
const TAKES_VALUE = new Set(['--table', '--netns', '--interval', '--rows', '--count']);
const ALLOWED: Record<string, string[]> = {
  save: ['--table', '-6', '--counters', '--netns', '--help'],
  restore: ['--noflush', '--counters', '--table', '-6', '--netns', '--help'],
  list: ['--table', '-6', '--exact', '--netns', '--help'],
  top: ['--table', '-6', '--interval', '--rows', '--count', '--netns', '--help'],
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
  const program = family === 'ipv4' ? 'iptc save' : 'iptc save -6';
  // As iptables-nft warns about legacy tables, warn about iptables-nft's.
  if (cmd === 'save' || cmd === 'list') {
    const warning = nftWarning(nftTablesSync({ netns }), family);
    if (warning) process.stderr.write(`# Warning: ${warning}\n`);
  }
  switch (cmd) {
    case 'save': {
      if (a.rest.length) throw new UsageError(`unexpected argument ${a.rest[0]}`);
      const names = table ? [table] : listTablesSync({ family, netns });
      for (const name of names) {
        const t = await Table.open(name, { family, netns });
        process.stdout.write(`# Generated by ${program} on ${ctime(new Date())}\n`);
        process.stdout.write(t.save({ counters: a.flags.has('--counters') }));
        process.stdout.write(`# Completed on ${ctime(new Date())}\n`);
      }
      return;
    }
    case 'restore': {
      if (a.rest.length) throw new UsageError(`unexpected argument ${a.rest[0]} (the input comes on standard input)`);
      const text = readFileSync(0, 'utf8');
      await restore(text, { family, netns, noflush: a.flags.has('--noflush'), counters: a.flags.has('--counters'), table });
      return;
    }
    case 'list': {
      if (a.rest.length > 1) throw new UsageError(`unexpected argument ${a.rest[1]}`);
      const t = await Table.open(table ?? 'filter', { family, netns });
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
        intervalMs: int(a, '--interval', 1000, 10),
        rows: int(a, '--rows', 20, 1),
        count: a.values.has('--count') ? int(a, '--count', 1, 1) : undefined,
        out: process.stdout,
        input: process.stdin,
      });
      return;
    }
  }
}

// exitCode, not exit(): output to a pipe must drain first.
run(process.argv.slice(2)).catch((e: unknown) => {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`iptc: ${msg.split('\n')[0]}\n`);
  process.exitCode = e instanceof UsageError ? 2 : 1;
  if (!(e instanceof IptcError) && !(e instanceof UsageError) && process.env.IPTC_DEBUG) console.error(e);
});
