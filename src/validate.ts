/**
 * Kernel-checked dry runs. The kernel checks a ruleset only when it is
 * committed (a target in the wrong table or chain, a missing module, a
 * loop), refuses the whole table with one errno, and does not say which rule
 * it disliked. So: commit copies into a fresh scratch network namespace,
 * bisecting over growing prefixes of the rules to find the first rule the
 * kernel refuses; set it aside and go on, until the rest commits. The live
 * table is never touched.
 */
import type { BackendName } from './backend.js';
import { IptcError } from './errors.js';
import { native, type FamilyName, type NativePlan } from './native.js';
import type { TableName } from './names.js';
import { Netns } from './netns.js';
import { specsOf } from './printing.js';
import type { ChainState, Snapshot } from './snapshot.js';

export interface Problem {
  chain: string;
  /** 1-based position of the rule in its chain (in the snapshot checked). */
  position: number;
  /** The rule, as iptables-save prints it after `-A CHAIN`. */
  rule: string;
  /** What the kernel said: errno name, number and text. */
  code: string;
  errno?: number;
  reason: string;
}

export interface Validation {
  table: TableName;
  family: FamilyName;
  ok: boolean;
  problems: Problem[];
}

/**
 * The plan with only some of its rules: those before `end` (in plan order)
 * but the ones in `out`. Runs are cut, never expanded: O(runs + out).
 */
function subPlan(plan: NativePlan, end: number, out: ReadonlySet<number>): NativePlan {
  const runs: number[] = [];
  const counts = new Array<number>(plan.chains.length).fill(0);
  let chain = 0;
  let left = plan.chains[0]?.[7] ?? 0; // rules of the current chain not yet walked
  let k = 0; // plan index of the run's first rule
  for (let r = 0; r < plan.runs.length; r += 3) {
    const [pool, from, count] = [plan.runs[r]!, plan.runs[r + 1]!, plan.runs[r + 2]!];
    for (let i = 0; i < count; ) {
      while (left === 0 && chain < plan.chains.length - 1) left = plan.chains[++chain]![7];
      // Rules i.. of this run, within this chain, before `end`, up to the next one left out.
      let j = i;
      const stop = Math.min(count, i + left);
      while (j < stop && k + j < end && !out.has(k + j)) j++;
      if (j > i) {
        runs.push(pool, from + i, j - i);
        counts[chain]! += j - i;
      }
      const skip = j < stop && (k + j >= end || out.has(k + j)) ? 1 : 0;
      left -= j - i + skip;
      i = j + skip;
    }
    k += count;
  }
  const chains = plan.chains.map((c, i) => [c[0], c[1], c[2], c[3], c[4], c[5], c[6], counts[i]!] as typeof c);
  return { ...plan, chains, runs: Uint32Array.from(runs) };
}

/**
 * The search, as steps: each yields a plan to try committing and is given
 * back the kernel's error (or null); it returns every rule refused. Run by
 * validateSnapshot (commits off the event loop) and validateSnapshotSync.
 */
function* search(family: FamilyName, table: TableName, snap: Snapshot): Generator<NativePlan, Validation, IptcError | null> {
  snap.store.parsePending();
  const plan = snap.plan();
  const chains = snap.chains;
  const n = chains.reduce((sum, c) => sum + c.length, 0);
  // Which chain, and where in it, rule `i` of the plan is.
  const where = (i: number): [ChainState, number] => {
    for (const c of chains) {
      if (i < c.length) return [c, i];
      i -= c.length;
    }
    throw new Error('no such rule');
  };
  const problems: Problem[] = [];
  const headError = yield subPlan(plan, 0, new Set());
  if (headError) {
    return { table, family, ok: false, problems: [{ chain: '', position: 0, rule: '', code: headError.code, errno: headError.errno, reason: `the chains or policies alone are refused: ${headError.message}` }] };
  }
  const out = new Set<number>();
  for (;;) {
    const all = yield subPlan(plan, n, out);
    if (!all) break;
    // Bisect: the rules before lo commit, those before hi do not.
    let lo = 0;
    let hi = n;
    let err = all;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      const e = yield subPlan(plan, mid, out);
      if (e) {
        hi = mid;
        err = e;
      } else lo = mid;
    }
    const bad = hi - 1;
    const [c, k] = where(bad);
    const spec = specsOf(snap, [c.at(k)])[0]!;
    problems.push({ chain: c.name, position: k + 1, rule: spec.trim(), code: err.code, errno: err.errno, reason: err.message });
    out.add(bad);
  }
  return { table, family, ok: problems.length === 0, problems };
}

/** A trial commit's failure: the kernel's refusal (anything else is thrown on). The namespace is ours alone: no lock, no check of what was there. */
function refusal(e: unknown): IptcError {
  if (!(e instanceof IptcError)) throw e;
  return e;
}

/** Every rule of the snapshot the kernel refuses. Throws only when no scratch namespace can be had. @internal */
export async function validateSnapshot(family: FamilyName, table: TableName, snap: Snapshot, backend: BackendName = 'legacy'): Promise<Validation> {
  const ns = Netns.create();
  try {
    const steps = search(family, table, snap);
    for (let step = steps.next(); ; ) {
      if (step.done) return step.value;
      let err: IptcError | null = null;
      // (The kernel that would take the table: nf_tables checks what xtables does not, and the other way round.)
      try {
        if (backend === 'nft') await native.nftCommitTable(family, table, ns.fd, step.value, {}, true);
        else await native.commitTable(family, table, ns.fd, step.value, {}, '', 0, true);
      } catch (e) {
        err = refusal(e);
      }
      step = steps.next(err);
    }
  } finally {
    ns.close();
  }
}

/** validateSnapshot on the calling thread. @internal */
export function validateSnapshotSync(family: FamilyName, table: TableName, snap: Snapshot, backend: BackendName = 'legacy'): Validation {
  const ns = Netns.create();
  try {
    const steps = search(family, table, snap);
    for (let step = steps.next(); ; ) {
      if (step.done) return step.value;
      let err: IptcError | null = null;
      try {
        if (backend === 'nft') native.nftCommitTable(family, table, ns.fd, step.value, {}, false);
        else native.commitTable(family, table, ns.fd, step.value, {}, '', 0, false);
      } catch (e) {
        err = refusal(e);
      }
      step = steps.next(err);
    }
  } finally {
    ns.close();
  }
}
