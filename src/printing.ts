/**
 * Rules out of a snapshot, printed by the addon exactly as iptables-save
 * prints them: the whole table as text in one call, a chain's rules as rule
 * objects, rules' specs to compare them (-C, -D by rule, diff). Rules given
 * as words are parsed first (on this thread: reading them back needs them).
 */
import { native } from './native.js';
import { RuleSource, type DecodedRule } from './rule.js';
import type { ChainState, Snapshot } from './snapshot.js';

/** The specs of these rules (printed once, then remembered). */
export function specsOf(s: Snapshot, refs: readonly number[]): string[] {
  const out = refs.map((r) => s.store.spec(r));
  const todo = refs.filter((_, k) => out[k] === undefined);
  if (todo.length) {
    if (todo.some((r) => s.store.isPending(r))) s.store.parsePending();
    s.store.rememberSpecs(todo, native.describeRules(s.store.family, s.plan(todo)));
    refs.forEach((r, k) => (out[k] ??= s.store.spec(r)));
  }
  return out as string[];
}

/** The rules of a chain, as rule objects. */
export function rulesOf(s: Snapshot, c: ChainState): DecodedRule[] {
  if (c.length === 0) return [];
  s.store.parsePending();
  const cols = native.describeRules(s.store.family, s.plan([c]));
  const src = new RuleSource(s.store.family, cols);
  return Array.from({ length: src.count }, (_, i) => src.decode(i));
}

/** The `-A` lines of the whole table, as iptables-save prints them (`[p:b] ` first with counters). */
export function ruleLines(s: Snapshot, counters: boolean): string {
  s.store.parsePending();
  return native.saveRules(s.store.family, s.plan(), counters);
}
