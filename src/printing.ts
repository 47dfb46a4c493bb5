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

/** The rules of a chain, printed: specs, counters, fields. */
export function sourceOf(s: Snapshot, c: ChainState): RuleSource {
  s.store.parsePending();
  return new RuleSource(s.store.family, native.describeRules(s.store.family, s.plan([c])));
}

/** The rules of a chain, as rule objects. */
export function rulesOf(s: Snapshot, c: ChainState): DecodedRule[] {
  if (c.length === 0) return [];
  const src = sourceOf(s, c);
  return Array.from({ length: src.count }, (_, i) => src.decode(i));
}

/**
 * Per rule of a chain: what `iptables -L -n` prints after its addresses,
 * the kernel's name of its extension target ('' for a verdict or jump), and
 * its protocol number.
 */
export function listingOf(s: Snapshot, c: ChainState): { extras: string[]; targets: string[]; protos: Uint16Array } {
  if (c.length === 0) return { extras: [], targets: [], protos: new Uint16Array(0) };
  s.store.parsePending();
  const out = native.listRules(s.store.family, s.plan([c]));
  const n = out.protos.length;
  const extras = out.text.split('\0');
  const targets = out.targets.split('\0');
  extras.length = targets.length = n;
  return { extras, targets, protos: out.protos };
}

/** The `-A` lines of the whole table, as iptables-save prints them (`[p:b] ` first with counters). */
export function ruleLines(s: Snapshot, counters: boolean): string {
  s.store.parsePending();
  return native.saveRules(s.store.family, s.plan(), counters);
}
