/**
 * A rule given to a snapshot (-A, -I, -R) becomes references into its rule
 * store: parsed now, or kept as words to be parsed at commit, all at once,
 * off the event loop. A rule given to -C or -D is parsed now and compared by
 * its spec. What the words alone tell is checked first, as iptables does.
 */
import { IptcError, withContext } from './errors.js';
import { interfaceProblem } from './names.js';
import type { Origin } from './pending.js';
import { specsOf } from './printing.js';
import { interfacesGiven, jumpWord, maySplit, ruleInputWords, type RuleSpec } from './rulewords.js';
import type { Snapshot } from './snapshot.js';
import { joinWords } from './words.js';

/**
 * The references of a rule given to `chain` (several when -s/-d list several
 * addresses). With `later` (where it comes from), a rule that makes one
 * entry is kept as words; without, it is parsed now.
 */
export function ruleRefs(snap: Snapshot, table: string, chain: string, rule: RuleSpec, later: Origin | undefined): number[] {
  const { words, counters } = ruleInputWords(rule, table, chain);
  checkInterfaces(table, chain, words);
  const j = jumpWord(words);
  const target = j ? snap.find(j.name) : undefined;
  if (target?.builtin) {
    throw new IptcError(`cannot ${j!.goto ? 'go' : 'jump'} to built-in chain ${j!.name}`, { code: 'ERR_IPTC_PARSE', table, chain, rule: joinWords(words) });
  }
  const jump = target ? target.id : -1;
  if (later && !maySplit(words)) return [snap.store.addPending(words, target !== undefined, jump, counters, later)];
  try {
    return snap.store.addParsed(words, target !== undefined, jump, counters).refs;
  } catch (e) {
    throw withContext(e, `bad rule for chain ${chain}`, { table, chain, rule: joinWords(words) });
  }
}

/** The specs of a rule given to -C/-D, to compare with the chain's. */
export function ruleSpecs(snap: Snapshot, table: string, chain: string, rule: RuleSpec): string[] {
  const { words } = ruleInputWords(rule, table, chain);
  checkInterfaces(table, chain, words);
  const j = jumpWord(words);
  const target = j ? snap.find(j.name) : undefined;
  let refs: number[];
  try {
    refs = snap.store.addParsed(words, target !== undefined, target ? target.id : -1, undefined).refs;
  } catch (e) {
    throw withContext(e, `bad rule for chain ${chain}`, { table, chain, rule: joinWords(words) });
  }
  return specsOf(snap, refs);
}

/** -i/-o given to a built-in chain that has no such interface, refused for every rule command, as iptables does. */
function checkInterfaces(table: string, chain: string, words: string[]): void {
  const given = interfacesGiven(words);
  const problem = interfaceProblem(chain, given.in, given.out);
  if (problem) throw new IptcError(problem, { code: 'ERR_IPTC_PARSE', table, chain, rule: joinWords(words) });
}
