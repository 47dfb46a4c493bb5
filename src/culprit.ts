/**
 * The kernel refuses a whole table with one errno and says nothing of which
 * rule it disliked. To name it, commit growing prefixes of the same table in
 * a scratch network namespace (bisecting) until the kernel refuses: the rule
 * that tips it over is the one. Only runs on the error path.
 */
import { native, OpCode, type FamilyName, type NativeOp, type NativeTable } from './native.js';
import { Netns } from './netns.js';
import { splitWords } from './words.js';

export interface ChainShape {
  name: string;
  builtin: boolean;
  policy?: string;
  rules: { spec: string }[];
}

export interface Culprit {
  chain: string;
  position: number;
  spec: string;
}

export async function findRejectedRule(family: FamilyName, table: string, chains: ChainShape[]): Promise<Culprit | null> {
  let ns: Netns;
  try {
    ns = Netns.create();
  } catch {
    return null; // no CAP_SYS_ADMIN: the caller's message stands without a rule
  }
  try {
    return await bisect(family, table, chains, ns);
  } catch {
    return null;
  } finally {
    ns.close();
  }
}

async function bisect(family: FamilyName, table: string, chains: ChainShape[], ns: Netns): Promise<Culprit | null> {
  const names = new Set(chains.map((c) => c.name));
  const head: NativeOp[] = [];
  for (const c of chains) {
    if (!c.builtin) head.push([OpCode.NewChain, c.name]);
    else if (c.policy) head.push([OpCode.Policy, c.name, c.policy]);
  }
  const rules: { op: NativeOp; culprit: Culprit }[] = [];
  for (const c of chains) {
    c.rules.forEach((r, i) => {
      const words = splitWords(r.spec);
      const jump = / -[jg] (\S+)$/.exec(r.spec)?.[1];
      const encoded = native.encodeRule(family, table, words, jump !== undefined && names.has(jump));
      rules.push({ op: [OpCode.Append, c.name, encoded.entries], culprit: { chain: c.name, position: i + 1, spec: r.spec } });
    });
  }
  const fails = async (k: number): Promise<boolean> => {
    await native.readTable(family, table, ns.fd, true, true); // instantiate the table there
    // The scratch namespace is private: no xtables lock needed (/dev/null stands in).
    try {
      await native.commitTable(family, table, ns.fd, '', [...head, ...rules.slice(0, k).map((r) => r.op)], '/dev/null', 0, true);
    } catch {
      return true;
    }
    // Back to the default table for the next try: flush everything, drop user chains.
    const t = (await native.readTable(family, table, ns.fd, true, true)) as NativeTable;
    const undo: NativeOp[] = [];
    for (const c of t.chains) undo.push([OpCode.Flush, c.name]);
    for (const c of t.chains) if (!c.builtin) undo.push([OpCode.DeleteChain, c.name]);
    await native.commitTable(family, table, ns.fd, '', undo, '/dev/null', 0, true);
    return false;
  };
  if (!(await fails(rules.length))) return null;
  let lo = 0; // prefix of lo rules succeeds (or is only the chains)
  let hi = rules.length; // prefix of hi rules fails
  if (await fails(0)) return null; // the chains or policies alone are refused
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (await fails(mid)) hi = mid;
    else lo = mid;
  }
  return rules[hi - 1]!.culprit;
}
