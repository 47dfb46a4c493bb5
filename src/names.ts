/**
 * The rules iptables applies to table and chain names, and where each
 * built-in chain may be used.
 */
import { argumentError, show } from './errors.js';

/**
 * A table iptables knows, and the only names Table.open and every other call
 * taking a table accept: the nf_tables backend uses the same five (the tables
 * iptables-nft makes), so there is no other name to give either way.
 * @example
 * ```ts
 * import { Table, type TableName } from 'iptc-node';
 * const name: TableName = process.argv[2] === 'nat' ? 'nat' : 'filter';
 * console.log((await Table.open(name)).chains().map((c) => c.name));
 * ```
 */
export type TableName = 'filter' | 'nat' | 'mangle' | 'raw' | 'security';
/**
 * The names of the five tables iptables knows (each a TableName).
 * @example
 * ```ts
 * import { TABLES, Table } from 'iptc-node';
 * for (const name of TABLES) console.log(name, (await Table.open(name)).exists);
 * ```
 */
export const TABLES: readonly TableName[] = ['filter', 'nat', 'mangle', 'raw', 'security'];

export function checkFamily(family: unknown): void {
  if (family !== undefined && family !== 'ipv4' && family !== 'ipv6') throw argumentError(`family must be 'ipv4' or 'ipv6', got ${show(family)}`);
}

/** iptables allows at most 28 characters (the kernel's label is 32 bytes, its error entry 30). */
export const MAX_CHAIN_NAME = 28;

export function checkTableName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !/^[a-z0-9_]{1,31}$/.test(name)) {
    throw argumentError(`table name must be one of ${TABLES.join(', ')}, got ${show(name)}`);
  }
}

/**
 * @internal A table name read from input (a restore text's `*table` line, the
 * command line's -t or -T) handed on where the API takes a TableName. It is
 * not checked here but where it is used, by the same run-time checks a
 * JavaScript caller's name meets (checkTableName: ERR_IPTC_ARGUMENT; a table
 * the kernel lacks: ERR_IPTC_ABSENT with `table` set, on nf_tables
 * ERR_IPTC_ARGUMENT), at the moment it always was: a restore commits the
 * blocks before a bad `*table` line and names that line.
 */
export function tableNameOf(word: string): TableName {
  return word as TableName;
}

/** Why `name` cannot be a new chain's name, or null when it can. */
export function badChainName(name: unknown): string | null {
  if (typeof name !== 'string') return `chain name must be a string, got ${typeof name}`;
  if (name.length === 0) return 'chain name must not be empty';
  if (name.includes('\0')) return 'chain name must not contain NUL bytes';
  // A lone surrogate has no UTF-8: the kernel would get U+FFFD, another name.
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(name)) return `chain name ${show(name)} is not valid Unicode (a lone surrogate)`;
  if (Buffer.byteLength(name) > MAX_CHAIN_NAME) {
    return `chain name '${name}' is too long (${Buffer.byteLength(name)} bytes, at most ${MAX_CHAIN_NAME})`;
  }
  if (name.startsWith('-') || name.startsWith('!')) return `chain name '${name}' must not start with '-' or '!'`;
  if (/\s/.test(name)) return `chain name '${name}' must not contain whitespace`;
  return null;
}

/** Built-in chains that see only incoming packets (no -o) or only outgoing ones (no -i). */
export function interfaceProblem(chain: string, hasIn: boolean, hasOut: boolean): string | null {
  if (hasOut && (chain === 'PREROUTING' || chain === 'INPUT')) return `can't use -o with ${chain}`;
  if (hasIn && (chain === 'POSTROUTING' || chain === 'OUTPUT')) return `can't use -i with ${chain}`;
  return null;
}
