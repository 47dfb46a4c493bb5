/**
 * iptables-save / iptables-restore text for whole families of tables:
 * saveAll() prints every table in the order iptables-save uses, restore()
 * reads the same format in-process. Each `*table ... COMMIT` block is
 * committed atomically; an error names its line and commits nothing of that
 * block (blocks before it stay committed, as with iptables-restore).
 */
import { IptcError, argumentError, withContext, show } from './errors.js';
import { applyCommand } from './commands.js';
import { native, type FamilyName } from './native.js';
import { withNetnsFd, type NetnsOption } from './netns.js';
import { Table, type CommitOptions } from './table.js';
import type { Counters } from './rule.js';
import type { Validation } from './validate.js';
import { checkOptionsObject, splitWords } from './words.js';

export interface SaveAllOptions {
  family?: FamilyName;
  netns?: NetnsOption;
  /** Rule counters as `[packets:bytes]` prefixes, like iptables-save -c. */
  counters?: boolean;
}

export interface RestoreOptions extends CommitOptions {
  family?: FamilyName;
  netns?: NetnsOption;
  /** -n: keep what the tables hold and add to it (default: flush each table first). */
  noflush?: boolean;
  /** -c: take counters from the input (`[p:b]` on rules and policies). */
  counters?: boolean;
  /** -T: restore only this table, skip the others. */
  table?: string;
  /**
   * Check, don't commit: each table block is applied to a snapshot of the
   * live table and validated by the kernel in a scratch namespace; restore()
   * then resolves to one Validation per block and changes nothing.
   */
  dryRun?: boolean;
}

/** The names of the family's tables that exist in the namespace, in iptables-save's order. */
export async function listTables(options: { family?: FamilyName; netns?: NetnsOption } = {}): Promise<string[]> {
  const family = options.family ?? 'ipv4';
  return withNetnsFd(options.netns, (fd) => native.listTables(family, fd, true));
}

export function listTablesSync(options: { family?: FamilyName; netns?: NetnsOption } = {}): string[] {
  const family = options.family ?? 'ipv4';
  return withNetnsFd(options.netns, (fd) => native.listTables(family, fd, false));
}

/** Every table of a family, as iptables-save prints them (without `#` comment lines). */
export async function saveAll(options: SaveAllOptions = {}): Promise<string> {
  checkOptionsObject(options, 'options');
  const names = await listTables(options);
  const parts = await Promise.all(names.map((n) => Table.open(n, { family: options.family, netns: options.netns })));
  return parts.map((t) => t.save({ counters: options.counters })).join('');
}

export function saveAllSync(options: SaveAllOptions = {}): string {
  return listTablesSync(options)
    .map((n) => Table.openSync(n, { family: options.family, netns: options.netns }).save({ counters: options.counters }))
    .join('');
}

/** @internal One `*table ... COMMIT` block of restore input. */
export interface Block {
  table: string;
  line: number;
  items: { line: number; text: string }[];
}

/** Splits restore input into table blocks, checking the framing (*table, COMMIT). @internal */
export function blocks(text: string): Block[] {
  if (typeof text !== 'string') throw argumentError(`restore input must be a string, got ${typeof text}`);
  const out: Block[] = [];
  let cur: Block | null = null;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = i + 1;
    const l = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (l === '' || l.startsWith('#')) return;
    if (l.includes('\0')) throw new IptcError(`line ${line}: NUL byte in input`, { code: 'ERR_IPTC_PARSE', line });
    if (l === 'COMMIT' && cur) {
      out.push(cur);
      cur = null;
    } else if (l.startsWith('*') && !cur) {
      const name = l.slice(1).trim().split(/[ \t]/)[0] ?? '';
      if (!name) throw new IptcError(`line ${line}: table name invalid`, { code: 'ERR_IPTC_PARSE', line });
      cur = { table: name, line, items: [] };
    } else if (cur) {
      cur.items.push({ line, text: l });
    } else {
      throw new IptcError(`line ${line}: expected a *table line first, got ${show(l.slice(0, 60))}`, { code: 'ERR_IPTC_PARSE', line });
    }
  });
  if (cur) throw new IptcError(`line ${lines.length + 1}: COMMIT expected`, { code: 'ERR_IPTC_PARSE', line: lines.length + 1 });
  return out;
}

function parseCounters(s: string | undefined, line: number, what: string): Counters {
  const m = s === undefined ? null : /^\[([0-9]+):([0-9]+)\]$/.exec(s);
  if (!m || BigInt(m[1]!) >= 2n ** 64n || BigInt(m[2]!) >= 2n ** 64n) {
    throw new IptcError(`invalid counters for ${what}: ${show(s ?? '')}`, { code: 'ERR_IPTC_PARSE', line });
  }
  return { packets: BigInt(m[1]!), bytes: BigInt(m[2]!) };
}

/** Applies one block to its snapshot, as iptables-restore does line by line. @internal */
export function applyBlock(t: Table, b: Block, options: Pick<RestoreOptions, 'noflush' | 'counters'>): void {
  if (!options.noflush) {
    t.flush();
    t.deleteChain();
  }
  for (const item of b.items) {
    const { line, text } = item;
    try {
      if (text.startsWith(':')) {
        const [chain, policy, ctrs] = text.slice(1).trim().split(/[ \t]+/);
        if (!chain) throw new IptcError('chain name invalid', { code: 'ERR_IPTC_PARSE' });
        const existing = t.chain(chain);
        if (!existing?.builtin) {
          if (options.noflush && existing) t.flush(chain);
          else t.createChain(chain);
        }
        if (!policy) throw new IptcError('policy invalid', { code: 'ERR_IPTC_PARSE' });
        if (policy !== '-') {
          const counters = options.counters ? parseCounters(ctrs, line, `chain ${chain}`) : { packets: 0n, bytes: 0n };
          t.setPolicy(chain, policy as 'ACCEPT' | 'DROP', counters);
        }
        continue;
      }
      let rest = text;
      let counters: Counters | undefined;
      if (text.startsWith('[')) {
        const end = text.indexOf(']');
        const c = parseCounters(end < 0 ? text : text.slice(0, end + 1), line, 'rule');
        rest = text.slice(end + 1);
        if (options.counters) counters = c;
      }
      applyCommand(t, splitWords(`${rest}\n`), counters);
    } catch (e) {
      throw withContext(e, `line ${line}`, { line, table: b.table });
    }
  }
}

function checkRestoreOptions(options: RestoreOptions): void {
  checkOptionsObject(options, 'restore options');
  const known = new Set(['family', 'netns', 'noflush', 'counters', 'table', 'lockTimeout', 'dryRun']);
  for (const k of Object.keys(options)) if (!known.has(k)) throw argumentError(`unknown restore option '${k}'`);
}

/** Restores iptables-save text in-process (like iptables-restore). */
export async function restore(text: string, options: RestoreOptions & { dryRun: true }): Promise<Validation[]>;
export async function restore(text: string, options?: RestoreOptions): Promise<void>;
export async function restore(text: string, options: RestoreOptions = {}): Promise<void | Validation[]> {
  checkRestoreOptions(options);
  if (options.dryRun) {
    const out: Validation[] = [];
    for (const b of blocks(text)) {
      if (options.table !== undefined && options.table !== b.table) continue;
      const t = await Table.open(b.table, { family: options.family, netns: options.netns }).catch((e) => Promise.reject(withBlockLine(e, b)));
      applyBlock(t, b, options);
      out.push(await t.validate());
    }
    return out;
  }
  for (const b of blocks(text)) {
    if (options.table !== undefined && options.table !== b.table) continue;
    await Table.update(b.table, { family: options.family, netns: options.netns, lockTimeout: options.lockTimeout }, (t) =>
      applyBlock(t, b, options),
    ).catch((e) => Promise.reject(withBlockLine(e, b)));
  }
}

export function restoreSync(text: string, options: RestoreOptions = {}): void {
  checkRestoreOptions(options);
  if (options.dryRun) throw argumentError('a dry run needs the kernel in a scratch namespace, asynchronously: use restore(text, { dryRun: true })');
  for (const b of blocks(text)) {
    if (options.table !== undefined && options.table !== b.table) continue;
    try {
      Table.updateSync(b.table, { family: options.family, netns: options.netns, lockTimeout: options.lockTimeout }, (t) =>
        applyBlock(t, b, options),
      );
    } catch (e) {
      throw withBlockLine(e, b);
    }
  }
}

/** Errors of opening or committing a block belong to its *table line; those of a line already say so. */
function withBlockLine(e: unknown, b: Block): unknown {
  if (e instanceof IptcError && e.line === undefined) return withContext(e, `line ${b.line} (*${b.table})`, { line: b.line, table: b.table });
  return e;
}
