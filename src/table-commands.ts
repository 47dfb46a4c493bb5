/**
 * The iptables commands on a snapshot: -A -I -R -D -C on rules, -F -N -X -E
 * -Z -P on chains, and their idempotent forms. They change the snapshot in
 * memory; Table (table.ts), which extends this class, reads, opens and
 * commits. Rules given here become references into the snapshot's rule
 * store (rulein.ts); the chain commands are carried out in table-chains.ts.
 */
import type { Counters } from './rule.js';
import type { RuleSpec } from './rulewords.js';
import type { Origin } from './pending.js';
import type { ChainState, Policy } from './snapshot.js';
import type { FamilyName } from './native.js';
import type { TableName } from './names.js';
import { IptcError, argumentError } from './errors.js';
import { specsOf } from './printing.js';
import { ruleRefs, ruleSpecs } from './rulein.js';
import { createChain, deleteChains, flushChains, renameChain, setPolicy, zeroCounters } from './table-chains.js';
import type { TableState } from './table-state.js';

/**
 * What Table can do to its snapshot: the iptables commands. Not made on its
 * own: every Table is one.
 * @example
 * ```ts
 * import { Table } from 'iptc-node';
 * await Table.update('filter', {}, (t) => t.ensureChain('svc') && t.append('INPUT', '-j svc'));
 * ```
 */
export abstract class TableCommands {
  /** The table's name: filter, nat, mangle, raw or security. */
  readonly name: TableName;
  /** The address family: 'ipv4' (iptables) or 'ipv6' (ip6tables). */
  readonly family: FamilyName;
  readonly #s: TableState;

  /** @internal */
  protected constructor(s: TableState) {
    this.name = s.table;
    this.family = s.family;
    this.#s = s;
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
    if (this.#s.snap.find(name) !== undefined) return false;
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
    if (this.#s.snap.find(chain) === undefined || !this.check(chain, rule)) return false;
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
}
