/**
 * Kernel-checked dry runs. The kernel checks a ruleset only when it is
 * committed (a target in the wrong table or chain, a missing module, a
 * loop), refuses the whole table with one errno, and does not say which rule
 * it disliked. So: commit copies into a fresh scratch network namespace,
 * bisecting over growing prefixes of the rules to find the first rule the
 * kernel refuses; set it aside and go on, until the rest commits. The live
 * table is never touched.
 */
import { IptcError } from './errors.js';
import { native, type FamilyName, type NativePlan } from './native.js';
import { Netns } from './netns.js';
import { specsOf } from './printing.js';
import type { Snapshot } from './snapshot.js';

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
  table: string;
  family: FamilyName;
  ok: boolean;
  problems: Problem[];
}

/** The plan with only the rules `keep` lists (indexes into plan order), chain counts to match. */
function subPlan(plan: NativePlan, chainOf: Int32Array, keep: readonly number[]): NativePlan {
  const rules = new Uint32Array(4 * keep.length);
  const jumps = new Int32Array(keep.length);
  const counts = new Array<number>(plan.chains.length).fill(0);
  keep.forEach((i, k) => {
    rules.set(plan.rules.subarray(4 * i, 4 * i + 4), 4 * k);
    jumps[k] = plan.jumps[i]!;
    counts[chainOf[i]!]++;
  });
  const chains = plan.chains.map((c, i) => [c[0], c[1], c[2], c[3], c[4], c[5], c[6], counts[i]!] as typeof c);
  return { pools: plan.pools, chains, rules, jumps };
}

/** Every rule of the snapshot the kernel refuses. Throws only when no scratch namespace can be had. */
export async function validateSnapshot(family: FamilyName, table: string, snap: Snapshot): Promise<Validation> {
  snap.store.parsePending();
  const plan = snap.plan();
  const chains = snap.chains;
  const n = plan.jumps.length;
  const chainOf = new Int32Array(n);
  const position = new Int32Array(n);
  let i = 0;
  chains.forEach((c, ci) => {
    for (let k = 0; k < c.length; k++, i++) {
      chainOf[i] = ci;
      position[i] = k + 1;
    }
  });
  const ns = Netns.create();
  try {
    // Commits the chains and the rules listed there; the kernel's error, or null.
    // (The namespace is ours alone: no xtables lock, no check of what was there.)
    const attempt = async (keep: readonly number[]): Promise<IptcError | null> => {
      try {
        await native.commitTable(family, table, ns.fd, subPlan(plan, chainOf, keep), {}, '', 0, true);
        return null;
      } catch (e) {
        if (!(e instanceof IptcError)) throw e;
        return e;
      }
    };
    const problems: Problem[] = [];
    const headError = await attempt([]);
    if (headError) {
      return { table, family, ok: false, problems: [{ chain: '', position: 0, rule: '', code: headError.code, errno: headError.errno, reason: `the chains or policies alone are refused: ${headError.message}` }] };
    }
    let rules = Array.from({ length: n }, (_, k) => k);
    for (;;) {
      const all = await attempt(rules);
      if (!all) break;
      // Bisect: a prefix of lo rules commits, one of hi does not.
      let lo = 0;
      let hi = rules.length;
      let err = all;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        const e = await attempt(rules.slice(0, mid));
        if (e) {
          hi = mid;
          err = e;
        } else lo = mid;
      }
      const bad = rules[hi - 1]!;
      const c = chains[chainOf[bad]!]!;
      const spec = specsOf(snap, [c.at(position[bad]! - 1)])[0]!;
      problems.push({ chain: c.name, position: position[bad]!, rule: spec.trim(), code: err.code, errno: err.errno, reason: err.message });
      rules = rules.filter((r) => r !== bad);
    }
    return { table, family, ok: problems.length === 0, problems };
  } finally {
    ns.close();
  }
}
