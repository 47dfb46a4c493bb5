/**
 * The chain commands (-F, -N, -X, -E, -Z, -P) on a Table's state, with the
 * checks iptables makes: names, built-in chains, references, the nat
 * table's policies. Table (table.ts) names them as iptables does.
 * @internal
 */
import { argumentError, IptcError, show } from './errors.js';
import { badChainName } from './names.js';
import type { Counters } from './rule.js';
import { checkCounters } from './rulewords.js';
import type { Policy } from './snapshot.js';
import type { TableState } from './table-state.js';

/** -F: removes every rule of one chain, or of every chain. */
export function flushChains(s: TableState, chain?: string): void {
  s.mutable();
  for (const c of chain === undefined ? s.snap.chains : [s.naming(chain)]) s.snap.flush(c);
  s.changes++;
}

/** -N: creates an empty user chain. */
export function createChain(s: TableState, name: string): void {
  s.mutable();
  const bad = badChainName(name);
  if (bad) throw argumentError(bad, { table: s.table, chain: String(name) });
  if (s.snap.find(name)) throw new IptcError(`chain '${name}' already exists`, { code: 'ERR_IPTC_EXISTS', table: s.table, chain: name });
  if (s.isTargetName(name)) throw argumentError(`chain name '${name}' may not clash with a target name`, { table: s.table, chain: name });
  s.snap.createChain(name);
  s.changes++;
}

/** -X: deletes an empty, unreferenced user chain; with no name, every user chain. */
export function deleteChains(s: TableState, name?: string): void {
  s.mutable();
  const targets = name === undefined ? s.snap.chains.filter((c) => !c.builtin) : [s.need(name)];
  const going = new Set(targets);
  for (const c of targets) {
    if (c.builtin) throw argumentError(`can't delete built-in chain ${c.name}`, { table: s.table, chain: c.name });
    if (c.length > 0) throw argumentError(`chain ${c.name} is not empty (flush it first)`, { table: s.table, chain: c.name });
    const ref = s.snap.firstReference(c.id, (o) => going.has(o) && o.length === 0);
    if (ref) {
      throw argumentError(`chain ${c.name} is still referenced (rule ${ref[1] + 1} of ${ref[0].name})`, { table: s.table, chain: c.name });
    }
  }
  for (const c of targets) s.snap.deleteChain(c);
  if (targets.length) s.changes++;
  if (name === undefined && s.backend.name === 'nft') {
    // iptables-nft's -X also removes the base chains that hold no rules and accept.
    s.snap.dropIdleBaseChains = true;
    s.snap.wantBaseChains.clear();
    s.changes++;
  }
}

/**
 * -E: renames a user chain; rules that jump to it follow. As iptables, the
 * new name may be a target's (LOG); unlike iptables 1.8.9, not one with
 * blanks (its own iptables-save text of such a table does not restore).
 */
export function renameChain(s: TableState, from: string, to: string): void {
  s.mutable();
  const c = s.need(from);
  if (c.builtin) throw argumentError(`can't rename built-in chain ${from}`, { table: s.table, chain: from });
  const bad = badChainName(to);
  if (bad) throw argumentError(bad, { table: s.table, chain: String(to) });
  if (s.snap.find(to)) throw new IptcError(`chain '${to}' already exists`, { code: 'ERR_IPTC_EXISTS', table: s.table, chain: to });
  s.snap.renameChain(c, to);
  s.changes++;
}

/** -Z: zeroes the counters of every chain, one chain, or one rule (1-based). */
export function zeroCounters(s: TableState, chain?: string, position?: number): void {
  s.mutable();
  if (position !== undefined) {
    if (chain === undefined) throw argumentError('zeroing one rule needs its chain');
    const c = s.existing(chain);
    s.checkPosition(c, position, c.length, 'zero');
    s.snap.store.zero(c.at(position - 1));
  } else {
    for (const c of chain === undefined ? s.snap.chains : [s.existing(chain)]) s.snap.zero(c);
  }
  s.changes++;
}

/** -P: sets a built-in chain's policy (ACCEPT or DROP), optionally with its counters. */
export function setPolicy(s: TableState, chain: string, target: Policy, counters?: Partial<Counters>): void {
  s.mutable();
  const c = s.naming(chain);
  if (!c.builtin) throw argumentError(`only built-in chains have a policy; ${chain} is a user chain`, { table: s.table, chain });
  if (target !== 'ACCEPT' && target !== 'DROP') {
    throw argumentError(`bad policy ${show(target)}: must be ACCEPT or DROP`, { table: s.table, chain });
  }
  if (s.table === 'nat' && target === 'DROP') {
    throw argumentError('the nat table is not intended for filtering: DROP is not allowed as a policy there', { table: s.table, chain });
  }
  s.snap.setPolicy(c, target, counters ? checkCounters(counters) : undefined);
  s.changes++;
}
