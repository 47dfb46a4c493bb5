/**
 * Rule objects: what a rule is (addresses, interfaces, protocol, matches,
 * target, counters), how one is decoded from what the addon returns, and
 * how it is written as iptables-save text or as iptables words.
 */
import type { FamilyName, NativeRules } from './native.js';

/** One option of a match or target: `! --dport 22` is `{ name: 'dport', values: ['22'], invert: true }`. */
export interface Option {
  name: string;
  values: string[];
  invert: boolean;
}

export interface Match {
  /** As iptables-save names it after `-m`. */
  name: string;
  /** Options in the order iptables-save prints them. */
  options: Option[];
}

export type Verdict = 'ACCEPT' | 'DROP' | 'QUEUE' | 'RETURN';

export interface Target {
  /** ACCEPT/DROP/QUEUE/RETURN, a chain name, or an extension target (LOG, DNAT, ...). */
  name: string;
  /** `verdict`, `jump` (-j CHAIN), `goto` (-g CHAIN) or `extension`. */
  kind: 'verdict' | 'jump' | 'goto' | 'extension';
  options: Option[];
}

export interface Counters {
  packets: bigint;
  bytes: bigint;
}

/** Which of the address/interface/protocol/fragment tests are negated with `!`. */
export interface Inversions {
  source?: boolean;
  destination?: boolean;
  inInterface?: boolean;
  outInterface?: boolean;
  protocol?: boolean;
  fragment?: boolean;
}

/** A rule as read from the kernel (or as Rule.parse returns it). */
export interface Rule {
  /** `10.0.0.0/8`, as iptables-save prints it; absent for "any". */
  source?: string;
  destination?: string;
  /** Interface name, `+` as a trailing wildcard (`eth+`). */
  inInterface?: string;
  outInterface?: string;
  /** `tcp`, `udp`, ... or a number for protocols without a name. */
  protocol?: string;
  /** `-f`: second and later fragments only (IPv4). */
  fragment?: boolean;
  invert: Inversions;
  matches: Match[];
  /** null when the rule has no target (it only counts). */
  target: Target | null;
  counters: Counters;
}

/** What a caller may hand in: a Rule, or a partial one with options in shorthand. */
export interface RuleInput {
  source?: string;
  destination?: string;
  inInterface?: string;
  outInterface?: string;
  protocol?: string | number;
  fragment?: boolean;
  invert?: Inversions;
  matches?: MatchInput[];
  target?: TargetInput | string | null;
  counters?: Partial<Counters>;
}

/**
 * Options either as the ordered list reading returns, or as a record:
 * `{ dport: 22, 'tcp-flags': ['SYN,ACK', 'SYN'], syn: true, ctstate: { value: 'NEW', invert: true } }`.
 * Record keys may be camelCase (`logPrefix`) or as iptables spells them (`log-prefix`).
 */
export type OptionsInput = Option[] | Record<string, OptionValue>;
export type OptionValue = string | number | boolean | string[] | { value: string | number | string[] | true; invert?: boolean };

export interface MatchInput {
  name: string;
  options?: OptionsInput;
}

export interface TargetInput {
  name: string;
  kind?: Target['kind'];
  options?: OptionsInput;
}

const VERDICTS = new Set(['ACCEPT', 'DROP', 'QUEUE', 'RETURN']);

/** The spec of a decoded rule as iptables-save prints it after `-A CHAIN` (with its leading space). */
export const SPEC = Symbol('iptc.spec');

export interface DecodedRule extends Rule {
  readonly [SPEC]: string;
}

/**
 * The words of a save() text, as iptables-restore would split them: blanks
 * separate, double quotes group, a backslash escapes inside quotes.
 */
function saveWords(text: string): string[] {
  // Most save texts hold no quotes: plain spaces split them.
  if (!text.includes('"')) return text.split(' ').filter((w) => w !== '');
  // Otherwise runs of plain characters and quoted stretches are sliced out
  // whole, not gathered character by character.
  const out: string[] = [];
  const n = text.length;
  let w = '';
  let started = false;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // "...": to the next unescaped quote (or the end); \x is x
      let from = ++i;
      for (; i < n && text.charCodeAt(i) !== 34; i++) {
        if (text.charCodeAt(i) === 92 && i + 1 < n) {
          w += text.slice(from, i);
          from = ++i;
        }
      }
      w += text.slice(from, i);
      out.push(w);
      w = '';
      started = false;
      i++;
    } else if (c === 32 || c === 9 || c === 10) {
      if (started) out.push(w);
      w = '';
      started = false;
      i++;
    } else {
      const from = i;
      for (; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 34 || d === 32 || d === 9 || d === 10) break;
      }
      w += text.slice(from, i);
      started = true;
    }
  }
  if (started) out.push(w);
  return out;
}

/** Splits a save() text (` --dport 22 ! --syn`) into options. @internal */
export function parseOptions(text: string): Option[] {
  if (text === '') return [];
  // Most texts are words between single spaces (no quotes, no runs of
  // blanks): split them in place; saveWords handles the rest.
  let words: string[];
  let from = 0;
  if (!text.includes('"') && !text.includes('  ') && !text.endsWith(' ')) {
    words = text.split(' ');
    if (words[0] === '') from = 1;
  } else {
    words = saveWords(text);
  }
  return optionsOf(words, from);
}

/**
 * One string per option name, match name, target or protocol seen: a table
 * of thousands of rules says `--dport` thousands of times, and rule objects
 * that share the name keep one string alive instead of thousands.
 */
const shared = new Map<string, string>();
function intern(s: string): string {
  const k = shared.get(s);
  if (k !== undefined) return k;
  if (shared.size < 4096) shared.set(s, s);
  return s;
}
/** `dport` for `--dport`, shared. */
const optionNames = new Map<string, string>();
function optionName(word: string): string {
  let k = optionNames.get(word);
  if (k === undefined) {
    k = word.slice(2);
    if (optionNames.size < 4096) optionNames.set(word, k);
  }
  return k;
}

/** Reused while one options list is gathered; what is returned is an exact-size copy. */
const gathered: Option[] = [];

/**
 * The options of words[from..]: `--name` starts one, `!` negates the next,
 * other words are values of the option before them (or, with none before
 * or right after a `!`, of a nameless positional one). An option's values
 * are always a contiguous run of words, so each is one exact-size slice:
 * rule objects of a large table keep no growable arrays' spare room.
 */
function optionsOf(words: readonly string[], from: number): Option[] {
  gathered.length = 0;
  let invert = false;
  let cur: Option | null = null;
  let valuesFrom = 0;
  for (let i = from; i < words.length; i++) {
    const w = words[i]!;
    if (w === '!') {
      if (cur) cur.values = words.slice(valuesFrom, i);
      cur = null;
      invert = true;
    } else if (w.length > 2 && w.charCodeAt(0) === 45 && w.charCodeAt(1) === 45) {
      if (cur) cur.values = words.slice(valuesFrom, i);
      cur = { name: optionName(w), values: [], invert };
      gathered.push(cur);
      valuesFrom = i + 1;
      invert = false;
    } else if (!cur) {
      // a value with no option before it (or after a bare `!`): keep it as positional
      cur = { name: '', values: [], invert };
      gathered.push(cur);
      valuesFrom = i;
      invert = false;
    }
  }
  if (cur) cur.values = words.slice(valuesFrom);
  const out = gathered.slice();
  gathered.length = 0;
  return out;
}

// The address part's flags, per rule (src-native/xt/print.cc).
const INV_SRC = 1, INV_DST = 2, INV_IN = 4, INV_OUT = 8, INV_PROTO = 16, FRAG = 32, INV_FRAG = 64, GOTO = 128;

/** A rule read back: plain data, with its spec kept where only formatRule looks. */
class RuleObject {
  source?: string;
  destination?: string;
  inInterface?: string;
  outInterface?: string;
  protocol?: string;
  fragment?: boolean;
  invert: Inversions = {};
  matches: Match[];
  target: Target | null;
  counters: Counters;
  readonly #spec: string;

  constructor(spec: string, matches: Match[], target: Target | null, counters: Counters) {
    this.#spec = spec;
    this.matches = matches;
    this.target = target;
    this.counters = counters;
  }

  get [SPEC](): string {
    return this.#spec;
  }

  /** For JSON.stringify: the same fields, counters as decimal strings. */
  toJSON(): unknown {
    return { ...this, counters: { packets: String(this.counters.packets), bytes: String(this.counters.bytes) } };
  }
}

/**
 * The rules of one native result (printed by the addon): their specs at
 * once, their objects on demand. One of these serves thousands of rules, so
 * no per-rule closure or column object is made until asked.
 * @internal
 */
export class RuleSource {
  readonly family: FamilyName;
  readonly count: number;
  /** Per rule: the spec iptables-save prints after `-A CHAIN` (with its leading space). */
  readonly specs: string[];
  readonly #cols: NativeRules;
  /**
   * Per rule, where its fields start in cols.text and in cols.head. Fields
   * are sliced out as a rule is decoded, not split up front: an array of
   * every field of thousands of rules would live (and be copied by the
   * young-generation collector) for as long as the chain is decoded.
   */
  readonly #textAt: Uint32Array;
  readonly #headAt: Uint32Array;
  /** Where the field read last by #field ends (its NUL). */
  #end = 0;
  /** Options parsed per (match or target name, save text), for texts that repeat. */
  readonly #memo = new Map<string, OptionsMemo>();

  constructor(family: FamilyName, cols: NativeRules, specs?: string[]) {
    this.family = family;
    this.#cols = cols;
    const n = (this.count = cols.matchCounts.length);
    const textAt = (this.#textAt = new Uint32Array(n));
    const headAt = (this.#headAt = new Uint32Array(n));
    const { text, head } = cols;
    for (let i = 0, t = 0, h = 0; i < n; i++) {
      textAt[i] = t;
      for (let k = 2 * cols.matchCounts[i]! + 2; k > 0; k--) t = text.indexOf('\0', t) + 1;
      headAt[i] = h;
      for (let k = 5; k > 0; k--) h = head.indexOf('\0', h) + 1;
    }
    if (specs) this.specs = specs;
    else {
      this.specs = cols.specs.split('\0');
      this.specs.length = n;
    }
  }

  /** The NUL-terminated field of `s` at `at`; #end is then where it ends. */
  #field(s: string, at: number): string {
    const end = s.indexOf('\0', at);
    this.#end = end;
    return end === at ? '' : s.slice(at, end);
  }

  /** Where rule i's target name is in cols.text. */
  #targetAt(i: number): number {
    const text = this.#cols.text;
    let t = this.#textAt[i]!;
    for (let k = 2 * this.#cols.matchCounts[i]!; k > 0; k--) t = text.indexOf('\0', t) + 1;
    return t;
  }

  packets(i: number): bigint {
    return this.#cols.counters[2 * i]!;
  }

  bytes(i: number): bigint {
    return this.#cols.counters[2 * i + 1]!;
  }

  /** The name a verdict or jump target carries (not an extension target's), else undefined. */
  jump(i: number): string | undefined {
    if (this.#cols.targetKinds[i] === 1) return undefined;
    const name = this.#field(this.#cols.text, this.#targetAt(i));
    return name === '' ? undefined : name;
  }

  /** The end of rule i's spec that names its target: ` -j NAME options`, ` -g CHAIN`, or '' without one. */
  targetText(i: number): string {
    const text = this.#cols.text;
    const name = this.#field(text, this.#targetAt(i));
    if (this.#cols.targetKinds[i] === 1) return ` -j ${name}${this.#field(text, this.#end + 1)}`;
    if (name === '') return '';
    return `${this.#cols.headFlags[i]! & GOTO ? ' -g' : ' -j'} ${name}`;
  }

  decode(i: number): DecodedRule {
    const cols = this.#cols;
    const text = cols.text;
    const mc = cols.matchCounts[i]!;
    const flags = cols.headFlags[i]!;
    const matches: Match[] = new Array(mc);
    let at = this.#textAt[i]!;
    for (let m = 0; m < mc; m++) {
      const name = intern(this.#field(text, at));
      matches[m] = { name, options: this.#options(name, this.#field(text, this.#end + 1)) };
      at = this.#end + 1;
    }
    const tName = intern(this.#field(text, at));
    let target: Target | null = null;
    if (cols.targetKinds[i] === 1) target = { name: tName, kind: 'extension', options: this.#options(tName, this.#field(text, this.#end + 1)) };
    else if (tName !== '') target = { name: tName, kind: VERDICTS.has(tName) ? 'verdict' : flags & GOTO ? 'goto' : 'jump', options: [] };
    const rule = new RuleObject(this.specs[i]!, matches, target, { packets: this.packets(i), bytes: this.bytes(i) });
    const head = cols.head;
    let h = this.#headAt[i]!;
    // source, destination, in and out interface, protocol: '' when absent
    if (head.charCodeAt(h) !== 0) rule.source = this.#field(head, h);
    h = head.indexOf('\0', h) + 1;
    if (head.charCodeAt(h) !== 0) rule.destination = this.#field(head, h);
    h = head.indexOf('\0', h) + 1;
    if (head.charCodeAt(h) !== 0) rule.inInterface = intern(this.#field(head, h));
    h = head.indexOf('\0', h) + 1;
    if (head.charCodeAt(h) !== 0) rule.outInterface = intern(this.#field(head, h));
    h = head.indexOf('\0', h) + 1;
    if (head.charCodeAt(h) !== 0) rule.protocol = intern(this.#field(head, h));
    if (flags & FRAG) rule.fragment = true;
    if (flags & (INV_SRC | INV_DST | INV_IN | INV_OUT | INV_PROTO | INV_FRAG)) {
      const inv = rule.invert;
      if (flags & INV_SRC && rule.source !== undefined) inv.source = true;
      if (flags & INV_DST && rule.destination !== undefined) inv.destination = true;
      if (flags & INV_IN && rule.inInterface !== undefined) inv.inInterface = true;
      if (flags & INV_OUT && rule.outInterface !== undefined) inv.outInterface = true;
      if (flags & INV_PROTO && rule.protocol !== undefined) inv.protocol = true;
      if (flags & INV_FRAG && rule.fragment) inv.fragment = true;
    }
    return rule as unknown as DecodedRule;
  }

  /**
   * The options of one match's or target's save text: parsed once per
   * distinct text and copied for each rule (the copies share the strings),
   * while the texts of that name repeat; a name whose texts rarely repeat
   * (a comment, a port) after 64 is parsed rule by rule.
   */
  #options(name: string, text: string): Option[] {
    let m = this.#memo.get(name);
    if (!m) this.#memo.set(name, (m = { seen: 0, hits: 0, parsed: new Map() }));
    if (m.seen >= 64 && m.hits * 8 < m.seen) return parseOptions(text);
    m.seen++;
    let t = m.parsed.get(text);
    if (t) m.hits++;
    else m.parsed.set(text, (t = parseOptions(text)));
    return copyOptions(t);
  }
}

interface OptionsMemo {
  seen: number;
  hits: number;
  parsed: Map<string, Option[]>;
}

/** A fresh list of fresh options, the same as `t` (strings are shared: they cannot change). */
function copyOptions(t: readonly Option[]): Option[] {
  const n = t.length;
  if (n === 1) {
    const o = t[0]!;
    return [{ name: o.name, values: o.values.slice(), invert: o.invert }];
  }
  const out: Option[] = [];
  for (let k = 0; k < n; k++) {
    const o = t[k]!;
    out.push({ name: o.name, values: o.values.slice(), invert: o.invert });
  }
  return out.length === 0 ? [] : out.slice();
}

/** The iptables words for a rule object (what you would type after `iptables -A CHAIN`). @internal */
export function ruleWords(rule: RuleInput): string[] {
  const w: string[] = [];
  const inv = rule.invert ?? {};
  const add = (neg: boolean | undefined, ...words: string[]) => {
    if (neg) w.push('!');
    w.push(...words);
  };
  if (rule.source !== undefined) add(inv.source, '-s', rule.source);
  if (rule.destination !== undefined) add(inv.destination, '-d', rule.destination);
  if (rule.inInterface !== undefined) add(inv.inInterface, '-i', rule.inInterface);
  if (rule.outInterface !== undefined) add(inv.outInterface, '-o', rule.outInterface);
  if (rule.protocol !== undefined) add(inv.protocol, '-p', String(rule.protocol));
  if (rule.fragment) add(inv.fragment, '-f');
  for (const m of rule.matches ?? []) {
    w.push('-m', m.name, ...optionWords(m.options));
  }
  const t = typeof rule.target === 'string' ? { name: rule.target } : rule.target;
  if (t) {
    w.push(t.kind === 'goto' ? '-g' : '-j', t.name, ...optionWords(t.options));
  }
  return w;
}

const kebabs = new Map<string, string>();
function kebab(name: string): string {
  let k = kebabs.get(name);
  if (k === undefined) {
    k = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    if (kebabs.size < 4096) kebabs.set(name, k);
  }
  return k;
}

function optionWords(options: OptionsInput | undefined): string[] {
  if (!options) return [];
  const w: string[] = [];
  if (Array.isArray(options)) {
    for (const o of options) {
      if (o.invert) w.push('!');
      if (o.name !== '') w.push(`--${o.name}`);
      w.push(...o.values);
    }
    return w;
  }
  for (const [key, raw] of Object.entries(options)) {
    if (raw === false || raw === undefined) continue;
    const isBox = typeof raw === 'object' && !Array.isArray(raw);
    const value = isBox ? raw.value : raw;
    if (isBox && raw.invert) w.push('!');
    w.push(`--${kebab(key)}`);
    if (value === true) continue;
    if (Array.isArray(value)) w.push(...value.map(String));
    else w.push(String(value));
  }
  return w;
}
