/**
 * The chains of a snapshot and what the iptables commands do to them, in
 * memory: rules are references into a RuleStore, chains have stable ids (a
 * jump names the chain by id, so renaming a chain renames every jump to it),
 * and the order is libiptc's: built-in chains by hook, then user chains by
 * name. Arguments are checked by Table before anything here runs.
 * Backend-free: a snapshot becomes a NativePlan to print or to commit.
 */
import type { FamilyName, NativePlan, NativePlanChain, NativeTable } from './native.js';
import type { Counters } from './rule.js';
import { CounterMode, indexOf, poolOf, refOf, RuleStore } from './store.js';

/**
 * A built-in chain's policy (the one declaration: chains(), setPolicy, diff and watch all use it).
 * @example
 * ```ts
 * import { Table, type Policy } from 'iptc-node';
 * const policy: Policy = process.env.CLOSED ? 'DROP' : 'ACCEPT';
 * Table.updateSync('filter', {}, (t) => t.setPolicy('FORWARD', policy));
 * ```
 */
export type Policy = 'ACCEPT' | 'DROP';

/** The built-in chains the kernel gives each table, and their hooks. @internal */
export const BUILTINS: Record<string, readonly string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};
const HOOKS = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

// The standard target's verdicts (libiptc's).
const VERDICT = { ACCEPT: -2, DROP: -1 } as const;
const POLICY: Record<number, Policy> = { [-2]: 'ACCEPT', [-1]: 'DROP' };

/** Rules as runs of consecutive references: [pool, first index, count]. @internal */
export type Run = [pool: number, from: number, count: number];

/** References as runs of consecutive ones. @internal */
export function runsOf(refs: readonly number[]): Run[] {
  const out: Run[] = [];
  for (let i = 0; i < refs.length; ) {
    const first = refs[i]!;
    let j = i + 1;
    while (j < refs.length && refs[j] === first + (j - i) && poolOf(refs[j]!) === poolOf(first)) j++;
    out.push([poolOf(first), indexOf(first), j - i]);
    i = j;
  }
  return out;
}

/** Past this many runs a chain keeps its rules as a list of references instead. */
const MAX_RUNS = 64;

/**
 * One chain. Its rules are kept as a few runs of consecutive references
 * while they are (a chain as read is one run of the table's pool; a restore
 * appends one run per block of -A lines), so that reading, restoring and
 * committing whole tables does no work per rule in JavaScript; positional
 * edits turn them into a list.
 * @internal
 */
export class ChainState {
  readonly id: number;
  name: string;
  /** Hook number for a built-in chain, -1 for a user chain. */
  readonly hook: number;
  policy?: Policy;
  policyCounters?: Counters;
  policyMode: CounterMode = CounterMode.Zero;
  /** The policy's entry index in the table as read (-1: none; -2: take the kernel's at commit). */
  oldFoot = -1;
  /** A user chain's name when the table was read (a rename keeps it; nf_tables renames in place). */
  readName: string | undefined;
  #runs: Run[] | null;
  #refs: number[] | null = null;
  #length: number;

  constructor(id: number, name: string, hook: number, first = 0, count = 0) {
    this.id = id;
    this.name = name;
    this.hook = hook;
    this.#runs = count ? [[0, first, count]] : [];
    this.#length = count;
  }

  get builtin(): boolean {
    return this.hook >= 0;
  }

  /** The policy's counters as the snapshot shows them (zeroed, or to be zeroed by the commit, as zero). */
  get shownCounters(): Counters | undefined {
    if (!this.builtin) return undefined;
    return this.policyMode === CounterMode.SinceRead || this.policyMode === CounterMode.Zero ? { packets: 0n, bytes: 0n } : this.policyCounters;
  }

  get length(): number {
    return this.#refs ? this.#refs.length : this.#length;
  }

  /** The rules, to change them by position (made a list on first use). */
  get refs(): number[] {
    if (!this.#refs) {
      const refs: number[] = new Array(this.#length);
      let k = 0;
      for (const [pool, from, count] of this.#runs!) for (let i = 0; i < count; i++) refs[k++] = refOf(pool, from + i);
      this.#refs = refs;
      this.#runs = null;
    }
    return this.#refs;
  }

  set refs(r: number[]) {
    this.#refs = r;
    this.#runs = null;
  }

  /** The rules as runs of consecutive references, in order. */
  runs(): Run[] {
    return this.#runs ?? runsOf(this.#refs!);
  }

  /** Appends `count` consecutive references of `pool` from `from`. */
  appendRun(pool: number, from: number, count: number): void {
    if (count === 0) return;
    if (this.#refs) {
      for (let i = 0; i < count; i++) this.#refs.push(refOf(pool, from + i));
      return;
    }
    const runs = this.#runs!;
    const last = runs[runs.length - 1];
    if (last && last[0] === pool && last[1] + last[2] === from) last[2] += count;
    else runs.push([pool, from, count]);
    this.#length += count;
    if (runs.length > MAX_RUNS) void this.refs;
  }

  /**
   * Removes `remove` rules at `at` (0-based) and puts `refs` there, on the
   * runs while there are few of them: one rule added or deleted by position
   * in a long chain does no work per rule.
   */
  splice(at: number, remove: number, refs: readonly number[]): void {
    if (this.#refs) {
      this.#refs.splice(at, remove, ...refs);
      return;
    }
    const out: Run[] = [];
    const put = (pool: number, from: number, count: number) => {
      if (count <= 0) return;
      const last = out[out.length - 1];
      if (last && last[0] === pool && last[1] + last[2] === from) last[2] += count;
      else out.push([pool, from, count]);
    };
    let inserted = false;
    const insert = () => {
      for (const r of refs) put(poolOf(r), indexOf(r), 1);
      inserted = true;
    };
    let k = 0; // the position of the run's first rule
    for (const [pool, from, count] of this.#runs!) {
      const before = Math.min(count, Math.max(0, at - k));
      put(pool, from, before);
      if (!inserted && at <= k + count) insert();
      const rest = Math.max(before, Math.min(count, at + remove - k));
      put(pool, from + rest, count - rest);
      k += count;
    }
    if (!inserted) insert();
    this.#runs = out;
    this.#length += refs.length - remove;
    if (out.length > MAX_RUNS) void this.refs;
  }

  /** Rule `k` (0-based). */
  at(k: number): number {
    if (this.#refs) return this.#refs[k]!;
    for (const [pool, from, count] of this.#runs!) {
      if (k < count) return refOf(pool, from + k);
      k -= count;
    }
    return -1;
  }

  copy(): ChainState {
    const c = new ChainState(this.id, this.name, this.hook);
    c.policy = this.policy;
    c.policyCounters = this.policyCounters && { ...this.policyCounters };
    c.policyMode = this.policyMode;
    c.oldFoot = this.oldFoot;
    c.readName = this.readName;
    if (this.#refs) c.refs = [...this.#refs];
    else {
      c.#runs = this.#runs!.map((r) => [...r] as Run);
      c.#length = this.#length;
    }
    return c;
  }
}

/** libiptc keeps user chains sorted by strcmp (bytes), and so iptables-save prints them. */
function byName(a: ChainState, b: ChainState): number {
  return Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
}

/** @internal */
export class Snapshot {
  readonly store: RuleStore;
  /** -X with no chain ran (what iptables-nft takes to drop idle base chains). */
  dropIdleBaseChains = false;
  /** Built-in chains a command named (nf_tables: made at commit if absent). */
  wantBaseChains = new Set<string>();
  #chains: ChainState[];
  #nextId: number;

  private constructor(store: RuleStore, chains: ChainState[], nextId: number) {
    this.store = store;
    this.#chains = chains;
    this.#nextId = nextId;
  }

  /** The table as read from the kernel. */
  static fromRead(family: FamilyName, table: string, t: NativeTable): Snapshot {
    const store = new RuleStore(family, table);
    store.setBase(t.blob, t.offsets, t.jumps, t.entryIndex);
    const chains = t.chains.map(([name, hook, policy, packets, bytes, footIndex, first, count], id) => {
      const c = new ChainState(id, name, hook, first, count);
      if (hook < 0) c.readName = name;
      if (hook >= 0) {
        c.policy = POLICY[policy] ?? 'ACCEPT';
        c.policyCounters = { packets, bytes };
        c.policyMode = CounterMode.Kept;
        c.oldFoot = footIndex;
      }
      return c;
    });
    const builtin = chains.filter((c) => c.builtin).sort((a, b) => a.hook - b.hook);
    return new Snapshot(store, [...builtin, ...chains.filter((c) => !c.builtin).sort(byName)], chains.length);
  }

  /**
   * The table as the kernel first makes it: built-in chains with policy
   * ACCEPT. `policyFromKernel`: a commit takes each policy the snapshot does
   * not set from the kernel's table as it is then (a restore that does not
   * list every built-in chain).
   */
  static pristine(family: FamilyName, table: string, policyFromKernel = false): Snapshot {
    const chains = (BUILTINS[table] ?? []).map((name, id) => {
      const c = new ChainState(id, name, HOOKS.indexOf(name));
      c.policy = 'ACCEPT';
      c.policyCounters = { packets: 0n, bytes: 0n };
      c.policyMode = policyFromKernel ? CounterMode.Kept : CounterMode.Zero;
      c.oldFoot = policyFromKernel ? -2 : -1;
      return c;
    });
    return new Snapshot(new RuleStore(family, table), chains, chains.length);
  }

  /** A copy that can change without changing this one. */
  copy(): Snapshot {
    const s = new Snapshot(this.store.copy(), this.#chains.map((c) => c.copy()), this.#nextId);
    s.dropIdleBaseChains = this.dropIdleBaseChains;
    s.wantBaseChains = new Set(this.wantBaseChains);
    return s;
  }

  // ---- reading ---------------------------------------------------------------

  /** Built-in chains by hook, then user chains by name. */
  get chains(): readonly ChainState[] {
    return this.#chains;
  }

  find(name: string): ChainState | undefined {
    return this.#chains.find((c) => c.name === name);
  }

  byId(id: number): ChainState | undefined {
    return this.#chains.find((c) => c.id === id);
  }

  /** How many rules jump or go to each chain, by chain id. */
  references(): Map<number, number> {
    const n = new Map<number, number>();
    for (const c of this.#chains) {
      for (const [pool, from, count] of c.runs()) {
        const jumps = this.store.jumpsOf(pool);
        for (let i = from; i < from + count; i++) {
          const j = jumps[i]!;
          if (j >= 0) n.set(j, (n.get(j) ?? 0) + 1);
        }
      }
    }
    return n;
  }

  /** The first rule (chain, 0-based position) that jumps or goes to chain `id`, if any. */
  firstReference(id: number, skip: (c: ChainState) => boolean): [ChainState, number] | undefined {
    for (const c of this.#chains) {
      if (skip(c)) continue;
      for (let k = 0; k < c.length; k++) if (this.store.jumpOf(c.at(k)) === id) return [c, k];
    }
    return undefined;
  }

  // ---- the commands ------------------------------------------------------------

  insert(c: ChainState, at: number, refs: readonly number[]): void {
    c.splice(at, 0, refs);
  }

  append(c: ChainState, refs: readonly number[]): void {
    for (let i = 0; i < refs.length; i++) c.appendRun(poolOf(refs[i]!), indexOf(refs[i]!), 1);
  }

  /** Appends a run of consecutive references (a block of restored rules). */
  appendRun(c: ChainState, pool: number, from: number, count: number): void {
    c.appendRun(pool, from, count);
  }

  replace(c: ChainState, at: number, ref: number): void {
    c.splice(at, 1, [ref]);
  }

  remove(c: ChainState, at: number): void {
    c.splice(at, 1, []);
  }

  flush(c: ChainState): void {
    c.refs = [];
  }

  createChain(name: string): ChainState {
    const c = new ChainState(this.#nextId++, name, -1);
    this.#chains.push(c);
    this.#sort();
    return c;
  }

  deleteChain(c: ChainState): void {
    this.#chains.splice(this.#chains.indexOf(c), 1);
  }

  renameChain(c: ChainState, to: string): void {
    c.name = to;
    this.#sort();
    this.store.forgetSpecs();
  }

  /** -Z on a chain's rules and policy. */
  zero(c: ChainState): void {
    for (const [pool, from, count] of c.runs()) for (let i = from; i < from + count; i++) this.store.zero(refOf(pool, i));
    // A policy read from the kernel counts from zero again; one set in this snapshot keeps what was set.
    // (The counters read stay: the commit subtracts them from the kernel's.)
    if (c.builtin && c.policyMode === CounterMode.Kept) {
      if (c.oldFoot >= 0) c.policyMode = CounterMode.SinceRead;
      else {
        c.policyMode = CounterMode.Zero;
        c.policyCounters = { packets: 0n, bytes: 0n };
      }
    }
  }

  /** -P, as libiptc does it: with counters they are set, without them the policy's counters restart. */
  setPolicy(c: ChainState, policy: Policy, counters?: Counters): void {
    c.policy = policy;
    if (c.oldFoot === -2) c.oldFoot = -1; // the snapshot's policy now, not the kernel's
    if (counters) {
      c.policyCounters = { ...counters };
      c.policyMode = CounterMode.Set;
    } else c.policyMode = CounterMode.Zero;
  }

  #sort(): void {
    const builtin = this.#chains.filter((c) => c.builtin);
    this.#chains = [...builtin, ...this.#chains.filter((c) => !c.builtin).sort(byName)];
  }

  // ---- to the addon ----------------------------------------------------------

  /**
   * The snapshot as the addon takes it: every chain, and the rules of
   * `only` (default: every chain) in chain order; or, given a list of rules,
   * just those (with no chain counting them). O(chains + runs): no work per rule.
   */
  plan(only?: readonly ChainState[] | readonly number[]): NativePlan {
    const chains = this.#chains;
    const chainIndex = new Int32Array(this.#nextId).fill(-1);
    chains.forEach((c, i) => (chainIndex[c.id] = i));
    const refs = only !== undefined && typeof only[0] === 'number' ? (only as readonly number[]) : undefined;
    const take = refs ? [] : ((only as readonly ChainState[] | undefined) ?? chains);
    const runs: number[] = [];
    if (refs) for (const r of runsOf(refs)) runs.push(...r);
    for (const c of take) for (const r of c.runs()) runs.push(...r);
    const counted = new Set(take);
    const planChains = chains.map((c): NativePlanChain => [
      c.name,
      c.hook,
      c.policy ? VERDICT[c.policy] : 0,
      c.policyMode,
      c.policyCounters?.packets ?? 0n,
      c.policyCounters?.bytes ?? 0n,
      c.oldFoot,
      counted.has(c) ? c.length : 0,
    ]);
    const plan: NativePlan = { pools: this.store.planPools(), chains: planChains, runs: Uint32Array.from(runs), chainIndex };
    const zeroed = this.store.zeroedList();
    if (zeroed) plan.zeroed = zeroed;
    if (this.dropIdleBaseChains) plan.dropIdleBaseChains = true;
    if (this.wantBaseChains.size) plan.wantBaseChains = [...this.wantBaseChains];
    const renamed = chains.filter((c) => c.readName !== undefined && c.readName !== c.name);
    if (renamed.length) plan.renames = renamed.map((c) => [c.readName!, c.name]);
    const pending = this.store.pendingBatch();
    if (pending) plan.pending = pending;
    return plan;
  }
}
