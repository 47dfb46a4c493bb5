/**
 * Where Table objects come from: a read of the kernel (open, openSync), a
 * read-change-commit under the xtables lock (update, updateSync), a blank
 * table for a flushing restore, a copy in memory. Table (table.ts) keeps
 * the snapshot and the commands; it lends this module what making one needs
 * (TableMaker), so that the class itself stays the commands.
 */
import type { Backend, Read } from './backend.js';
import { IptcError, checkSignal } from './errors.js';
import { legacy } from './legacy.js';
import { acquireLock, acquireLockSync, checkTimeout, releaseLock } from './lock.js';
import type { FamilyName } from './native.js';
import type { TableName } from './names.js';
import { withHeldNetnsFd, withNetnsFd, type NetnsOption } from './netns.js';
import { BUILTINS, Snapshot } from './snapshot.js';
import { checkOptions, present, type CommitOptions, type TableOptions } from './table-options.js';
import type { Table } from './table.js';
import { resolveBackend, resolveBackendSync } from './which.js';

/**
 * What Table.update and updateSync take: where (TableOptions), the lock wait
 * and signal (CommitOptions), and how often to start again.
 * @example
 * ```ts
 * import { Table, type UpdateOptions } from 'iptc-node';
 * const options: UpdateOptions = { netns: 'edge', lockTimeout: 5000, retries: 2 };
 * await Table.update('filter', options, (t) => t.appendUnique('INPUT', '-i lo -j ACCEPT'));
 * ```
 */
export interface UpdateOptions extends TableOptions, CommitOptions {
  /** Fresh starts after ERR_IPTC_CONFLICT (a writer that ignores the lock changed the table), default 5. */
  retries?: number;
}

/** @internal What Table lends this module (set once, from table.ts). */
export interface TableMaker {
  make(name: TableName, family: FamilyName, netns: NetnsOption, backend: Backend, snap: Snapshot, base: Read['base'], eager: boolean): Table;
  /** What the read said beyond the snapshot (read-only, rules left out); read for a change or not. */
  adopt(t: Table, r: Read | null, forChange: boolean): Table;
  holdLock(t: Table): void;
  detach(t: Table): void;
  snapshotOf(t: Table): Snapshot;
  backendOf(t: Table): Backend;
}

let maker: TableMaker;
/** @internal */
export function lendMaker(m: TableMaker): void {
  maker = m;
}

/** @internal A table's snapshot, for the modules that print it (listing.ts). */
export function snapshotOf(t: Table): Snapshot {
  return maker.snapshotOf(t);
}

/** @internal */
export async function openTable(name: TableName, options: TableOptions, forChange: boolean): Promise<Table> {
  const { family, netns, ifMissing, backend } = checkOptions(name, options);
  const [b, r] = await withNetnsFd(netns, (fd) =>
    withHeldNetnsFd(fd, async (held) => {
      const b = await resolveBackend(backend, family, held);
      return [b, await b.read(family, name, held, ifMissing === 'create', true, forChange)] as const;
    }),
  );
  return maker.adopt(maker.make(name, family, netns, b, ...present(r, name, family, ifMissing), false), r, forChange);
}

/** @internal */
export function openTableSync(name: TableName, options: TableOptions, forChange: boolean): Table {
  const { family, netns, ifMissing, backend } = checkOptions(name, options);
  const [b, r] = withNetnsFd(netns, (fd) => {
    const b = resolveBackendSync(backend, family, fd);
    return [b, b.read(family, name, fd, ifMissing === 'create', false, forChange)] as const;
  });
  return maker.adopt(maker.make(name, family, netns, b, ...present(r, name, family, ifMissing), true), r, forChange);
}

/** @internal */
export function blankTable(name: TableName, options: TableOptions): Table {
  const { family, netns, backend } = checkOptions(name, options);
  if (!BUILTINS[name]) throw new IptcError(`there is no table '${name}' in this namespace`, { code: 'ERR_IPTC_ABSENT', errno: 2, table: name });
  const b = backend === 'legacy' ? legacy : withNetnsFd(netns, (fd) => resolveBackendSync(backend, family, fd));
  return maker.make(name, family, netns, b, Snapshot.pristine(family, name, true), { kind: 'none' }, false);
}

/** @internal */
export function detachedTable(name: TableName, family: FamilyName, base?: Table): Table {
  const snap = base ? maker.snapshotOf(base).copy() : Snapshot.pristine(family, name);
  const t = maker.make(name, family, undefined, base ? maker.backendOf(base) : legacy, snap, { kind: 'none' }, true);
  maker.detach(t);
  return t;
}

/** @internal */
export async function updateTable(name: TableName, options: UpdateOptions, change: (table: Table) => unknown): Promise<Table> {
  const { retries = 5, lockTimeout, signal, ...open } = options;
  checkOptions(name, open);
  for (let attempt = 0; ; attempt++) {
    checkSignal(signal, `the update of ${name}`);
    const lock = await acquireLock(checkTimeout(lockTimeout), signal);
    try {
      const t = await openTable(name, open, true);
      maker.holdLock(t);
      await change(t);
      await t.commit();
      return t;
    } catch (e) {
      if (!(e instanceof IptcError) || e.code !== 'ERR_IPTC_CONFLICT' || attempt >= retries) throw e;
    } finally {
      releaseLock(lock);
    }
  }
}

/** @internal */
export function updateTableSync(name: TableName, options: UpdateOptions, change: (table: Table) => unknown): Table {
  const { retries = 5, lockTimeout, signal, ...open } = options;
  checkOptions(name, open);
  checkSignal(signal, `the update of ${name}`);
  for (let attempt = 0; ; attempt++) {
    const lock = acquireLockSync(checkTimeout(lockTimeout));
    try {
      const t = openTableSync(name, open, true);
      maker.holdLock(t);
      change(t);
      t.commitSync();
      return t;
    } catch (e) {
      if (!(e instanceof IptcError) || e.code !== 'ERR_IPTC_CONFLICT' || attempt >= retries) throw e;
    } finally {
      releaseLock(lock);
    }
  }
}
