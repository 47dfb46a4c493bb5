/**
 * The `iptc` subcommands: save, restore, list, top, diff, apply. Each reads
 * its options (args.ts), settles the backend once, and calls the library.
 */
import { readFileSync } from 'node:fs';
import { diff, formatDiff } from '../diff.js';
import { listSpecs, listTable } from '../listing.js';
import { applySync, formatPlan, plan, planSync } from '../plan.js';
import { listTablesSync, restore } from '../restore.js';
import { Table } from '../table.js';
import { otherBackendWarning, whichBackendSync, type BackendChoice } from '../which.js';
import { intOption, lockTimeoutOf, OPTIONS, parseArgs, tableOption, UsageError, type Args } from './args.js';
import { tableNameOf, type TableName } from '../names.js';
import { HELP } from './help.js';
import { IptcError } from '../errors.js';
import { jsonReplacer } from '../json.js';
import { formatRule } from '../parse.js';
import { top } from './top.js';
import type { FamilyName } from '../native.js';

/** The FILE of diff and apply (- is standard input), and the tables to compare: -t, or every *table in it. */
function desiredFile(a: Args, table: TableName | undefined): { text: string; tables: TableName[] } {
  if (a.rest.length !== 1) throw new UsageError(a.rest.length ? `unexpected argument ${a.rest[1]}` : 'a FILE is needed (- for standard input)');
  const text = readFileSync(a.rest[0] === '-' ? 0 : a.rest[0]!, 'utf8');
  const named = text.split('\n').filter((l) => l.startsWith('*')).map((l) => tableNameOf(l.slice(1).trim().split(/[ \t]/)[0]!));
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

/** A table as JSON: its chains (as chains() has them), each with its rules (as rules() has them, and the spec iptables-save prints). */
function tableJson(t: Table, chain?: string): unknown {
  const chains = chain === undefined ? t.chains() : [t.chain(chain)];
  if (chains[0] === undefined) throw new IptcError(`no chain '${chain}' in table ${t.name}`, { code: 'ERR_IPTC_NO_CHAIN', table: t.name, chain });
  return {
    table: t.name,
    family: t.family,
    backend: t.backend,
    chains: chains.map((c) => ({ ...c!, rules: t.rules(c!.name).map((r) => ({ spec: formatRule(r, { chain: c!.name }), ...r })) })),
  };
}

const json = (x: unknown) => `${JSON.stringify(x, jsonReplacer)}\n`;

/** The input of restore: a file named after the options (as iptables-restore takes one), or standard input. */
function restoreInput(a: Args): string {
  if (a.rest.length > 1) throw new UsageError(`unexpected argument ${a.rest[1]} (one input file at most)`);
  const file = a.rest[0];
  try {
    return readFileSync(file === undefined || file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new Error(`can't open ${file ?? 'standard input'}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

export async function runCommand(cmd: string, argv: string[]): Promise<void> {
  if (!OPTIONS[cmd]) throw new UsageError(`unknown command '${cmd}' (try iptc --help)`);
  const a = parseArgs(cmd, argv);
  if (a.flags.has('--help')) {
    process.stdout.write(`${HELP[cmd]}\n`);
    return;
  }
  // Long-running: the namespace and backend are looked at per scrape / per poll, not once here.
  if (cmd === 'exporter') return (await import('./exporter.js')).runExporter(a);
  if (cmd === 'watch') return (await import('./watch.js')).runWatch(a);
  const family: FamilyName = a.flags.has('--ipv6') ? 'ipv6' : 'ipv4';
  const netns = a.values.get('--netns');
  const table = tableOption(a);
  const choice = a.values.get('--backend') ?? 'auto';
  if (!['legacy', 'nft', 'auto'].includes(choice)) throw new UsageError(`--backend must be legacy, nft or auto, got ${choice}`);
  const lockTimeout = lockTimeoutOf(a);
  // One backend for the whole command, decided once.
  const backend = whichBackendSync({ family, netns, backend: choice as BackendChoice });
  const where = { family, netns, backend };
  const program = `${family === 'ipv4' ? 'iptc save' : 'iptc save -6'}${backend === 'nft' ? ' (nf_tables)' : ''}`;
  // As iptables-nft warns about legacy tables, warn about the backend not read.
  if (cmd === 'save' || cmd === 'list') {
    const warning = otherBackendWarning(backend, { family, netns });
    if (warning) process.stderr.write(`# Warning: ${warning}\n`);
  }
  switch (cmd) {
    case 'save': {
      if (a.rest.length) throw new UsageError(`unexpected argument ${a.rest[0]}`);
      const names = table ? [table] : listTablesSync(where);
      if (a.flags.has('--json')) {
        const tables = await Promise.all(names.map((n) => Table.open(n, where)));
        process.stdout.write(json({ family, backend, tables: tables.map((t) => tableJson(t)) }));
        return;
      }
      for (const name of names) {
        const t = await Table.open(name, where);
        process.stdout.write(`# Generated by ${program} on ${ctime(new Date())}\n`);
        process.stdout.write(t.save({ counters: a.flags.has('--counters') }));
        process.stdout.write(`# Completed on ${ctime(new Date())}\n`);
      }
      return;
    }
    case 'restore': {
      const text = restoreInput(a);
      const options = { ...where, noflush: a.flags.has('--noflush'), counters: a.flags.has('--counters'), table, ...(lockTimeout !== undefined ? { lockTimeout } : {}) };
      if (a.flags.has('--test')) {
        // iptables-restore --test: everything parsed and checked (by the kernel, in a scratch namespace), nothing committed.
        const checks = await restore(text, { ...options, dryRun: true });
        for (const c of checks) {
          const p = c.problems[0];
          if (!c.ok) throw new Error(`table ${c.table} would be refused${p ? `: -A ${p.chain} ${p.rule.trim()} (rule ${p.position}): ${p.reason}` : ''}`);
        }
        if (a.flags.has('--verbose')) for (const c of checks) process.stdout.write(`# ${c.table}: checked, nothing committed\n`);
        return;
      }
      await restore(text, options);
      if (a.flags.has('--verbose')) {
        const names = new Set(text.split('\n').filter((l) => l.startsWith('*')).map((l) => l.slice(1).trim()));
        for (const name of names) if (table === undefined || name === table) process.stdout.write(`# ${name}: committed\n`);
      }
      return;
    }
    case 'list': {
      if (a.rest.length > 1) throw new UsageError(`unexpected argument ${a.rest[1]}`);
      const t = await Table.open(table ?? 'filter', where);
      const chain = a.rest[0];
      if (a.flags.has('--json')) process.stdout.write(json(tableJson(t, chain)));
      else if (a.flags.has('--list-rules')) process.stdout.write(listSpecs(t, { chain, counters: a.flags.has('--verbose') }));
      else process.stdout.write(listTable(t, { chain, exact: a.flags.has('--exact') }));
      return;
    }
    case 'top': {
      if (a.rest.length) throw new UsageError(`unexpected argument ${a.rest[0]}`);
      await top({
        table: table ?? 'filter',
        ...where,
        intervalMs: intOption(a, '--interval', 1000, 10),
        rows: intOption(a, '--rows', 20, 1),
        count: a.values.has('--count') ? intOption(a, '--count', 1, 1) : undefined,
        json: a.flags.has('--json'),
        out: process.stdout,
        input: process.stdin,
      });
      return;
    }
    case 'diff': {
      const { text, tables } = desiredFile(a, table);
      let differ = false;
      const noflush = a.flags.has('--noflush');
      const diffs = [];
      for (const name of tables) {
        const d = await diff(await Table.open(name, where), text, { noflush });
        diffs.push(d);
        if (d.equal) continue;
        differ = true;
        if (!a.flags.has('--json')) process.stdout.write(`*${name}\n${formatDiff(d)}`);
      }
      if (a.flags.has('--json')) process.stdout.write(json(diffs));
      process.exitCode = differ ? 1 : 0;
      return;
    }
    case 'apply': {
      const { text, tables } = desiredFile(a, table);
      const noflush = a.flags.has('--noflush');
      for (const name of tables) {
        if (a.flags.has('--dry-run')) {
          process.stdout.write(formatPlan(await plan(await Table.open(name, where), text, { noflush })));
          continue;
        }
        // The plan is made under the xtables lock, against the table as read under it.
        let shown = '';
        await Table.update(name, { ...where, ...(lockTimeout !== undefined ? { lockTimeout } : {}) }, (t) => {
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
