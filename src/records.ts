/**
 * How a snapshot holds its rules. A rule read from the kernel has its
 * iptables-save spec at once (the read prints every entry); a rule added to
 * the snapshot is kept as its kernel entry bytes, in a shared arena, and is
 * printed only when something asks for its text (save(), rules(), -C/-D by
 * rule). A controller that appends 50,000 rules and commits never pays for
 * printing them.
 */
import { withContext } from './errors.js';
import { native, type FamilyName } from './native.js';
import { RuleSource, type Counters, type DecodedRule } from './rule.js';
import { joinWords } from './words.js';

export interface RuleRecord {
  /** The spec iptables-save prints after `-A CHAIN` (leading space); absent until printed. */
  spec?: string;
  /** Where the rule's object comes from: rule `at` of `src` (set together with spec). */
  src?: RuleSource;
  at?: number;
  /** Counters set in the snapshot (zero(), -c); otherwise those of `src`. */
  counters?: Counters;
  rule?: DecodedRule;
  /** The chain this rule jumps or goes to, for reference counts. */
  jumpsTo?: string;
  /** Kernel entry bytes: rules added to the snapshot only (a view into the arena). */
  entry?: Buffer;
  /** For an added rule whose target is a verdict or chain: its name, as libiptc would report it. */
  verdict?: string;
}

// Offsets in the entry header (ipt_entry / ip6t_entry).
const LAYOUT = {
  ipv4: { nextOffset: 90, counters: 96, inMask: 48, outMask: 64 },
  ipv6: { nextOffset: 142, counters: 152, inMask: 96, outMask: 112 },
};

/** Entry bytes, back to back in large chunks: one copy per rule, no Buffer per rule. */
export class Arena {
  #chunk = Buffer.allocUnsafe(0);
  #used = 0;

  /** Copies `bytes` in and returns the view of the copy. */
  put(bytes: Buffer, start: number, end: number): Buffer {
    const n = end - start;
    if (this.#used + n > this.#chunk.length) {
      this.#chunk = Buffer.allocUnsafe(Math.max(1 << 20, n));
      this.#used = 0;
    }
    bytes.copy(this.#chunk, this.#used, start, end);
    const view = this.#chunk.subarray(this.#used, this.#used + n);
    this.#used += n;
    return view;
  }
}

export interface Encoded {
  records: RuleRecord[];
  hasIn: boolean;
  hasOut: boolean;
}

/** Rule words → records (one per -s/-d address pair), through libxtables. */
export function encodeRecords(
  family: FamilyName,
  table: string,
  chain: string,
  words: string[],
  chains: Set<string>,
  arena: Arena,
  counters?: Counters,
): Encoded {
  const jump = jumpWord(words);
  let out;
  try {
    out = native.encodeRule(family, table, words, jump !== undefined && chains.has(jump));
  } catch (e) {
    throw withContext(e, `bad rule for chain ${chain}`, { table, chain, rule: joinWords(words) });
  }
  const L = LAYOUT[family];
  const records: RuleRecord[] = [];
  const b = out.entries;
  for (let at = 0; at < b.length; ) {
    const next = b.readUInt16LE(at + L.nextOffset);
    if (counters) {
      b.writeBigUInt64LE(counters.packets, at + L.counters);
      b.writeBigUInt64LE(counters.bytes, at + L.counters + 8);
    }
    const r: RuleRecord = {
      counters: counters ? { ...counters } : { packets: 0n, bytes: 0n },
      entry: arena.put(b, at, at + next),
    };
    if (out.verdict !== undefined) {
      r.verdict = out.verdict;
      if (chains.has(out.verdict)) r.jumpsTo = out.verdict;
    }
    records.push(r);
    at += next;
  }
  return { records, hasIn: b[L.inMask] !== 0, hasOut: b[L.outMask] !== 0 };
}

/** Prints every record that has no spec yet, in one native call. */
export function describeRecords(family: FamilyName, records: RuleRecord[]): void {
  const todo = records.filter((r) => r.spec === undefined);
  if (todo.length === 0) return;
  const cols = native.describeEntries(
    family,
    Buffer.concat(todo.map((r) => r.entry!)),
    todo.map((r) => r.verdict ?? null),
  );
  const src = new RuleSource(family, cols);
  todo.forEach((r, i) => {
    r.spec = src.specs[i];
    r.src = src;
    r.at = i;
  });
}

/** A record's counters. */
export function countersOf(r: RuleRecord): Counters {
  return r.counters ?? { packets: r.src!.packets(r.at!), bytes: r.src!.bytes(r.at!) };
}

/** A record's rule object (made once; its spec must be known). */
export function ruleOf(r: RuleRecord): DecodedRule {
  if (!r.rule) {
    r.rule = r.src!.decode(r.at!);
    if (r.counters) r.rule.counters = { ...r.counters };
  }
  return r.rule;
}

/** The word after the last -j/--jump/-g/--goto, if any. */
export function jumpWord(words: readonly string[]): string | undefined {
  for (let i = words.length - 2; i >= 0; i--) {
    const w = words[i]!;
    if (w === '-j' || w === '--jump' || w === '-g' || w === '--goto') return words[i + 1];
  }
  return undefined;
}
