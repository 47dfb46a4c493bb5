/**
 * Table: one snapshot of one kernel table. Reading gives chains and rules;
 * the mutations (named after the iptables commands) change the snapshot in
 * memory; commit() writes the whole table back in one atomic kernel replace.
 * Rule positions are 1-based, as in iptables.
 */
import { IptcError, argumentError, withContext, show } from './errors.js';
import { OpCode, native, type FamilyName, type NativeAbsent, type NativeOp, type NativeTable } from './native.js';
import { badChainName, checkTableName, interfaceProblem } from './names.js';
import { withNetnsFd, type NetnsOption } from './netns.js';
import { RuleSource, ruleWords, SPEC, type Counters, type DecodedRule, type RuleInput } from './rule.js';
import { splitWords, checkWordList, checkOptionsObject } from './words.js';
import { validateChains, type Validation } from './validate.js';
import { Arena, countersOf, describeRecords, encodeRecords, ruleOf, type RuleRecord } from './records.js';

export interface TableOptions {
  /** 'ipv4' (iptables, the default) or 'ipv6' (ip6tables). */
  family?: FamilyName;
  /** The network namespace: a Netns, an `ip netns` name, or a path. Default: the caller's own. */
  netns?: NetnsOption;
  /**
   * A table that does not exist in the kernel yet (tables appear on first
   * use): 'empty' (default) gives the snapshot the kernel would make, with
   * `exists` false, and creates nothing until a commit; 'error' throws
   * ERR_IPTC_ABSENT; 'create' makes the table now, as iptables-save does.
   */
  ifMissing?: 'empty' | 'error' | 'create';
}

/** The built-in chains the kernel gives each table. */
const BUILTINS: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** What a table that does not exist yet looks like once the kernel makes it. */
function pristine(name: string, family: FamilyName): NativeTable {
  const chains = BUILTINS[name];
  if (!chains) {
    throw new IptcError(`there is no table '${name}' in this namespace`, { code: 'ERR_IPTC_ABSENT', errno: 2, table: name });
  }
  return {
    chains: chains.map((c) => ({ name: c, builtin: true, policy: 'ACCEPT', packets: 0n, bytes: 0n, references: 0, ruleCount: 0 })),
    digest: 'absent',
    ip: Buffer.alloc(0),
    counters: new BigUint64Array(0),
    matchCounts: new Uint32Array(0),
    targetKinds: new Uint8Array(0),
    text: '',
  };
}

export interface CommitOptions {
  /** How long to wait for the xtables lock, in ms (default 10000; 0: do not wait; -1: forever). */
  lockTimeout?: number;
}

export interface Chain {
  name: string;
  builtin: boolean;
  /** Built-in chains only. */
  policy?: 'ACCEPT' | 'DROP';
  /** The policy's counters (built-in chains only). */
  counters?: Counters;
  /** How many rules jump or go to this chain. */
  references: number;
  /** Number of rules. */
  length: number;
}

interface ChainState {
  name: string;
  builtin: boolean;
  policy?: 'ACCEPT' | 'DROP';
  policyCounters?: Counters;
  /** setPolicy gave counters in this snapshot (libiptc then commits them as given). */
  policySet?: boolean;
  rules: RuleRecord[];
}

/** What each queued op was about, to name it when the kernel or libiptc refuses it. */
interface OpInfo {
  chain: string;
  position?: number;
  /** The rules the op adds or removes (their text is printed only for an error). */
  records?: RuleRecord[];
}

/**
 * A rule as iptables words after the chain name — one string
 * (`'-p tcp --dport 22 -j ACCEPT'`, split as iptables-restore splits it) or
 * a list of words — or as a rule object (what reading returns, or a RuleInput).
 */
export type RuleSpec = string | readonly string[] | RuleInput;

const DEFAULT_LOCK_TIMEOUT = 10_000;

function lockPath(): string {
  const p = process.env.XTABLES_LOCKFILE;
  return p ? p : '/run/xtables.lock';
}

export class Table {
  readonly name: string;
  readonly family: FamilyName;
  readonly #netns: NetnsOption;
  #digest: string;
  #chains: ChainState[] = [];
  #ops: NativeOp[] = [];
  #opInfo: OpInfo[] = [];
  #spent = false;
  #arena = new Arena();
  /** The run of appends still growing (the op it belongs to and its extent in the arena). */
  #run: { op: NativeOp & { 2: Buffer }; bytes: ArrayBufferLike; start: number; end: number } | null = null;
  /** Set by update(), which holds the xtables lock itself around read and commit. */
  #lockHeld = false;
  /** A copy made in memory (from text, see tableFromText): read and compare it, never commit it. */
  #detached = false;

  private constructor(name: string, family: FamilyName, netns: NetnsOption, t: NativeTable) {
    this.name = name;
    this.family = family;
    this.#netns = netns;
    this.#digest = t.digest;
    this.#load(t);
  }

  /** Reads one table (filter, nat, mangle, raw, security) with one kernel call, off the event loop. */
  static async open(name: string, options: TableOptions = {}): Promise<Table> {
    const { family, netns, ifMissing } = checkOptions(name, options);
    const t = await withNetnsFd(netns, (fd) => native.readTable(family, name, fd, true, ifMissing === 'create'));
    return new Table(name, family, netns, present(t, name, family, ifMissing));
  }

  /** Like open(), on the calling thread. */
  static openSync(name: string, options: TableOptions = {}): Table {
    const { family, netns, ifMissing } = checkOptions(name, options);
    const t = withNetnsFd(netns, (fd) => native.readTable(family, name, fd, false, ifMissing === 'create'));
    return new Table(name, family, netns, present(t, name, family, ifMissing));
  }

  /**
   * A snapshot that lives only in memory: a copy of `base` (or, without one,
   * the table as the kernel first makes it), which nothing can commit. What
   * iptables-restore text is compared as (see tableFromText).
   * @internal
   */
  static detached(name: string, family: FamilyName, base?: Table): Table {
    const t = new Table(name, family, undefined, pristine(name, family));
    t.#detached = true;
    if (base) {
      t.#digest = base.#digest;
      t.#chains = base.#chains.map((c) => ({
        ...c,
        policyCounters: c.policyCounters && { ...c.policyCounters },
        rules: c.rules.map((r) => ({ ...r, counters: r.counters && { ...r.counters } })),
      }));
    }
    return t;
  }

  /** False when the table did not exist in the kernel when this snapshot was read. */
  get exists(): boolean {
    return this.#digest !== 'absent';
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
  static async update(
    name: string,
    options: TableOptions & CommitOptions & { retries?: number },
    change: (table: Table) => void | Promise<void>,
  ): Promise<Table> {
    const { retries = 5, lockTimeout, ...open } = options;
    checkOptions(name, open);
    for (let attempt = 0; ; attempt++) {
      const lock = await acquireLock(checkTimeout(lockTimeout));
      try {
        const t = await Table.open(name, open);
        t.#lockHeld = true;
        await change(t);
        await t.commit();
        return t;
      } catch (e) {
        if (!(e instanceof IptcError) || e.code !== 'ERR_IPTC_CONFLICT' || attempt >= retries) throw e;
      } finally {
        native.lockRelease(lock);
      }
    }
  }

  static updateSync(
    name: string,
    options: TableOptions & CommitOptions & { retries?: number },
    change: (table: Table) => void,
  ): Table {
    const { retries = 5, lockTimeout, ...open } = options;
    checkOptions(name, open);
    for (let attempt = 0; ; attempt++) {
      const lock = native.lockAcquire(lockPath(), checkTimeout(lockTimeout), false);
      try {
        const t = Table.openSync(name, open);
        t.#lockHeld = true;
        change(t);
        t.commitSync();
        return t;
      } catch (e) {
        if (!(e instanceof IptcError) || e.code !== 'ERR_IPTC_CONFLICT' || attempt >= retries) throw e;
      } finally {
        native.lockRelease(lock);
      }
    }
  }

  #load(t: NativeTable): void {
    const src = new RuleSource(this.family, t);
    const names = new Set(t.chains.map((c) => c.name));
    let next = 0;
    this.#chains = t.chains.map((c) => {
      const rules: RuleRecord[] = new Array(c.ruleCount);
      for (let k = 0; k < c.ruleCount; k++, next++) {
        const r: RuleRecord = { spec: src.specs[next], src, at: next };
        const jump = src.jump(next);
        if (jump !== undefined && names.has(jump)) r.jumpsTo = jump;
        rules[k] = r;
      }
      const s: ChainState = { name: c.name, builtin: c.builtin, rules };
      if (c.builtin) {
        s.policy = c.policy as 'ACCEPT' | 'DROP';
        s.policyCounters = { packets: c.packets!, bytes: c.bytes! };
      }
      return s;
    });
  }

  // ---- reading ---------------------------------------------------------

  /** Every chain: built-ins first in hook order, then user chains. */
  chains(): Chain[] {
    return this.#chains.map((c) => this.#chainInfo(c));
  }

  chain(name: string): Chain | undefined {
    const c = this.#chains.find((x) => x.name === name);
    return c && this.#chainInfo(c);
  }

  /** The rules of a chain, in order (rule 1 first). */
  rules(chain: string): DecodedRule[] {
    const c = this.#need(chain);
    describeRecords(this.family, c.rules);
    return c.rules.map(ruleOf);
  }

  /** True while the snapshot has changes not yet committed. */
  get dirty(): boolean {
    return this.#ops.length > 0;
  }

  /** The table in iptables-save format (without the `#` comment lines). */
  save(options: { counters?: boolean } = {}): string {
    describeRecords(this.family, this.#chains.flatMap((c) => c.rules));
    const out: string[] = [`*${this.name}`];
    for (const c of this.#chains) {
      if (c.builtin) out.push(`:${c.name} ${c.policy} [${c.policyCounters!.packets}:${c.policyCounters!.bytes}]`);
      else out.push(`:${c.name} - [0:0]`);
    }
    for (const c of this.#chains) {
      for (const r of c.rules) {
        if (options.counters) {
          const k = countersOf(r);
          out.push(`[${k.packets}:${k.bytes}] -A ${c.name}${r.spec}`);
        } else out.push(`-A ${c.name}${r.spec}`);
      }
    }
    out.push('COMMIT', '');
    return out.join('\n');
  }

  #chainInfo(c: ChainState): Chain {
    let references = 0;
    for (const o of this.#chains) for (const r of o.rules) if (r.jumpsTo === c.name) references++;
    const info: Chain = { name: c.name, builtin: c.builtin, references, length: c.rules.length };
    if (c.builtin) {
      info.policy = c.policy!;
      info.counters = { ...c.policyCounters! };
    }
    return info;
  }

  #need(chain: string): ChainState {
    if (typeof chain !== 'string') throw argumentError(`chain must be a string, got ${typeof chain}`);
    const c = this.#chains.find((x) => x.name === chain);
    if (!c) throw argumentError(`no chain '${chain}' in table ${this.name}`, { table: this.name, chain });
    return c;
  }

  // ---- rules in --------------------------------------------------------

  /**
   * Turns a rule (iptables words after the chain, or a rule object) into
   * kernel entries through libxtables. Several when -s/-d list several addresses.
   */
  #encode(chain: string, rule: RuleSpec): RuleRecord[] {
    let words: string[];
    if (typeof rule === 'string') words = splitWords(rule);
    else if (Array.isArray(rule)) words = checkWordList(rule);
    else if (rule && typeof rule === 'object') {
      try {
        words = checkWordList(ruleWords(rule as RuleInput));
      } catch (e) {
        if (e instanceof IptcError) throw e;
        throw argumentError(`bad rule object for chain ${chain}: ${e instanceof Error ? e.message : String(e)}`, { table: this.name, chain });
      }
    }
    else throw argumentError(`a rule must be a string, a list of words or a rule object, got ${rule === null ? 'null' : typeof rule}`);
    let counters: Counters | undefined;
    const given = !Array.isArray(rule) && typeof rule === 'object' ? (rule as RuleInput).counters : undefined;
    if (given && (given.packets !== undefined || given.bytes !== undefined)) counters = checkCounters(given);
    const c = takeCounters(words);
    if (c) {
      words = c.words;
      counters = c.counters;
    }
    const names = new Set(this.#chains.map((x) => x.name));
    const out = encodeRecords(this.family, this.name, chain, words, names, this.#arena, counters);
    const problem = interfaceProblem(chain, out.hasIn, out.hasOut);
    if (problem) throw new IptcError(problem, { code: 'ERR_IPTC_PARSE', table: this.name, chain, rule: words.join(' ') });
    return out.records;
  }

  /** The spec of a rule given to -C/-D, to compare with the chain's. */
  #specsOf(chain: string, rule: RuleSpec): string[] {
    const records = this.#encode(chain, rule);
    describeRecords(this.family, records);
    return records.map((r) => r.spec!);
  }

  #fromKernel(): void {
    if (this.#detached) throw argumentError(`this ${this.name} snapshot was made in memory (from text): there is no kernel table to read it from`, { table: this.name });
  }

  #committable(): void {
    this.#mutable();
    if (this.#detached) {
      throw argumentError(`this ${this.name} snapshot was made in memory (from text) and cannot be committed; plan() and apply() it onto a snapshot read from the kernel`, {
        table: this.name,
      });
    }
  }

  #mutable(): void {
    if (this.#spent) {
      throw new IptcError('this snapshot was committed; open the table again (or call reload()) to change it further', {
        code: 'ERR_IPTC_SPENT',
        table: this.name,
      });
    }
  }

  #queue(op: NativeOp, info: OpInfo): void {
    this.#closeRun();
    this.#ops.push(op);
    this.#opInfo.push(info);
  }

  /** Gives the growing run of appends its Buffer: it grows no more. */
  #closeRun(): void {
    const run = this.#run;
    if (run) run.op[2] = Buffer.from(run.bytes, run.start, run.end - run.start);
    this.#run = null;
  }

  /** Appends become runs: consecutive appends to one chain are one op over one view of the arena. */
  #queueAppend(chain: string, r: RuleRecord, position: number): void {
    const last = this.#ops[this.#ops.length - 1];
    const run = this.#run;
    const e = r.entry!;
    if (run && last === run.op && last[1] === chain && e.buffer === run.bytes && e.byteOffset === run.end) {
      // Still back to back in one chunk: the run grows; its Buffer is made at commit.
      run.end += e.length;
      this.#opInfo[this.#opInfo.length - 1]!.records!.push(r);
      return;
    }
    const op: NativeOp & { 2: Buffer } = [OpCode.AppendAll, chain, e];
    this.#queue(op, { chain, position, records: [r] });
    this.#run = { op, bytes: e.buffer, start: e.byteOffset, end: e.byteOffset + e.length };
  }

  /** The ops to send. */
  #nativeOps(): NativeOp[] {
    this.#closeRun();
    return this.#ops;
  }

  // ---- mutations (iptables commands) -----------------------------------

  /** -A: appends a rule to the end of a chain. */
  append(chain: string, rule: RuleSpec): this {
    this.#mutable();
    const c = this.#need(chain);
    for (const r of this.#encode(chain, rule)) {
      c.rules.push(r);
      this.#queueAppend(chain, r, c.rules.length);
    }
    return this;
  }

  /** -I: inserts a rule at a 1-based position (default 1, the top). */
  insert(chain: string, rule: RuleSpec, position = 1): this {
    this.#mutable();
    const c = this.#need(chain);
    this.#checkPosition(c, position, c.rules.length + 1, 'insert');
    // As iptables does for several addresses: each at the same position.
    for (const r of this.#encode(chain, rule)) {
      c.rules.splice(position - 1, 0, r);
      this.#queue([OpCode.Insert, chain, r.entry!, position - 1], { chain, position, records: [r] });
    }
    return this;
  }

  /** -R: replaces the rule at a 1-based position. */
  replace(chain: string, position: number, rule: RuleSpec): this {
    this.#mutable();
    const c = this.#need(chain);
    this.#checkPosition(c, position, c.rules.length, 'replace');
    const records = this.#encode(chain, rule);
    if (records.length !== 1) {
      throw argumentError('a replacement rule must give a single source and destination address', { table: this.name, chain });
    }
    c.rules[position - 1] = records[0]!;
    this.#queue([OpCode.Replace, chain, records[0]!.entry!, position - 1], { chain, position, records });
    return this;
  }

  /** -D: deletes the rule at a 1-based position, or the first rule equal to the one given. */
  delete(chain: string, ruleOrPosition: number | RuleSpec): this {
    this.#mutable();
    const c = this.#need(chain);
    if (typeof ruleOrPosition === 'number') {
      this.#checkPosition(c, ruleOrPosition, c.rules.length, 'delete');
      this.#deleteAt(c, ruleOrPosition);
      return this;
    }
    const specs = this.#specsOf(chain, ruleOrPosition);
    // Check every part exists first, so a failed delete changes nothing.
    for (const spec of specs) {
      if (this.#find(c, spec) < 0) {
        throw argumentError(`no rule in chain ${chain} matches: -A ${chain}${spec}`, { table: this.name, chain, rule: spec.trim() });
      }
    }
    for (const spec of specs) this.#deleteAt(c, this.#find(c, spec) + 1);
    return this;
  }

  /** -C: whether the chain holds a rule equal to the one given. */
  check(chain: string, rule: RuleSpec): boolean {
    const c = this.#need(chain);
    return this.#specsOf(chain, rule).every((spec) => this.#find(c, spec) >= 0);
  }

  /** -F: removes every rule of one chain, or of every chain. */
  flush(chain?: string): this {
    this.#mutable();
    const targets = chain === undefined ? this.#chains : [this.#need(chain)];
    for (const c of targets) {
      c.rules = [];
      this.#queue([OpCode.Flush, c.name], { chain: c.name });
    }
    return this;
  }

  /** -N: creates an empty user chain. */
  createChain(name: string): this {
    this.#mutable();
    const bad = badChainName(name);
    if (bad) throw argumentError(bad, { table: this.name, chain: String(name) });
    if (this.#chains.some((c) => c.name === name)) throw argumentError(`chain '${name}' already exists`, { table: this.name, chain: name });
    if (this.#isTargetName(name)) throw argumentError(`chain name '${name}' may not clash with a target name`, { table: this.name, chain: name });
    this.#insertChainSorted({ name, builtin: false, rules: [] });
    this.#queue([OpCode.NewChain, name], { chain: name });
    return this;
  }

  /** -X: deletes an empty, unreferenced user chain; with no name, every user chain. */
  deleteChain(name?: string): this {
    this.#mutable();
    const targets = name === undefined ? this.#chains.filter((c) => !c.builtin) : [this.#need(name)];
    const going = new Set(targets.map((c) => c.name));
    for (const c of targets) {
      if (c.builtin) throw argumentError(`can't delete built-in chain ${c.name}`, { table: this.name, chain: c.name });
      if (c.rules.length > 0) {
        throw argumentError(`chain ${c.name} is not empty (flush it first)`, { table: this.name, chain: c.name });
      }
      for (const o of this.#chains) {
        if (going.has(o.name) && o.rules.length === 0) continue;
        const at = o.rules.findIndex((r) => r.jumpsTo === c.name);
        if (at >= 0) {
          throw argumentError(`chain ${c.name} is still referenced (rule ${at + 1} of ${o.name})`, {
            table: this.name,
            chain: c.name,
          });
        }
      }
    }
    for (const c of targets) {
      this.#chains.splice(this.#chains.indexOf(c), 1);
      this.#queue([OpCode.DeleteChain, c.name], { chain: c.name });
    }
    return this;
  }

  /** -E: renames a user chain; rules that jump to it follow. */
  renameChain(from: string, to: string): this {
    this.#mutable();
    const c = this.#need(from);
    if (c.builtin) throw argumentError(`can't rename built-in chain ${from}`, { table: this.name, chain: from });
    const bad = badChainName(to);
    if (bad) throw argumentError(bad, { table: this.name, chain: String(to) });
    if (this.#chains.some((x) => x.name === to)) throw argumentError(`chain '${to}' already exists`, { table: this.name, chain: to });
    if (this.#isTargetName(to)) throw argumentError(`chain name '${to}' may not clash with a target name`, { table: this.name, chain: to });
    this.#chains.splice(this.#chains.indexOf(c), 1);
    c.name = to;
    this.#insertChainSorted(c);
    for (const o of this.#chains) {
      for (const r of o.rules) {
        if (r.jumpsTo !== from) continue;
        r.jumpsTo = to;
        if (r.verdict !== undefined) r.verdict = to;
        delete r.rule;
        if (r.spec === undefined) continue; // printed later, under the new name
        const spec = r.spec.replace(/ -([jg]) \S+$/, ` -$1 ${to}`);
        const rule = renamed(ruleOf(r), to, spec);
        r.spec = spec;
        r.rule = rule;
      }
    }
    this.#queue([OpCode.Rename, from, to], { chain: from });
    return this;
  }

  /** -Z: zeroes the counters of every chain, one chain, or one rule (1-based). */
  zero(chain?: string, position?: number): this {
    this.#mutable();
    const zero = (): Counters => ({ packets: 0n, bytes: 0n });
    if (position !== undefined) {
      if (chain === undefined) throw argumentError('zeroing one rule needs its chain');
      const c = this.#need(chain);
      this.#checkPosition(c, position, c.rules.length, 'zero');
      const r = c.rules[position - 1]!;
      zeroRecord(r);
      this.#queue([OpCode.ZeroRule, chain, position - 1], { chain, position });
      return this;
    }
    for (const c of chain === undefined ? this.#chains : [this.#need(chain)]) {
      for (const r of c.rules) zeroRecord(r);
      // Likewise a policy whose counters this snapshot set keeps them.
      if (c.builtin && !c.policySet) c.policyCounters = zero();
      this.#queue([OpCode.ZeroChain, c.name], { chain: c.name });
    }
    return this;
  }

  /** -P: sets a built-in chain's policy (ACCEPT or DROP), optionally with its counters. */
  setPolicy(chain: string, target: 'ACCEPT' | 'DROP', counters?: Partial<Counters>): this {
    this.#mutable();
    const c = this.#need(chain);
    if (!c.builtin) throw argumentError(`only built-in chains have a policy; ${chain} is a user chain`, { table: this.name, chain });
    if (target !== 'ACCEPT' && target !== 'DROP') {
      throw argumentError(`bad policy ${show(target)}: must be ACCEPT or DROP`, { table: this.name, chain });
    }
    if (this.name === 'nat' && target === 'DROP') {
      throw argumentError('the nat table is not intended for filtering: DROP is not allowed as a policy there', { table: this.name, chain });
    }
    c.policy = target;
    let k: [bigint, bigint] | undefined;
    if (counters) {
      const v = checkCounters(counters);
      k = [v.packets, v.bytes];
      c.policyCounters = v;
      c.policySet = true;
    }
    this.#queue(k ? [OpCode.Policy, chain, target, k] : [OpCode.Policy, chain, target], { chain });
    return this;
  }

  // ---- commit ----------------------------------------------------------

  /**
   * Writes the whole table in one atomic kernel replace, holding the xtables
   * lock. Fails with ERR_IPTC_CONFLICT, committing nothing, when the table
   * changed in the kernel since this snapshot was read. After a commit the
   * snapshot is spent: open the table again (or reload()) to change it further.
   */
  async commit(options: CommitOptions = {}): Promise<void> {
    checkOptionsObject(options, 'commit options');
    this.#committable();
    const timeout = checkTimeout(options.lockTimeout);
    try {
      await withNetnsFd(this.#netns, (fd) =>
        native.commitTable(this.family, this.name, fd, this.#digest, this.#nativeOps(), this.#lockHeld ? '' : lockPath(), timeout, true),
      );
    } catch (e) {
      throw await this.#explain(e);
    }
    this.#spent = true;
  }

  commitSync(options: CommitOptions = {}): void {
    checkOptionsObject(options, 'commit options');
    this.#committable();
    const timeout = checkTimeout(options.lockTimeout);
    try {
      withNetnsFd(this.#netns, (fd) =>
        native.commitTable(this.family, this.name, fd, this.#digest, this.#nativeOps(), this.#lockHeld ? '' : lockPath(), timeout, false),
      );
    } catch (e) {
      throw this.#explainSync(e);
    }
    this.#spent = true;
  }

  /**
   * Checks the pending table with the kernel without touching the live one:
   * commits a copy into a fresh scratch network namespace and reports every
   * rule the kernel refuses (chain, position, rule, the kernel's errno).
   * Needs CAP_SYS_ADMIN (for the namespace).
   */
  async validate(): Promise<Validation> {
    describeRecords(this.family, this.#chains.flatMap((c) => c.rules));
    return validateChains(this.family, this.name, this.#chains);
  }

  /** Reads the table again into this object, dropping uncommitted changes. */
  async reload(): Promise<this> {
    this.#fromKernel();
    const t = await withNetnsFd(this.#netns, (fd) => native.readTable(this.family, this.name, fd, true, false));
    this.#reset(present(t, this.name, this.family, 'empty'));
    return this;
  }

  reloadSync(): this {
    this.#fromKernel();
    this.#reset(present(withNetnsFd(this.#netns, (fd) => native.readTable(this.family, this.name, fd, false, false)), this.name, this.family, 'empty'));
    return this;
  }

  #reset(t: NativeTable): void {
    this.#digest = t.digest;
    this.#ops = [];
    this.#run = null;
    this.#opInfo = [];
    this.#spent = false;
    this.#load(t);
  }

  #explainSync(e: unknown): unknown {
    if (!(e instanceof IptcError)) return e;
    e.table = this.name;
    if (e.index !== undefined) {
      const info = this.#opInfo[e.index];
      delete e.index;
      if (info) {
        // In a run of appends, the native side says which rule of the run.
        const r = info.records?.[e.item ?? 0];
        const position = info.position !== undefined ? info.position + (e.item ?? 0) : undefined;
        delete e.item;
        if (r) describeRecords(this.family, [r]);
        return withContext(e, describeOp(info.chain, position, r?.spec), { chain: info.chain, position, rule: r?.spec?.trim() });
      }
    }
    if (e.syscall?.endsWith('_commit')) {
      e.code = 'ERR_IPTC_COMMIT';
      e.message = `the kernel refused the new ${this.name} table (${e.message}); nothing was changed`;
    }
    return e;
  }

  async #explain(e: unknown): Promise<unknown> {
    const out = this.#explainSync(e);
    if (out instanceof IptcError && out.code === 'ERR_IPTC_COMMIT') {
      let culprit;
      try {
        culprit = (await this.validate()).problems[0];
      } catch {
        // no scratch namespace to be had (no CAP_SYS_ADMIN): the message stands without a rule
      }
      if (culprit && culprit.position > 0) {
        out.chain = culprit.chain;
        out.position = culprit.position;
        out.rule = culprit.rule;
        out.message += `: rule ${culprit.position} of chain ${culprit.chain} is the one refused: -A ${culprit.chain} ${culprit.rule}`;
      }
    }
    return out;
  }

  // ---- helpers ---------------------------------------------------------

  #checkPosition(c: ChainState, position: number, max: number, what: string): void {
    if (!Number.isInteger(position) || position < 1 || position > max) {
      throw argumentError(
        `cannot ${what} at position ${position} in chain ${c.name}: positions are 1-based and ${
          max === 0 ? 'the chain is empty' : `must be between 1 and ${max}`
        }`,
        { table: this.name, chain: c.name, position: typeof position === 'number' ? position : undefined },
      );
    }
  }

  #find(c: ChainState, spec: string): number {
    describeRecords(this.family, c.rules);
    return c.rules.findIndex((r) => r.spec === spec);
  }

  #deleteAt(c: ChainState, position: number): void {
    const [r] = c.rules.splice(position - 1, 1);
    this.#queue([OpCode.Delete, c.name, position - 1], { chain: c.name, position, records: [r!] });
  }

  #insertChainSorted(c: ChainState): void {
    // libiptc keeps user chains in name order; mirror it so save() matches the kernel after commit.
    const at = this.#chains.findIndex((x) => !x.builtin && x.name > c.name);
    if (at < 0) this.#chains.push(c);
    else this.#chains.splice(at, 0, c);
  }

  #isTargetName(name: string): boolean {
    if (['ACCEPT', 'DROP', 'QUEUE', 'RETURN'].includes(name)) return true;
    try {
      native.encodeRule(this.family, this.name, ['-j', name], false);
      return true;
    } catch {
      return false;
    }
  }
}

function describeOp(chain: string, position: number | undefined, spec: string | undefined): string {
  const where = position !== undefined ? `rule ${position} of chain ${chain}` : `chain ${chain}`;
  return spec ? `${where} (-A ${chain}${spec})` : where;
}

function renamed(rule: DecodedRule, to: string, spec: string): DecodedRule {
  const copy = { ...rule, target: rule.target ? { ...rule.target, name: to } : null };
  Object.defineProperty(copy, SPEC, { value: spec, enumerable: false });
  return copy as DecodedRule;
}

/** Takes `-c PKTS BYTES` (or `--set-counters`, or `-c PKTS,BYTES`) out of rule words, as iptables reads it. */
function takeCounters(words: string[]): { words: string[]; counters: Counters } | undefined {
  const i = words.findIndex((w) => w === '-c' || w === '--set-counters');
  if (i < 0) return undefined;
  let p = words[i + 1];
  let b: string | undefined;
  let n = 2;
  if (p?.includes(',')) [p, b] = p.split(',', 2);
  else {
    b = words[i + 2];
    n = 3;
  }
  if (p === undefined || b === undefined || !/^[0-9]+$/.test(p) || !/^[0-9]+$/.test(b) || BigInt(p) >= 2n ** 64n || BigInt(b) >= 2n ** 64n) {
    throw new IptcError('-c needs packet and byte counters (-c PACKETS BYTES)', { code: 'ERR_IPTC_PARSE' });
  }
  return { words: [...words.slice(0, i), ...words.slice(i + n)], counters: { packets: BigInt(p), bytes: BigInt(b) } };
}

/**
 * -Z on one rule, as libiptc does it: counters read from the kernel restart
 * at zero; a rule added in this snapshot keeps the counters it was given
 * (-c, or a rule object's counters), since libiptc commits those as set.
 */
function zeroRecord(r: RuleRecord): void {
  if (r.entry) return;
  r.counters = { packets: 0n, bytes: 0n };
  if (r.rule) r.rule.counters = { packets: 0n, bytes: 0n };
}

function checkCounters(c: Partial<Counters>): Counters {
  if (c === null || typeof c !== 'object') throw argumentError(`counters must be { packets, bytes }, got ${c === null ? 'null' : typeof c}`);
  const v = (x: unknown, what: string): bigint => {
    let n: bigint;
    try {
      n = BigInt(x as bigint);
    } catch {
      throw argumentError(`rule counters: ${what} must be a whole number, got ${String(x)}`);
    }
    if (n < 0n || n >= 2n ** 64n) throw argumentError(`rule counters: ${what} out of range: ${n}`);
    return n;
  };
  return { packets: v(c.packets ?? 0, 'packets'), bytes: v(c.bytes ?? 0, 'bytes') };
}

function present(t: NativeTable | NativeAbsent, name: string, family: FamilyName, ifMissing: string): NativeTable {
  if (!('absent' in t)) return t;
  if (ifMissing === 'error') {
    throw new IptcError(`there is no ${family === 'ipv4' ? 'iptables' : 'ip6tables'} table '${name}' in this namespace (yet)`, {
      code: 'ERR_IPTC_ABSENT',
      errno: 2,
      table: name,
    });
  }
  return pristine(name, family);
}

function checkOptions(name: string, options: TableOptions): { family: FamilyName; netns: NetnsOption; ifMissing: 'empty' | 'error' | 'create' } {
  checkTableName(name);
  checkOptionsObject(options, 'options');
  const known = new Set(['family', 'netns', 'ifMissing']);
  for (const k of Object.keys(options)) if (!known.has(k)) throw argumentError(`unknown option '${k}' (expected family, netns, ifMissing)`);
  const family = options.family ?? 'ipv4';
  if (family !== 'ipv4' && family !== 'ipv6') throw argumentError(`family must be 'ipv4' or 'ipv6', got ${show(family)}`);
  const ifMissing = options.ifMissing ?? 'empty';
  if (!['empty', 'error', 'create'].includes(ifMissing)) throw argumentError(`ifMissing must be 'empty', 'error' or 'create', got ${show(ifMissing)}`);
  return { family, netns: options.netns, ifMissing };
}

/**
 * The xtables lock for update(), waited for on timers, not in a pool thread:
 * a thread blocked on the lock could starve the very read and commit the
 * holder needs to finish (libuv has four).
 */
async function acquireLock(timeoutMs: number): Promise<number> {
  const path = lockPath();
  const deadline = Date.now() + (timeoutMs < 0 ? 0 : timeoutMs);
  for (let pause = 1; ; pause = Math.min(pause * 2, 20)) {
    const fd = native.lockTry(path);
    if (fd >= 0) return fd;
    if (timeoutMs >= 0 && Date.now() >= deadline) {
      throw new IptcError(`another process holds the xtables lock ${path} (waited ${timeoutMs} ms; raise lockTimeout to wait longer)`, {
        code: 'ERR_IPTC_LOCK_TIMEOUT',
        errno: 11,
        syscall: 'flock',
      });
    }
    await new Promise((r) => setTimeout(r, pause));
  }
}

function checkTimeout(t: number | undefined): number {
  if (t === undefined) return DEFAULT_LOCK_TIMEOUT;
  if (typeof t !== 'number') throw argumentError(`lockTimeout must be a number of ms, got ${typeof t}`);
  if (!Number.isInteger(t) || t < -1 || t > 2 ** 31 - 1) throw argumentError(`lockTimeout must be an integer number of ms (-1 for forever), got ${t}`);
  return t;
}

