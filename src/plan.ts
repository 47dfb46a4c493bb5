/**
 * plan() and apply(): turn a snapshot into a desired ruleset with the
 * fewest edits, so that one commit makes the kernel table equal to it while
 * every rule that stays keeps its counters. Nothing is flushed and reloaded:
 * only removed rules are deleted and only new ones inserted; rules that
 * changed places are moved (deleted and inserted again with their counters);
 * chains are created, renamed and deleted, policies set.
 *
 * A plan is a list of iptables command lines applied to the snapshot it was
 * made from, in order. Its text form is `iptables-restore --noflush` input.
 */
import { applyCommand } from './commands.js';
import { compareViews, desiredTable, keptRules, renamedTexts, sameKind, viewOf, type CompareOptions, type TableDiff, type View, type ViewRule } from './diff.js';
import { IptcError } from './errors.js';
import { checkOptionsObject } from './words.js';
import type { Counters } from './rule.js';
import type { CommitOptions, Table } from './table.js';

export interface Plan {
  /** The snapshot the steps change (the `current` given to plan()). */
  readonly table: Table;
  readonly diff: TableDiff;
  /** iptables command lines (`-D INPUT -p tcp -m tcp --dport 22 -j ACCEPT`, `-I INPUT 2 -p tcp ...`, `-N X`, `-P INPUT DROP`), in order; deletes name the rule, never a position. */
  readonly steps: readonly string[];
}

export interface ApplyOptions extends CommitOptions {
  /** false: only change the snapshot; the caller commits it. Default true. */
  commit?: boolean;
}

/** What each plan should yield, to check the snapshot against before committing. */
const desiredOf = new WeakMap<Plan, View>();
const applied = new WeakSet<Plan>();

/**
 * The steps that turn `current` into `desired`: a snapshot of the same
 * table, or iptables-restore text, read as iptables-restore (`-n` with
 * `noflush`) would apply it to `current`. So a built-in chain's policy
 * changes only where the text has its `:CHAIN POLICY` line.
 * @example
 * ```ts
 * import { Table, plan, apply, formatPlan } from 'iptc-node';
 * import { readFileSync } from 'node:fs';
 * const p = await plan(await Table.open('filter'), readFileSync('/etc/iptables/rules.v4', 'utf8'));
 * console.log(formatPlan(p));
 * await apply(p);
 * ```
 */
export async function plan(current: Table, desired: Table | string, options: CompareOptions = {}): Promise<Plan> {
  return planSync(current, desired, options);
}

/**
 * plan() on the calling thread.
 * @example
 * ```ts
 * import { Table, planSync, applySync } from 'iptc-node';
 * applySync(planSync(Table.openSync('filter'), '*filter\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n', { noflush: true }));
 * ```
 */
export function planSync(current: Table, desired: Table | string, options: CompareOptions = {}): Plan {
  const a = viewOf(current);
  const b = viewOf(sameKind(current, desiredTable(current, desired, options)));
  const d = compareViews(a, b);
  const p: Plan = Object.freeze({ table: current, diff: d, steps: Object.freeze(stepsFor(d, a, b)) });
  desiredOf.set(p, b);
  return p;
}

const join = (...words: string[]) => words.filter((w) => w !== '').join(' ');
const countersWords = (c: Counters | undefined) => (c && (c.packets || c.bytes) ? `-c ${c.packets} ${c.bytes}` : '');

/**
 * Order matters only within the snapshot (the kernel sees the end result):
 * chains exist before rules jump to them, and are deleted only after the
 * rules that jump to them are gone. Rules are deleted by their text, never
 * by position, so a plan replayed later cannot delete a rule it did not
 * mean; then the new and moved rules are inserted in their new order, which
 * keeps every position valid.
 */
function stepsFor(d: TableDiff, a: View, b: View): string[] {
  const steps: string[] = [];
  const old = new Map(a.chains.map((c) => [c.name, c]));
  const renames = new Map(d.chainsRenamed.map((r) => [r.from, r.to]));
  const oldName = new Map(d.chainsRenamed.map((r) => [r.to, r.from]));
  for (const r of d.chainsRenamed) steps.push(`-E ${r.from} ${r.to}`);
  for (const c of d.chainsAdded) steps.push(`-N ${c}`);
  for (const p of d.policies) steps.push(`-P ${p.chain} ${p.to}`);
  const changed = new Set(d.rules.map((c) => c.chain));
  for (const cb of b.chains) {
    if (!changed.has(cb.name)) continue;
    const ra = old.get(oldName.get(cb.name) ?? cb.name)?.rules ?? [];
    steps.push(...chainSteps(cb.name, ra, renamedTexts(ra, renames), cb.rules));
  }
  for (const c of d.chainsRemoved) if (old.get(c)!.rules.length) steps.push(`-F ${c}`);
  for (const c of d.chainsRemoved) steps.push(`-X ${c}`);
  return steps;
}

/**
 * One chain's deletes and inserts. `-D CHAIN rule` deletes the first rule
 * equal to it, so where a text occurs more than once the copies that go
 * must be its first ones; where the common subsequence kept an earlier copy
 * and dropped a later one, every copy of that text goes and the kept ones
 * come back at their places with their counters (a few more steps, the
 * same table).
 */
function chainSteps(chain: string, ra: readonly ViewRule[], ta: readonly string[], rb: readonly ViewRule[]): string[] {
  const tb = rb.map((r) => r.text);
  const { keepA, keepB } = keptRules(ta, tb);
  const copies = new Map<string, number[]>();
  ta.forEach((t, i) => (copies.get(t) ?? copies.set(t, []).get(t)!).push(i));
  for (const [t, at] of copies) {
    const going = at.filter((i) => !keepA[i]).length;
    if (going === 0 || at.slice(0, going).every((i) => !keepA[i])) continue;
    for (const i of at) keepA[i] = 0;
    tb.forEach((x, j) => x === t && (keepB[j] = 0));
  }
  const steps: string[] = [];
  const carried = new Map<string, Counters[]>(); // text -> counters of its copies deleted, in order
  ta.forEach((t, i) => {
    if (keepA[i]) return;
    steps.push(join('-D', chain, t));
    (carried.get(t) ?? carried.set(t, []).get(t)!).push(ra[i]!.counters);
  });
  let length = ta.length - steps.length;
  tb.forEach((t, j) => {
    if (keepB[j]) return;
    // A rule that moves takes its counters along (those counted between reading and committing are lost).
    const c = countersWords(carried.get(t)?.shift());
    steps.push(j === length ? join('-A', chain, c, t) : join('-I', chain, String(j + 1), c, t));
    length++;
  });
  return steps;
}

/**
 * The plan as `iptables-restore --noflush` input: `*table`, the steps, `COMMIT`.
 * @example
 * ```ts
 * import { Table, plan, formatPlan } from 'iptc-node';
 * const text = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n';
 * process.stdout.write(formatPlan(await plan(await Table.open('filter'), text))); // for iptables-restore -n
 * ```
 */
export function formatPlan(p: Plan): string {
  return [`*${p.table.name}`, ...p.steps, 'COMMIT', ''].join('\n');
}

/**
 * Applies the steps to the plan's snapshot and checks that it now equals the
 * desired ruleset; fails without committing when it does not (the snapshot
 * changed after the plan was made: reload() it and plan again). On failure
 * the snapshot may hold part of the plan.
 */
function applySteps(p: Plan): Table {
  const want = desiredOf.get(p);
  if (!want) throw new IptcError('not a plan made by plan()', { code: 'ERR_IPTC_ARGUMENT' });
  if (applied.has(p)) throw new IptcError('this plan was already applied', { code: 'ERR_IPTC_ARGUMENT', table: p.table.name });
  applied.add(p);
  for (const step of p.steps) applyCommand(p.table, step);
  const left = compareViews(viewOf(p.table), want);
  if (!left.equal) {
    throw new IptcError('the snapshot changed after the plan was made: applying it does not give the desired table; nothing was committed', {
      code: 'ERR_IPTC_ARGUMENT',
      table: p.table.name,
    });
  }
  return p.table;
}

/**
 * Applies the plan to its snapshot and (unless `commit: false`) commits it. Returns the snapshot.
 * @example
 * ```ts
 * import { Table, plan, apply } from 'iptc-node';
 * const text = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n';
 * const t = await apply(await plan(await Table.open('filter'), text), { lockTimeout: 5000 });
 * ```
 */
export async function apply(p: Plan, options: ApplyOptions = {}): Promise<Table> {
  checkOptionsObject(options, 'apply options', ['commit', 'lockTimeout', 'signal']);
  const { commit = true, ...commitOptions } = options;
  const t = applySteps(p);
  if (commit) await t.commit(commitOptions);
  return t;
}

/**
 * apply() on the calling thread.
 * @example
 * ```ts
 * import { Table, planSync, applySync } from 'iptc-node';
 * const text = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n';
 * const t = applySync(planSync(Table.openSync('filter'), text), { commit: false }); // changed, not committed
 * t.commitSync();
 * ```
 */
export function applySync(p: Plan, options: ApplyOptions = {}): Table {
  checkOptionsObject(options, 'apply options', ['commit', 'lockTimeout', 'signal']);
  const { commit = true, ...commitOptions } = options;
  const t = applySteps(p);
  if (commit) t.commitSync(commitOptions);
  return t;
}
