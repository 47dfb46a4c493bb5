/**
 * Rule.parse() and formatRule(): iptables words in, rule objects out, and
 * back. Parsing goes through libxtables, so what comes back is exactly what
 * the kernel would hold and formatRule() prints it as iptables-save would.
 */
import { withContext, argumentError, show } from './errors.js';
import { native, type FamilyName, type NativePlan } from './native.js';
import type { TableName } from './names.js';
import { jumpWord } from './rulewords.js';
import { CounterMode } from './store.js';
import { RuleSource, ruleWords, SPEC, type DecodedRule, type RuleInput, type Rule as RuleShape } from './rule.js';
import { checkOptionsObject, checkWordList, joinWords, splitWords } from './words.js';

export interface ParseOptions {
  family?: FamilyName;
  /** Some checks depend on the table (no DROP in nat). Default filter. */
  table?: TableName;
  /** Names to treat as user chains for -j/-g (a jump to a chain that is not a target). */
  chains?: Iterable<string>;
}

/**
 * Parses one rule (the words after `iptables -A CHAIN`). Returns one rule per
 * address when -s/-d list several, as iptables adds one rule for each.
 * @example
 * ```ts
 * import { parseRules } from 'iptc-node';
 * const rules = parseRules('-s 10.0.0.1,10.0.0.2 -j DROP'); // two rules, one per address
 * ```
 */
export function parseRules(spec: string | readonly string[], options: ParseOptions = {}): DecodedRule[] {
  checkOptionsObject(options, 'parse options', ['family', 'table', 'chains']);
  const family = options.family ?? 'ipv4';
  if (family !== 'ipv4' && family !== 'ipv6') throw argumentError(`family must be 'ipv4' or 'ipv6', got ${show(family)}`);
  if (options.table !== undefined && typeof options.table !== 'string') throw argumentError('parse options: table must be a string');
  if (typeof spec !== 'string' && !Array.isArray(spec)) throw argumentError(`a rule must be a string or a list of words, got ${spec === null ? 'null' : typeof spec}`);
  const words = typeof spec === 'string' ? splitWords(spec) : checkWordList(spec);
  if (options.chains !== undefined && (options.chains === null || typeof (options.chains as Iterable<string>)[Symbol.iterator] !== 'function')) {
    throw argumentError('parse options: chains must be a list of chain names');
  }
  const chains = new Set(options.chains ?? []);
  const j = jumpWord(words);
  // Without a table, -g NAME can only name a chain.
  const chain = j !== undefined && (chains.has(j.name) || j.goto) ? j.name : undefined;
  let parsed;
  try {
    parsed = native.parseRules(family, options.table ?? 'filter', words.join('\0'), Uint32Array.of(words.length), Uint8Array.of(chain !== undefined ? 1 : 0));
  } catch (e) {
    throw withContext(e, 'bad rule', { rule: joinWords(words) });
  }
  const n = parsed.offsets.length;
  const plan: NativePlan = {
    pools: [{ bytes: parsed.bytes, offsets: parsed.offsets, jumps: new Int32Array(n).fill(chain !== undefined ? 0 : -1) }],
    chains: chain !== undefined ? [[chain, -1, 0, CounterMode.Zero, 0n, 0n, -1, 0]] : [],
    runs: Uint32Array.of(0, 0, n),
    chainIndex: Int32Array.of(0),
  };
  const src = new RuleSource(family, native.describeRules(family, plan));
  return Array.from({ length: src.count }, (_, i) => src.decode(i));
}

/**
 * Parses one rule that must come out as a single kernel rule.
 * @example
 * ```ts
 * import { parseRule } from 'iptc-node';
 * const r = parseRule('-p tcp --dport 22 -j ACCEPT', { family: 'ipv6' });
 * console.log(r.matches[0]?.options); // [{ name: 'dport', values: ['22'], invert: false }]
 * ```
 */
export function parseRule(spec: string | readonly string[], options: ParseOptions = {}): DecodedRule {
  const rules = parseRules(spec, options);
  if (rules.length !== 1) throw argumentError(`the rule lists several addresses and makes ${rules.length} rules; use parseRules()`);
  return rules[0]!;
}

export interface FormatOptions {
  /** Print `-A CHAIN` first, as iptables-save does. */
  chain?: string;
  /** Print `[packets:bytes] ` first, as iptables-save -c does. */
  counters?: boolean;
}

/**
 * A rule as iptables-save prints it. Rules read from a table or parsed by
 * parseRule() print exactly as iptables-save would; other objects print as
 * the words that would make them.
 * @example
 * ```ts
 * import { parseRule, formatRule } from 'iptc-node';
 * formatRule(parseRule('-p tcp --dport 22 -j ACCEPT'), { chain: 'INPUT' }); // '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT'
 * ```
 */
export function formatRule(rule: RuleShape | RuleInput, options: FormatOptions = {}): string {
  const spec = (rule as Partial<DecodedRule>)[SPEC] ?? ` ${joinWords(ruleWords(rule as RuleInput))}`;
  let s = options.chain !== undefined ? `-A ${options.chain}${spec}` : spec.slice(1);
  if (options.counters) {
    const c = rule.counters ?? {};
    s = `[${c.packets ?? 0n}:${c.bytes ?? 0n}] ${s}`;
  }
  return s;
}

/**
 * Rule.parse / Rule.parseAll / Rule.format: parseRule, parseRules and formatRule on one object.
 * @example
 * ```ts
 * import { Rule } from 'iptc-node';
 * const line = Rule.format(Rule.parse('-i eth0 -j DROP')); // '-i eth0 -j DROP'
 * ```
 */
export const Rule = { parse: parseRule, parseAll: parseRules, format: formatRule };
/** A rule as read from the kernel (see rule.ts). */
export type Rule = RuleShape;
