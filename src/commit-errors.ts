/**
 * What a failed commit says: the native layer reports which rule of the plan
 * (every chain's rules in order) or which pending rule is to blame, or that
 * the kernel refused the table; this names the chain and position, and for a
 * refused table asks the kernel (validate(), in a scratch namespace) which
 * rule it was.
 */
import { IptcError, withContext } from './errors.js';
import type { Snapshot } from './snapshot.js';
import type { Problem, Validation } from './validate.js';

export function explainCommitError(e: unknown, table: string, snap: Snapshot): unknown {
  if (!(e instanceof IptcError)) return e;
  e.table = table;
  if (e.code === 'ERR_IPTC_PARSE' && e.index !== undefined) return snap.store.explainPending(e);
  if (e.index !== undefined) {
    let k = e.index;
    delete e.index;
    for (const c of snap.chains) {
      if (k < c.length) return withContext(e, `rule ${k + 1} of chain ${c.name}`, { chain: c.name, position: k + 1 });
      k -= c.length;
    }
    return e;
  }
  if (e.syscall === 'setsockopt' && !e.code.startsWith('ERR_IPTC_')) {
    e.code = 'ERR_IPTC_COMMIT';
    e.message = `the kernel refused the new ${table} table (${e.message}); nothing was changed`;
  }
  return e;
}

/** For a table the kernel refused as a whole: which rule it was, from a check in a scratch namespace. */
function needsCulprit(e: unknown): e is IptcError {
  return e instanceof IptcError && e.code === 'ERR_IPTC_COMMIT' && e.position === undefined;
}

function nameCulprit(out: IptcError, culprit: Problem | undefined): void {
  if (!culprit || culprit.position <= 0) return;
  out.chain = culprit.chain;
  out.position = culprit.position;
  out.rule = culprit.rule;
  out.message += `: rule ${culprit.position} of chain ${culprit.chain} is the one refused: -A ${culprit.chain} ${culprit.rule}`;
}

/** explainCommitError, and for a table the kernel refused, the rule it refused. */
export async function explainCommitErrorWithRule(e: unknown, table: string, snap: Snapshot, validate: () => Promise<Validation>): Promise<unknown> {
  const out = explainCommitError(e, table, snap);
  if (needsCulprit(out)) {
    // (No scratch namespace to be had, without CAP_SYS_ADMIN: the message stands without a rule.)
    nameCulprit(out, await validate().then((v) => v.problems[0], () => undefined));
  }
  return out;
}

/** The same on the calling thread (commitSync): the same error, the rule named the same way. */
export function explainCommitErrorWithRuleSync(e: unknown, table: string, snap: Snapshot, validate: () => Validation): unknown {
  const out = explainCommitError(e, table, snap);
  if (needsCulprit(out)) {
    let culprit: Problem | undefined;
    try {
      culprit = validate().problems[0];
    } catch {
      // as above
    }
    nameCulprit(out, culprit);
  }
  return out;
}
