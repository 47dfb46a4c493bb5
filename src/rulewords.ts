/**
 * A rule as the caller gives it (a string, a list of words, a rule object)
 * turned into the words iptables would read, and what can be told from the
 * words alone, before libxtables parses them: counters (-c), the jump, the
 * interfaces named, whether the rule may make several kernel rules.
 */
import { IptcError, argumentError } from './errors.js';
import { ruleWords, type Counters, type RuleInput } from './rule.js';
import { checkWordList, splitWords } from './words.js';

/**
 * A rule as iptables words after the chain name — one string
 * (`'-p tcp --dport 22 -j ACCEPT'`, split as iptables-restore splits it) or
 * a list of words — or as a rule object (what reading returns, or a RuleInput).
 */
export type RuleSpec = string | readonly string[] | RuleInput;

export interface RuleWords {
  words: string[];
  /** Given with -c / --set-counters, or a rule object's counters. */
  counters?: Counters;
}

/** The words of a rule, its counters taken out. `chain` names it in errors. */
export function ruleInputWords(rule: RuleSpec, table: string, chain: string): RuleWords {
  let words: string[];
  if (typeof rule === 'string') words = splitWords(rule);
  else if (Array.isArray(rule)) words = checkWordList(rule);
  else if (rule && typeof rule === 'object') {
    try {
      words = checkWordList(ruleWords(rule as RuleInput));
    } catch (e) {
      if (e instanceof IptcError) throw e;
      throw argumentError(`bad rule object for chain ${chain}: ${e instanceof Error ? e.message : String(e)}`, { table, chain });
    }
  } else throw argumentError(`a rule must be a string, a list of words or a rule object, got ${rule === null ? 'null' : typeof rule}`);
  let counters: Counters | undefined;
  const given = !Array.isArray(rule) && typeof rule === 'object' ? (rule as RuleInput).counters : undefined;
  if (given && (given.packets !== undefined || given.bytes !== undefined)) counters = checkCounters(given);
  const c = takeCounters(words);
  if (c) return c;
  return counters ? { words, counters } : { words };
}

/** Takes `-c PKTS BYTES` (or `--set-counters`, or `-c PKTS,BYTES`) out of rule words, as iptables reads it. */
function takeCounters(words: string[]): RuleWords | undefined {
  const i = words.findIndex((w) => w === '-c' || w === '--set-counters');
  if (i < 0) return undefined;
  let p = words[i + 1];
  let b: string | undefined;
  let n = 2;
  if (p?.includes(',')) [p, b] = p.split(',', 2);
  else {
    b = words[i + 2];
    n = 3;
  }
  if (p === undefined || b === undefined || !/^[0-9]+$/.test(p) || !/^[0-9]+$/.test(b) || BigInt(p) >= 2n ** 64n || BigInt(b) >= 2n ** 64n) {
    throw new IptcError('-c needs packet and byte counters (-c PACKETS BYTES)', { code: 'ERR_IPTC_PARSE' });
  }
  return { words: [...words.slice(0, i), ...words.slice(i + n)], counters: { packets: BigInt(p), bytes: BigInt(b) } };
}

export function checkCounters(c: Partial<Counters>): Counters {
  if (c === null || typeof c !== 'object') throw argumentError(`counters must be { packets, bytes }, got ${c === null ? 'null' : typeof c}`);
  const v = (x: unknown, what: string): bigint => {
    let n: bigint;
    try {
      n = BigInt(x as bigint);
    } catch {
      throw argumentError(`rule counters: ${what} must be a whole number, got ${String(x)}`);
    }
    if (n < 0n || n >= 2n ** 64n) throw argumentError(`rule counters: ${what} out of range: ${n}`);
    return n;
  };
  return { packets: v(c.packets ?? 0, 'packets'), bytes: v(c.bytes ?? 0, 'bytes') };
}

/** The word after the last -j/--jump/-g/--goto, if any, and whether it is a goto. */
export function jumpWord(words: readonly string[]): { name: string; goto: boolean } | undefined {
  for (let i = words.length - 2; i >= 0; i--) {
    const w = words[i]!;
    if (w === '-j' || w === '--jump') return { name: words[i + 1]!, goto: false };
    if (w === '-g' || w === '--goto') return { name: words[i + 1]!, goto: true };
  }
  return undefined;
}

/** Whether a word is -s/-d or one of their long spellings (or a unique abbreviation of one). */
function isAddressOption(w: string): boolean {
  if (w.length === 2) return w === '-s' || w === '-d';
  if (w.charCodeAt(1) !== 45 /* - */ || w.length < 4) return false;
  const c = w.charCodeAt(2);
  if (c === 115 /* s */) return 'source'.startsWith(w.slice(2)) || 'src'.startsWith(w.slice(2));
  if (c === 100 /* d */) return 'destination'.startsWith(w.slice(2)) || 'dst'.startsWith(w.slice(2));
  return false;
}

/** The value of every -s/-d option (also --source, --src, --destination, --dst, attached or with =). */
function addressValues(words: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w.charCodeAt(0) !== 45 /* - */ || w.length < 2) continue;
    const c = w.charCodeAt(1);
    if (c !== 115 && c !== 100 && c !== 45) continue; // -s -d --
    if (isAddressOption(w)) {
      if (i + 1 < words.length) out.push(words[i + 1]!);
    } else if (c !== 45) out.push(w.slice(2)); // -s10.0.0.1
    else {
      const eq = w.indexOf('=');
      if (eq > 0 && isAddressOption(w.slice(0, eq))) out.push(w.slice(eq + 1));
    }
  }
  return out;
}

const NUMERIC = /^(?:[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*)(?:\/[0-9a-fA-F:.]+)?$/;

/**
 * Whether libxtables may make several kernel rules of these words: -s or -d
 * with a list, or with a name (a host may resolve to several addresses).
 * Such a rule is parsed when it is given; others can wait.
 */
export function maySplit(words: readonly string[]): boolean {
  return addressValues(words).some((v) => v.includes(',') || !NUMERIC.test(v));
}

/**
 * Which of -i / -o the words give: iptables checks whether the option was
 * given, not what it encodes to (`-i +` encodes to nothing). Exact spellings
 * only: a word after an option that takes a value may look like one.
 */
export function interfacesGiven(words: readonly string[]): { in: boolean; out: boolean } {
  let inn = false;
  let out = false;
  for (const w of words) {
    if (w === '-i' || w === '--in-interface' || w.startsWith('--in-interface=')) inn = true;
    if (w === '-o' || w === '--out-interface' || w.startsWith('--out-interface=')) out = true;
  }
  return { in: inn, out };
}
