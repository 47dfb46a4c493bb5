/**
 * The xtables lock: the flock(2) on /run/xtables.lock (or
 * $XTABLES_LOCKFILE) that iptables, iptables-restore and iptc-node hold
 * while they read, change and commit a table.
 */
import { IptcError, argumentError, checkSignal } from './errors.js';
import { native } from './native.js';

export const DEFAULT_LOCK_TIMEOUT = 10_000;

export function lockPath(): string {
  const p = process.env.XTABLES_LOCKFILE;
  return p ? p : '/run/xtables.lock';
}

export function checkTimeout(t: number | undefined): number {
  if (t === undefined) return DEFAULT_LOCK_TIMEOUT;
  if (typeof t !== 'number') throw argumentError(`lockTimeout must be a number of ms, got ${typeof t}`);
  if (!Number.isInteger(t) || t < -1 || t > 2 ** 31 - 1) throw argumentError(`lockTimeout must be an integer number of ms (-1 for forever), got ${t}`);
  return t;
}

function timedOut(path: string, timeoutMs: number): IptcError {
  return new IptcError(`another process holds the xtables lock ${path} (waited ${timeoutMs} ms; raise lockTimeout to wait longer)`, {
    code: 'ERR_IPTC_LOCK_TIMEOUT',
    errno: 11,
    syscall: 'flock',
  });
}

/**
 * Takes the lock, waiting on timers, not in a pool thread: a thread blocked
 * on the lock could starve the very read and commit the holder needs to
 * finish (libuv has four). Returns the fd that holds it (see releaseLock).
 */
export async function acquireLock(timeoutMs: number, signal?: { aborted: boolean; reason?: unknown }): Promise<number> {
  const path = lockPath();
  const deadline = Date.now() + (timeoutMs < 0 ? 0 : timeoutMs);
  for (let pause = 1; ; pause = Math.min(pause * 2, 20)) {
    checkSignal(signal, 'waiting for the xtables lock');
    const fd = native.lockTry(path);
    if (fd >= 0) return fd;
    if (timeoutMs >= 0 && Date.now() >= deadline) throw timedOut(path, timeoutMs);
    await new Promise((r) => setTimeout(r, pause));
  }
}

export function acquireLockSync(timeoutMs: number): number {
  return native.lockAcquire(lockPath(), timeoutMs, false);
}

export function releaseLock(fd: number): void {
  native.lockRelease(fd);
}
