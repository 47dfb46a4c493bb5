/**
 * diff(): what differs between two snapshots of one table, or between a
 * snapshot and iptables-restore text for it. Rules compare by their
 * canonical iptables-save text (without counters), so two rules are equal
 * exactly when iptables-save would print them alike.
 *
 * Text is read the way iptables-restore reads it, onto a copy of the
 * snapshot, in memory: libxtables parses and prints every rule, so
 * `--dport 22` and `-m tcp --dport 22` compare equal.
 */
import { IptcError } from './errors.js';
import type { FamilyName, NativeCompiled } from './native.js';
import { formatRule } from './parse.js';
import { applyBlock, blocks, compile, compileSync } from './restore.js';
import type { Counters } from './rule.js';
import { Table } from './table.js';
import { checkFamily, checkTableName } from './names.js';
import { checkOptionsObject } from './words.js';

export type Policy = 'ACCEPT' | 'DROP';

/** A rule and its 1-based position: in the old snapshot when removed, in the new one when added. */
export interface RuleAt {
  /** The rule as iptables-save prints it after `-A CHAIN `. */
  rule: string;
  position: number;
}

export interface RuleMove {
  rule: string;
  /** Position in the old snapshot. */
  from: number;
  /** Position in the new one. */
  to: number;
}

export interface ChainChanges {
  /** The chain's name in the new snapshot (in the old one for a removed chain). */
  chain: string;
  added: RuleAt[];
  removed: RuleAt[];
  /** Rules in both whose order relative to the unchanged rules differs. */
  moved: RuleMove[];
}

export interface TableDiff {
  table: string;
  family: FamilyName;
  equal: boolean;
  chainsAdded: string[];
  chainsRemoved: string[];
  /** A user chain gone and one new with the same rules (references are compared as renamed). */
  chainsRenamed: { from: string; to: string }[];
  policies: { chain: string; from: Policy; to: Policy }[];
  /** Chains whose rules differ; an added chain lists all its rules as added, a removed one as removed. */
  rules: ChainChanges[];
}

// ---- the canonical form both sides are reduced to ------------------------

/** @internal One rule: its canonical text, its counters, and the user chain it jumps to. */
export interface ViewRule {
  text: string;
  counters: Counters;
  jump?: string;
}

/** @internal */
export interface ViewChain {
  name: string;
  builtin: boolean;
  policy?: Policy;
  rules: ViewRule[];
}

/** @internal A table reduced to what diff compares. */
export interface View {
  table: string;
  family: FamilyName;
  chains: ViewChain[];
}

/** @internal */
export function viewOf(t: Table): View {
  const chains = t.chains().map((c): ViewChain => {
    const rules = t.rules(c.name).map((r): ViewRule => {
      const kind = r.target?.kind;
      const jump = kind === 'jump' || kind === 'goto' ? r.target!.name : undefined;
      return { text: formatRule(r), counters: r.counters, jump };
    });
    return { name: c.name, builtin: c.builtin, policy: c.policy, rules };
  });
  return { table: t.name, family: t.family, chains };
}

// ---- reading restore text ------------------------------------------------

export interface TextOptions {
  /** The table whose `*table` block to read (default filter). */
  table?: string;
  family?: FamilyName;
  /**
   * The snapshot the text is restored onto (default: the table as the kernel
   * first makes it). As with iptables-restore, a built-in chain keeps its
   * policy unless the text has its `:CHAIN POLICY` line.
   */
  base?: Table;
  /** -n: keep the base's rules and chains and add the text's to them (default: flush first). */
  noflush?: boolean;
}

/** Options of diff() and plan() when the other side is text. */
export type CompareOptions = Pick<TextOptions, 'noflush'>;

/**
 * The snapshot iptables-restore would make of the text's block for one
 * table, restored onto `base` (or onto the table as the kernel first makes
 * it), in memory: every rule is parsed and printed by libxtables in this
 * process, no kernel and no namespace is involved (so CAP_NET_ADMIN is not
 * even needed). Read it, diff or plan with it; it cannot be committed.
 * @example
 * ```ts
 * import { tableFromText } from 'iptc-node';
 * const nat = await tableFromText('*nat\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n', { table: 'nat' });
 * ```
 */
export async function tableFromText(text: string, options: TextOptions = {}): Promise<Table> {
  const { table, family } = textOptions(text, options);
  return fromBlocks(await compile(text, family, { noflush: options.noflush, table }), table, family, options);
}

/**
 * tableFromText() on the calling thread.
 * @example
 * ```ts
 * import { Table, tableFromTextSync } from 'iptc-node';
 * const t = tableFromTextSync('*filter\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n', { base: Table.openSync('filter'), noflush: true });
 * ```
 */
export function tableFromTextSync(text: string, options: TextOptions = {}): Table {
  const { table, family } = textOptions(text, options);
  return fromBlocks(compileSync(text, family, { noflush: options.noflush, table }), table, family, options);
}

function textOptions(text: string, options: TextOptions): { table: string; family: FamilyName } {
  checkOptionsObject(options, 'options', ['table', 'family', 'base', 'noflush']);
  const table = options.table ?? 'filter';
  if (typeof text !== 'string') throw new IptcError(`restore text must be a string, got ${typeof text}`, { code: 'ERR_IPTC_ARGUMENT' });
  checkFamily(options.family);
  checkTableName(table);
  const family = options.family ?? options.base?.family ?? 'ipv4';
  if (options.base && (options.base.name !== table || options.base.family !== family)) {
    throw new IptcError(`cannot restore ${family} ${table} text onto a ${options.base.family} ${options.base.name} snapshot`, { code: 'ERR_IPTC_ARGUMENT', table });
  }
  return { table, family };
}

function fromBlocks(compiled: NativeCompiled, table: string, family: FamilyName, options: TextOptions): Table {
  if (compiled.error) throw compiled.error;
  const mine = blocks(compiled);
  if (!mine.length) throw new IptcError(`the text has no *${table} block`, { code: 'ERR_IPTC_PARSE', table });
  const t = Table.detached(table, family, options.base);
  for (const b of mine) applyBlock(t, b, { noflush: options.noflush });
  return t;
}

// ---- diff ----------------------------------------------------------------

/**
 * What changes from snapshot `a` to `b`: a snapshot of the same table and
 * family, or restore text for it, read as iptables-restore would apply it
 * to `a` (so built-in chains the text does not list keep a's policy).
 * @example
 * ```ts
 * import { Table, diff, formatDiff } from 'iptc-node';
 * const d = await diff(await Table.open('filter'), '*filter\n:INPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n');
 * if (!d.equal) console.log(formatDiff(d));
 * ```
 */
export async function diff(a: Table, b: Table | string, options: CompareOptions = {}): Promise<TableDiff> {
  return diffSync(a, b, options);
}

/**
 * diff() on the calling thread.
 * @example
 * ```ts
 * import { Table, diffSync, formatDiff } from 'iptc-node';
 * const t = Table.openSync('filter');
 * console.log(formatDiff(diffSync(t, '*filter\n-A INPUT -j LOG\nCOMMIT\n', { noflush: true }))); // + -A INPUT -j LOG
 * ```
 */
export function diffSync(a: Table, b: Table | string, options: CompareOptions = {}): TableDiff {
  return compareViews(viewOf(a), viewOf(sameKind(a, desiredTable(a, b, options))));
}

/** @internal The other side of a diff or plan: a snapshot, or text restored onto `a` in memory. */
export function desiredTable(a: Table, b: Table | string, options: CompareOptions): Table {
  checkOptionsObject(options, 'options', ['noflush']);
  if (typeof b !== 'string') return b;
  if (!(a instanceof Table)) throw new IptcError('diff and plan take Table snapshots', { code: 'ERR_IPTC_ARGUMENT' });
  return tableFromTextSync(b, { table: a.name, family: a.family, base: a, noflush: options.noflush });
}

/** @internal */
export function sameKind(a: Table, b: Table): Table {
  if (!(a instanceof Table) || !(b instanceof Table)) throw new IptcError('diff and plan take Table snapshots', { code: 'ERR_IPTC_ARGUMENT' });
  if (a.name !== b.name || a.family !== b.family) {
    throw new IptcError(`cannot compare ${a.family} ${a.name} with ${b.family} ${b.name}`, { code: 'ERR_IPTC_ARGUMENT', table: a.name });
  }
  return b;
}

/** A rule's text with its jump renamed (the target comes last in iptables-save text). */
function renamedText(r: ViewRule, renames: Map<string, string>): string {
  const to = r.jump !== undefined ? renames.get(r.jump) : undefined;
  if (to === undefined || !r.text.endsWith(r.jump!)) return r.text;
  return r.text.slice(0, r.text.length - r.jump!.length) + to;
}

/**
 * Pairs user chains gone from `a` with new ones in `b` holding the same rules.
 * Repeated until nothing more pairs, since a chain's rules may jump to
 * another renamed chain. Empty chains pair only when both are referenced:
 * otherwise "removed one, added another" says it as well.
 */
/** @internal */
export function findRenames(a: View, b: View): Map<string, string> {
  const inB = new Set(b.chains.map((c) => c.name));
  const inA = new Set(a.chains.map((c) => c.name));
  const gone = a.chains.filter((c) => !c.builtin && !inB.has(c.name));
  const fresh = b.chains.filter((c) => !c.builtin && !inA.has(c.name));
  const referenced = (v: View, name: string) => v.chains.some((c) => c.rules.some((r) => r.jump === name));
  const renames = new Map<string, string>();
  const taken = new Set<string>();
  for (let found = true; found; ) {
    found = false;
    for (const x of gone) {
      if (renames.has(x.name)) continue;
      const y = fresh.find(
        (y) =>
          !taken.has(y.name) &&
          y.rules.length === x.rules.length &&
          y.rules.every((r, i) => r.text === renamedText(x.rules[i]!, renames)) &&
          (x.rules.length > 0 || (referenced(a, x.name) && referenced(b, y.name))),
      );
      if (!y) continue;
      renames.set(x.name, y.name);
      taken.add(y.name);
      found = true;
    }
  }
  return renames;
}

/** @internal */
export function compareViews(a: View, b: View): TableDiff {
  const renames = findRenames(a, b);
  const byName = new Map(a.chains.map((c) => [c.name, c]));
  const oldName = new Map([...renames].map(([from, to]) => [to, from]));
  const d: TableDiff = {
    table: b.table,
    family: b.family,
    equal: true,
    chainsAdded: [],
    chainsRemoved: [],
    chainsRenamed: [...renames].map(([from, to]) => ({ from, to })),
    policies: [],
    rules: [],
  };
  for (const cb of b.chains) {
    const ca = byName.get(oldName.get(cb.name) ?? cb.name);
    if (!ca) d.chainsAdded.push(cb.name);
    if (ca?.policy !== undefined && cb.policy !== undefined && ca.policy !== cb.policy) {
      d.policies.push({ chain: cb.name, from: ca.policy, to: cb.policy });
    }
    const ch = compareRules(cb.name, ca?.rules ?? [], cb.rules, renames);
    if (ch) d.rules.push(ch);
  }
  const kept = new Set(b.chains.map((c) => oldName.get(c.name) ?? c.name));
  for (const ca of a.chains) {
    if (kept.has(ca.name)) continue;
    d.chainsRemoved.push(ca.name);
    const ch = compareRules(ca.name, ca.rules, [], renames);
    if (ch) d.rules.push(ch);
  }
  d.equal = !d.chainsAdded.length && !d.chainsRemoved.length && !d.chainsRenamed.length && !d.policies.length && !d.rules.length;
  return d;
}

/**
 * Which rules of one chain stay: those on a longest common subsequence of
 * the old texts (jumps to renamed chains renamed) and the new ones.
 * @internal
 */
export function keptRules(ta: readonly string[], tb: readonly string[]): { keepA: Uint8Array; keepB: Uint8Array } {
  const ids = new Map<string, number>();
  const id = (t: string) => ids.get(t) ?? (ids.set(t, ids.size), ids.size - 1);
  return commonSubsequence(ta.map(id), tb.map(id));
}

/** @internal The old rules' texts with jumps to renamed chains renamed. */
export function renamedTexts(ra: readonly ViewRule[], renames: Map<string, string>): string[] {
  return ra.map((r) => renamedText(r, renames));
}

/**
 * The rules of one chain: those kept (keptRules) are unchanged; of the rest,
 * a text on both sides is a move (paired in order, so duplicates count by
 * multiplicity), otherwise an addition or removal.
 */
function compareRules(chain: string, ra: ViewRule[], rb: ViewRule[], renames: Map<string, string>): ChainChanges | undefined {
  const ta = renamedTexts(ra, renames);
  const { keepA, keepB } = keptRules(ta, rb.map((r) => r.text));
  const pending = new Map<string, number[]>(); // text -> old positions not kept
  ta.forEach((t, i) => {
    if (keepA[i]) return;
    const list = pending.get(t);
    if (list) list.push(i + 1);
    else pending.set(t, [i + 1]);
  });
  const out: ChainChanges = { chain, added: [], removed: [], moved: [] };
  rb.forEach((r, j) => {
    if (keepB[j]) return;
    const from = pending.get(r.text)?.shift();
    if (from !== undefined) out.moved.push({ rule: r.text, from, to: j + 1 });
    else out.added.push({ rule: r.text, position: j + 1 });
  });
  const moved = new Set(out.moved.map((m) => m.from));
  ra.forEach((r, i) => {
    if (!keepA[i] && !moved.has(i + 1)) out.removed.push({ rule: r.text, position: i + 1 });
  });
  return out.added.length || out.removed.length || out.moved.length ? out : undefined;
}

// ---- longest common subsequence ------------------------------------------

/**
 * Marks a longest common subsequence of two sequences of ids. Myers'
 * O((N+M)·D) algorithm in linear space (the bisection of Neil Fraser's
 * diff-match-patch), so chains of many thousand rules with few changes stay
 * cheap. Where the two differ so much that this turns quadratic (a chain
 * shuffled or rewritten), the part falls back to patience diff's anchors: a
 * common subsequence that may be shorter. Either way the result is a common
 * subsequence, so a plan stays correct; it is only longer.
 * @internal
 */
export function commonSubsequence(a: readonly number[], b: readonly number[]): { keepA: Uint8Array; keepB: Uint8Array } {
  // Ids on one side only can never be kept: leave them out of the search.
  const inA = new Set(a);
  const inB = new Set(b);
  const ia = a.flatMap((x, i) => (inB.has(x) ? [i] : []));
  const ib = b.flatMap((x, j) => (inA.has(x) ? [j] : []));
  const fa = ia.map((i) => a[i]!);
  const fb = ib.map((j) => b[j]!);
  const keepA = new Uint8Array(a.length);
  const keepB = new Uint8Array(b.length);
  const keep = (i: number, j: number) => (keepA[ia[i]!] = keepB[ib[j]!] = 1);
  const walk = (aLo: number, aHi: number, bLo: number, bHi: number): void => {
    while (aLo < aHi && bLo < bHi && fa[aLo] === fb[bLo]) keep(aLo++, bLo++);
    while (aLo < aHi && bLo < bHi && fa[aHi - 1] === fb[bHi - 1]) keep(--aHi, --bHi);
    if (aLo === aHi || bLo === bHi) return;
    const split = bisect(fa, aLo, aHi, fb, bLo, bHi);
    if (split === undefined) return; // no path crosses the middle: nothing in common here
    if (split !== 'too far') {
      walk(aLo, split[0], bLo, split[1]);
      walk(split[0], aHi, split[1], bHi);
      return;
    }
    const anchors = uniqueAnchors(fa, aLo, aHi, fb, bLo, bHi);
    if (!anchors.length) return; // keep nothing here: correct, if not shortest
    for (const [i, j] of anchors) {
      walk(aLo, i, bLo, j);
      keep(i, j);
      [aLo, bLo] = [i + 1, j + 1];
    }
    walk(aLo, aHi, bLo, bHi);
  };
  walk(0, fa.length, 0, fb.length);
  return { keepA, keepB };
}

/** Beyond this many edits in one part, bisect() gives up rather than go quadratic. */
const MAX_EDITS = 1000;

/**
 * Patience diff's anchors: the ids found exactly once on each side, the
 * longest run of them in the same order on both (a longest increasing
 * subsequence, by patience sorting).
 */
function uniqueAnchors(a: readonly number[], aLo: number, aHi: number, b: readonly number[], bLo: number, bHi: number): [number, number][] {
  const count = (s: readonly number[], lo: number, hi: number) => {
    const m = new Map<number, number>();
    for (let i = lo; i < hi; i++) m.set(s[i]!, m.has(s[i]!) ? -1 : i);
    return m; // id -> its index, or -1 when it occurs more than once
  };
  const inA = count(a, aLo, aHi);
  const inB = count(b, bLo, bHi);
  const pairs: [number, number][] = [];
  for (let i = aLo; i < aHi; i++) {
    const j = inB.get(a[i]!);
    if (inA.get(a[i]!) === i && j !== undefined && j >= 0) pairs.push([i, j]);
  }
  const tops: number[] = []; // tops[k]: index into pairs of the smallest j ending a run of k+1
  const back = new Int32Array(pairs.length);
  pairs.forEach(([, j], p) => {
    let lo = 0;
    let hi = tops.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pairs[tops[mid]!]![1] < j) lo = mid + 1;
      else hi = mid;
    }
    back[p] = lo > 0 ? tops[lo - 1]! : -1;
    tops[lo] = p;
  });
  const run: [number, number][] = [];
  for (let p = tops.length ? tops[tops.length - 1]! : -1; p >= 0; p = back[p]!) run.push(pairs[p]!);
  return run.reverse();
}

/** A point on a shortest edit path through the middle of a[aLo..aHi) × b[bLo..bHi), both non-empty. */
function bisect(
  a: readonly number[],
  aLo: number,
  aHi: number,
  b: readonly number[],
  bLo: number,
  bHi: number,
): [number, number] | 'too far' | undefined {
  const n = aHi - aLo;
  const m = bHi - bLo;
  const maxD = Math.ceil((n + m) / 2);
  const off = maxD;
  const len = 2 * maxD + 2;
  const v1 = new Int32Array(len).fill(-1);
  const v2 = new Int32Array(len).fill(-1);
  v1[off + 1] = 0;
  v2[off + 1] = 0;
  const delta = n - m;
  const front = delta % 2 !== 0; // paths overlap on the forward walk when delta is odd
  // Diagonals that ran off the grid are skipped from then on.
  let k1start = 0, k1end = 0, k2start = 0, k2end = 0;
  for (let d = 0; d < maxD; d++) {
    if (d > MAX_EDITS) return 'too far';
    for (let k1 = -d + k1start; k1 <= d - k1end; k1 += 2) {
      const i = off + k1;
      let x1 = k1 === -d || (k1 !== d && v1[i - 1]! < v1[i + 1]!) ? v1[i + 1]! : v1[i - 1]! + 1;
      let y1 = x1 - k1;
      while (x1 < n && y1 < m && a[aLo + x1] === b[bLo + y1]) x1++, y1++;
      v1[i] = x1;
      if (x1 > n) k1end += 2;
      else if (y1 > m) k1start += 2;
      else if (front) {
        const j = off + delta - k1;
        if (j >= 0 && j < len && v2[j] !== -1 && x1 >= n - v2[j]!) return [aLo + x1, bLo + y1];
      }
    }
    for (let k2 = -d + k2start; k2 <= d - k2end; k2 += 2) {
      const j = off + k2;
      let x2 = k2 === -d || (k2 !== d && v2[j - 1]! < v2[j + 1]!) ? v2[j + 1]! : v2[j - 1]! + 1;
      let y2 = x2 - k2;
      while (x2 < n && y2 < m && a[aHi - 1 - x2] === b[bHi - 1 - y2]) x2++, y2++;
      v2[j] = x2;
      if (x2 > n) k2end += 2;
      else if (y2 > m) k2start += 2;
      else if (!front) {
        const i = off + delta - k2;
        if (i >= 0 && i < len && v1[i] !== -1) {
          const x1 = v1[i]!;
          const y1 = x1 - (i - off);
          if (x1 >= n - x2) return [aLo + x1, bLo + y1];
        }
      }
    }
  }
  return undefined;
}

// ---- text ----------------------------------------------------------------

/**
 * The diff as lines: `chain A renamed to B`, `+ chain X`, `- chain Y`,
 * `:INPUT policy ACCEPT -> DROP`, then per chain `- -A ...` (removed),
 * `+ -A ...` (added), `~ moved -A ... (3 -> 1)`. Empty when equal.
 * @example
 * ```ts
 * import { Table, diff, formatDiff } from 'iptc-node';
 * console.log(formatDiff(await diff(await Table.open('filter'), '*filter\n:FORWARD DROP [0:0]\nCOMMIT\n', { noflush: true })));
 * ```
 */
export function formatDiff(d: TableDiff): string {
  const out: string[] = [];
  for (const r of d.chainsRenamed) out.push(`chain ${r.from} renamed to ${r.to}`);
  for (const c of d.chainsAdded) out.push(`+ chain ${c}`);
  for (const c of d.chainsRemoved) out.push(`- chain ${c}`);
  for (const p of d.policies) out.push(`:${p.chain} policy ${p.from} -> ${p.to}`);
  const line = (chain: string, rule: string) => `-A ${chain}${rule ? ` ${rule}` : ''}`;
  for (const c of d.rules) {
    for (const r of c.removed) out.push(`- ${line(c.chain, r.rule)}`);
    for (const r of c.added) out.push(`+ ${line(c.chain, r.rule)}`);
    for (const m of c.moved) out.push(`~ moved ${line(c.chain, m.rule)} (${m.from} -> ${m.to})`);
  }
  return out.map((l) => `${l}\n`).join('');
}
