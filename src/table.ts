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
 */
import type { Backend, BackendName, Base, Read, SkippedRule } from './backend.js';
import { IptcError, argumentError, show } from './errors.js';
import { checkTimeout, lockPath } from './lock.js';
import { native, type FamilyName } from './native.js';
import { badChainName } from './names.js';
import { withNetnsFd, type NetnsOption } from './netns.js';
import { ruleLines, rulesOf, specsOf } from './printing.js';
import type { Counters, DecodedRule } from './rule.js';
import { checkCounters, type RuleSpec } from './rulewords.js';
import type { Origin } from './pending.js';
import type { ChainState, Policy, Snapshot } from './snapshot.js';
import { validateSnapshot, type Validation } from './validate.js';
import { ruleRefs, ruleSpecs } from './rulein.js';
import { explainCommitError, explainCommitErrorWithRule } from './commit-errors.js';
import { chainInfo, present, type Chain, type CommitOptions, type TableOptions } from './table-options.js';
import { blankTable, detachedTable, lendMaker, openTable, openTableSync, updateTable, updateTableSync, type UpdateOptions } from './table-open.js';
export type { Chain, CommitOptions, TableOptions } from './table-options.js';
import { checkOptionsObject } from './words.js';

export type { RuleSpec } from './rulewords.js';


export class Table {
  readonly name: string;
  readonly family: FamilyName;
  readonly #backend: Backend;
  readonly #netns: NetnsOption;
  #snap: Snapshot;
  #base: Base;
  #changes = 0;
  #spent = false;
  /** Set by update(), which holds the xtables lock itself around read and commit. */
  #lockHeld = false;
  /** Read by update() to change and commit at once (nf_tables may answer from what it last knew). */
  #forChange = false;
  /** A copy made in memory (from text, see tableFromText): read and compare it, never commit it. */
  #detached = false;
  /** From openSync(): each rule is parsed when given. */
  readonly #eager: boolean;
  /** Why this table cannot be committed through its backend, if it cannot. */
  #readOnly: string | undefined;
  /** nf_tables: the built-in chains that exist there. */
  #present: Set<string> | undefined;
  #skipped: readonly SkippedRule[] = [];

  private constructor(name: string, family: FamilyName, netns: NetnsOption, backend: Backend, snap: Snapshot, base: Base, eager: boolean) {
    this.name = name;
    this.family = family;
    this.#netns = netns;
    this.#backend = backend;
    this.#snap = snap;
    this.#base = base;
    this.#eager = eager;
  }

  static {
    lendMaker({
      make: (name, family, netns, backend, snap, base, eager) => new Table(name, family, netns, backend, snap, base, eager),
      adopt: (t, r, forChange) => {
        t.#forChange = forChange;
        return t.#adopt(r);
      },
      holdLock: (t) => void (t.#lockHeld = true),
      detach: (t) => void (t.#detached = true),
      snapshotOf: (t) => t.#snap,
      backendOf: (t) => t.#backend,
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

  /** What a read says beyond the snapshot: read-only, rules left out, the base chains nf_tables has. */
  #adopt(r: Read | null): this {
    this.#readOnly = r?.readOnly;
    this.#present = r?.presentBaseChains ? new Set(r.presentBaseChains) : undefined;
    this.#skipped = Object.freeze(r?.skipped ?? []);
    return this;
  }

  /** Which kernel firewall the snapshot was read from: 'legacy' (xtables) or 'nft' (iptables-nft's nf_tables tables). */
  get backend(): BackendName {
    return this.#backend.name;
  }

  /** Whether commit() can write this table (false for an nf_tables table holding rules iptables cannot show). */
  get writable(): boolean {
    return this.#readOnly === undefined;
  }

  /** Why the table is not writable, or undefined. */
  get readOnlyReason(): string | undefined {
    return this.#readOnly;
  }

  /**
   * Rules the kernel table holds that are not in this snapshot, because
   * they are not iptables rules (nf_tables rules written with nft, or by
   * another program): each with its chain, position, handle, the reason and
   * libnftnl's text of it. Empty for legacy tables.
   */
  get skipped(): readonly SkippedRule[] {
    return this.#skipped;
  }

  /** False when the table did not exist in the kernel when this snapshot was read. */
  get exists(): boolean {
    return this.#base.kind === 'read';
  }

  /** True while the snapshot has changes not yet committed. */
  get dirty(): boolean {
    return this.#changes > 0;
  }

  // ---- reading ---------------------------------------------------------

  /** Every chain: built-ins first in hook order, then user chains. */
  chains(): Chain[] {
    const refs = this.#snap.references();
    return this.#snap.chains.map((c) => chainInfo(c, refs));
  }

  /** Whether the table has a chain of that name (cheaper than chain()). */
  chainExists(name: string): boolean {
    return this.#snap.find(name) !== undefined;
  }

  chain(name: string): Chain | undefined {
    const c = this.#snap.find(name);
    return c && chainInfo(c, this.#snap.references());
  }

  /** The rules of a chain, in order (rule 1 first). */
  rules(chain: string): DecodedRule[] {
    return rulesOf(this.#snap, this.#need(chain));
  }

  /** The table in iptables-save format (without the `#` comment lines). */
  save(options: { counters?: boolean } = {}): string {
    checkOptionsObject(options, 'save options', ['counters']);
    const lines = ruleLines(this.#snap, !!options.counters);
    const head = this.#snap.chains.map((c) =>
      c.builtin ? `:${c.name} ${c.policy} [${c.shownCounters!.packets}:${c.shownCounters!.bytes}]` : `:${c.name} - [0:0]`,
    );
    return `*${this.name}\n${head.join('\n')}\n${lines}COMMIT\n`;
  }

  #need(chain: string): ChainState {
    if (typeof chain !== 'string') throw argumentError(`chain must be a string, got ${typeof chain}`);
    const c = this.#snap.find(chain);
    if (!c) throw new IptcError(`no chain '${chain}' in table ${this.name}`, { code: 'ERR_IPTC_NO_CHAIN', table: this.name, chain });
    return c;
  }

  /**
   * A chain a command names that makes it (-A, -I, -F, -P): on nf_tables,
   * iptables-nft makes a built-in chain the first time one of these names it.
   */
  #naming(chain: string): ChainState {
    const c = this.#need(chain);
    if (c.builtin && this.#backend.name === 'nft') this.#snap.wantBaseChains.add(c.name);
    return c;
  }

  /** A chain a command needs to exist already (-Z CHAIN): on nf_tables a built-in chain may not, yet. */
  #existing(chain: string): ChainState {
    const c = this.#need(chain);
    if (c.builtin && this.#present && !this.#present.has(c.name) && !this.#snap.wantBaseChains.has(c.name)) {
      throw new IptcError(`no chain '${chain}' in the nf_tables ${this.name} table yet (iptables-nft makes a built-in chain when a rule, a flush or a policy first names it)`, {
        code: 'ERR_IPTC_NO_CHAIN',
        table: this.name,
        chain,
      });
    }
    return c;
  }

  // ---- rules in (see rulein.ts) ------------------------------------------

  #rules(chain: string, rule: RuleSpec, op: Origin['op'], position: number): number[] {
    return ruleRefs(this.#snap, this.name, chain, rule, this.#eager ? undefined : { op, chain, position, change: this.#changes + 1 });
  }

  #specsOf(chain: string, rule: RuleSpec): string[] {
    return ruleSpecs(this.#snap, this.name, chain, rule);
  }

  #find(c: ChainState, spec: string): number {
    const specs = specsOf(this.#snap, c.refs);
    return specs.indexOf(spec);
  }

  #mutable(): void {
    if (this.#readOnly !== undefined) {
      throw new IptcError(`the ${this.#backend.name === 'nft' ? 'nf_tables ' : ''}${this.name} table cannot be changed here: ${this.#readOnly}`, {
        code: 'ERR_IPTC_READONLY',
        table: this.name,
      });
    }
    if (this.#spent) {
      throw new IptcError('this snapshot was committed; open the table again (or call reload()) to change it further', {
        code: 'ERR_IPTC_SPENT',
        table: this.name,
      });
    }
  }

  #checkPosition(c: ChainState, position: number, max: number, what: string): void {
    if (!Number.isInteger(position) || position < 1 || position > max) {
      // A whole position past the last rule names a rule the chain does not have (iptables: "Index of deletion too big").
      const missing = Number.isInteger(position) && position > max && what !== 'insert';
      throw new IptcError(
        `cannot ${what} at position ${position} in chain ${c.name}: positions are 1-based and ${
          max === 0 ? 'the chain is empty' : `must be between 1 and ${max}`
        }`,
        { code: missing ? 'ERR_IPTC_NO_RULE' : 'ERR_IPTC_ARGUMENT', table: this.name, chain: c.name, position: typeof position === 'number' ? position : undefined },
      );
    }
  }

  #isTargetName(name: string): boolean {
    return ['ACCEPT', 'DROP', 'QUEUE', 'RETURN'].includes(name) || native.targetExists(this.family, name);
  }

  // ---- mutations (iptables commands) -----------------------------------

  /** -A: appends a rule to the end of a chain. */
  append(chain: string, rule: RuleSpec): this {
    this.#mutable();
    const c = this.#naming(chain);
    this.#snap.append(c, this.#rules(chain, rule, 'append', c.length + 1));
    this.#changes++;
    return this;
  }

  /**
   * -A with a rule parsed elsewhere (restore input): `count` entries of
   * `bytes` from `first`, jumping to chain `jump` if given.
   * @internal
   */
  appendParsed(chain: string, bytes: Buffer, offsets: Uint32Array, first: number, count: number, jump: string | undefined, counters?: Counters): this {
    this.#mutable();
    const c = this.#need(chain);
    let id = -1;
    if (jump !== undefined) {
      const target = this.#snap.find(jump);
      if (!target) throw new IptcError(`Couldn't load target \`${jump}': no chain of that name`, { code: 'ERR_IPTC_PARSE', table: this.name, chain });
      if (target.builtin) throw new IptcError(`cannot jump to built-in chain ${jump}`, { code: 'ERR_IPTC_PARSE', table: this.name, chain });
      id = target.id;
    }
    this.#snap.appendRun(c, this.#snap.store.adopt(bytes, offsets, first, count, id, counters), first, count);
    this.#changes++;
    return this;
  }

  /** -I: inserts a rule at a 1-based position (default 1, the top). */
  insert(chain: string, rule: RuleSpec, position = 1): this {
    this.#mutable();
    const c = this.#naming(chain);
    this.#checkPosition(c, position, c.length + 1, 'insert');
    // As iptables does for several addresses: each at the same position.
    const refs = this.#rules(chain, rule, 'insert', position);
    this.#snap.insert(c, position - 1, [...refs].reverse());
    this.#changes++;
    return this;
  }

  /** -R: replaces the rule at a 1-based position. */
  replace(chain: string, position: number, rule: RuleSpec): this {
    this.#mutable();
    const c = this.#need(chain);
    this.#checkPosition(c, position, c.length, 'replace');
    const refs = this.#rules(chain, rule, 'replace', position);
    if (refs.length !== 1) {
      throw argumentError('a replacement rule must give a single source and destination address', { table: this.name, chain });
    }
    this.#snap.replace(c, position - 1, refs[0]!);
    this.#changes++;
    return this;
  }

  /** -D: deletes the rule at a 1-based position, or the first rule equal to the one given. */
  delete(chain: string, ruleOrPosition: number | RuleSpec): this {
    this.#mutable();
    const c = this.#need(chain);
    if (typeof ruleOrPosition === 'number') {
      this.#checkPosition(c, ruleOrPosition, c.length, 'delete');
      this.#snap.remove(c, ruleOrPosition - 1);
      this.#changes++;
      return this;
    }
    const specs = this.#specsOf(chain, ruleOrPosition);
    // Check every part exists first, so a failed delete changes nothing.
    for (const spec of specs) {
      if (this.#find(c, spec) < 0) {
        throw new IptcError(`no rule in chain ${chain} matches: -A ${chain}${spec}`, { code: 'ERR_IPTC_NO_RULE', table: this.name, chain, rule: spec.trim() });
      }
    }
    for (const spec of specs) this.#snap.remove(c, this.#find(c, spec));
    this.#changes++;
    return this;
  }

  /** -C: whether the chain holds a rule equal to the one given. */
  check(chain: string, rule: RuleSpec): boolean {
    const c = this.#need(chain);
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
    this.#mutable();
    for (const c of chain === undefined ? this.#snap.chains : [this.#naming(chain)]) this.#snap.flush(c);
    this.#changes++;
    return this;
  }

  /** -N: creates an empty user chain. */
  createChain(name: string): this {
    this.#mutable();
    const bad = badChainName(name);
    if (bad) throw argumentError(bad, { table: this.name, chain: String(name) });
    if (this.#snap.find(name)) throw new IptcError(`chain '${name}' already exists`, { code: 'ERR_IPTC_EXISTS', table: this.name, chain: name });
    if (this.#isTargetName(name)) throw argumentError(`chain name '${name}' may not clash with a target name`, { table: this.name, chain: name });
    this.#snap.createChain(name);
    this.#changes++;
    return this;
  }

  /** -X: deletes an empty, unreferenced user chain; with no name, every user chain. */
  deleteChain(name?: string): this {
    this.#mutable();
    const targets = name === undefined ? this.#snap.chains.filter((c) => !c.builtin) : [this.#need(name)];
    const going = new Set(targets);
    for (const c of targets) {
      if (c.builtin) throw argumentError(`can't delete built-in chain ${c.name}`, { table: this.name, chain: c.name });
      if (c.length > 0) throw argumentError(`chain ${c.name} is not empty (flush it first)`, { table: this.name, chain: c.name });
      const ref = this.#snap.firstReference(c.id, (o) => going.has(o) && o.length === 0);
      if (ref) {
        throw argumentError(`chain ${c.name} is still referenced (rule ${ref[1] + 1} of ${ref[0].name})`, { table: this.name, chain: c.name });
      }
    }
    for (const c of targets) this.#snap.deleteChain(c);
    if (targets.length) this.#changes++;
    if (name === undefined && this.#backend.name === 'nft') {
      // iptables-nft's -X also removes the base chains that hold no rules and accept.
      this.#snap.dropIdleBaseChains = true;
      this.#snap.wantBaseChains.clear();
      this.#changes++;
    }
    return this;
  }

  /**
   * -E: renames a user chain; rules that jump to it follow. As iptables, the
   * new name may be a target's (LOG); unlike iptables 1.8.9, not one with
   * blanks (its own iptables-save text of such a table does not restore).
   */
  renameChain(from: string, to: string): this {
    this.#mutable();
    const c = this.#need(from);
    if (c.builtin) throw argumentError(`can't rename built-in chain ${from}`, { table: this.name, chain: from });
    const bad = badChainName(to);
    if (bad) throw argumentError(bad, { table: this.name, chain: String(to) });
    if (this.#snap.find(to)) throw new IptcError(`chain '${to}' already exists`, { code: 'ERR_IPTC_EXISTS', table: this.name, chain: to });
    this.#snap.renameChain(c, to);
    this.#changes++;
    return this;
  }

  /** -Z: zeroes the counters of every chain, one chain, or one rule (1-based). */
  zero(chain?: string, position?: number): this {
    this.#mutable();
    if (position !== undefined) {
      if (chain === undefined) throw argumentError('zeroing one rule needs its chain');
      const c = this.#existing(chain);
      this.#checkPosition(c, position, c.length, 'zero');
      this.#snap.store.zero(c.at(position - 1));
    } else {
      for (const c of chain === undefined ? this.#snap.chains : [this.#existing(chain)]) this.#snap.zero(c);
    }
    this.#changes++;
    return this;
  }

  /** -P: sets a built-in chain's policy (ACCEPT or DROP), optionally with its counters. */
  setPolicy(chain: string, target: Policy, counters?: Partial<Counters>): this {
    this.#mutable();
    const c = this.#naming(chain);
    if (!c.builtin) throw argumentError(`only built-in chains have a policy; ${chain} is a user chain`, { table: this.name, chain });
    if (target !== 'ACCEPT' && target !== 'DROP') {
      throw argumentError(`bad policy ${show(target)}: must be ACCEPT or DROP`, { table: this.name, chain });
    }
    if (this.name === 'nat' && target === 'DROP') {
      throw argumentError('the nat table is not intended for filtering: DROP is not allowed as a policy there', { table: this.name, chain });
    }
    this.#snap.setPolicy(c, target, counters ? checkCounters(counters) : undefined);
    this.#changes++;
    return this;
  }

  // ---- commit ----------------------------------------------------------

  #commitRequest(timeout: number) {
    if (this.#detached) {
      throw argumentError(`this ${this.name} snapshot was made in memory (from text) and cannot be committed; plan() and apply() it onto a snapshot read from the kernel`, {
        table: this.name,
      });
    }
    return {
      family: this.family,
      table: this.name,
      snapshot: this.#snap,
      base: this.#base,
      lockPath: this.#lockHeld ? '' : lockPath(),
      readUnderLock: this.#lockHeld,
      lockTimeoutMs: timeout,
      forChange: this.#forChange,
    };
  }

  /**
   * Writes the whole table in one atomic kernel replace, holding the xtables
   * lock; rules not parsed yet are parsed first, off the event loop. Fails
   * with ERR_IPTC_CONFLICT, committing nothing, when the table changed in the
   * kernel since this snapshot was read. After a commit the snapshot is
   * spent: open the table again (or reload()) to change it further.
   */
  async commit(options: CommitOptions = {}): Promise<void> {
    checkOptionsObject(options, 'commit options', ['lockTimeout']);
    this.#mutable();
    const req = this.#commitRequest(checkTimeout(options.lockTimeout));
    try {
      await withNetnsFd(this.#netns, (netnsFd) => this.#backend.commit({ ...req, netnsFd }, true));
    } catch (e) {
      throw await this.#explain(e);
    }
    this.#spent = true;
  }

  commitSync(options: CommitOptions = {}): void {
    checkOptionsObject(options, 'commit options', ['lockTimeout']);
    this.#mutable();
    const req = this.#commitRequest(checkTimeout(options.lockTimeout));
    try {
      withNetnsFd(this.#netns, (netnsFd) => this.#backend.commit({ ...req, netnsFd }, false));
    } catch (e) {
      throw this.#explainSync(e);
    }
    this.#spent = true;
  }

  /**
   * Checks the pending table with the kernel without touching the live one:
   * commits copies into a fresh scratch network namespace and reports every
   * rule the kernel refuses (chain, position, rule, the kernel's errno).
   * Needs CAP_SYS_ADMIN (for the namespace).
   */
  async validate(): Promise<Validation> {
    return validateSnapshot(this.family, this.name, this.#snap, this.#backend.name);
  }

  /** Reads the table again into this object, dropping uncommitted changes. */
  async reload(): Promise<this> {
    this.#fromKernel();
    const r = await withNetnsFd(this.#netns, (fd) => this.#backend.read(this.family, this.name, fd, false, true));
    this.#reset(present(r, this.name, this.family, 'empty'));
    return this.#adopt(r);
  }

  reloadSync(): this {
    this.#fromKernel();
    const r = withNetnsFd(this.#netns, (fd) => this.#backend.read(this.family, this.name, fd, false, false));
    this.#reset(present(r, this.name, this.family, 'empty'));
    return this.#adopt(r);
  }

  #fromKernel(): void {
    if (this.#detached) throw argumentError(`this ${this.name} snapshot was made in memory (from text): there is no kernel table to read it from`, { table: this.name });
  }

  #reset([snap, base]: [Snapshot, Base]): void {
    this.#snap = snap;
    this.#base = base;
    this.#changes = 0;
    this.#spent = false;
  }

  #explainSync(e: unknown): unknown {
    return explainCommitError(e, this.name, this.#snap);
  }

  async #explain(e: unknown): Promise<unknown> {
    return explainCommitErrorWithRule(e, this.name, this.#snap, () => this.validate());
  }
}
