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
import { compareViews, sameKind, tableFromText, tableFromTextSync, viewOf, type TableDiff, type View } from './diff.js';
import { IptcError } from './errors.js';
import type { Counters } from './rule.js';
import type { CommitOptions, Table } from './table.js';

export interface Plan {
  /** The snapshot the steps change (the `current` given to plan()). */
  readonly table: Table;
  readonly diff: TableDiff;
  /** iptables command lines (`-D INPUT 3`, `-I INPUT 2 -p tcp ...`, `-N X`, `-P INPUT DROP`), in order. */
  readonly steps: readonly string[];
}

export interface ApplyOptions extends CommitOptions {
  /** false: only change the snapshot; the caller commits it. Default true. */
  commit?: boolean;
}

/** What each plan should yield, to check the snapshot against before committing. */
const desiredOf = new WeakMap<Plan, View>();
const applied = new WeakSet<Plan>();

/** The steps that turn `current` into `desired` (a snapshot of the same table, or iptables-restore text). */
export async function plan(current: Table, desired: Table | string): Promise<Plan> {
  const want = typeof desired === 'string' ? await tableFromText(desired, { table: current.name, family: current.family }) : desired;
  return makePlan(current, want);
}

export function planSync(current: Table, desired: Table | string): Plan {
  const want = typeof desired === 'string' ? tableFromTextSync(desired, { table: current.name, family: current.family }) : desired;
  return makePlan(current, want);
}

function makePlan(current: Table, desired: Table): Plan {
  const a = viewOf(current);
  const b = viewOf(sameKind(current, desired));
  const d = compareViews(a, b);
  const p: Plan = Object.freeze({ table: current, diff: d, steps: Object.freeze(stepsFor(d, a)) });
  desiredOf.set(p, b);
  return p;
}

const join = (...words: string[]) => words.filter((w) => w !== '').join(' ');
const countersWords = (c: Counters | undefined) => (c && (c.packets || c.bytes) ? `-c ${c.packets} ${c.bytes}` : '');

/**
 * Order matters only within the snapshot (the kernel sees the end result):
 * chains exist before rules jump to them, and are deleted only after the
 * rules that jump to them are gone. In each chain, deleting from the bottom
 * up and then inserting in the new order keeps every position valid.
 */
function stepsFor(d: TableDiff, a: View): string[] {
  const steps: string[] = [];
  const old = new Map(a.chains.map((c) => [c.name, c]));
  const gone = new Set(d.chainsRemoved);
  for (const r of d.chainsRenamed) steps.push(`-E ${r.from} ${r.to}`);
  for (const c of d.chainsAdded) steps.push(`-N ${c}`);
  for (const p of d.policies) steps.push(`-P ${p.chain} ${p.to}`);
  for (const ch of d.rules) {
    if (gone.has(ch.chain)) continue; // flushed below
    const rules = old.get(ch.chain)?.rules ?? [];
    const deletes = [...ch.removed.map((r) => r.position), ...ch.moved.map((m) => m.from)].sort((x, y) => y - x);
    for (const at of deletes) steps.push(`-D ${ch.chain} ${at}`);
    const inserts = [
      ...ch.added.map((r) => ({ rule: r.rule, at: r.position, counters: '' })),
      // A moved rule takes its counters along (those counted between reading and committing are lost).
      ...ch.moved.map((m) => ({ rule: m.rule, at: m.to, counters: countersWords(rules[m.from - 1]?.counters) })),
    ].sort((x, y) => x.at - y.at);
    let length = rules.length - deletes.length;
    for (const r of inserts) {
      steps.push(r.at === length + 1 ? join('-A', ch.chain, r.counters, r.rule) : join('-I', ch.chain, String(r.at), r.counters, r.rule));
      length++;
    }
  }
  for (const c of d.chainsRemoved) if (old.get(c)!.rules.length) steps.push(`-F ${c}`);
  for (const c of d.chainsRemoved) steps.push(`-X ${c}`);
  return steps;
}

/** The plan as `iptables-restore --noflush` input: `*table`, the steps, `COMMIT`. */
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

/** Applies the plan to its snapshot and (unless `commit: false`) commits it. Returns the snapshot. */
export async function apply(p: Plan, options: ApplyOptions = {}): Promise<Table> {
  const { commit = true, ...commitOptions } = options;
  const t = applySteps(p);
  if (commit) await t.commit(commitOptions);
  return t;
}

export function applySync(p: Plan, options: ApplyOptions = {}): Table {
  const { commit = true, ...commitOptions } = options;
  const t = applySteps(p);
  if (commit) t.commitSync(commitOptions);
  return t;
}
