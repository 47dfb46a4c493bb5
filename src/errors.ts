/**
 * Every failure iptc-node reports is an IptcError, shaped like Node's
 * SystemError: `code` ('EPERM', 'ENOENT', or one of ours, 'ERR_IPTC_*'),
 * `errno` where the kernel gave one, `syscall` (or the library call), and
 * where it applies the chain, rule position and restore line.
 */
/**
 * Every code of iptc-node's own, with what it means. README's list of codes
 * is this one (test/errors.test.ts checks that the two, and every code the
 * source can raise, agree).
 */
export const IPTC_ERROR_CODES = {
  ERR_IPTC_PARSE: 'a rule, option or restore line that cannot be understood (the line is named)',
  ERR_IPTC_ARGUMENT: 'a bad argument to a call: a wrong type, an unknown option, a bad name or position, a change iptables forbids',
  ERR_IPTC_NO_CHAIN: 'a chain the table does not have',
  ERR_IPTC_NO_RULE: 'a rule the chain does not have (given by its spec, or a position past its end)',
  ERR_IPTC_EXISTS: 'a chain the table has already (-N, -E)',
  ERR_IPTC_ABSENT: 'a table that does not exist in the namespace (ifMissing: "error")',
  ERR_IPTC_CONFLICT: 'the table changed in the kernel since the snapshot was read; nothing was committed',
  ERR_IPTC_LOCK_TIMEOUT: 'the xtables lock was not had within lockTimeout',
  ERR_IPTC_SPENT: 'the snapshot was committed already (reload it)',
  ERR_IPTC_COMMIT: 'the kernel refused the new table (the rule is named); nothing was committed',
  ERR_IPTC_READONLY: 'a table that cannot be written here (nf_tables: it holds what iptables cannot show)',
  ERR_IPTC_NO_LEGACY: 'the kernel has no legacy xtables for the family (no ip_tables module)',
  ERR_IPTC_NETNS: 'a network namespace that is closed, gone, or not one',
  ERR_IPTC_DECODE: 'a kernel entry libxtables cannot print',
  ERR_IPTC_XTABLES: 'libxtables could not be initialised',
  ERR_IPTC_NATIVE: 'the native addon could not be loaded',
  ERR_IPTC_CLOSED: 'a CounterReader used after close()',
  ERR_IPTC_BUSY: 'a CounterReader read while its last read is running',
  ERR_IPTC_SYSTEM: 'a system call failed with an errno not listed below (errno says which)',
  ABORT_ERR: "the call's AbortSignal fired before the commit began (Node's code for it; `cause` is the signal's reason)",
} as const;

/** The errno names a kernel or system call here can fail with; any other is ERR_IPTC_SYSTEM, with its errno. */
export const ERRNO_CODES = [
  'EPERM', 'EACCES', 'ENOENT', 'ESRCH', 'EINTR', 'EIO', 'EBADF', 'EAGAIN', 'ENOMEM', 'EFAULT', 'EBUSY', 'EEXIST',
  'ENODEV', 'EINVAL', 'ENFILE', 'EMFILE', 'ENOSPC', 'ERANGE', 'ELOOP', 'EMSGSIZE', 'ENOPROTOOPT',
  'EPROTONOSUPPORT', 'EOPNOTSUPP', 'EAFNOSUPPORT', 'ENOBUFS', 'ETIMEDOUT', 'EPROTO', 'EOVERFLOW', 'ENOTSUP',
] as const;

/** `err.code`: one of iptc-node's codes, or an errno name. */
export type IptcErrorCode = keyof typeof IPTC_ERROR_CODES | (typeof ERRNO_CODES)[number];

const KNOWN_CODES = new Set<string>([...Object.keys(IPTC_ERROR_CODES), ...ERRNO_CODES]);

export interface IptcErrorDetails {
  code: IptcErrorCode;
  errno?: number;
  syscall?: string;
  table?: string;
  chain?: string;
  /** 1-based rule position in the chain, as iptables numbers rules. */
  position?: number;
  /** The rule, in iptables-save syntax. */
  rule?: string;
  /** 1-based line of restore input. */
  line?: number;
  /** Which op of a commit failed, and which rule within it (internal, native side). */
  index?: number;
  item?: number;
}

/**
 * Every failure iptc-node reports: `code` (see IptcErrorCode), `errno` and
 * `syscall` where the kernel gave them, and where they apply the table,
 * chain, 1-based position, rule and restore line.
 * @example
 * ```ts
 * import { IptcError, isIptcError, Table } from 'iptc-node';
 * try {
 *   await Table.update('filter', {}, (t) => t.delete('INPUT', '-s 192.0.2.7 -j DROP'));
 * } catch (e) {
 *   if (!(e instanceof IptcError) || e.code !== 'ERR_IPTC_NO_RULE') throw e;
 * }
 * ```
 */
export class IptcError extends Error {
  // (declare: only the fields that apply become properties of an error, as the constructor sets them.)
  declare code: IptcErrorCode;
  declare errno?: number;
  declare syscall?: string;
  declare table?: string;
  declare chain?: string;
  declare position?: number;
  declare rule?: string;
  declare line?: number;
  declare index?: number;
  declare item?: number;

  constructor(message: string, details: IptcErrorDetails) {
    super(message);
    this.name = 'IptcError';
    for (const [k, v] of Object.entries(details)) if (v !== undefined) (this as Record<string, unknown>)[k] = v;
    // (The addon names an errno as it comes: a rare one becomes ERR_IPTC_SYSTEM, its errno kept.)
    this.code = KNOWN_CODES.has(details.code) ? details.code : 'ERR_IPTC_SYSTEM';
  }
}

/** Rejects as Node's own calls do when their AbortSignal fires: code ABORT_ERR, the reason as cause. @internal */
export function abortError(signal: { reason?: unknown }, what: string): IptcError {
  const e = new IptcError(`${what} was aborted`, { code: 'ABORT_ERR' });
  (e as { cause?: unknown }).cause = signal.reason;
  return e;
}

/** Throws abortError when the signal has fired (a signal of the wrong type is ERR_IPTC_ARGUMENT). @internal */
export function checkSignal(signal: { aborted: boolean; reason?: unknown } | undefined, what: string): void {
  if (signal === undefined) return;
  // (Structural, as the declarations say: any AbortSignal fits, Node's, the DOM's or a polyfill's.)
  const s = signal as { aborted?: unknown; addEventListener?: unknown } | null;
  if (typeof s !== 'object' || s === null || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function') {
    throw argumentError(`signal must be an AbortSignal, got ${show(signal)}`);
  }
  if (signal.aborted) throw abortError(signal, what);
}

/** @internal */
export function argumentError(message: string, details: Omit<IptcErrorDetails, 'code'> = {}): IptcError {
  return new IptcError(message, { code: 'ERR_IPTC_ARGUMENT', ...details });
}

/**
 * Whether `e` is an IptcError (the same class for import and require).
 * @example
 * ```ts
 * import { IptcError, isIptcError, Table } from 'iptc-node';
 * await Table.open('nat', { ifMissing: 'error' }).catch((e: unknown) => {
 *   if (isIptcError(e) && e.code === 'ERR_IPTC_ABSENT') return null;
 *   throw e;
 * });
 * ```
 */
export function isIptcError(e: unknown): e is IptcError {
  return e instanceof IptcError;
}

/** Adds context (line, chain, ...) to an IptcError and prefixes its message. @internal */
export function withContext(e: unknown, prefix: string, details: Partial<IptcErrorDetails>): unknown {
  if (!(e instanceof IptcError)) return e;
  e.message = `${prefix}: ${e.message}`;
  for (const [k, v] of Object.entries(details)) if (v !== undefined) (e as unknown as Record<string, unknown>)[k] = v;
  return e;
}

/** A value as an error message quotes it (JSON where possible: bigints and cycles too). @internal */
export function show(x: unknown): string {
  try {
    const j = JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    return j === undefined ? String(x) : j.length > 80 ? `${j.slice(0, 77)}...` : j;
  } catch {
    return Object.prototype.toString.call(x);
  }
}
