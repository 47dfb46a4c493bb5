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
import { native, OpCode, type FamilyName, type NativeOp, type NativeTable } from './native.js';
import { Netns } from './netns.js';
import { splitWords } from './words.js';

export interface ChainShape {
  name: string;
  builtin: boolean;
  policy?: string;
  rules: { spec?: string }[];
}

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

interface Candidate {
  op: NativeOp;
  chain: string;
  position: number;
  spec: string;
}

/** Every rule of `chains` the kernel refuses. Throws only when no scratch namespace can be had. */
export async function validateChains(family: FamilyName, table: string, chains: ChainShape[]): Promise<Validation> {
  const ns = Netns.create();
  try {
    return await check(family, table, chains, ns);
  } finally {
    ns.close();
  }
}

async function check(family: FamilyName, table: string, chains: ChainShape[], ns: Netns): Promise<Validation> {
  const names = new Set(chains.map((c) => c.name));
  const head: NativeOp[] = [];
  for (const c of chains) {
    if (!c.builtin) head.push([OpCode.NewChain, c.name]);
    else if (c.policy) head.push([OpCode.Policy, c.name, c.policy]);
  }
  let rules: Candidate[] = [];
  for (const c of chains) {
    c.rules.forEach((r, i) => {
      const spec = r.spec!;
      const jump = / -[jg] (\S+)$/.exec(spec)?.[1];
      const encoded = native.encodeRule(family, table, splitWords(spec, false), jump !== undefined && names.has(jump));
      rules.push({ op: [OpCode.AppendAll, c.name, encoded.entries], chain: c.name, position: i + 1, spec });
    });
  }
  // Commits head + the first k rules there; the kernel's error, or null.
  const attempt = async (k: number): Promise<IptcError | null> => {
    await native.readTable(family, table, ns.fd, true, true); // make the table there
    let refused: IptcError | null = null;
    try {
      // The namespace is ours alone: no xtables lock needed (/dev/null stands in).
      await native.commitTable(family, table, ns.fd, '', [...head, ...rules.slice(0, k).map((r) => r.op)], '/dev/null', 0, true);
    } catch (e) {
      if (!(e instanceof IptcError)) throw e;
      refused = e;
    }
    // Back to the kernel's default table for the next try.
    const t = (await native.readTable(family, table, ns.fd, true, true)) as NativeTable;
    const undo: NativeOp[] = [];
    for (const c of t.chains) undo.push([OpCode.Flush, c.name]);
    for (const c of t.chains) if (!c.builtin) undo.push([OpCode.DeleteChain, c.name]);
    for (const c of t.chains) if (c.builtin && c.policy !== 'ACCEPT') undo.push([OpCode.Policy, c.name, 'ACCEPT']);
    await native.commitTable(family, table, ns.fd, '', undo, '/dev/null', 0, true);
    return refused;
  };
  const problems: Problem[] = [];
  const headError = await attempt(0);
  if (headError) {
    return { table, family, ok: false, problems: [{ chain: '', position: 0, rule: '', code: headError.code, errno: headError.errno, reason: `the chains or policies alone are refused: ${headError.message}` }] };
  }
  for (;;) {
    const all = await attempt(rules.length);
    if (!all) break;
    // Bisect: a prefix of lo rules commits, one of hi does not.
    let lo = 0;
    let hi = rules.length;
    let err = all;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      const e = await attempt(mid);
      if (e) {
        hi = mid;
        err = e;
      } else lo = mid;
    }
    const bad = rules[hi - 1]!;
    problems.push({ chain: bad.chain, position: bad.position, rule: bad.spec.trim(), code: err.code, errno: err.errno, reason: err.message });
    rules = rules.filter((r) => r !== bad);
  }
  return { table, family, ok: problems.length === 0, problems };
}
