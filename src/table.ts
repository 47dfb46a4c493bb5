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

  /**
   * Reads one table (filter, nat, mangle, raw, security) with one kernel call, off the event loop.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * const t = await Table.open('nat', { family: 'ipv6', netns: 'edge' });
   * console.log(t.save());
   * ```
   */
  static async open(name: string, options: TableOptions = {}): Promise<Table> {
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
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * await Table.update('filter', { lockTimeout: 5000 }, (t) => t.append('INPUT', '-s 192.0.2.7 -j DROP'));
   * ```
   */
  static async update(name: string, options: UpdateOptions, change: (table: Table) => unknown): Promise<Table> {
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
  static updateSync(name: string, options: UpdateOptions, change: (table: Table) => unknown): Table {
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

  /**
   * -A: appends a rule to the end of a chain.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * await Table.update('filter', {}, (t) => t.append('INPUT', { protocol: 'tcp', matches: [{ name: 'tcp', options: { dport: 443 } }], target: 'ACCEPT' }));
   * ```
   */
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

  /**
   * -I: inserts a rule at a 1-based position (default 1, the top).
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * await Table.update('filter', {}, (t) => t.insert('INPUT', '-i lo -j ACCEPT', 1));
   * ```
   */
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

  /**
   * -R: replaces the rule at a 1-based position.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * await Table.update('filter', {}, (t) => t.replace('INPUT', 2, '-p tcp --dport 2222 -j ACCEPT'));
   * ```
   */
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

  /**
   * -D: deletes the rule at a 1-based position, or the first rule equal to the one given.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * await Table.update('filter', {}, (t) => t.delete('INPUT', '-s 192.0.2.7 -j DROP').delete('FORWARD', 1));
   * ```
   */
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

  /**
   * -C: whether the chain holds a rule equal to the one given.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * const sshOpen = (await Table.open('filter')).check('INPUT', '-p tcp --dport 22 -j ACCEPT');
   * ```
   */
  check(chain: string, rule: RuleSpec): boolean {
    const c = this.#s.need(chain);
    return this.#specsOf(chain, rule).every((spec) => this.#find(c, spec) >= 0);
  }

  // ---- idempotent forms (as go-iptables and Kubernetes' utiliptables have them)

  /**
   * -N unless the chain is there already; true when it was made.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * await Table.update('filter', {}, (t) => t.ensureChain('svc'));
   * ```
   */
  ensureChain(name: string): boolean {
    if (this.chainExists(name)) return false;
    this.createChain(name);
    return true;
  }

  /**
   * Makes the chain if it is not there, else empties it (go-iptables' ClearChain).
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * await Table.update('filter', {}, (t) => t.clearChain('svc').append('svc', '-p tcp --dport 80 -j ACCEPT'));
   * ```
   */
  clearChain(name: string): this {
    if (!this.ensureChain(name)) this.flush(name);
    return this;
  }

  /**
   * -A unless an equal rule (what -C finds) is in the chain; true when appended.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * await Table.update('filter', {}, (t) => t.appendUnique('INPUT', '-p tcp --dport 22 -j ACCEPT'));
   * ```
   */
  appendUnique(chain: string, rule: RuleSpec): boolean {
    if (this.check(chain, rule)) return false;
    this.append(chain, rule);
    return true;
  }

  /**
   * -I at `position` (default 1) unless an equal rule is in the chain; true when inserted.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * await Table.update('filter', {}, (t) => t.insertUnique('INPUT', '-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT'));
   * ```
   */
  insertUnique(chain: string, rule: RuleSpec, position = 1): boolean {
    if (this.check(chain, rule)) return false;
    this.insert(chain, rule, position);
    return true;
  }

  /**
   * -D of the first equal rule, when there is one (or the chain); true when one was deleted.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * await Table.update('filter', {}, (t) => t.deleteIfExists('INPUT', '-s 192.0.2.7 -j DROP'));
   * ```
   */
  deleteIfExists(chain: string, rule: RuleSpec): boolean {
    if (!this.chainExists(chain) || !this.check(chain, rule)) return false;
    this.delete(chain, rule);
    return true;
  }

  /**
   * -F: removes every rule of one chain, or of every chain.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * await Table.update('filter', {}, (t) => t.flush('svc'));
   * ```
   */
  flush(chain?: string): this {
    flushChains(this.#s, chain);
    return this;
  }

  /**
   * -N: creates an empty user chain.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * await Table.update('filter', {}, (t) => t.createChain('svc').append('INPUT', '-p tcp -j svc'));
   * ```
   */
  createChain(name: string): this {
    createChain(this.#s, name);
    return this;
  }

  /**
   * -X: deletes an empty, unreferenced user chain; with no name, every user chain.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * await Table.update('filter', {}, (t) => t.flush('svc').deleteChain('svc'));
   * ```
   */
  deleteChain(name?: string): this {
    deleteChains(this.#s, name);
    return this;
  }

  /**
   * -E: renames a user chain; rules that jump to it follow. As iptables, the
   * new name may be a target's (LOG); unlike iptables 1.8.9, not one with
   * blanks (its own iptables-save text of such a table does not restore).
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * await Table.update('filter', {}, (t) => t.renameChain('svc', 'services'));
   * ```
   */
  renameChain(from: string, to: string): this {
    renameChain(this.#s, from, to);
    return this;
  }

  /**
   * -Z: zeroes the counters of every chain, one chain, or one rule (1-based).
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * await Table.update('filter', {}, (t) => t.zero('INPUT', 1));
   * ```
   */
  zero(chain?: string, position?: number): this {
    zeroCounters(this.#s, chain, position);
    return this;
  }

  /**
   * -P: sets a built-in chain's policy (ACCEPT or DROP), optionally with its counters.
   * @example
   * ```ts
   * import { Table } from 'iptc-node';
   * await Table.update('filter', { netns: 'edge' }, (t) => t.setPolicy('FORWARD', 'DROP'));
   * ```
   */
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
  async validate(options: { signal?: AbortSignalLike } = {}): Promise<Validation> {
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
