/**
 * `iptc` in iptables' own syntax: one command (-A -I -R -D -C -N -X -E -F
 * -Z -P, or -L / -S to show), with -t, -6, -w and the rule's words as
 * iptables takes them. A change is one atomic commit under the xtables
 * lock (Table.update: read, apply, commit, retried on a conflict).
 */
import { applyCommand } from '../commands.js';
import { listSpecs, listTable } from '../listing.js';
import { Table } from '../table.js';
import type { BackendName } from '../backend.js';
import type { FamilyName } from '../native.js';
import { EXIT, UsageError, waitSeconds } from './args.js';
import { tableNameOf, type TableName } from '../names.js';

const CHANGES = new Set(['-A', '--append', '-I', '--insert', '-R', '--replace', '-D', '--delete', '-C', '--check', '-N', '--new-chain', '--new', '-X', '--delete-chain', '-E', '--rename-chain', '-F', '--flush', '-Z', '--zero', '-P', '--policy']);
const SHOWS = new Set(['-L', '--list', '-S', '--list-rules']);


interface Globals {
  table: TableName;
  family: FamilyName;
  netns?: string;
  backend: string;
  lockTimeout?: number;
  show: { numeric: boolean; verbose: boolean; exact: boolean; lineNumbers: boolean };
  words: string[];
}

/** Takes the options iptables reads wherever they stand (-t, -6, -w, -n, -v, -x, ...); the rest stay in order. */
function globals(argv: readonly string[]): Globals {
  const g: Globals = { table: 'filter', family: 'ipv4', backend: 'auto', show: { numeric: false, verbose: false, exact: false, lineNumbers: false }, words: [] };
  const value = (i: number, name: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('-')) throw new UsageError(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === '-t' || w === '--table') g.table = tableNameOf(value(i++, w));
    else if (w === '-6' || w === '--ipv6') g.family = 'ipv6';
    else if (w === '-4' || w === '--ipv4') g.family = 'ipv4';
    else if (w === '--netns') g.netns = value(i++, w);
    else if (w === '--backend') g.backend = value(i++, w);
    else if (w === '-w' || w === '--wait') {
      const secs = waitSeconds(w, argv[i + 1]);
      if (secs) i++;
      g.lockTimeout = secs ? Number(secs) * 1000 : -1;
    } else if (w === '-W' || w === '--wait-interval') i++;
    else if (w === '-n' || w === '--numeric') g.show.numeric = true;
    else if (w === '-v' || w === '--verbose') g.show.verbose = true;
    else if (w === '-x' || w === '--exact') g.show.exact = true;
    else if (w === '--line-numbers') g.show.lineNumbers = true;
    else g.words.push(w);
  }
  if (!['legacy', 'nft', 'auto'].includes(g.backend)) throw new UsageError(`--backend must be legacy, nft or auto, got ${g.backend}`);
  return g;
}

/** Runs one iptables command; `backend` is the one the caller settled on. */
export async function runIptablesForm(argv: readonly string[], settle: (family: FamilyName, netns: string | undefined, choice: string) => BackendName): Promise<void> {
  const g = globals(argv);
  const [cmd, ...rest] = g.words;
  if (cmd === undefined || (!CHANGES.has(cmd) && !SHOWS.has(cmd))) {
    throw new UsageError(`the command (-A, -I, -R, -D, -C, -N, -X, -E, -F, -Z, -P, -L or -S) must come before the rule's options, got ${cmd ?? 'nothing'}`);
  }
  const backend = settle(g.family, g.netns, g.backend);
  const where = { family: g.family, netns: g.netns, backend };
  if (SHOWS.has(cmd)) {
    if (rest.length > 1) throw new UsageError(`unexpected argument ${rest[1]} after ${cmd}`);
    const t = await Table.open(g.table, where);
    const chain = rest[0];
    if (cmd === '-S' || cmd === '--list-rules') process.stdout.write(listSpecs(t, { chain, counters: g.show.verbose }));
    else process.stdout.write(listTable(t, { chain, exact: g.show.exact, lineNumbers: g.show.lineNumbers, verbose: g.show.verbose }));
    return;
  }
  if (cmd === '-C' || cmd === '--check') {
    const t = await Table.open(g.table, where);
    if (!applyCommand(t, g.words)) {
      process.stderr.write('iptc: Bad rule (does a matching rule exist in that chain?).\n');
      process.exitCode = EXIT.other;
    }
    return;
  }
  await Table.update(g.table, { ...where, ...(g.lockTimeout !== undefined ? { lockTimeout: g.lockTimeout } : {}) }, (t) => void applyCommand(t, g.words));
}
