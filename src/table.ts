/**
 * Table: one snapshot of one kernel table. Reading gives chains and rules;
 * the mutations (named after the iptables commands) change the snapshot in
 * memory; commit() writes it back in one atomic kernel replace. Rule
 * positions are 1-based, as in iptables.
 *
 * Rules given to a snapshot from open() are parsed when they are needed, all
 * at once: by commit() on a worker thread, or when the snapshot is read back
 * (rules(), save(), -C, -D by rule). A snapshot from openSync() parses each
 * rule when it is given, as iptables does. See snapshot.ts for the model,
 * legacy.ts for the kernel.
 *
 * The class is the API: opening, reading, committing here; the iptables
 * commands in the class it extends (table-commands.ts). What it holds and
 * checks is table-state.ts; the chain commands are carried out in
 * table-chains.ts, commit and reload in table-commit.ts, and tables are made
 * (read, updated, blank, copied) in table-open.ts.
 */
import type { Backend, BackendName, Base, SkippedRule } from './backend.js';
import type { FamilyName } from './native.js';
import type { TableName } from './names.js';
import type { NetnsOption } from './netns.js';
import { ruleLines, rulesOf } from './printing.js';
import type { DecodedRule } from './rule.js';
import type { Snapshot } from './snapshot.js';
import type { Validation } from './validate.js';
import { chainInfo, type Chain, type CommitOptions, type SaveOptions, type TableOptions, type ValidateOptions } from './table-options.js';
import { blankTable, detachedTable, lendMaker, openTable, openTableSync, updateTable, updateTableSync, type UpdateOptions } from './table-open.js';
import { commitTable, commitTableSync, reloadTable, reloadTableSync, validateTable, validateTableSync } from './table-commit.js';
import { TableCommands } from './table-commands.js';
import { TableState } from './table-state.js';
import { checkOptionsObject } from './words.js';
export type { Chain, CommitOptions, SaveOptions, TableOptions, ValidateOptions } from './table-options.js';
export type { UpdateOptions } from './table-open.js';

export type { RuleSpec } from './rulewords.js';

/**
 * One snapshot of one kernel table (filter, nat, mangle, raw, security):
 * chains and rules to read, the iptables commands to change it in memory,
 * and commit() to write it back in one atomic replace. Positions are 1-based.
 * @example
 * ```ts
 * import { Table } from 'iptc-node';
 * const t = await Table.open('filter', { netns: 'edge' });
 * t.append('INPUT', '-p tcp --dport 22 -j ACCEPT').setPolicy('INPUT', 'DROP');
 * await t.commit();
 * ```
 */
export class Table extends TableCommands {
  readonly #s: TableState;

  private constructor(name: TableName, family: FamilyName, netns: NetnsOption, backend: Backend, snap: Snapshot, base: Base, eager: boolean) {
    const s = new TableState(name, family, netns, backend, snap, base, eager);
    super(s);
    this.#s = s;
  }

  static {
    lendMaker({
      make: (name, family, netns, backend, snap, base, eager) => new Table(name, family, netns, backend, snap, base, eager),
      adopt: (t, r, forChange) => {
        t.#s.forChange = forChange;
        t.#s.adopt(r);
        return t;
      },
      holdLock: (t) => void (t.#s.lockHeld = true),
      detach: (t) => void (t.#s.detached = true),
      snapshotOf: (t) => t.#s.snap,
      backendOf: (t) => t.#s.backend,
    });
  }

  /**
   * Reads one table (filter, nat, mangle, raw, security) with one kernel call, off the event loop.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * const t = await Table.open('nat', { family: 'ipv6', netns: 'edge' });
   * console.log(t.save());
   * ```
   */
  static async open(name: TableName, options: TableOptions = {}): Promise<Table> {
    return openTable(name, options, false);
  }

  /**
   * Like open(), on the calling thread; rules given to it are parsed at once.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * for (const c of Table.openSync('filter').chains()) console.log(c.name, c.length);
   * ```
   */
  static openSync(name: TableName, options: TableOptions = {}): Table {
    return openTableSync(name, options, false);
  }

  /**
   * The table as a flushing restore sees it: built-in chains, no rules, and
   * nothing read from the kernel. Policies it does not set are the kernel's
   * at commit; the commit replaces the whole table.
   * @internal
   */
  static blank(name: TableName, options: TableOptions = {}): Table {
    return blankTable(name, options);
  }

  /**
   * A snapshot that lives only in memory: a copy of `base` (or, without one,
   * the table as the kernel first makes it), which nothing can commit. What
   * iptables-restore text is compared as (see tableFromText).
   * @internal
   */
  static detached(name: TableName, family: FamilyName, base?: Table): Table {
    return detachedTable(name, family, base);
  }

  /**
   * Read, change, commit, the way iptables does it: the xtables lock is held
   * from before the read until after the commit, so no cooperating writer
   * (iptables, iptables-restore, iptc-node) can slip in between. Should a
   * writer that ignores the lock change the table meanwhile
   * (ERR_IPTC_CONFLICT), it starts again from a fresh read, up to `retries`
   * times (default 5); `change` must be safe to run more than once.
   * Returns the committed snapshot.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * await Table.update('filter', { lockTimeout: 5000 }, (t) => t.append('INPUT', '-s 192.0.2.7 -j DROP'));
   * ```
   */
  static async update(name: TableName, options: UpdateOptions, change: (table: Table) => unknown): Promise<Table> {
    return updateTable(name, options, change);
  }

  /**
   * update() on the calling thread (it waits for the lock there too).
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * Table.updateSync('filter', {}, (t) => t.appendUnique('INPUT', '-s 192.0.2.7 -j DROP'));
   * ```
   */
  static updateSync(name: TableName, options: UpdateOptions, change: (table: Table) => unknown): Table {
    return updateTableSync(name, options, change);
  }

  /**
   * Which kernel firewall the snapshot was read from: 'legacy' (xtables) or 'nft' (iptables-nft's nf_tables tables).
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * if ((await Table.open('filter')).backend === 'nft') console.log('iptables-nft tables');
   * ```
   */
  get backend(): BackendName {
    return this.#s.backend.name;
  }

  /**
   * Whether commit() can write this table (false for an nf_tables table holding rules iptables cannot show).
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * if (!(await Table.open('filter')).writable) console.error('read-only: see readOnlyReason');
   * ```
   */
  get writable(): boolean {
    return this.#s.readOnly === undefined;
  }

  /**
   * Why the table is not writable, or undefined.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * const why = (await Table.open('filter', { backend: 'nft' })).readOnlyReason;
   * ```
   */
  get readOnlyReason(): string | undefined {
    return this.#s.readOnly;
  }

  /**
   * Rules the kernel table holds that are not in this snapshot, because
   * they are not iptables rules (nf_tables rules written with nft, or by
   * another program): each with its chain, position, handle, the reason and
   * libnftnl's text of it. Empty for legacy tables.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * for (const r of (await Table.open('filter')).skipped) console.log(r.chain, r.position, r.reason, r.nft);
   * ```
   */
  get skipped(): readonly SkippedRule[] {
    return this.#s.skipped;
  }

  /**
   * False when the table did not exist in the kernel when this snapshot was read.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * if (!(await Table.open('security')).exists) console.log('no security table yet');
   * ```
   */
  get exists(): boolean {
    return this.#s.base.kind === 'read';
  }

  /**
   * What libxtables' extensions warned of while this snapshot's rules were
   * parsed, as iptables prints them on stderr ("Warning: weird character in
   * interface ..."); also traced with NODE_DEBUG=iptc.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * for (const w of (await Table.open('filter')).warnings) console.warn(w);
   * ```
   */
  get warnings(): readonly string[] {
    return this.#s.snap.store.warnings;
  }

  /**
   * True while the snapshot has changes not yet committed.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * const t = await Table.open('filter');
   * t.appendUnique('INPUT', '-i lo -j ACCEPT');
   * if (t.dirty) await t.commit();
   * ```
   */
  get dirty(): boolean {
    return this.#s.changes > 0;
  }

  // ---- reading ---------------------------------------------------------

  /**
   * Every chain: built-ins first in hook order, then user chains.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * for (const c of (await Table.open('filter')).chains()) console.log(c.name, c.policy ?? '-', c.length);
   * ```
   */
  chains(): Chain[] {
    const refs = this.#s.snap.references();
    return this.#s.snap.chains.map((c) => chainInfo(c, refs));
  }

  /**
   * Whether the table has a chain of that name (cheaper than chain()).
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * if (!(await Table.open('filter')).chainExists('svc')) console.log('no chain svc');
   * ```
   */
  chainExists(name: string): boolean {
    return this.#s.snap.find(name) !== undefined;
  }

  /**
   * One chain as chains() describes it, or undefined when the table has none of that name.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * const policy = (await Table.open('filter')).chain('INPUT')?.policy; // 'ACCEPT' | 'DROP' | undefined
   * ```
   */
  chain(name: string): Chain | undefined {
    const c = this.#s.snap.find(name);
    return c && chainInfo(c, this.#s.snap.references());
  }

  /**
   * The rules of a chain, in order (rule 1 first).
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * for (const r of (await Table.open('filter')).rules('INPUT')) console.log(r.protocol, r.target?.name, r.counters.packets);
   * ```
   */
  rules(chain: string): DecodedRule[] {
    return rulesOf(this.#s.snap, this.#s.need(chain));
  }

  /**
   * The table in iptables-save format (without the `#` comment lines).
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * process.stdout.write((await Table.open('filter')).save({ counters: true }));
   * ```
   */
  save(options: SaveOptions = {}): string {
    checkOptionsObject(options, 'save options', ['counters']);
    const lines = ruleLines(this.#s.snap, !!options.counters);
    const head = this.#s.snap.chains.map((c) =>
      c.builtin ? `:${c.name} ${c.policy} [${c.shownCounters!.packets}:${c.shownCounters!.bytes}]` : `:${c.name} - [0:0]`,
    );
    return `*${this.name}\n${head.join('\n')}\n${lines}COMMIT\n`;
  }

  // ---- commit ----------------------------------------------------------

  /**
   * Writes the whole table in one atomic kernel replace, holding the xtables
   * lock; rules not parsed yet are parsed first, off the event loop. Fails
   * with ERR_IPTC_CONFLICT, committing nothing, when the table changed in the
   * kernel since this snapshot was read. After a commit the snapshot is
   * spent: open the table again (or reload()) to change it further.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * const t = await Table.open('filter');
   * t.append('INPUT', '-p tcp --dport 22 -j ACCEPT');
   * await t.commit({ lockTimeout: 5000 }); // ms
   * ```
   */
  async commit(options: CommitOptions = {}): Promise<void> {
    return commitTable(this.#s, options);
  }

  /**
   * commit() on the calling thread: rules are parsed, the lock waited for and the table written there.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * Table.openSync('filter').append('INPUT', '-p tcp --dport 22 -j ACCEPT').commitSync();
   * ```
   */
  commitSync(options: CommitOptions = {}): void {
    commitTableSync(this.#s, options);
  }

  /**
   * Checks the pending table with the kernel without touching the live one:
   * commits copies into a fresh scratch network namespace and reports every
   * rule the kernel refuses (chain, position, rule, the kernel's errno).
   * Needs CAP_SYS_ADMIN (for the namespace).
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * const v = await (await Table.open('filter')).append('INPUT', '-p tcp --dport 22 -j ACCEPT').validate();
   * for (const p of v.problems) console.error(`${p.chain} ${p.position}: ${p.reason}`);
   * ```
   */
  async validate(options: ValidateOptions = {}): Promise<Validation> {
    return validateTable(this.#s, options);
  }

  /**
   * validate() on the calling thread.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * const { ok } = Table.openSync('filter').append('INPUT', '-j LOG').validateSync();
   * ```
   */
  validateSync(): Validation {
    return validateTableSync(this.#s);
  }

  /**
   * Reads the table again into this object, dropping uncommitted changes.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * const t = (await Table.open('filter')).append('INPUT', '-i lo -j ACCEPT');
   * await t.reload(); // the append is dropped
   * ```
   */
  async reload(): Promise<this> {
    await reloadTable(this.#s);
    return this;
  }

  /**
   * reload() on the calling thread.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * const t = Table.openSync('filter');
   * t.append('INPUT', '-i lo -j ACCEPT').commitSync();
   * t.reloadSync().append('INPUT', '-p icmp -j ACCEPT').commitSync(); // spent after a commit: read again
   * ```
   */
  reloadSync(): this {
    reloadTableSync(this.#s);
    return this;
  }
}
