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
 * The class is the API: reading, the rule commands, and the names of the
 * rest. What it holds and checks is table-state.ts; the chain commands are
 * carried out in table-chains.ts, commit and reload in table-commit.ts, and
 * tables are made (read, updated, blank, copied) in table-open.ts.
 */
import type { Backend, BackendName, Base, SkippedRule } from './backend.js';
import { IptcError, argumentError } from './errors.js';
import type { FamilyName } from './native.js';
import type { NetnsOption } from './netns.js';
import { ruleLines, rulesOf, specsOf } from './printing.js';
import type { Counters, DecodedRule } from './rule.js';
import type { RuleSpec } from './rulewords.js';
import type { Origin } from './pending.js';
import type { ChainState, Policy, Snapshot } from './snapshot.js';
import type { Validation } from './validate.js';
import { ruleRefs, ruleSpecs } from './rulein.js';
import { chainInfo, type AbortSignalLike, type Chain, type CommitOptions, type TableOptions } from './table-options.js';
import { blankTable, detachedTable, lendMaker, openTable, openTableSync, updateTable, updateTableSync, type UpdateOptions } from './table-open.js';
import { createChain, deleteChains, flushChains, renameChain, setPolicy, zeroCounters } from './table-chains.js';
import { commitTable, commitTableSync, reloadTable, reloadTableSync, validateTable, validateTableSync } from './table-commit.js';
import { TableState } from './table-state.js';
import { checkOptionsObject } from './words.js';
export type { Chain, CommitOptions, TableOptions } from './table-options.js';

export type { RuleSpec } from './rulewords.js';

export class Table {
  readonly name: string;
  readonly family: FamilyName;
  readonly #s: TableState;

  private constructor(name: string, family: FamilyName, netns: NetnsOption, backend: Backend, snap: Snapshot, base: Base, eager: boolean) {
    this.name = name;
    this.family = family;
    this.#s = new TableState(name, family, netns, backend, snap, base, eager);
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

  /** Reads one table (filter, nat, mangle, raw, security) with one kernel call, off the event loop. */
  static async open(name: string, options: TableOptions = {}): Promise<Table> {
    return openTable(name, options, false);
  }

  /** Like open(), on the calling thread; rules given to it are parsed at once. */
  static openSync(name: string, options: TableOptions = {}): Table {
    return openTableSync(name, options, false);
  }

  /**
   * The table as a flushing restore sees it: built-in chains, no rules, and
   * nothing read from the kernel. Policies it does not set are the kernel's
   * at commit; the commit replaces the whole table.
   * @internal
   */
  static blank(name: string, options: TableOptions = {}): Table {
    return blankTable(name, options);
  }

  /**
   * A snapshot that lives only in memory: a copy of `base` (or, without one,
   * the table as the kernel first makes it), which nothing can commit. What
   * iptables-restore text is compared as (see tableFromText).
   * @internal
   */
  static detached(name: string, family: FamilyName, base?: Table): Table {
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
   */
  static async update(name: string, options: UpdateOptions, change: (table: Table) => unknown): Promise<Table> {
    return updateTable(name, options, change);
  }

  static updateSync(name: string, options: UpdateOptions, change: (table: Table) => unknown): Table {
    return updateTableSync(name, options, change);
  }

  /** Which kernel firewall the snapshot was read from: 'legacy' (xtables) or 'nft' (iptables-nft's nf_tables tables). */
  get backend(): BackendName {
    return this.#s.backend.name;
  }

  /** Whether commit() can write this table (false for an nf_tables table holding rules iptables cannot show). */
  get writable(): boolean {
    return this.#s.readOnly === undefined;
  }

  /** Why the table is not writable, or undefined. */
  get readOnlyReason(): string | undefined {
    return this.#s.readOnly;
  }

  /**
   * Rules the kernel table holds that are not in this snapshot, because
   * they are not iptables rules (nf_tables rules written with nft, or by
   * another program): each with its chain, position, handle, the reason and
   * libnftnl's text of it. Empty for legacy tables.
   */
  get skipped(): readonly SkippedRule[] {
    return this.#s.skipped;
  }

  /** False when the table did not exist in the kernel when this snapshot was read. */
  get exists(): boolean {
    return this.#s.base.kind === 'read';
  }

  /**
   * What libxtables' extensions warned of while this snapshot's rules were
   * parsed, as iptables prints them on stderr ("Warning: weird character in
   * interface ..."); also traced with NODE_DEBUG=iptc.
   */
  get warnings(): readonly string[] {
    return this.#s.snap.store.warnings;
  }

  /** True while the snapshot has changes not yet committed. */
  get dirty(): boolean {
    return this.#s.changes > 0;
  }

  // ---- reading ---------------------------------------------------------

  /** Every chain: built-ins first in hook order, then user chains. */
  chains(): Chain[] {
    const refs = this.#s.snap.references();
    return this.#s.snap.chains.map((c) => chainInfo(c, refs));
  }

  /** Whether the table has a chain of that name (cheaper than chain()). */
  chainExists(name: string): boolean {
    return this.#s.snap.find(name) !== undefined;
  }

  chain(name: string): Chain | undefined {
    const c = this.#s.snap.find(name);
    return c && chainInfo(c, this.#s.snap.references());
  }

  /** The rules of a chain, in order (rule 1 first). */
  rules(chain: string): DecodedRule[] {
    return rulesOf(this.#s.snap, this.#s.need(chain));
  }

  /** The table in iptables-save format (without the `#` comment lines). */
  save(options: { counters?: boolean } = {}): string {
    checkOptionsObject(options, 'save options', ['counters']);
    const lines = ruleLines(this.#s.snap, !!options.counters);
    const head = this.#s.snap.chains.map((c) =>
      c.builtin ? `:${c.name} ${c.policy} [${c.shownCounters!.packets}:${c.shownCounters!.bytes}]` : `:${c.name} - [0:0]`,
    );
    return `*${this.name}\n${head.join('\n')}\n${lines}COMMIT\n`;
  }

  // ---- rules in (see rulein.ts) ------------------------------------------

  #rules(chain: string, rule: RuleSpec, op: Origin['op'], position: number): number[] {
    return ruleRefs(this.#s.snap, this.name, chain, rule, this.#s.eager ? undefined : { op, chain, position, change: this.#s.changes + 1 });
  }

  #specsOf(chain: string, rule: RuleSpec): string[] {
    return ruleSpecs(this.#s.snap, this.name, chain, rule);
  }

  #find(c: ChainState, spec: string): number {
    const specs = specsOf(this.#s.snap, c.refs);
    return specs.indexOf(spec);
  }

  // ---- mutations (iptables commands) -----------------------------------

  /** -A: appends a rule to the end of a chain. */
  append(chain: string, rule: RuleSpec): this {
    this.#s.mutable();
    const c = this.#s.naming(chain);
    this.#s.snap.append(c, this.#rules(chain, rule, 'append', c.length + 1));
    this.#s.changes++;
    return this;
  }

  /**
   * -A with a rule parsed elsewhere (restore input): `count` entries of
   * `bytes` from `first`, jumping to chain `jump` if given.
   * @internal
   */
  appendParsed(chain: string, bytes: Buffer, offsets: Uint32Array, first: number, count: number, jump: string | undefined, counters?: Counters): this {
    this.#s.mutable();
    const c = this.#s.need(chain);
    let id = -1;
    if (jump !== undefined) {
      const target = this.#s.snap.find(jump);
      if (!target) throw new IptcError(`Couldn't load target \`${jump}': no chain of that name`, { code: 'ERR_IPTC_PARSE', table: this.name, chain });
      if (target.builtin) throw new IptcError(`cannot jump to built-in chain ${jump}`, { code: 'ERR_IPTC_PARSE', table: this.name, chain });
      id = target.id;
    }
    this.#s.snap.appendRun(c, this.#s.snap.store.adopt(bytes, offsets, first, count, id, counters), first, count);
    this.#s.changes++;
    return this;
  }

  /** -I: inserts a rule at a 1-based position (default 1, the top). */
  insert(chain: string, rule: RuleSpec, position = 1): this {
    this.#s.mutable();
    const c = this.#s.naming(chain);
    this.#s.checkPosition(c, position, c.length + 1, 'insert');
    // As iptables does for several addresses: each at the same position.
    const refs = this.#rules(chain, rule, 'insert', position);
    this.#s.snap.insert(c, position - 1, [...refs].reverse());
    this.#s.changes++;
    return this;
  }

  /** -R: replaces the rule at a 1-based position. */
  replace(chain: string, position: number, rule: RuleSpec): this {
    this.#s.mutable();
    const c = this.#s.need(chain);
    this.#s.checkPosition(c, position, c.length, 'replace');
    const refs = this.#rules(chain, rule, 'replace', position);
    if (refs.length !== 1) {
      throw argumentError('a replacement rule must give a single source and destination address', { table: this.name, chain });
    }
    this.#s.snap.replace(c, position - 1, refs[0]!);
    this.#s.changes++;
    return this;
  }

  /** -D: deletes the rule at a 1-based position, or the first rule equal to the one given. */
  delete(chain: string, ruleOrPosition: number | RuleSpec): this {
    this.#s.mutable();
    const c = this.#s.need(chain);
    if (typeof ruleOrPosition === 'number') {
      this.#s.checkPosition(c, ruleOrPosition, c.length, 'delete');
      this.#s.snap.remove(c, ruleOrPosition - 1);
      this.#s.changes++;
      return this;
    }
    const specs = this.#specsOf(chain, ruleOrPosition);
    // Check every part exists first, so a failed delete changes nothing.
    for (const spec of specs) {
      if (this.#find(c, spec) < 0) {
        throw new IptcError(`no rule in chain ${chain} matches: -A ${chain}${spec}`, { code: 'ERR_IPTC_NO_RULE', table: this.name, chain, rule: spec.trim() });
      }
    }
    for (const spec of specs) this.#s.snap.remove(c, this.#find(c, spec));
    this.#s.changes++;
    return this;
  }

  /** -C: whether the chain holds a rule equal to the one given. */
  check(chain: string, rule: RuleSpec): boolean {
    const c = this.#s.need(chain);
    return this.#specsOf(chain, rule).every((spec) => this.#find(c, spec) >= 0);
  }

  // ---- idempotent forms (as go-iptables and Kubernetes' utiliptables have them)

  /**
   * -N unless the chain is there already; true when it was made.
   * @example
   * ```ts
   * await Table.update('filter', {}, (t) => { t.ensureChain('svc'); });
   * ```
   */
  ensureChain(name: string): boolean {
    if (this.chainExists(name)) return false;
    this.createChain(name);
    return true;
  }

  /** Makes the chain if it is not there, else empties it (go-iptables' ClearChain). */
  clearChain(name: string): this {
    if (!this.ensureChain(name)) this.flush(name);
    return this;
  }

  /**
   * -A unless an equal rule (what -C finds) is in the chain; true when appended.
   * @example
   * ```ts
   * t.appendUnique('INPUT', '-p tcp --dport 22 -j ACCEPT');
   * ```
   */
  appendUnique(chain: string, rule: RuleSpec): boolean {
    if (this.check(chain, rule)) return false;
    this.append(chain, rule);
    return true;
  }

  /** -I at `position` (default 1) unless an equal rule is in the chain; true when inserted. */
  insertUnique(chain: string, rule: RuleSpec, position = 1): boolean {
    if (this.check(chain, rule)) return false;
    this.insert(chain, rule, position);
    return true;
  }

  /** -D of the first equal rule, when there is one (or the chain); true when one was deleted. */
  deleteIfExists(chain: string, rule: RuleSpec): boolean {
    if (!this.chainExists(chain) || !this.check(chain, rule)) return false;
    this.delete(chain, rule);
    return true;
  }

  /** -F: removes every rule of one chain, or of every chain. */
  flush(chain?: string): this {
    flushChains(this.#s, chain);
    return this;
  }

  /** -N: creates an empty user chain. */
  createChain(name: string): this {
    createChain(this.#s, name);
    return this;
  }

  /** -X: deletes an empty, unreferenced user chain; with no name, every user chain. */
  deleteChain(name?: string): this {
    deleteChains(this.#s, name);
    return this;
  }

  /**
   * -E: renames a user chain; rules that jump to it follow. As iptables, the
   * new name may be a target's (LOG); unlike iptables 1.8.9, not one with
   * blanks (its own iptables-save text of such a table does not restore).
   */
  renameChain(from: string, to: string): this {
    renameChain(this.#s, from, to);
    return this;
  }

  /** -Z: zeroes the counters of every chain, one chain, or one rule (1-based). */
  zero(chain?: string, position?: number): this {
    zeroCounters(this.#s, chain, position);
    return this;
  }

  /** -P: sets a built-in chain's policy (ACCEPT or DROP), optionally with its counters. */
  setPolicy(chain: string, target: Policy, counters?: Partial<Counters>): this {
    setPolicy(this.#s, chain, target, counters);
    return this;
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
   * const t = await Table.open('filter');
   * t.append('INPUT', '-p tcp --dport 22 -j ACCEPT');
   * await t.commit({ lockTimeout: 5000 });
   * ```
   */
  async commit(options: CommitOptions = {}): Promise<void> {
    return commitTable(this.#s, options);
  }

  commitSync(options: CommitOptions = {}): void {
    commitTableSync(this.#s, options);
  }

  /**
   * Checks the pending table with the kernel without touching the live one:
   * commits copies into a fresh scratch network namespace and reports every
   * rule the kernel refuses (chain, position, rule, the kernel's errno).
   * Needs CAP_SYS_ADMIN (for the namespace).
   */
  async validate(options: { signal?: AbortSignalLike } = {}): Promise<Validation> {
    return validateTable(this.#s, options);
  }

  /** validate() on the calling thread. */
  validateSync(): Validation {
    return validateTableSync(this.#s);
  }

  /** Reads the table again into this object, dropping uncommitted changes. */
  async reload(): Promise<this> {
    await reloadTable(this.#s);
    return this;
  }

  reloadSync(): this {
    reloadTableSync(this.#s);
    return this;
  }
}
