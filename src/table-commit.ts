/**
 * Writing a Table's snapshot back (commit), checking it with the kernel
 * (validate) and reading it again (reload), on its state. A failed commit is
 * explained by commit-errors.ts: the chain and rule to blame.
 * @internal
 */
import { present, type AbortSignalLike, type CommitOptions } from './table-options.js';
import { explainCommitErrorWithRule, explainCommitErrorWithRuleSync } from './commit-errors.js';
import { debug, tracing } from './debug.js';
import { abortError, argumentError, checkSignal } from './errors.js';
import { acquireLock, checkTimeout, lockPath, releaseLock } from './lock.js';
import { withNetnsFd } from './netns.js';
import type { TableState } from './table-state.js';
import { validateSnapshot, validateSnapshotSync, type Validation } from './validate.js';
import { checkOptionsObject } from './words.js';

function commitRequest(s: TableState, options: CommitOptions) {
  checkOptionsObject(options, 'commit options', ['lockTimeout', 'signal']);
  checkSignal(options.signal, `the commit of ${s.table}`);
  s.mutable();
  const timeout = checkTimeout(options.lockTimeout);
  if (s.detached) {
    throw argumentError(`this ${s.table} snapshot was made in memory (from text) and cannot be committed; plan() and apply() it onto a snapshot read from the kernel`, {
      table: s.table,
    });
  }
  return {
    family: s.family,
    table: s.table,
    snapshot: s.snap,
    base: s.base,
    lockPath: s.lockHeld ? '' : lockPath(),
    readUnderLock: s.lockHeld,
    lockTimeoutMs: timeout,
    forChange: s.forChange,
  };
}

function traced(s: TableState, t0: number): void {
  if (!tracing()) return;
  const rules = s.snap.chains.reduce((n, c) => n + c.length, 0);
  debug('commit %s %s (%s): %d chains, %d rules, %d changes, %s ms', s.family, s.table, s.backend.name, s.snap.chains.length, rules, s.changes, (performance.now() - t0).toFixed(1));
}

export async function commitTable(s: TableState, options: CommitOptions): Promise<void> {
  const t0 = performance.now();
  const req = commitRequest(s, options);
  // With a signal, the lock is waited for here, on timers, where the wait can be given up.
  const held = options.signal && req.lockPath ? await acquireLock(req.lockTimeoutMs, options.signal) : -1;
  try {
    s.snap.store.warn([await withNetnsFd(s.netns, (netnsFd) => s.backend.commit({ ...req, ...(held >= 0 ? { lockPath: '' } : {}), netnsFd }, true))]);
  } catch (e) {
    throw await explainCommitErrorWithRule(e, s.table, s.snap, () => validateTable(s));
  } finally {
    if (held >= 0) releaseLock(held);
  }
  traced(s, t0);
  s.spent = true;
  s.changes = 0;
}

export function commitTableSync(s: TableState, options: CommitOptions): void {
  const t0 = performance.now();
  const req = commitRequest(s, options);
  try {
    s.snap.store.warn([withNetnsFd(s.netns, (netnsFd) => s.backend.commit({ ...req, netnsFd }, false))]);
  } catch (e) {
    throw explainCommitErrorWithRuleSync(e, s.table, s.snap, () => validateTableSync(s));
  }
  traced(s, t0);
  s.spent = true;
  s.changes = 0;
}

export function validateTable(s: TableState, options: { signal?: AbortSignalLike } = {}): Promise<Validation> {
  checkOptionsObject(options, 'validate options', ['signal']);
  const { signal } = options;
  checkSignal(signal, `the validation of ${s.table}`);
  const run = validateSnapshot(s.family, s.table, s.snap, s.backend.name);
  if (!signal) return run;
  // The check runs in a scratch namespace of its own: given up, it finishes there unseen.
  return new Promise<Validation>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal, `the validation of ${s.table}`));
    signal.addEventListener('abort', onAbort, { once: true });
    run.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export function validateTableSync(s: TableState): Validation {
  return validateSnapshotSync(s.family, s.table, s.snap, s.backend.name);
}

function fromKernel(s: TableState): void {
  if (s.detached) throw argumentError(`this ${s.table} snapshot was made in memory (from text): there is no kernel table to read it from`, { table: s.table });
}

export async function reloadTable(s: TableState): Promise<void> {
  fromKernel(s);
  const r = await withNetnsFd(s.netns, (fd) => s.backend.read(s.family, s.table, fd, false, true));
  s.reset(present(r, s.table, s.family, 'empty'));
  s.adopt(r);
}

export function reloadTableSync(s: TableState): void {
  fromKernel(s);
  const r = withNetnsFd(s.netns, (fd) => s.backend.read(s.family, s.table, fd, false, false));
  s.reset(present(r, s.table, s.family, 'empty'));
  s.adopt(r);
}
