/**
 * Every failure iptc-node reports is an IptcError, shaped like Node's
 * SystemError: `code` ('EPERM', 'ENOENT', or one of ours, 'ERR_IPTC_*'),
 * `errno` where the kernel gave one, `syscall` (or the library call), and
 * where it applies the chain, rule position and restore line.
 */
export type IptcErrorCode =
  | 'ERR_IPTC_PARSE' // a rule, option or restore line that cannot be understood
  | 'ERR_IPTC_ARGUMENT' // a bad argument to an API call (unknown chain, bad position, ...)
  | 'ERR_IPTC_CONFLICT' // the table changed in the kernel since the snapshot was read
  | 'ERR_IPTC_LOCK_TIMEOUT' // the xtables lock could not be had in time
  | 'ERR_IPTC_SPENT' // the snapshot was already committed
  | 'ERR_IPTC_COMMIT' // the kernel refused the new table
  | 'ERR_IPTC_NETNS' // a namespace that is closed, gone, or not a network namespace
  | 'ERR_IPTC_DECODE' // a kernel entry libxtables cannot print
  | 'ERR_IPTC_XTABLES' // libxtables could not be initialised
  | 'ERR_IPTC_NATIVE' // the addon could not be loaded
  | 'ERR_IPTC_READONLY' // a table that cannot be written here (nf_tables: it holds what iptables cannot show)
  | (string & {}); // errno names: 'EPERM', 'ENOENT', ...

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

export class IptcError extends Error {
  code: IptcErrorCode;
  errno?: number;
  syscall?: string;
  table?: string;
  chain?: string;
  position?: number;
  rule?: string;
  line?: number;
  index?: number;
  item?: number;

  constructor(message: string, details: IptcErrorDetails) {
    super(message);
    this.name = 'IptcError';
    this.code = details.code;
    for (const [k, v] of Object.entries(details)) if (v !== undefined) (this as Record<string, unknown>)[k] = v;
  }
}

export function argumentError(message: string, details: Omit<IptcErrorDetails, 'code'> = {}): IptcError {
  return new IptcError(message, { code: 'ERR_IPTC_ARGUMENT', ...details });
}

export function isIptcError(e: unknown): e is IptcError {
  return e instanceof IptcError;
}

/** Adds context (line, chain, ...) to an IptcError and prefixes its message. */
export function withContext(e: unknown, prefix: string, details: Partial<IptcErrorDetails>): unknown {
  if (!(e instanceof IptcError)) return e;
  e.message = `${prefix}: ${e.message}`;
  for (const [k, v] of Object.entries(details)) if (v !== undefined) (e as unknown as Record<string, unknown>)[k] = v;
  return e;
}

/** A value as an error message quotes it (JSON where possible: bigints and cycles too). */
export function show(x: unknown): string {
  try {
    const j = JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    return j === undefined ? String(x) : j.length > 80 ? `${j.slice(0, 77)}...` : j;
  } catch {
    return Object.prototype.toString.call(x);
  }
}
