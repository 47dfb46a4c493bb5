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
import { checkFamily, checkTableName, type TableName } from './names.js';
import { checkOptionsObject } from './words.js';
import { commonSubsequence } from './common-subsequence.js';
import type { Policy } from './snapshot.js';

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
  table: TableName;
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
  table: TableName;
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
  table?: TableName;
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

/**
 * Options of diff(), plan() and their twins when the other side is text.
 * @example
 * ```ts
 * import { Table, diff, type CompareOptions } from 'iptc-node';
 * const options: CompareOptions = { noflush: true };
 * console.log((await diff(await Table.open('filter'), '*filter\n-A INPUT -j LOG\nCOMMIT\n', options)).equal);
 * ```
 */
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

function textOptions(text: string, options: TextOptions): { table: TableName; family: FamilyName } {
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

function fromBlocks(compiled: NativeCompiled, table: TableName, family: FamilyName, options: TextOptions): Table {
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
