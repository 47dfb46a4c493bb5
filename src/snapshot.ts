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
import { CounterMode, refOf, RuleStore } from './store.js';

export type Policy = 'ACCEPT' | 'DROP';

/** The built-in chains the kernel gives each table, and their hooks. */
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

/** One chain. Rules stay a range of the table as read until the chain is changed. */
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
  #refs: number[] | null = null;
  readonly #first: number;
  readonly #count: number;

  constructor(id: number, name: string, hook: number, first = 0, count = 0) {
    this.id = id;
    this.name = name;
    this.hook = hook;
    this.#first = first;
    this.#count = count;
  }

  get builtin(): boolean {
    return this.hook >= 0;
  }

  get length(): number {
    return this.#refs ? this.#refs.length : this.#count;
  }

  /** The rules, to change them (made a list on first use). */
  get refs(): number[] {
    if (!this.#refs) this.#refs = Array.from({ length: this.#count }, (_, k) => refOf(0, this.#first + k));
    return this.#refs;
  }

  set refs(r: number[]) {
    this.#refs = r;
  }

  /** Rule `k` (0-based). */
  at(k: number): number {
    return this.#refs ? this.#refs[k]! : refOf(0, this.#first + k);
  }

  copy(): ChainState {
    const c = new ChainState(this.id, this.name, this.hook, this.#first, this.#count);
    c.policy = this.policy;
    c.policyCounters = this.policyCounters && { ...this.policyCounters };
    c.policyMode = this.policyMode;
    c.oldFoot = this.oldFoot;
    if (this.#refs) c.#refs = [...this.#refs];
    return c;
  }
}

/** libiptc keeps user chains sorted by strcmp (bytes), and so iptables-save prints them. */
function byName(a: ChainState, b: ChainState): number {
  return Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
}

export class Snapshot {
  readonly store: RuleStore;
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
    return new Snapshot(this.store.fork(), this.#chains.map((c) => c.copy()), this.#nextId);
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
      for (let k = 0; k < c.length; k++) {
        const j = this.store.jumpOf(c.at(k));
        if (j >= 0) n.set(j, (n.get(j) ?? 0) + 1);
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
    c.refs.splice(at, 0, ...refs);
  }

  append(c: ChainState, refs: readonly number[]): void {
    const r = c.refs;
    for (const x of refs) r.push(x);
  }

  replace(c: ChainState, at: number, ref: number): void {
    c.refs[at] = ref;
  }

  remove(c: ChainState, at: number): void {
    c.refs.splice(at, 1);
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
    for (let k = 0; k < c.length; k++) this.store.zero(c.at(k));
    // A policy read from the kernel counts from zero again; one set in this snapshot keeps what was set.
    if (c.builtin && c.policyMode === CounterMode.Kept) {
      c.policyMode = c.oldFoot >= 0 ? CounterMode.SinceRead : CounterMode.Zero;
      c.policyCounters = { packets: 0n, bytes: 0n };
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
   * just those (with no chain counting them).
   */
  plan(only?: readonly ChainState[] | readonly number[]): NativePlan {
    const chains = this.#chains;
    const index = new Map(chains.map((c, i) => [c.id, i]));
    const chainIndex = (id: number) => index.get(id) ?? -1;
    const refs = only !== undefined && typeof only[0] === 'number' ? (only as readonly number[]) : undefined;
    const take = refs ? [] : ((only as readonly ChainState[] | undefined) ?? chains);
    let n = refs ? refs.length : 0;
    for (const c of take) n += c.length;
    const rules = new Uint32Array(4 * n);
    const jumps = new Int32Array(n);
    let k = 0;
    if (refs) for (const r of refs) this.store.writeRule(r, k++, rules, jumps, chainIndex);
    for (const c of take) for (let i = 0; i < c.length; i++) this.store.writeRule(c.at(i), k++, rules, jumps, chainIndex);
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
    const plan: NativePlan = { pools: this.store.poolBuffers(), chains: planChains, rules, jumps };
    const pending = this.store.pendingBatch();
    if (pending) plan.pending = pending;
    return plan;
  }
}
