/**
 * iptables-save / iptables-restore text for whole families of tables:
 * saveAll() prints every table in the order iptables-save uses, restore()
 * reads the same format in-process. Each `*table ... COMMIT` block is
 * committed atomically; an error names its line and commits nothing of that
 * block (blocks before it stay committed, as with iptables-restore).
 */
import { IptcError, argumentError, checkSignal, withContext } from './errors.js';
import { applyCommand } from './commands.js';
import { native, type FamilyName, type NativeCompiled } from './native.js';
import { withHeldNetnsFd, withNetnsFd, type NetnsOption } from './netns.js';
import { checkBackend, resolveBackend, resolveBackendSync, tablesOf, whichBackend, whichBackendSync, type BackendChoice, type WhichOptions } from './which.js';
import { BUILTINS, type Policy } from './snapshot.js';
import { Table, type CommitOptions } from './table.js';
import type { Counters } from './rule.js';
import type { BackendName } from './backend.js';
import type { Validation } from './validate.js';
import { checkFamily, checkTableName, tableNameOf, type TableName } from './names.js';
import { checkOptionsObject } from './words.js';

export interface SaveAllOptions {
  family?: FamilyName;
  netns?: NetnsOption;
  /** Rule counters as `[packets:bytes]` prefixes, like iptables-save -c. */
  counters?: boolean;
  /** Which kernel firewall: 'legacy', 'nft' or 'auto' (the default; see Table.open). */
  backend?: BackendChoice;
}

/**
 * What restoreSync() takes: iptables-restore's flags, the lock wait, and
 * where. (No dryRun: the kernel's check runs asynchronously, see restore().)
 * @example
 * ```ts
 * import { restoreSync, type RestoreSyncOptions } from 'iptc-node';
 * const options: RestoreSyncOptions = { noflush: true, table: 'filter', lockTimeout: 5000 };
 * restoreSync('*filter\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n', options);
 * ```
 */
export interface RestoreSyncOptions extends CommitOptions {
  family?: FamilyName;
  netns?: NetnsOption;
  /** -n: keep what the tables hold and add to it (default: flush each table first). */
  noflush?: boolean;
  /** -c: take counters from the input (`[p:b]` on rules and policies). */
  counters?: boolean;
  /** -T: restore only this table, skip the others. */
  table?: TableName;
  /**
   * Which kernel firewall: 'legacy', 'nft' or 'auto' (the default; see
   * Table.open), decided once for the whole input.
   */
  backend?: BackendChoice;
}

/**
 * What restore() takes: restoreSync()'s options and dryRun. restore()'s
 * result follows dryRun: Validation[] for true, nothing for false or absent,
 * either when the type says only boolean.
 * @example
 * ```ts
 * import { restore, type RestoreOptions } from 'iptc-node';
 * const options: RestoreOptions = { dryRun: process.argv.includes('--test'), noflush: true };
 * const checks = await restore('*filter\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n', options);
 * for (const v of checks ?? []) if (!v.ok) console.error(v.table, v.problems);
 * ```
 */
export interface RestoreOptions extends RestoreSyncOptions {
  /**
   * Check, don't commit: each table block is applied to a snapshot of the
   * live table and validated by the kernel in a scratch namespace; restore()
   * then resolves to one Validation per block and changes nothing.
   */
  dryRun?: boolean;
}

/**
 * The names of the family's tables that exist in the namespace, in the order
 * the backend's save tool prints them (iptables-legacy-save: the kernel's;
 * iptables-nft-save: mangle, security, raw, filter, nat).
 * @example
 * ```ts
 * import { listTables } from 'iptc-node';
 * console.log(await listTables({ family: 'ipv6', netns: 'edge' })); // e.g. ['filter', 'nat']
 * ```
 */
export async function listTables(options: WhichOptions = {}): Promise<TableName[]> {
  checkOptionsObject(options, 'options', ['family', 'netns', 'backend']);
  const family = options.family ?? 'ipv4';
  const choice = checkBackend(options.backend);
  return withNetnsFd(options.netns, (fd) =>
    withHeldNetnsFd(fd, async (held) => tablesOf(await resolveBackend(choice, family, held), family, held, true)),
  );
}

/**
 * listTables() on the calling thread.
 * @example
 * ```ts
 * import { listTablesSync } from 'iptc-node';
 * const haveNat = listTablesSync().includes('nat');
 * ```
 */
export function listTablesSync(options: WhichOptions = {}): TableName[] {
  checkOptionsObject(options, 'options', ['family', 'netns', 'backend']);
  const family = options.family ?? 'ipv4';
  const choice = checkBackend(options.backend);
  return withNetnsFd(options.netns, (fd) => tablesOf(resolveBackendSync(choice, family, fd), family, fd, false));
}

const SAVE_ALL_OPTIONS = ['family', 'netns', 'counters', 'backend'];

/**
 * Every table of a family, as iptables-save prints them (without `#` comment lines).
 * @example
 * ```ts
 * import { saveAll } from 'iptc-node';
 * process.stdout.write(await saveAll({ family: 'ipv6', counters: true }));
 * ```
 */
export async function saveAll(options: SaveAllOptions = {}): Promise<string> {
  checkOptionsObject(options, 'options', SAVE_ALL_OPTIONS);
  // One backend for all the tables: decided once.
  const backend = await whichBackend({ family: options.family, netns: options.netns, backend: options.backend });
  const names = await listTables({ family: options.family, netns: options.netns, backend });
  const parts = await Promise.all(names.map((n) => Table.open(n, { family: options.family, netns: options.netns, backend })));
  return parts.map((t) => t.save({ counters: options.counters })).join('');
}

/**
 * saveAll() on the calling thread.
 * @example
 * ```ts
 * import { saveAllSync } from 'iptc-node';
 * import { writeFileSync } from 'node:fs';
 * writeFileSync('/etc/iptables/rules.v4', saveAllSync());
 * ```
 */
export function saveAllSync(options: SaveAllOptions = {}): string {
  checkOptionsObject(options, 'options', SAVE_ALL_OPTIONS);
  const backend = whichBackendSync({ family: options.family, netns: options.netns, backend: options.backend });
  return listTablesSync({ family: options.family, netns: options.netns, backend })
    .map((n) => Table.openSync(n, { family: options.family, netns: options.netns, backend }).save({ counters: options.counters }))
    .join('');
}

/** @internal One `*table ... COMMIT` block of restore input: its ops in a compiled text. */
export interface Block {
  table: TableName;
  line: number;
  first: number;
  count: number;
  text: NativeCompiled;
}

/** @internal Reads restore input (in the addon: framing, words, every rule parsed) into blocks. */
export function blocks(compiled: NativeCompiled): Block[] {
  return compiled.blocks.map(([table, line, first, count]) => ({ table: tableNameOf(table), line, first, count, text: compiled }));
}

function compileOptions(options: RestoreOptions) {
  return { counters: !!options.counters, noflush: !!options.noflush, ...(options.table !== undefined ? { table: options.table } : {}) };
}

/** @internal Restore input, compiled on this thread. */
export function compileSync(text: string, family: FamilyName, options: RestoreOptions = {}): NativeCompiled {
  if (typeof text !== 'string') throw argumentError(`restore input must be a string, got ${typeof text}`);
  return native.compileRestore(family, text, compileOptions(options), false);
}

/**
 * Restore input, compiled off the event loop. Long text is handed over as
 * UTF-8 pieces made a turn of the event loop apart, so that encoding it
 * does not hold the loop either.
 * @internal
 */
export async function compile(text: string, family: FamilyName, options: RestoreOptions): Promise<NativeCompiled> {
  if (typeof text !== 'string') throw argumentError(`restore input must be a string, got ${typeof text}`);
  if (text.length <= PIECE) return native.compileRestore(family, text, compileOptions(options), true);
  const pieces: Buffer[] = [];
  for (let at = 0; at < text.length; ) {
    const nl = text.indexOf('\n', at + PIECE);
    const end = nl < 0 ? text.length : nl + 1;
    pieces.push(Buffer.from(text.slice(at, end), 'utf8'));
    at = end;
    if (at < text.length) await turn();
  }
  return native.compileRestore(family, pieces, compileOptions(options), true);
}

/** Characters of restore text encoded in one turn of the event loop. */
const PIECE = 1 << 20;

/**
 * Applies one block to its snapshot, as iptables-restore does line by line:
 * without noflush every chain is flushed and every user chain deleted first.
 * @internal
 */
export function applyBlock(t: Table, b: Block, options: Pick<RestoreOptions, 'noflush' | 'counters'>): void {
  if (!options.noflush) {
    t.flush();
    t.deleteChain();
  }
  const { ops, names, counters, bytes, offsets } = b.text;
  const builtin = new Set(BUILTINS[t.name] ?? []);
  for (let i = b.first; i < b.first + b.count; i++) {
    const at = 8 * i;
    const line = ops[at + 1]!;
    const given: Counters | undefined = ops[at + 7] ? { packets: counters[2 * i]!, bytes: counters[2 * i + 1]! } : undefined;
    try {
      switch (ops[at]) {
        case 1: {
          const chain = names[ops[at + 2]!]!;
          const policy = names[ops[at + 6]!]!;
          if (!builtin.has(chain)) {
            if (options.noflush && t.chainExists(chain)) t.flush(chain);
            else t.createChain(chain);
          }
          if (policy !== '-') t.setPolicy(chain, policy as Policy, given ?? { packets: 0n, bytes: 0n });
          break;
        }
        case 2: {
          // (A run of -A lines to one chain comes as one op.)
          const jump = ops[at + 3]! | 0;
          t.appendParsed(names[ops[at + 2]!]!, bytes, offsets, ops[at + 4]!, ops[at + 5]!, jump < 0 ? undefined : names[jump], given);
          break;
        }
        default:
          applyCommand(t, names[ops[at + 6]!]!.split('\0'), given);
      }
    } catch (e) {
      throw withContext(e, `line ${line}`, { line, table: b.table });
    }
  }
}

function checkRestoreOptions(options: RestoreOptions): void {
  checkOptionsObject(options, 'restore options', ['family', 'netns', 'noflush', 'counters', 'table', 'lockTimeout', 'signal', 'dryRun', 'backend']);
  checkFamily(options.family);
  if (options.table !== undefined) checkTableName(options.table);
}

/**
 * Restores iptables-save text in-process (like iptables-restore). The text
 * is read and every rule parsed off the event loop; a flushing restore reads
 * nothing from the kernel (built-in chains the text does not list keep the
 * policy they have), and each block is one atomic replace under the lock.
 * With `dryRun: true` (this form) it commits nothing and resolves to one
 * Validation per block.
 * @example
 * ```ts
 * import { restore } from 'iptc-node';
 * const text = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n';
 * for (const v of await restore(text, { dryRun: true })) if (!v.ok) console.error(v.table, v.problems);
 * ```
 */
export async function restore(text: string, options: RestoreOptions & { dryRun: true }): Promise<Validation[]>;
/**
 * Restores iptables-save text in-process (like iptables-restore): each
 * `*table ... COMMIT` block is one atomic replace under the xtables lock.
 * @example
 * ```ts
 * import { restore } from 'iptc-node';
 * import { readFileSync } from 'node:fs';
 * await restore(readFileSync('/etc/iptables/rules.v4', 'utf8'), { noflush: true, lockTimeout: 5000 });
 * ```
 */
export async function restore(text: string, options?: RestoreOptions & { dryRun?: false }): Promise<void>;
/**
 * Restores iptables-save text, or with `dryRun` true only checks it: for a
 * dryRun known only at run time, the result is one Validation per block
 * (dryRun true) or undefined (the text was committed).
 * @example
 * ```ts
 * import { restore } from 'iptc-node';
 * import { readFileSync } from 'node:fs';
 * const dryRun = process.argv.includes('--test');
 * const checks = await restore(readFileSync('/etc/iptables/rules.v4', 'utf8'), { dryRun });
 * if (checks) console.log(checks.every((v) => v.ok) ? 'would commit' : 'would be refused');
 * ```
 */
export async function restore(text: string, options: RestoreOptions): Promise<Validation[] | undefined>;
export async function restore(text: string, options: RestoreOptions = {}): Promise<Validation[] | void> {
  checkRestoreOptions(options);
  const { signal, lockTimeout } = options;
  checkSignal(signal, 'the restore');
  const family = options.family ?? 'ipv4';
  const compiled = await compile(text, family, options);
  const all = blocks(compiled);
  const backend = await whichBackend({ family, netns: options.netns, backend: options.backend });
  const where = { family, netns: options.netns, backend };
  if (options.dryRun) {
    const out: Validation[] = [];
    for (const b of all) {
      checkSignal(signal, 'the restore');
      const t = await Table.open(b.table, where).catch((e) => Promise.reject(withBlockLine(e, b)));
      applyBlock(t, b, options);
      out.push(await t.validate(signal ? { signal } : {}));
    }
    if (compiled.error) throw compiled.error;
    return out;
  }
  // (Each table is its own commit, as with iptables-restore: an abort between two keeps the first.)
  const commitOptions = { lockTimeout, ...(signal ? { signal } : {}) };
  for (const b of all) {
    checkSignal(signal, 'the restore');
    if (!options.noflush) {
      const t = blankTable(b, where);
      applyBlock(t, b, options);
      await turn(); // the event loop runs between reading the block and handing it over
      await t.commit(commitOptions).catch((e) => Promise.reject(withBlockLine(e, b)));
      continue;
    }
    await Table.update(b.table, { ...where, ...commitOptions }, (t) => applyBlock(t, b, options)).catch((e) =>
      Promise.reject(withBlockLine(e, b)),
    );
  }
  if (compiled.error) throw compiled.error;
}

/**
 * restore() on the calling thread (no dryRun: the kernel check is asynchronous).
 * @example
 * ```ts
 * import { restoreSync } from 'iptc-node';
 * restoreSync('*filter\n:FORWARD DROP [0:0]\nCOMMIT\n', { netns: 'edge' });
 * ```
 */
export function restoreSync(text: string, options: RestoreSyncOptions = {}): void {
  checkRestoreOptions(options);
  checkSignal(options.signal, 'the restore');
  // (Not in the type; a JavaScript caller's dryRun is refused, not ignored.)
  if ((options as RestoreOptions).dryRun) throw argumentError('a dry run needs the kernel in a scratch namespace, asynchronously: use restore(text, { dryRun: true })');
  const family = options.family ?? 'ipv4';
  const backend = whichBackendSync({ family, netns: options.netns, backend: options.backend });
  const where = { family, netns: options.netns, backend };
  const compiled = compileSync(text, family, options);
  for (const b of blocks(compiled)) {
    try {
      if (!options.noflush) {
        const t = blankTable(b, where);
        applyBlock(t, b, options);
        t.commitSync({ lockTimeout: options.lockTimeout });
      } else Table.updateSync(b.table, { ...where, lockTimeout: options.lockTimeout }, (t) => applyBlock(t, b, options));
    } catch (e) {
      throw withBlockLine(e, b);
    }
  }
  if (compiled.error) throw compiled.error;
}

/** Lets the event loop go round (timers, I/O) before going on. */
const turn = () => new Promise<void>((r) => setTimeout(r, 0));

function blankTable(b: Block, where: { family: FamilyName; netns?: NetnsOption; backend: BackendName }): Table {
  try {
    return Table.blank(b.table, where);
  } catch (e) {
    throw withBlockLine(e, b);
  }
}

/** Errors of opening or committing a block belong to its *table line; those of a line already say so. */
function withBlockLine(e: unknown, b: Block): unknown {
  if (e instanceof IptcError && e.line === undefined) return withContext(e, `line ${b.line} (*${b.table})`, { line: b.line, table: b.table });
  return e;
}
