/**
 * JSON for what iptc-node returns. Counters are 64-bit and stay bigint in
 * memory; in JSON they are decimal strings (a JSON number past 2^53 loses
 * digits in most parsers). Rule objects, chains and counter reads have
 * toJSON, so JSON.stringify works on them as they are; `jsonReplacer` does
 * the same for anything else holding bigints (a diff, a plan's counters).
 */

/**
 * A JSON.stringify replacer: bigints as decimal strings, BigUint64Array and
 * BigInt64Array as arrays of them.
 * @example
 * ```ts
 * import { Table, diff, jsonReplacer } from 'iptc-node';
 * const d = await diff(await Table.open('filter'), '*filter\n:INPUT DROP [0:0]\nCOMMIT\n');
 * console.log(JSON.stringify(d, jsonReplacer));
 * ```
 */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return String(value);
  if (value instanceof BigUint64Array || value instanceof BigInt64Array) return Array.from(value, String);
  return value;
}

/** `value` with every bigint as jsonReplacer writes it: what toJSON methods return. */
export function jsonable(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, jsonReplacer)) as unknown;
}

/** Gives a plain object a toJSON that is not one of its fields (spread and toEqual do not see it). */
export function withToJSON<T extends object>(o: T): T {
  Object.defineProperty(o, 'toJSON', { value: () => jsonable({ ...o }), enumerable: false });
  return o;
}
